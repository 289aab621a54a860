"""DataHub: a REST emitter for the bound GMS (``DATAHUB_GMS_URL``, optional token)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import _env

if TYPE_CHECKING:
    from datahub.emitter.rest_emitter import DatahubRestEmitter

SERVICE = "datahub"


def gms_url() -> str:
    """``DATAHUB_GMS_URL``, checked to be an http(s) URL."""
    raw = _env.read(SERVICE)["DATAHUB_GMS_URL"]
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _env.BindingValueError(SERVICE, "DATAHUB_GMS_URL", raw, "http(s)://HOST[:PORT]")
    return raw


def emitter(*, check_timeout: float | None = 5.0, **overrides: Any) -> DatahubRestEmitter:
    """A ``DatahubRestEmitter`` for the bound GMS, token from ``DATAHUB_GMS_TOKEN``.

    Default: first checks within ``check_timeout`` seconds (5) that GMS accepts TCP
    connections, raising `ServiceUnreachableError` otherwise; ``None`` skips the check.
    ``overrides`` go to ``DatahubRestEmitter``.
    """
    url = gms_url()
    if check_timeout is not None:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        _env.check_reachable(SERVICE, parts.hostname or "", port, check_timeout)
    from datahub.emitter.rest_emitter import DatahubRestEmitter

    kwargs: dict[str, Any] = {
        "gms_server": url,
        "token": _env.read(SERVICE).get("DATAHUB_GMS_TOKEN"),
    }
    kwargs.update(overrides)
    return DatahubRestEmitter(**kwargs)
