"""The env var contract from both sides: bindings synthesized into a profile, the pod the
real KubeSpawner builds for it, and the image's ``platform_services`` clients built from
that pod's environment against real servers (PostgreSQL, S3 via moto, MLflow).

Secrets are resolved the way the kubelet does: each ``valueFrom.secretKeyRef`` is looked
up in a table of test Secrets, by name and key.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jupyter_constructs import (
    KafkaSaslMechanism,
    KafkaSecurityProtocol,
    PlatformServiceBinding,
    PostgresSslMode,
    SecretRef,
)
from jupyter_constructs.addons.bindings.contract import SERVICE_ENV
from tests.helpers import make_hub, synth, write_config_dir
from tests.real_hub import load_config, mock_kubespawner, pod_manifest
from tests.support.mlflow import Mlflow
from tests.support.postgres import Postgres, PostgresServer
from tests.support.s3 import S3

pytestmark = pytest.mark.integration

# Loopback by name: bindings take DNS names, never IP addresses.
HOST = "localhost"
PROFILE = "everything"
BUCKET = "notebooks"


@dataclass
class Platform:
    """The synthesized objects, the user pod and the Secrets the pod refers to."""

    objects: list[dict[str, Any]]
    pod: dict[str, Any]
    secrets: dict[tuple[str, str], str]
    postgres: Postgres
    s3: S3
    mlflow: Mlflow
    datahub_port: int


@pytest.fixture(scope="module")
def database(postgres_server: PostgresServer) -> Iterator[Postgres]:
    """A database of the session's PostgreSQL for this module."""
    database = postgres_server.new_database()
    yield database
    postgres_server.drop_database(database)


@pytest.fixture(scope="module")
def datahub_port() -> Iterator[int]:
    """A loopback port that accepts TCP (the emitter's reachability check needs one)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


@pytest.fixture(scope="module")
def platform(
    database: Postgres,
    s3_server: S3,
    mlflow_server: Mlflow,
    datahub_port: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> Platform:
    postgres, s3, mlflow_tracking = database, s3_server, mlflow_server
    secrets = {
        ("postgres-jupyter", "password"): postgres.password,
        ("minio-notebooks", "access-key-id"): s3.access_key,
        ("minio-notebooks", "secret-access-key"): s3.secret_key,
        ("datahub-jupyter", "token"): "datahub-test-token",
        ("kafka-jupyter", "password"): "kafka-test-password",
    }
    chart, hub = make_hub()
    profile = hub.add_profile(PROFILE, display_name="Every service")
    ref = SecretRef
    hub_wide = [
        PlatformServiceBinding.trino(
            chart, "trino", host=HOST, namespace="data-platform", port=18080,
            catalog="iceberg", schema="analytics", user="{unescaped_username}",
        ),
        PlatformServiceBinding.minio(
            chart, "minio", host=HOST, namespace="data-platform", port=_port(s3.endpoint_url),
            access_key_id=ref("minio-notebooks", "access-key-id"),
            secret_access_key=ref("minio-notebooks", "secret-access-key"), bucket=BUCKET,
        ),
        PlatformServiceBinding.mlflow(
            chart, "mlflow", host=HOST, namespace="ml-platform",
            port=_port(mlflow_tracking.tracking_uri),
        ),
        PlatformServiceBinding.postgres(
            chart, "postgres", host=HOST, namespace="data-platform", port=postgres.port,
            database=postgres.database, user=postgres.user,
            password=ref("postgres-jupyter", "password"), sslmode=PostgresSslMode.DISABLE,
        ),
        PlatformServiceBinding.datahub(
            chart, "datahub", host=HOST, namespace="data-platform", port=datahub_port,
            token=ref("datahub-jupyter", "token"),
        ),
        PlatformServiceBinding.kafka(
            chart, "kafka", host=HOST, namespace="data-platform", port=19092,
            security_protocol=KafkaSecurityProtocol.SASL_PLAINTEXT,
            sasl_mechanism=KafkaSaslMechanism.SCRAM_SHA_512, sasl_username="jupyter",
            sasl_password=ref("kafka-jupyter", "password"),
        ),
    ]  # fmt: skip
    for binding in hub_wide:
        hub.add_binding(binding)
    profile.add_binding(PlatformServiceBinding.ray(chart, "ray", host=HOST, namespace="ray"))
    objects = synth(chart)
    config_dir = tmp_path_factory.mktemp("hub-config")
    config = load_config(write_config_dir(objects, config_dir))
    with mock_kubespawner(config) as spawner:
        pod = pod_manifest(spawner, PROFILE)
    return Platform(objects, pod, secrets, postgres, s3, mlflow_tracking, datahub_port)


def _pod_env(platform: Platform) -> dict[str, str]:
    """The container's environment as the kubelet would set it."""
    env = {}
    for var in platform.pod["spec"]["containers"][0]["env"]:
        if "valueFrom" in var:
            ref = var["valueFrom"]["secretKeyRef"]
            env[var["name"]] = platform.secrets[(ref["name"], ref["key"])]
        else:
            env[var["name"]] = var["value"]
    return env


