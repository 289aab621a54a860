"""``parse_email``: exactly one plain address, lowercased once, everything else refused.

The sign-in path through a real hub is tested in ``test_cloudflare_access_hub.py`` (each
malformed form is a 403 that creates no user); here the rule itself is checked against an
independent judge, the standard library's mail address parser: every address accepted is
one it reads back unchanged as a single address.
"""

from __future__ import annotations

import random
import string
from email.headerregistry import Address

import pytest

# The rule itself, as the hub imports it from the ConfigMap (and the construct at synth).
from jupyter_constructs.hub.files.cloudflare_access_names import parse_client_id, parse_email

ACCEPTED = {
    "alice@example.org": "alice@example.org",
    "Alice.Smith@Example.ORG": "alice.smith@example.org",
    "a+tag@example.org": "a+tag@example.org",
    "o'brien@example.org": "o'brien@example.org",
    "x_y-z@sub.example.co.uk": "x_y-z@sub.example.co.uk",
    "boss@xn--bcher-kva.example": "boss@xn--bcher-kva.example",
    "a" * 64 + "@example.org": "a" * 64 + "@example.org",
}

REFUSED = {
    # The forms of issue 16.
    "two at signs": "mallory@evil.test@example.org",
    "two addresses": "a@evil,bob@example.org",
    "inner space": "bo ss@example.org",
    "empty local part": "@example.org",
    "unicode-padded admin": "\u3000BOSS@Example.ORG\u00a0",
    "inner newline": "boss@example.org\nX-Admin: yes",
    # Forms a mail parser would rewrite into another address.
    "quoted local part": '"boss"@example.org',
    "comment": "boss(x)@example.org",
    "display name": "Boss <boss@example.org>",
    "angle brackets": "<boss@example.org>",
    "encoded word": "=?utf-8?q?boss?=@example.org",
    # Forms NFKC would map onto ASCII: other people, not boss.
    "full-width letters": "\uff42\uff4f\uff53\uff53@example.org",
    "kelvin sign": "\u212aate@example.org",
    "non-ascii local part": "jos\u00e9@example.org",
    "non-ascii domain": "boss@b\u00fccher.example",
    # Whitespace and control characters anywhere.
    "ascii padding": " boss@example.org ",
    "trailing newline": "boss@example.org\n",
    "tab": "boss\t@example.org",
    "nul": "boss@example.org\x00",
    # Malformed local parts and domains.
    "leading dot": ".boss@example.org",
    "trailing dot": "boss.@example.org",
    "double dot": "bo..ss@example.org",
    "local part over 64": "a" * 65 + "@example.org",
    "over 254 in all": "a@" + ".".join(["b" * 60] * 5) + ".org",
    "single-label domain": "boss@example",
    "domain trailing dot": "boss@example.org.",
    "domain empty label": "boss@example..org",
    "domain literal": "boss@[127.0.0.1]",
    "label leading hyphen": "boss@-example.org",
    "label trailing hyphen": "boss@example-.org",
    "underscore in domain": "boss@ex_ample.org",
    "label over 63": "boss@" + "a" * 64 + ".org",
    "no at sign": "boss.example.org",
    "empty": "",
    "only at": "@",
    "not a string": ["boss@example.org"],
    "none": None,
}


@pytest.mark.parametrize("raw", list(ACCEPTED))
def test_accepts_one_plain_address_lowercased(raw: str) -> None:
    assert parse_email(raw) == ACCEPTED[raw]
    # The independent judge reads it back unchanged, as one address.
    assert Address(addr_spec=raw).addr_spec == raw


@pytest.mark.parametrize("case", list(REFUSED))
def test_refuses(case: str) -> None:
    assert parse_email(REFUSED[case]) is None


def test_the_unicode_padded_admin_does_not_become_the_admin() -> None:
    """Issue 16: '\\u3000BOSS@Example.ORG\\u00a0' signed in as the admin boss@example.org."""
    raw = "\u3000BOSS@Example.ORG\u00a0"
    assert parse_email(raw) is None
    # What the old rule (strip + lower) and NFKC would have made of it:
    import unicodedata

    assert raw.strip().lower() == "boss@example.org"
    assert unicodedata.normalize("NFKC", raw).strip().lower() == "boss@example.org"


def test_every_accepted_string_is_one_address_the_stdlib_reads_back_unchanged() -> None:
    """Near-addresses with hostile characters: nothing accepted that a mail parser disputes."""
    rng = random.Random(16)
    atext = string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~"
    hostile = ' \t\n"(),:;<>@[\\]\u3000\u00a0\u212a\uff42\u00e9.'

    def chunk(alphabet: str) -> str:
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        if rng.random() < 0.3:  # one hostile character somewhere
            at = rng.randint(0, len(text))
            text = text[:at] + rng.choice(hostile) + text[at:]
        return text

    accepted = refused = 0
    for _ in range(20000):
        local = ".".join(chunk(atext) for _ in range(rng.randint(1, 3)))
        domain = ".".join(
            chunk(string.ascii_letters + "0123456789-_") for _ in range(rng.randint(1, 3))
        )
        raw = f"{local}@{domain}"
        name = parse_email(raw)
        if name is None:
            refused += 1
            continue
        accepted += 1
        assert name == raw.lower() and raw.count("@") == 1, raw
        assert Address(addr_spec=raw).addr_spec == raw, raw
    assert accepted > 1000 and refused > 1000  # both sides were exercised


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("88bf3b6d86161464f6509f7219099e57.access", "88bf3b6d86161464f6509f7219099e57.access"),
        ("SVC-1234.access", "svc-1234.access"),
        ("\u212a1.access", None),  # lowercases to an ASCII "k": refused before lowercasing
        ("svc 1.access", None),
        ("svc\n1.access", None),
        ("", None),
        (7, None),
    ],
)
def test_service_token_client_ids(raw: object, expected: str | None) -> None:
    assert parse_client_id(raw) == expected
