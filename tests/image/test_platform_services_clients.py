"""Trino, Kafka, Ray and DataHub helpers: real client classes built from the binding's
variables, and a clear, bounded error when the service is unreachable."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from platform_services import ServiceUnreachableError, datahub, kafka, ray
from platform_services import trino as platform_trino

from tests.support.process import LOOPBACK, closed_port


@pytest.fixture
def listener() -> Iterator[int]:
    """A loopback port that accepts TCP connections (the kernel completes the handshake)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def _bind(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)


TRINO = {
    "TRINO_HOST": LOOPBACK,
    "TRINO_PORT": "8080",
    "TRINO_HTTP_SCHEME": "http",
    "TRINO_CATALOG": "iceberg",
    "TRINO_SCHEMA": "analytics",
    "TRINO_USER": "alice",
}


# --- Trino ---------------------------------------------------------------------------


def test_trino_connection_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import trino.dbapi

    _bind(monkeypatch, **TRINO)
    conn = platform_trino.connect()
    assert isinstance(conn, trino.dbapi.Connection)
    got = (conn.host, conn.port, conn.http_scheme, conn.catalog, conn.schema, conn.user)
    assert got == (LOOPBACK, 8080, "http", "iceberg", "analytics", "alice")
    assert conn.auth is None


def test_trino_uses_basic_auth_when_password_is_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    import trino.auth

    _bind(monkeypatch, **{**TRINO, "TRINO_HTTP_SCHEME": "https", "TRINO_PASSWORD": "pw-test"})
    conn = platform_trino.connect()
    assert isinstance(conn.auth, trino.auth.BasicAuthentication)
    assert conn.http_scheme == "https"
    assert platform_trino.sqlalchemy_url() == f"trino://alice@{LOOPBACK}:8080/iceberg/analytics"


def test_trino_fails_clearly_when_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    import trino.exceptions

    port = closed_port()
    _bind(monkeypatch, **{**TRINO, "TRINO_PORT": str(port)})
    conn = platform_trino.connect(max_attempts=1, request_timeout=5)
    start = time.monotonic()
    with pytest.raises(trino.exceptions.TrinoConnectionError) as info:
        conn.cursor().execute("SELECT 1")
    assert time.monotonic() - start < 10
    assert f"port={port}" in str(info.value)
    assert "Connection refused" in str(info.value)


# --- Kafka ---------------------------------------------------------------------------


def test_kafka_config_carries_sasl_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    _bind(
        monkeypatch,
        KAFKA_BOOTSTRAP_SERVERS="b1:9093,b2:9093",
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
        KAFKA_SASL_USERNAME="alice",
        KAFKA_SASL_PASSWORD="pw-test",
    )
    assert kafka.config() == {
        "bootstrap.servers": "b1:9093,b2:9093",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "alice",
        "sasl.password": "pw-test",
    }
    import confluent_kafka

    # librdkafka validates every setting when the client is built.
    producer = kafka.producer()
    assert isinstance(producer, confluent_kafka.Producer)


def test_kafka_rejects_a_mechanism_librdkafka_does_not_know(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import confluent_kafka

    _bind(
        monkeypatch,
        KAFKA_BOOTSTRAP_SERVERS="b1:9093",
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_MECHANISM="NOT-A-MECHANISM",
    )
    with pytest.raises(
        confluent_kafka.KafkaException, match="Unsupported SASL mechanism: NOT-A-MECHANISM"
    ):
        kafka.producer()


def test_kafka_fails_clearly_when_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    import confluent_kafka

    _bind(
        monkeypatch,
        KAFKA_BOOTSTRAP_SERVERS=f"{LOOPBACK}:{closed_port()}",
        KAFKA_SECURITY_PROTOCOL="PLAINTEXT",
    )
    producer = kafka.producer()
    start = time.monotonic()
    with pytest.raises(confluent_kafka.KafkaException) as info:
        producer.list_topics(timeout=3)
    assert time.monotonic() - start < 10
    assert info.value.args[0].code() in (
        confluent_kafka.KafkaError._TRANSPORT,
        confluent_kafka.KafkaError._TIMED_OUT,
        confluent_kafka.KafkaError._ALL_BROKERS_DOWN,
    )

    consumer = kafka.consumer("events", group_id="notebook-test")
    assert isinstance(consumer, confluent_kafka.Consumer)
    assert consumer.poll(0.5) is None or consumer.poll(0.5).error() is not None
    consumer.close()


# --- Ray -----------------------------------------------------------------------------


def test_ray_fails_clearly_when_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    monkeypatch.setenv("RAY_ADDRESS", f"ray://{LOOPBACK}:{port}")
    start = time.monotonic()
    with pytest.raises(ServiceUnreachableError) as info:
        ray.init(check_timeout=2)
    assert time.monotonic() - start < 5
    assert str(info.value) == (
        f"Platform service 'ray' is bound but unreachable at {LOOPBACK}:{port} "
        "(Connection refused). Check that the service runs and that the binding's "
        "NetworkPolicy allows egress to it."
    )


def test_ray_address_default_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_ADDRESS", "ray://ray-head.ray")
    assert ray.address() == ("ray-head.ray", 10001)


@pytest.mark.integration
def test_ray_init_connects_to_a_real_head(ray_head: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import ray as ray_lib
    from ray.client_builder import ClientContext

    monkeypatch.setenv("RAY_ADDRESS", ray_head)
    # The head's client server can still be starting its per-client worker when the
    # port opens; a connection refused that early is retried, twice at most.
    for attempt in range(3):
        try:
            context = ray.init()
            break
        except ConnectionError:
            if attempt == 2:
                raise
            ray_lib.shutdown()
            time.sleep(5)
    try:
        assert isinstance(context, ClientContext)

        @ray_lib.remote
        def double(x: int) -> int:
            return x * 2

        assert ray_lib.get(double.remote(21), timeout=60) == 42
    finally:
        ray_lib.shutdown()


# --- DataHub -------------------------------------------------------------------------


def test_datahub_emitter_from_env(monkeypatch: pytest.MonkeyPatch, listener: int) -> None:
    from datahub.emitter.rest_emitter import DatahubRestEmitter

    url = f"http://{LOOPBACK}:{listener}"
    _bind(monkeypatch, DATAHUB_GMS_URL=url, DATAHUB_GMS_TOKEN="tok-test")
    emitter = datahub.emitter()
    assert isinstance(emitter, DatahubRestEmitter)
    assert emitter._gms_server == url
    assert emitter._session.headers["Authorization"] == "Bearer tok-test"


def test_datahub_emitter_without_token(monkeypatch: pytest.MonkeyPatch, listener: int) -> None:
    monkeypatch.setenv("DATAHUB_GMS_URL", f"http://{LOOPBACK}:{listener}")
    monkeypatch.delenv("DATAHUB_GMS_TOKEN", raising=False)
    assert "Authorization" not in datahub.emitter()._session.headers


def test_datahub_fails_clearly_when_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    monkeypatch.setenv("DATAHUB_GMS_URL", f"http://{LOOPBACK}:{port}")
    start = time.monotonic()
    with pytest.raises(ServiceUnreachableError, match=rf"unreachable at {LOOPBACK}:{port} "):
        datahub.emitter(check_timeout=2)
    assert time.monotonic() - start < 5