def _mounted_files(platform: Platform, root: Path) -> Path:
    """Write each mounted ConfigMap where the pod would see it, under ``root``."""
    container = platform.pod["spec"]["containers"][0]
    volumes = {v["name"]: v for v in platform.pod["spec"]["volumes"]}
    maps = {o["metadata"]["name"]: o for o in platform.objects if o["kind"] == "ConfigMap"}
    for mount in container["volumeMounts"]:
        source = volumes[mount["name"]].get("configMap")
        if source is None:
            continue
        target = root / mount["mountPath"].lstrip("/")
        target.mkdir(parents=True)
        for name, text in maps[source["name"]]["data"].items():
            (target / name).write_text(text)
    return root / "etc" / "platform-services"


@pytest.fixture
def pod_env(platform: Platform, empty_s3: S3, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """This process's environment replaced by the pod's binding variables (and the S3
    server emptied: each test makes its own buckets)."""
    names = {n for spec in SERVICE_ENV.values() for n in spec.names}
    for name in names:
        monkeypatch.delenv(name, raising=False)
    env = _pod_env(platform)
    for name, value in env.items():
        if name in names:
            monkeypatch.setenv(name, value)
    return env


def test_pod_carries_every_contract_variable_of_the_bindings(platform: Platform) -> None:
    raw = {v["name"]: v for v in platform.pod["spec"]["containers"][0]["env"]}
    import platform_services

    env = _pod_env(platform)
    assert platform_services.bound_services(env) == list(SERVICE_ENV)
    for spec in SERVICE_ENV.values():
        for name in spec.secret:
            if name in raw:
                assert "value" not in raw[name] and "secretKeyRef" in raw[name]["valueFrom"]
    assert env["TRINO_USER"] == "alice@example.com"
    assert "MLFLOW_TRACKING_PASSWORD" not in raw and "TRINO_PASSWORD" not in raw


def test_postgres_engine_runs_select_1(pod_env: dict[str, str], platform: Platform) -> None:
    import sqlalchemy
    from platform_services import postgres

    engine = postgres.engine()
    try:
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("select 1")).scalar_one() == 1
            user = conn.execute(sqlalchemy.text("select current_user")).scalar_one()
            assert user == platform.postgres.user
    finally:
        engine.dispose()


