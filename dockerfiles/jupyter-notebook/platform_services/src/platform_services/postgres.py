"""PostgreSQL: a SQLAlchemy engine (psycopg 3 driver) from the libpq ``PG*`` variables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _env

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

SERVICE = "postgres"


def url() -> URL:
    """The ``postgresql+psycopg`` URL of the bound database, sslmode included."""
    from sqlalchemy.engine import URL

    values = _env.read(SERVICE)
    return URL.create(
        "postgresql+psycopg",
        username=values["PGUSER"],
        password=values["PGPASSWORD"],
        host=values["PGHOST"],
        port=_env.port(SERVICE, values, "PGPORT"),
        database=values["PGDATABASE"],
        query={"sslmode": values["PGSSLMODE"]},
    )


def engine(**overrides: Any) -> Engine:
    """A SQLAlchemy engine on the bound database.

    Default: ``pool_pre_ping=True`` (a notebook sits idle for hours; stale pooled
    connections are replaced instead of failing the next query). ``overrides`` go to
    ``sqlalchemy.create_engine``.
    """
    from sqlalchemy import create_engine

    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    kwargs.update(overrides)
    return create_engine(url(), **kwargs)
