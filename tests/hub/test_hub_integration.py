"""A real hub process from the generated config, behind the real configurable-http-proxy."""

from __future__ import annotations

import json
import urllib.request

import pytest

from jupyter_constructs import HubDatabase, SecretRef
from tests.helpers import make_hub, synth, write_config_dir
from tests.support.hub import Hub, hub_process
from tests.support.postgres import Postgres

pytestmark = pytest.mark.integration


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _api_answers_through_the_proxy(hub: Hub) -> None:
    info = _get_json(f"{hub.public_url}/hub/api")
    assert info["version"].startswith("5.")
    # The login page is served by our authenticator (GenericOAuthenticator via the proxy).
    with urllib.request.urlopen(f"{hub.public_url}/hub/login", timeout=10) as response:
        assert b"single sign-on" in response.read()


def test_hub_with_sqlite_serves_its_api_through_the_proxy(tmp_path):
    chart, _ = make_hub()
    write_config_dir(synth(chart), tmp_path)
    db_url = f"sqlite:///{tmp_path / 'jupyterhub.sqlite'}"
    with hub_process(tmp_path, db_url=db_url) as hub:
        _api_answers_through_the_proxy(hub)
    assert (tmp_path / "jupyterhub.sqlite").exists()


def test_hub_with_postgres_runs_on_a_real_postgresql(tmp_path, postgres: Postgres):
    chart, _ = make_hub(
        database=HubDatabase.postgres(
            host=postgres.host,
            port=postgres.port,
            database=postgres.database,
            user=postgres.user,
            password=SecretRef("hub-db", "password"),
        )
    )
    objects = synth(chart)
    write_config_dir(objects, tmp_path)
    settings = json.loads((tmp_path / "hub_config.json").read_text())
    db_url = settings["traits"]["JupyterHub"]["db_url"]
    assert postgres.password not in db_url
    # The password reaches libpq only through PGPASSWORD, as in the pod.
    with hub_process(tmp_path, db_url=db_url, env={"PGPASSWORD": postgres.password}) as hub:
        _api_answers_through_the_proxy(hub)
    import psycopg2

    with (
        psycopg2.connect(
            host=postgres.host,
            port=postgres.port,
            user=postgres.user,
            password=postgres.password,
            dbname=postgres.database,
        ) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("select count(*) from information_schema.tables where table_name='users'")
        assert cur.fetchone()[0] == 1
