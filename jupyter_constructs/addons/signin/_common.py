"""What every sign-in option of this package checks and renders the same way."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

from constructs import Construct

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.rules import is_cidr, is_clean_text

#: Longest ``auth_refresh_age``: longer lets a revoked user work on for over an hour.
MAX_AUTH_REFRESH_AGE = 3600
DEFAULT_AUTH_REFRESH_AGE = 300


def hub_file(name: str) -> str:
    """The source of a hub-side module shipped in the hub ConfigMap."""
    return resources.files("jupyter_constructs.hub.files").joinpath(name).read_text("utf-8")


def check_refresh_age(scope: Construct, what: str, value: object) -> int:
    """``value`` as ``auth_refresh_age`` seconds (1 to 3600).

    Raises:
        ConfigurationError: Not a whole number of seconds in bounds.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 1 <= value <= MAX_AUTH_REFRESH_AGE
    ):
        raise invalid(
            scope,
            what,
            value,
            allowed=f"whole seconds from 1 to {MAX_AUTH_REFRESH_AGE}",
            fix=f"keep the default {DEFAULT_AUTH_REFRESH_AGE} (a revoked user loses access "
            "within 5 minutes) or choose how long a revoked user may keep working",
        )
    return value


def session_traits(refresh_age: int) -> dict[str, Any]:
    """Traits that make the hub re-check a signed-in user with the provider.

    oauthenticator's ``refresh_user`` needs the user's tokens, kept encrypted in the hub
    database with ``JUPYTERHUB_CRYPT_KEY`` (the hub Secret); the hub-side subclasses
    apply the allow rules again to what the provider answers.
    """
    return {"enable_auth_state": True, "auth_refresh_age": refresh_age, "refresh_pre_spawn": True}


def check_names(scope: Construct, what: str, values: object, *, example: str) -> list[str]:
    """``values`` as a sorted list of non-empty strings without surrounding blanks.

    Raises:
        ConfigurationError: A string instead of a list, or an empty/blank entry.
    """
    if isinstance(values, str) or not isinstance(values, Sequence | set | frozenset):
        raise invalid(
            scope,
            what,
            values,
            allowed="a list of names",
            fix=f"pass a list, e.g. [{example!r}]",
        )
    names = list(values)
    for name in names:
        if not isinstance(name, str) or not name or not is_clean_text(name):
            raise invalid(
                scope,
                what,
                names,
                allowed="non-empty names without surrounding blanks or control characters",
                fix=f"remove the empty or padded entry, e.g. [{example!r}]",
            )
    return sorted(set(names))


def check_cidrs(scope: Construct, what: str, values: Sequence[str]) -> list[str]:
    """CIDR blocks for an egress rule (``10.0.0.5/32``), canonical as ``ipBlock`` needs.

    Raises:
        ConfigurationError: ``values`` is a string rather than a list, or a value is not a
            canonical CIDR block (host bits zero: validateIPBlock).
    """
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise invalid(
            scope,
            what,
            values,
            allowed="a list of CIDR blocks such as ['10.20.0.15/32']",
            fix=f"pass {what}=[...], even for one block",
        )
    for index, value in enumerate(values):
        if not is_cidr(value):
            raise invalid(
                scope,
                f"{what}[{index}]",
                value,
                allowed="CIDR blocks with their host bits zero, such as '10.20.0.15/32' or "
                "'10.20.0.0/24'",
                fix="give the addresses of the servers the hub connects to, each as a /32 "
                "(or the subnet they live in)",
            )
    return list(values)
