"""Ray: connect to the bound Ray cluster through Ray Client (``RAY_ADDRESS``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import _env

if TYPE_CHECKING:
    from ray._private.worker import BaseContext

SERVICE = "ray"


def address() -> tuple[str, int]:
    """Host and port of ``RAY_ADDRESS`` (``ray://host:port``; port default 10001)."""
    values = _env.read(SERVICE)
    raw = values["RAY_ADDRESS"]
    parts = urlsplit(raw)
    try:
        port = parts.port or 10001
    except ValueError:
        port = 0
    if parts.scheme != "ray" or not parts.hostname or not port:
        raise _env.BindingValueError(SERVICE, "RAY_ADDRESS", raw, "ray://HOST:PORT")
    return parts.hostname, port


def init(*, check_timeout: float = 5.0, **overrides: Any) -> BaseContext:
    """``ray.init(address=RAY_ADDRESS)`` (a Ray Client context), after checking the head
    accepts connections.

    Ray Client retries for a long time against an address nobody listens on; this fails
    in ``check_timeout`` seconds (default 5) with `ServiceUnreachableError` instead.
    ``overrides`` go to ``ray.init`` (for example ``runtime_env=``).
    """
    host, port = address()
    _env.check_reachable(SERVICE, host, port, check_timeout)
    import ray

    return ray.init(address=_env.read(SERVICE)["RAY_ADDRESS"], **overrides)
