"""Trino: a DB-API connection from ``TRINO_*``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _contract, _env

if TYPE_CHECKING:
    from trino.dbapi import Connection

SERVICE = "trino"


def connect(**overrides: Any) -> Connection:
    """A ``trino.dbapi.Connection`` to the bound cluster.

    Uses basic authentication when ``TRINO_PASSWORD`` is set (Trino then requires
    https), none otherwise. ``overrides`` go to ``trino.dbapi.connect`` (for example
    ``schema=``, ``request_timeout=``; default timeout: the client's 30 s). No network
    traffic happens until the first query.
    """
    import trino.auth
    import trino.dbapi

    values = _env.read(SERVICE)
    kwargs: dict[str, Any] = {
        "host": values["TRINO_HOST"],
        "port": _env.port(SERVICE, values, "TRINO_PORT"),
        "http_scheme": _env.choice(
            SERVICE, values, "TRINO_HTTP_SCHEME", _contract.TRINO_HTTP_SCHEMES
        ),
        "user": values["TRINO_USER"],
        "catalog": values["TRINO_CATALOG"],
        "schema": values["TRINO_SCHEMA"],
    }
    if "TRINO_PASSWORD" in values:
        kwargs["auth"] = trino.auth.BasicAuthentication(
            values["TRINO_USER"], values["TRINO_PASSWORD"]
        )
    kwargs.update(overrides)
    return trino.dbapi.Connection(**kwargs)


def sqlalchemy_url() -> str:
    """A ``trino://`` SQLAlchemy URL without the password (pass it via ``connect_args``)."""
    values = _env.read(SERVICE)
    return (
        f"trino://{values['TRINO_USER']}@{values['TRINO_HOST']}:"
        f"{_env.port(SERVICE, values, 'TRINO_PORT')}/{values['TRINO_CATALOG']}/"
        f"{values['TRINO_SCHEMA']}"
    )
