"""Every helper names the missing variables and the binding to add, exactly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from platform_services import (
    BindingMissingError,
    BindingValueError,
    datahub,
    kafka,
    mlflow,
    postgres,
    ray,
    s3,
    trino,
)

from jupyter_constructs.addons.bindings.contract import SERVICE_ENV


def _message(service: str, missing: str) -> str:
    return (
        f"Platform service '{service}' is not bound to this notebook server: "
        f"environment variable(s) {missing} not set. "
        f"Add PlatformServiceBinding.{service}(...) to the profile (profile.add_binding(...)) "
        "or the hub (hub.add_binding(...)), then restart your server."
    )


CALLS: list[tuple[str, Callable[[], Any], str]] = [
    (
        "trino",
        trino.connect,
        "TRINO_HOST, TRINO_PORT, TRINO_HTTP_SCHEME, TRINO_CATALOG, TRINO_SCHEMA, TRINO_USER",
    ),
    (
        "s3",
        s3.filesystem,
        "S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, "
        "S3_VERIFY_TLS",
    ),
    (
        "s3",
        s3.client,
        "S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, "
        "S3_VERIFY_TLS",
    ),
    ("mlflow", mlflow.configure, "MLFLOW_TRACKING_URI"),
    ("postgres", postgres.engine, "PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE"),
    ("kafka", kafka.producer, "KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL"),
    (
        "kafka",
        lambda: kafka.consumer("t", group_id="g"),
        "KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL",
    ),
    ("ray", ray.init, "RAY_ADDRESS"),
    ("datahub", datahub.emitter, "DATAHUB_GMS_URL"),
]


@pytest.fixture(autouse=True)
def _no_bindings(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in SERVICE_ENV.values():
        for name in spec.names:
            monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("service", "call", "missing"), CALLS)
def test_fails_when_service_is_not_bound(
    service: str, call: Callable[[], Any], missing: str
) -> None:
    with pytest.raises(BindingMissingError) as info:
        call()
    assert str(info.value) == _message(service, missing)
    assert info.value.service == service


def test_fails_when_only_some_variables_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGHOST", "db.example.internal")
    monkeypatch.setenv("PGPORT", "5432")
    monkeypatch.setenv("PGUSER", "alice")
    monkeypatch.setenv("PGPASSWORD", "")  # empty counts as unset
    with pytest.raises(BindingMissingError) as info:
        postgres.engine()
    assert str(info.value) == _message("postgres", "PGDATABASE, PGPASSWORD, PGSSLMODE")


def test_fails_when_default_bucket_is_not_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_DEFAULT_REGION": "us-east-1",
        "S3_VERIFY_TLS": "false",
    }.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(BindingMissingError) as info:
        s3.default_bucket()
    assert str(info.value) == _message("s3", "S3_BUCKET")


def test_fails_when_trino_scheme_is_invalid(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SERVICE_ENV["trino"].required:
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv("TRINO_PORT", "8080")
    monkeypatch.setenv("TRINO_HTTP_SCHEME", "ftp")
    with pytest.raises(BindingValueError) as info:
        trino.connect()
    assert str(info.value) == (
        "Platform service 'trino': TRINO_HTTP_SCHEME='ftp' is not valid; expected one of "
        "http, https. Fix the value given to PlatformServiceBinding.trino(...)."
    )


def test_fails_when_port_is_not_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SERVICE_ENV["postgres"].required:
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv("PGPORT", "54x")
    with pytest.raises(BindingValueError) as info:
        postgres.url()
    assert str(info.value) == (
        "Platform service 'postgres': PGPORT='54x' is not valid; expected a port number "
        "1-65535. Fix the value given to PlatformServiceBinding.postgres(...)."
    )


def test_fails_when_kafka_protocol_is_invalid_and_hides_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "TLS")
    with pytest.raises(BindingValueError) as info:
        kafka.producer()
    assert "KAFKA_SECURITY_PROTOCOL='TLS'" in str(info.value)
    assert "PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL" in str(info.value)
    error = BindingValueError("kafka", "KAFKA_SASL_PASSWORD", "hunter2", "anything")
    assert "hunter2" not in str(error)
    assert "KAFKA_SASL_PASSWORD=<secret>" in str(error)


def test_fails_when_ray_address_is_not_a_ray_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_ADDRESS", "http://ray-head.ray:8265")
    with pytest.raises(BindingValueError) as info:
        ray.init()
    assert str(info.value) == (
        "Platform service 'ray': RAY_ADDRESS='http://ray-head.ray:8265' is not valid; "
        "expected ray://HOST:PORT. Fix the value given to PlatformServiceBinding.ray(...)."
    )