def test_postgres_service_file_from_the_config_map_connects(
    pod_env: dict[str, str],
    platform: Platform,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import psycopg

    files = _mounted_files(platform, tmp_path)
    # Only the password stays in the environment: host, port, database, user and sslmode
    # must come from the mounted pg_service.conf.
    for name in ("PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGSSLMODE"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("PGSERVICEFILE", str(files / "postgres" / "pg_service.conf"))
    with psycopg.connect("service=platform", connect_timeout=10) as conn:
        assert conn.execute("select current_database(), 1").fetchone() == (
            platform.postgres.database,
            1,
        )
        assert conn.info.port == platform.postgres.port


def test_s3_filesystem_writes_and_reads(pod_env: dict[str, str]) -> None:
    from platform_services import s3

    fs = s3.filesystem()
    bucket = s3.default_bucket()
    assert bucket == BUCKET
    # us-east-1 takes no location constraint; boto3 knows, s3fs' mkdir sends one.
    s3.client().create_bucket(Bucket=bucket)
    with fs.open(f"{bucket}/contract/hello.txt", "wb") as handle:
        handle.write(b"from the pod's environment")
    fs.invalidate_cache()
    assert fs.cat(f"{bucket}/contract/hello.txt") == b"from the pod's environment"


def test_aws_config_file_from_the_config_map_reaches_the_endpoint(
    pod_env: dict[str, str],
    platform: Platform,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3
    from platform_services import s3

    s3.client().create_bucket(Bucket="config-file-check")
    files = _mounted_files(platform, tmp_path)
    # Keys from the environment (secretKeyRef); region and endpoint only from the file.
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("S3_ENDPOINT_URL")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(files / "minio" / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    client = boto3.session.Session().client("s3")
    assert client.meta.endpoint_url == platform.s3.endpoint_url.replace("127.0.0.1", HOST)
    assert client.meta.region_name == "us-east-1"
    names = [b["Name"] for b in client.list_buckets()["Buckets"]]
    assert "config-file-check" in names


def test_mlflow_run_is_visible_in_the_tracking_server(
    pod_env: dict[str, str], platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow
    from platform_services import mlflow as platform_mlflow

    # MLflow caches the tracking URI per process; start from none, as a fresh kernel does.
    monkeypatch.setattr(mlflow.tracking._tracking_service.utils, "_tracking_uri", None)
    uri = platform_mlflow.configure(experiment="bindings-contract")
    assert uri == f"http://{HOST}:{_port(platform.mlflow.tracking_uri)}"
    with mlflow.start_run(run_name="from-pod-env") as run:
        mlflow.log_metric("rows", 42.0)
    url = f"{platform.mlflow.tracking_uri}/api/2.0/mlflow/runs/get?run_id={run.info.run_id}"
    with urllib.request.urlopen(url, timeout=10) as response:
        got = json.loads(response.read())
    assert got["run"]["info"]["run_name"] == "from-pod-env"
    assert [m["value"] for m in got["run"]["data"]["metrics"] if m["key"] == "rows"] == [42.0]


def test_trino_connection_from_the_pod_env(pod_env: dict[str, str]) -> None:
    import trino.dbapi
    from platform_services import trino as platform_trino

    conn = platform_trino.connect()
    assert isinstance(conn, trino.dbapi.Connection)
    assert (conn.host, conn.port, conn.http_scheme) == (HOST, 18080, "http")
    assert (conn.catalog, conn.schema, conn.user) == ("iceberg", "analytics", "alice@example.com")
    assert conn.auth is None


def test_kafka_producer_from_the_pod_env_and_config_file(
    pod_env: dict[str, str], platform: Platform, tmp_path: Path
) -> None:
    import confluent_kafka
    from platform_services import kafka

    assert kafka.config() == {
        "bootstrap.servers": f"{HOST}:19092",
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "jupyter",
        "sasl.password": "kafka-test-password",
    }
    # librdkafka checks every setting when the client is built.
    assert isinstance(kafka.producer(), confluent_kafka.Producer)
    files = _mounted_files(platform, tmp_path)
    lines = (files / "kafka" / "client.properties").read_text().splitlines()
    properties = dict(line.split("=", 1) for line in lines)
    assert properties == {k: v for k, v in kafka.config().items() if k != "sasl.password"}
    producer = confluent_kafka.Producer(
        {**properties, "sasl.password": pod_env["KAFKA_SASL_PASSWORD"]}
    )
    assert isinstance(producer, confluent_kafka.Producer)


def test_ray_and_datahub_clients_from_the_pod_env(
    pod_env: dict[str, str], platform: Platform
) -> None:
    from datahub.emitter.rest_emitter import DatahubRestEmitter
    from platform_services import datahub, ray

    assert ray.address() == (HOST, 10001)
    emitter = datahub.emitter(check_timeout=5)
    assert isinstance(emitter, DatahubRestEmitter)
    assert emitter._gms_server == f"http://{HOST}:{platform.datahub_port}"
    assert emitter._session.headers["Authorization"] == "Bearer datahub-test-token"
