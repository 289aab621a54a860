"""Usernames from Cloudflare Access tokens: one rule for the hub and for the construct.

Shipped in the hub ConfigMap beside ``cloudflare_access.py``, which imports it, and
imported by ``CloudflareAccessAuth`` to check ``allowed_emails`` and ``admin_users`` at
synth with the very rule the hub applies to tokens. Standard library only.
"""

from __future__ import annotations

import re

# RFC 5322 dot-atom "@" two or more dot-separated labels; \Z so a final newline fails too.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDRESS = re.compile(rf"^{_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\Z")
# RFC 1123 host name label (checked lowercased).
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
# Access service token client ids look like "88bf3b6d86161464f6509f7219099e57.access".
_CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,252}\Z")


def parse_email(value: object) -> str | None:
    """The username for an ``email`` claim, or None when it is not exactly one plain address.

    Accepted: ``local@domain`` in ASCII with nothing around it, the local part an RFC 5322
    ``dot-atom`` (letters, digits and ``!#$%&'*+-/=?^_`{|}~``, dots only between them, at
    most 64 characters, no ``=?`` that mail software decodes as an encoded word), the domain
    a DNS host name of two or more RFC 1123 labels, 254 characters at most in all. The
    result is that address lowercased, nothing else changed: the one normalisation,
    applied once.

    Refused, never repaired: whitespace of any kind anywhere (leading, trailing, inner),
    control characters (a newline would split log lines), two addresses
    (``a@evil,bob@example.org``, ``mallory@evil.test@example.org``), an empty local part
    (``@example.org``), quoted local parts and comments (``"boss"@example.org``,
    ``boss(x)@example.org``, which mail parsers rewrite to ``boss@example.org``), display
    names and angle brackets, domain literals (``[127.0.0.1]``) and non-ASCII characters.
    Unicode normalisation (NFKC) is deliberately not applied: it maps full-width and other
    compatibility characters onto ASCII, so ``"\u3000BOSS@Example.ORG\u00a0"`` would become
    the admin ``boss@example.org``. Internationalised addresses are therefore refused; an
    identity provider that issues them needs an ASCII alias for this hub.

    Not the standard library's ``email.headerregistry.Address``: it accepts and rewrites
    quoted strings and comments, and raises AttributeError on some malformed domain
    literals (CPython 3.11). The tests check that every address accepted here is one the
    standard parser reads back unchanged.
    """
    if not isinstance(value, str) or len(value) > 254 or not _ADDRESS.match(value):
        return None
    local, _, domain = value.partition("@")
    if len(local) > 64 or "=?" in local:
        return None
    if not all(_LABEL.match(label) for label in domain.lower().split(".")):
        return None
    return value.lower()


def parse_client_id(value: object) -> str | None:
    """The username for a service token's ``common_name``, or None when it is malformed."""
    # ASCII first: some non-ASCII letters lowercase to ASCII ones (KELVIN SIGN to "k").
    if not isinstance(value, str) or not value.isascii() or not _CLIENT_ID.match(value.lower()):
        return None
    return value.lower()
