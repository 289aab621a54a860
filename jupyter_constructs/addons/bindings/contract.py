"""The environment variable contract between bindings and the notebook image.

`PlatformServiceBinding` factories set these variables in user pods; the image's
`platform_services` helper package reads them. This module is the single source of the
names on the construct side. The helper keeps its own copy (it runs inside the image and
cannot import this library); `tests/image/test_platform_services_contract.py` asserts that the
two copies are identical. Pure Python: importing it never loads cdk8s.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceEnv:
    """The environment variables of one platform service.

    ``required`` must all be set for the service to count as bound; ``optional`` may be
    absent; ``secret`` (a subset of the two) are set from a ``secretKeyRef`` and never
    printed or written to disk; ``factory`` is the binding factory that provides them.
    """

    service: str
    factory: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    secret: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every variable of the service, required first."""
        return self.required + self.optional


SERVICE_ENV: dict[str, ServiceEnv] = {
    "trino": ServiceEnv(
        service="trino",
        factory="PlatformServiceBinding.trino",
        required=(
            "TRINO_HOST",
            "TRINO_PORT",
            "TRINO_HTTP_SCHEME",
            "TRINO_CATALOG",
            "TRINO_SCHEMA",
            "TRINO_USER",
        ),
        optional=("TRINO_PASSWORD",),
        secret=("TRINO_PASSWORD",),
    ),
    "s3": ServiceEnv(
        service="s3",
        factory="PlatformServiceBinding.s3",
        required=(
            "S3_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
            "S3_VERIFY_TLS",
        ),
        optional=("S3_BUCKET",),
        secret=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    ),
    "mlflow": ServiceEnv(
        service="mlflow",
        factory="PlatformServiceBinding.mlflow",
        required=("MLFLOW_TRACKING_URI",),
        optional=(
            "MLFLOW_TRACKING_USERNAME",
            "MLFLOW_TRACKING_PASSWORD",
            "MLFLOW_S3_ENDPOINT_URL",
        ),
        secret=("MLFLOW_TRACKING_PASSWORD",),
    ),
    "postgres": ServiceEnv(
        service="postgres",
        factory="PlatformServiceBinding.postgres",
        required=("PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGSSLMODE"),
        secret=("PGPASSWORD",),
    ),
    "datahub": ServiceEnv(
        service="datahub",
        factory="PlatformServiceBinding.datahub",
        required=("DATAHUB_GMS_URL",),
        optional=("DATAHUB_GMS_TOKEN",),
        secret=("DATAHUB_GMS_TOKEN",),
    ),
    "ray": ServiceEnv(
        service="ray",
        factory="PlatformServiceBinding.ray",
        required=("RAY_ADDRESS",),
    ),
    "kafka": ServiceEnv(
        service="kafka",
        factory="PlatformServiceBinding.kafka",
        required=("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_SECURITY_PROTOCOL"),
        optional=("KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"),
        secret=("KAFKA_SASL_PASSWORD",),
    ),
}
"""Every platform service by key, in the order the docs list them."""

TRINO_HTTP_SCHEMES = ("http", "https")
"""Allowed values of ``TRINO_HTTP_SCHEME``."""

S3_VERIFY_TLS_VALUES = ("true", "false")
"""Allowed values of ``S3_VERIFY_TLS``."""

KAFKA_SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
"""Allowed values of ``KAFKA_SECURITY_PROTOCOL``."""
