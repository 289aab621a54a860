"""The environment variable names this package reads, per platform service.

A copy of ``jupyter_constructs.binding_contract`` (this package runs inside the notebook
image and cannot import the construct library). Keep the two identical: a test in
jupyter-constructs compares them field by field.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceEnv:
    """The environment variables of one platform service.

    ``required`` must all be set for the service to count as bound; ``optional`` may be
    absent; ``secret`` are never printed; ``factory`` is the binding that provides them.
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

TRINO_HTTP_SCHEMES = ("http", "https")
S3_VERIFY_TLS_VALUES = ("true", "false")
KAFKA_SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
