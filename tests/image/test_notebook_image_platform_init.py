"""platform-init.sh, run for real with bash: config files for bound services only, the
bound services printed, never a secret value, and safe when docker-stacks sources it."""

from __future__ import annotations

import configparser
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_constructs.addons.bindings.contract import SERVICE_ENV
from tests.support.postgres import Postgres

INIT = Path(__file__).resolve().parents[2] / "dockerfiles" / "jupyter-notebook" / "platform-init.sh"
MARK = (
    "# managed by platform-init: rewritten at every server start; "
    "delete this line to keep your edits"
)

# Distinctive fake secret values: none may appear in output or in any written file.
SECRETS = {
    "TRINO_PASSWORD": "sekret-trino-7f3a",
    "AWS_ACCESS_KEY_ID": "sekret-akid-19c2",
    "AWS_SECRET_ACCESS_KEY": "sekret-sak-55d0",
    "MLFLOW_TRACKING_PASSWORD": "sekret-mlflow-a1b9",
    "PGPASSWORD": "sekret-pg-0e44",
    "DATAHUB_GMS_TOKEN": "sekret-datahub-c3d8",
    "KAFKA_SASL_PASSWORD": "sekret-kafka-9b61",
}
ALL_BOUND = {
    "TRINO_HOST": "trino.trino.svc",
    "TRINO_PORT": "8443",
    "TRINO_HTTP_SCHEME": "https",
    "TRINO_CATALOG": "iceberg",
    "TRINO_SCHEMA": "analytics",
    "TRINO_USER": "alice",
    "S3_ENDPOINT_URL": "http://minio.minio.svc:9000",
    "AWS_DEFAULT_REGION": "us-east-1",
    "S3_BUCKET": "notebooks",
    "S3_VERIFY_TLS": "false",
    "MLFLOW_TRACKING_URI": "http://mlflow.mlflow.svc:5000",
    "MLFLOW_TRACKING_USERNAME": "alice",
    "PGHOST": "pg.db.svc",
    "PGPORT": "5432",
    "PGDATABASE": "analytics",
    "PGUSER": "alice",
    "PGSSLMODE": "require",
    "DATAHUB_GMS_URL": "http://datahub-gms.datahub.svc:8080",
    "RAY_ADDRESS": "ray://ray-head.ray:10001",
    "KAFKA_BOOTSTRAP_SERVERS": "kafka.kafka.svc:9093",
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_SASL_USERNAME": "alice",
    **SECRETS,
}


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "home"
    path.mkdir()
    yield path


def _env(home: Path, **binding: str) -> dict[str, str]:
    every = {n for spec in SERVICE_ENV.values() for n in spec.names}
    base = {k: v for k, v in os.environ.items() if k not in every and k != "XDG_CONFIG_HOME"}
    return {**base, "HOME": str(home), **binding}


def _run(home: Path, **binding: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(INIT)], env=_env(home, **binding), capture_output=True, text=True, timeout=30
    )


def _written(home: Path) -> dict[str, str]:
    return {str(p.relative_to(home)): p.read_text() for p in sorted(home.rglob("*")) if p.is_file()}


def test_all_services_bound(home: Path) -> None:
    result = _run(home, **ALL_BOUND)
    assert result.returncode == 0, result.stderr
    assert "platform-init: bound services: trino s3 mlflow postgres datahub ray kafka" in (
        result.stdout
    )
    files = _written(home)
    assert sorted(files) == [
        ".aws/config",
        ".config/platform/kafka.properties",
        ".config/platform/services",
        ".pg_service.conf",
        ".trino_config",
    ]
    assert files[".config/platform/services"] == MARK + "\n" + "\n".join(SERVICE_ENV) + "\n"
    assert files[".trino_config"] == (
        f"{MARK}\nserver=https://trino.trino.svc:8443\ncatalog=iceberg\nschema=analytics\n"
        "user=alice\n"
    )
    assert files[".config/platform/kafka.properties"] == (
        f"{MARK}\nbootstrap.servers=kafka.kafka.svc:9093\nsecurity.protocol=SASL_SSL\n"
        "sasl.mechanism=SCRAM-SHA-512\nsasl.username=alice\n"
    )
    service = configparser.ConfigParser()
    service.read_string(files[".pg_service.conf"])
    assert dict(service["platform"]) == {
        "host": "pg.db.svc",
        "port": "5432",
        "dbname": "analytics",
        "user": "alice",
        "sslmode": "require",
    }
    for path in home.rglob("*"):
        if path.is_file():
            assert path.stat().st_mode & 0o077 == 0, f"{path} readable by others"


def test_files_belong_to_the_notebook_user(home: Path) -> None:
    """As root (docker-stacks' root mode runs hooks before dropping privileges) the
    files and the directories created for them are handed to NB_UID:NB_GID."""
    _run(home, **ALL_BOUND, NB_UID="1000", NB_GID="100")
    expected = (1000, 100) if os.geteuid() == 0 else (os.geteuid(), os.getegid())
    owners = {str(p.relative_to(home)): (p.stat().st_uid, p.stat().st_gid) for p in home.rglob("*")}
    assert owners and all(owner == expected for owner in owners.values()), owners


