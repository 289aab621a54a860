"""A real hub process from the generated config, behind the real configurable-http-proxy."""

from __future__ import annotations

import json
import urllib.request

import pytest

from jupyter_constructs import HubDatabase, SecretRef
from tests.helpers import make_hub, synth, write_config_dir
from tests.processes import hub_with_proxy
from tests.real_hub import FAKE_SECRET_ENV
from tests.servers import postgres_server

pytestmark = pytest.mark.integration


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _api_answers_through_the_proxy(hub) -> None:
    info = _get_json(f"{hub.public_url}/hub/api")
    assert info["version"].startswith("5.")
    # The login page is served by our authenticator (GenericOAuthenticator via the proxy).
    with urllib.request.urlopen(f"{hub.public_url}/hub/login", timeout=10) as response:
        assert b"single sign-on" in response.read()


def test_hub_with_sqlite_serves_its_api_through_the_proxy(tmp_path):
    chart, _ = make_hub()
    write_config_dir(synth(chart), tmp_path)
    db_url = f"sqlite:///{tmp_path / 'jupyterhub.sqlite'}"
    with hub_with_proxy(tmp_path, db_url=db_url, env=FAKE_SECRET_ENV) as hub:
        _api_answers_through_the_proxy(hub)
    assert (tmp_path / "jupyterhub.sqlite").exists()


def test_hub_with_postgres_runs_on_a_real_postgresql(tmp_path):
    with postgres_server() as pg:
        chart, _ = make_hub(
            database=HubDatabase.postgres(
                host=pg.host,
                port=pg.port,
                database=pg.database,
                user=pg.user,
                password=SecretRef("hub-db", "password"),
            )
        )
        objects = synth(chart)
        write_config_dir(objects, tmp_path)
        settings = json.loads((tmp_path / "hub_config.json").read_text())
        db_url = settings["traits"]["JupyterHub"]["db_url"]
        assert pg.password not in db_url
        # The password reaches libpq only through PGPASSWORD, as in the pod.
        env = {**FAKE_SECRET_ENV, "PGPASSWORD": pg.password}
        with hub_with_proxy(tmp_path, db_url=db_url, env=env) as hub:
            _api_answers_through_the_proxy(hub)
        import psycopg2

        with (
            psycopg2.connect(
                host=pg.host, port=pg.port, user=pg.user, password=pg.password, dbname=pg.database
            ) as conn,
            conn.cursor() as cur,
        ):
            cur.execute("select count(*) from information_schema.tables where table_name='users'")
            assert cur.fetchone()[0] == 1
