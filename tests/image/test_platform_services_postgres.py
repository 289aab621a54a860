"""postgres.engine() against a real PostgreSQL 15 server with password auth."""

from __future__ import annotations

import pytest
import sqlalchemy
from platform_services import postgres

from tests.support.postgres import Postgres
from tests.support.process import closed_port

pytestmark = pytest.mark.integration


@pytest.fixture
def bound(postgres: Postgres, monkeypatch: pytest.MonkeyPatch) -> Postgres:
    for name, value in postgres.env().items():
        monkeypatch.setenv(name, value)
    return postgres


def test_engine_runs_select_1(bound: Postgres) -> None:
    engine = postgres.engine()
    try:
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("select 1")).scalar_one() == 1
            assert conn.dialect.driver == "psycopg"
            user = conn.execute(sqlalchemy.text("select current_user")).scalar_one()
            assert user == bound.user
    finally:
        engine.dispose()


def test_engine_round_trips_a_table(bound: Postgres) -> None:
    engine = postgres.engine()
    meta = sqlalchemy.MetaData()
    readings = sqlalchemy.Table(
        "readings",
        meta,
        sqlalchemy.Column("id", sqlalchemy.Integer, primary_key=True),
        sqlalchemy.Column("site", sqlalchemy.String(40), nullable=False),
        sqlalchemy.Column("mwh", sqlalchemy.Float, nullable=False),
    )
    try:
        meta.create_all(engine)
        with engine.begin() as conn:
            conn.execute(
                readings.insert(),
                [{"site": "north", "mwh": 1.5}, {"site": "south", "mwh": 2.25}],
            )
        with engine.connect() as conn:
            rows = conn.execute(
                sqlalchemy.select(readings.c.site, readings.c.mwh).order_by(readings.c.site)
            ).all()
        assert [tuple(r) for r in rows] == [("north", 1.5), ("south", 2.25)]
    finally:
        meta.drop_all(engine)
        engine.dispose()


def test_url_carries_sslmode_and_hides_password(bound: Postgres) -> None:
    url = postgres.url()
    assert url.query["sslmode"] == "disable"
    assert bound.password not in str(url)
    assert url.render_as_string(hide_password=False).count(bound.password) == 1


def test_fails_when_password_is_wrong(bound: Postgres, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", "not-the-password")
    engine = postgres.engine()
    with pytest.raises(sqlalchemy.exc.OperationalError, match="password authentication failed"):
        engine.connect()
    engine.dispose()


def test_fails_when_server_is_unreachable(bound: Postgres, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPORT", str(closed_port()))
    engine = postgres.engine(connect_args={"connect_timeout": 3})
    with pytest.raises(sqlalchemy.exc.OperationalError, match="Connection refused"):
        engine.connect()
    engine.dispose()