def test_never_prints_or_writes_a_secret(home: Path) -> None:
    result = _run(home, **ALL_BOUND)
    everything = result.stdout + result.stderr + "".join(_written(home).values())
    for name, value in SECRETS.items():
        assert value not in everything, name
    assert "(password set)" in result.stdout
    assert "(token set)" in result.stdout


def test_only_bound_services_get_config(home: Path) -> None:
    pg = {k: ALL_BOUND[k] for k in SERVICE_ENV["postgres"].names}
    result = _run(home, **pg, RAY_ADDRESS="ray://ray-head.ray:10001", TRINO_HOST="half-bound")
    assert result.returncode == 0, result.stderr
    assert "platform-init: bound services: postgres ray" in result.stdout
    assert "trino" not in result.stdout
    assert sorted(_written(home)) == [".config/platform/services", ".pg_service.conf"]


def test_nothing_bound(home: Path) -> None:
    result = _run(home)
    assert result.returncode == 0, result.stderr
    assert "platform-init: no platform service bound" in result.stdout
    assert _written(home) == {".config/platform/services": MARK + "\n"}


def test_keeps_a_file_the_user_wrote(home: Path) -> None:
    (home / ".aws").mkdir()
    (home / ".aws" / "config").write_text("[default]\nregion = eu-west-1\n")
    result = _run(home, **ALL_BOUND)
    assert f"kept {home}/.aws/config (written by you" in result.stdout
    assert (home / ".aws" / "config").read_text() == "[default]\nregion = eu-west-1\n"
    # Its own files are rewritten at every start.
    (home / ".trino_config").write_text(MARK + "\nserver=http://stale:1\n")
    _run(home, **ALL_BOUND)
    assert "server=https://trino.trino.svc:8443" in (home / ".trino_config").read_text()


def test_disabled(home: Path) -> None:
    result = _run(home, **ALL_BOUND, PLATFORM_INIT_DISABLE="1")
    assert result.returncode == 0
    assert result.stdout == "platform-init: disabled (PLATFORM_INIT_DISABLE=1)\n"
    assert _written(home) == {}


def test_sourced_like_docker_stacks_leaves_the_caller_alone(home: Path) -> None:
    """docker-stacks sources *.sh hooks; our strict mode must not leak into its shell."""
    script = f'set -e; before="$-"; source "{INIT}"; echo "after-ok $before $-"'
    result = subprocess.run(
        ["bash", "-c", script], env=_env(home, **ALL_BOUND), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    before, after = result.stdout.strip().splitlines()[-1].split()[1:]
    assert before == after
    assert "bound services: trino" in result.stdout


def test_sourced_failure_does_not_stop_the_server_start(home: Path) -> None:
    blocker = home / ".config"
    blocker.write_text("a file where a directory must be")
    script = f'set -e; source "{INIT}"; echo "server starts"'
    result = subprocess.run(
        ["bash", "-c", script], env=_env(home, **ALL_BOUND), capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout.strip().endswith("server starts")
    assert "platform-init: failed (exit 1); starting without platform client config" in (
        result.stderr
    )


def test_executed_failure_exits_non_zero(home: Path) -> None:
    (home / ".config").write_text("not a directory")
    result = _run(home, **ALL_BOUND)
    assert result.returncode != 0


def test_aws_config_is_read_by_botocore(home: Path) -> None:
    """The real client resolves region, endpoint and path style from the written file."""
    import boto3

    _run(home, **ALL_BOUND)
    os_env = {
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "none"),
    }
    with pytest.MonkeyPatch.context() as mp:
        for name in (
            "AWS_DEFAULT_REGION",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_S3",
            "AWS_PROFILE",
        ):
            mp.delenv(name, raising=False)
        for name, value in os_env.items():
            mp.setenv(name, value)
        session = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s")
        client = session.client("s3")
    assert client.meta.region_name == "us-east-1"
    assert client.meta.endpoint_url == "http://minio.minio.svc:9000"
    url = client.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    assert url.startswith("http://minio.minio.svc:9000/b/k?")


@pytest.mark.integration
def test_pg_service_file_connects_to_a_real_server(home: Path, postgres: Postgres) -> None:
    """libpq (through psycopg) resolves ``service=platform`` from the written file."""
    import psycopg

    env = postgres.env()
    _run(home, **env)
    with pytest.MonkeyPatch.context() as mp:
        for name in env:
            mp.delenv(name, raising=False)
        mp.setenv("PGSERVICEFILE", str(home / ".pg_service.conf"))
        with psycopg.connect(
            "service=platform", password=postgres.password, connect_timeout=5
        ) as conn:
            row = conn.execute("select current_user, current_database(), inet_server_port()")
            assert row.fetchone() == (postgres.user, postgres.database, postgres.port)
