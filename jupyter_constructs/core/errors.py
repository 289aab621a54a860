"""The one error type every construct raises for bad input, and its message format.

Pure Python: importing it does not load cdk8s or start Node.js (a construct is
recognised by its ``node``), so command-line tools such as ``plan`` use it too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from constructs import Construct


class ConfigurationError(ValueError):
    """Bad input found at synth time.

    The message always names where (the construct path), what was received, what is
    allowed and how to fix it, so the user never has to read our source to act on it.
    """


class PathOf:
    """The path a construct built as ``(scope, id)`` will have, worked out only when printed.

    Factories check their arguments before they build the construct; asking cdk8s for a
    path costs a round-trip to its Node.js process, so only an error message pays it.
    """

    def __init__(self, scope: Construct, id: str) -> None:
        self._scope = scope
        self._id = id

    def __str__(self) -> str:
        parent = self._scope.node.path
        return f"{parent}/{self._id}" if parent else self._id


Where: TypeAlias = "Construct | PathOf | str"
"""Where an error is: a construct (its path is used), a ``PathOf``, or a plain label."""


def _path(where: Where) -> str:
    node = getattr(where, "node", None)
    return str(node.path) if node is not None and not isinstance(where, str) else str(where)


def invalid(
    where: Where,
    what: str,
    value: object,
    *,
    allowed: str,
    fix: str,
) -> ConfigurationError:
    """Build a ConfigurationError in the house format.

    ``where`` is a construct (its path is used) or a plain label for value objects
    that are not constructs (for example ``"SecretRef"``).
    """
    path = _path(where)
    return ConfigurationError(f"{path}: invalid {what} {value!r}. Allowed: {allowed}. Fix: {fix}")


class ConfigurationWarning(UserWarning):
    """A setup that works but is probably not what you meant, found at synth time.

    Same message format as ``ConfigurationError``. Turn warnings into errors with
    ``python -W error::jupyter_constructs.ConfigurationWarning main.py``.
    """


def questionable(
    where: Where, what: str, value: object, *, why: str, fix: str
) -> ConfigurationWarning:
    """Build a ConfigurationWarning in the house format (see ``invalid``)."""
    path = _path(where)
    return ConfigurationWarning(f"{path}: questionable {what} {value!r}: {why}. Fix: {fix}")
