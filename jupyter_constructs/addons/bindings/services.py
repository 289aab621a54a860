"""The seven platform services as ``PlatformServiceBinding`` factories.

Build a binding with the factory of its service and bind it::

    trino = PlatformServiceBinding.trino(
        chart, "trino", host="trino.data-platform", catalog="iceberg", user="jupyter"
    )
    hub.add_binding(trino)  # every profile
    gpu.add_binding(PlatformServiceBinding.ray(chart, "ray", host="ray-head.ray"))

Each factory checks its service's own options, builds the environment of the contract
(``contract.SERVICE_ENV``) and the client config files, and returns the generic
construct (``binding.ServiceBinding``). Reference: docs/platform-services.md.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any

from constructs import Construct

from jupyter_constructs.addons.bindings.binding import ServiceBinding
from jupyter_constructs.addons.bindings.binding import check_secret as _secret
from jupyter_constructs.core.errors import PathOf as _path
from jupyter_constructs.core.errors import Where, invalid
from jupyter_constructs.core.rules import check_bool, is_clean_text
from jupyter_constructs.core.secrets import SecretRef

_TEXT = re.compile(r"\A[^\s{}\x00-\x1f\x7f]+\Z")
_S3_BUCKET = re.compile(r"\A[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")


class PostgresSslMode(enum.Enum):
    """libpq ``sslmode`` (``PGSSLMODE``). See the PostgreSQL docs, "SSL Support"."""

    DISABLE = "disable"
    ALLOW = "allow"
    PREFER = "prefer"
    REQUIRE = "require"
    VERIFY_CA = "verify-ca"
    VERIFY_FULL = "verify-full"


class KafkaSecurityProtocol(enum.Enum):
    """librdkafka ``security.protocol`` (``KAFKA_SECURITY_PROTOCOL``)."""

    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class KafkaSaslMechanism(enum.Enum):
    """librdkafka ``sasl.mechanism`` (``KAFKA_SASL_MECHANISM``)."""

    PLAIN = "PLAIN"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"


def _text(where: Where, what: str, value: object, example: str) -> str:
    if not isinstance(value, str) or not _TEXT.match(value) or not is_clean_text(value):
        raise invalid(
            where,
            what,
            value,
            allowed="a non-empty string without whitespace or braces",
            fix=f"e.g. {what}={example!r}",
        )
    return value


def _enum(where: Where, what: str, value: object, kind: type[enum.Enum]) -> Any:
    if not isinstance(value, kind):
        raise invalid(
            where,
            what,
            value,
            allowed=", ".join(f"{kind.__name__}.{m.name}" for m in kind),
            fix=f"pass a {kind.__name__} member",
        )
    return value.value


def _http_url(tls: bool, host: str, port: int) -> str:
    return f"{'https' if tls else 'http'}://{host}:{port}"


def _properties(values: Mapping[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())


class PlatformServiceBinding(ServiceBinding):
    """A platform service binding, built by the factory of its service.

    Each factory takes the service's own options and these common ones, with the
    meaning they have on ``ServiceBinding``: ``host``, ``port`` (default: the service's
    usual port), ``namespace``, ``target_port``, ``service_pod_labels`` (default: the
    service's usual pod labels), ``namespace_wide``, ``name``.
    Credentials are always ``SecretRef``s: a plain string is refused without being
    echoed. Reference: docs/platform-services.md (the variables of each service).
    """

    @classmethod
    def trino(
        cls,
        scope: Construct,
        id: str,
        *,
        host: str,
        catalog: str,
        user: str,
        schema: str = "default",
        port: int = 8080,
        password: SecretRef | None = None,
        tls: bool = False,
        namespace: str | None = None,
        target_port: int | None = None,
        service_pod_labels: Mapping[str, str] | None = None,
        namespace_wide: bool = False,
        name: str | None = None,
    ) -> PlatformServiceBinding:
        """Trino: ``TRINO_*`` and ``trino-cli.properties`` (the Trino CLI's config format).

        Args:
            scope: The hub's chart.
            id: Construct id (the binding's name unless ``name`` is given).
            host: The service's DNS name, ``<service>.<namespace>``.
            catalog: ``TRINO_CATALOG``, e.g. ``"iceberg"``.
            user: The Trino user. KubeSpawner expands ``"{unescaped_username}"`` to the
                notebook user's hub name (``"{username}"``: its escaped form). That name
                is claimed, not proven: it is an environment variable of the user's own
                pod, sent without a credential (or with the one shared ``password``), so
                any user can query as any name Trino lets through. Per-user identity needs
                Trino's own OAuth2/JWT authentication with each user's token, which this
                binding does not do (docs/platform-services.md, "Whose identity each
                service sees"). ``trino-cli.properties`` has no user (the CLI's
                ``--user``).
            schema: ``TRINO_SCHEMA``. Default: ``"default"``.
            port: Default: 8080.
            password: Basic authentication. Default: none. Trino accepts passwords only
                over https, so a password needs ``tls=True``.
            tls: https. Default: False (http).
            namespace: Where the service runs. Default: read from ``host``.
            target_port: The port its pods listen on. Default: ``port``.
            service_pod_labels: Allow only these pods of the namespace. Default: the
                service's usual labels (``DEFAULT_SERVICE_POD_LABELS``).
            namespace_wide: Allow every pod of the namespace instead. Default: False.
            name: The binding's name. Default: ``id``.

        Returns:
            The binding; bind it with ``hub.add_binding`` or ``profile.add_binding``.

        Raises:
            ConfigurationError: A value is invalid; a credential given as plain text is
                refused without being echoed.
        """
        where = _path(scope, id)
        _text(where, "catalog", catalog, "iceberg")
        _text(where, "schema", schema, "default")
        check_bool(where, "tls", tls)
        if (
            not isinstance(user, str)
            or not user
            or not is_clean_text(user)
            or any(c.isspace() for c in user)
        ):
            raise invalid(
                where,
                "user",
                user,
                allowed="a non-empty user name without whitespace",
                fix='e.g. user="{unescaped_username}" (the notebook user\'s hub name)',
            )
        secret = _secret(where, "password", password, optional=True)
        if secret is not None and not tls:
            raise invalid(
                where,
                "tls",
                tls,
                allowed="True when a password is given (Trino refuses passwords over http)",
                fix="serve Trino over https and pass tls=True, or drop password=",
            )
        env: dict[str, str | SecretRef] = {
            "TRINO_HOST": host,
            "TRINO_PORT": str(port),
            "TRINO_HTTP_SCHEME": "https" if tls else "http",
            "TRINO_CATALOG": catalog,
            "TRINO_SCHEMA": schema,
            "TRINO_USER": user,
        }
        if secret is not None:
            env["TRINO_PASSWORD"] = secret
        files = {
            "trino-cli.properties": _properties(
                {
                    "server": _http_url(tls, host, port),
                    "catalog": catalog,
                    "schema": schema,
                }
            )
        }
        return cls(
            scope,
            id,
            service="trino",
            host=host,
            port=port,
            env=env,
            files=files,
            namespace=namespace,
            target_port=target_port,
            service_pod_labels=service_pod_labels,
            namespace_wide=namespace_wide,
            name=name,
        )

    @classmethod
    def s3(
        cls,
        scope: Construct,
        id: str,
        *,
        host: str,
        access_key_id: SecretRef,
        secret_access_key: SecretRef,
        port: int = 9000,
        region: str = "us-east-1",
        bucket: str | None = None,
        tls: bool = False,
        verify_tls: bool | None = None,
        namespace: str | None = None,
        target_port: int | None = None,
        service_pod_labels: Mapping[str, str] | None = None,
        namespace_wide: bool = False,
        name: str | None = None,
    ) -> PlatformServiceBinding:
        """MinIO or any S3 API in the cluster: ``S3_*``/``AWS_*`` and ``aws-config``.

        ``aws-config`` is an AWS shared config file (region, ``endpoint_url``, path-style
        addressing; no credentials), for the AWS CLI:
        ``AWS_CONFIG_FILE=/etc/platform-services/<name>/aws-config``.

        Args:
            scope: The hub's chart.
            id: Construct id (the binding's name unless ``name`` is given).
            host: The service's DNS name, ``<service>.<namespace>``.
            access_key_id: The access key id (a credential).
            secret_access_key: The secret access key.
            port: Default: 9000 (MinIO).
            region: Default: ``"us-east-1"`` (what MinIO answers to).
            bucket: The default bucket (``S3_BUCKET``). Default: none.
            tls: https. Default: False (http).
            verify_tls: Check the certificate. Default: the same as ``tls``.
            namespace: Where the service runs. Default: read from ``host``.
            target_port: The port its pods listen on. Default: ``port``.
            service_pod_labels: Allow only these pods of the namespace. Default: the
                service's usual labels (``DEFAULT_SERVICE_POD_LABELS``).
            namespace_wide: Allow every pod of the namespace instead. Default: False.
            name: The binding's name. Default: ``id``.

        Returns:
            The binding; bind it with ``hub.add_binding`` or ``profile.add_binding``.

        Raises:
            ConfigurationError: A value is invalid; a credential given as plain text is
                refused without being echoed.
        """
        where = _path(scope, id)
        key_id = _secret(where, "access_key_id", access_key_id)
        secret_key = _secret(where, "secret_access_key", secret_access_key)
        _text(where, "region", region, "us-east-1")
        check_bool(where, "tls", tls)
        if verify_tls is not None:
            check_bool(where, "verify_tls", verify_tls)
        if bucket is not None and (not isinstance(bucket, str) or not _S3_BUCKET.match(bucket)):
            raise invalid(
                where,
                "bucket",
                bucket,
                allowed="an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'",
                fix="name an existing bucket, e.g. bucket='notebooks'",
            )
        verify = tls if verify_tls is None else verify_tls
        if verify and not tls:
            raise invalid(
                where,
                "verify_tls",
                verify_tls,
                allowed="False or None when tls=False (there is no certificate to verify)",
                fix="pass tls=True for an https endpoint, or drop verify_tls=",
            )
        endpoint = _http_url(tls, host, port)
        assert key_id is not None and secret_key is not None
        env: dict[str, str | SecretRef] = {
            "S3_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": key_id,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_DEFAULT_REGION": region,
            "S3_VERIFY_TLS": "true" if verify else "false",
        }
        if bucket is not None:
            env["S3_BUCKET"] = bucket
        files = {
            "aws-config": (
                "[default]\n"
                f"region = {region}\n"
                f"endpoint_url = {endpoint}\n"
                "s3 =\n"
                "    addressing_style = path\n"
            )
        }
        return cls(
            scope,
            id,
            service="s3",
            host=host,
            port=port,
            env=env,
            files=files,
            namespace=namespace,
            target_port=target_port,
            service_pod_labels=service_pod_labels,
            namespace_wide=namespace_wide,
            name=name,
        )

    # MinIO is the S3 API the reference platform runs: the same factory under its name.
    minio = s3

    @classmethod
    def mlflow(
        cls,
        scope: Construct,
        id: str,
        *,
        host: str,
        port: int = 5000,
        tls: bool = False,
        username: str | None = None,
        password: SecretRef | None = None,
        artifact_store: PlatformServiceBinding | None = None,
        namespace: str | None = None,
        target_port: int | None = None,
        service_pod_labels: Mapping[str, str] | None = None,
        namespace_wide: bool = False,
        name: str | None = None,
    ) -> PlatformServiceBinding:
        """MLflow tracking server: ``MLFLOW_*``. No config file.

        Args:
            scope: The hub's chart.
            id: Construct id (the binding's name unless ``name`` is given).
            host: The service's DNS name, ``<service>.<namespace>``.
            port: Default: 5000.
            tls: https. Default: False (http).
            username: MLflow basic auth user. Default: none.
            password: MLflow basic auth password; needs ``username``. Default: none.
            artifact_store: The s3/minio binding whose endpoint clients upload artifacts
                to (``MLFLOW_S3_ENDPOINT_URL``). Default: none (the tracking server
                proxies artifacts). Bind that binding too: its credentials and
                NetworkPolicy are what the upload uses.
            namespace: Where the service runs. Default: read from ``host``.
            target_port: The port its pods listen on. Default: ``port``.
            service_pod_labels: Allow only these pods of the namespace. Default: the
                service's usual labels (``DEFAULT_SERVICE_POD_LABELS``).
            namespace_wide: Allow every pod of the namespace instead. Default: False.
            name: The binding's name. Default: ``id``.

        Returns:
            The binding; bind it with ``hub.add_binding`` or ``profile.add_binding``.

        Raises:
            ConfigurationError: A value is invalid; a credential given as plain text is
                refused without being echoed.
        """
        where = _path(scope, id)
        check_bool(where, "tls", tls)
        secret = _secret(where, "password", password, optional=True)
        if username is not None:
            _text(where, "username", username, "jupyter")
        if secret is not None and username is None:
            raise invalid(
                where,
                "username",
                username,
                allowed="a user name when password= is given",
                fix="pass username= for the MLflow account the password belongs to",
            )
        env: dict[str, str | SecretRef] = {"MLFLOW_TRACKING_URI": _http_url(tls, host, port)}
        if username is not None:
            env["MLFLOW_TRACKING_USERNAME"] = username
        if secret is not None:
            env["MLFLOW_TRACKING_PASSWORD"] = secret
        if artifact_store is not None:
            if not isinstance(artifact_store, PlatformServiceBinding) or (
                artifact_store.service != "s3"
            ):
                raise invalid(
                    where,
                    "artifact_store",
                    getattr(artifact_store, "service", type(artifact_store).__name__),
                    allowed="an s3/minio PlatformServiceBinding",
                    fix="pass the binding from PlatformServiceBinding.minio(...)",
                )
            env["MLFLOW_S3_ENDPOINT_URL"] = artifact_store.literal_env("S3_ENDPOINT_URL")
        return cls(
            scope,
            id,
            service="mlflow",
            host=host,
            port=port,
            env=env,
            namespace=namespace,
            target_port=target_port,
            service_pod_labels=service_pod_labels,
            namespace_wide=namespace_wide,
            name=name,
        )

    @classmethod
    def postgres(
        cls,
        scope: Construct,
        id: str,
        *,
        host: str,
        database: str,
        user: str,
        password: SecretRef,
        port: int = 5432,
        sslmode: PostgresSslMode = PostgresSslMode.REQUIRE,
        namespace: str | None = None,
        target_port: int | None = None,
        service_pod_labels: Mapping[str, str] | None = None,
        namespace_wide: bool = False,
        name: str | None = None,
    ) -> PlatformServiceBinding:
        """PostgreSQL: the libpq ``PG*`` variables and ``pg_service.conf``.

        ``pg_service.conf`` holds service ``platform`` (no password; libpq reads
        ``PGPASSWORD``): ``PGSERVICEFILE=/etc/platform-services/<name>/pg_service.conf
        psql service=platform``.

        Args:
            scope: The hub's chart.
            id: Construct id (the binding's name unless ``name`` is given).
            host: The service's DNS name, ``<service>.<namespace>``.
            database: ``PGDATABASE``.
            user: ``PGUSER``.
            password: ``PGPASSWORD`` (a credential).
            port: Default: 5432.
            sslmode: libpq ``sslmode``. Default: ``PostgresSslMode.REQUIRE`` (encrypted;
                opt out with ``DISABLE`` for a server without TLS).
            namespace: Where the service runs. Default: read from ``host``.
            target_port: The port its pods listen on. Default: ``port``.
            service_pod_labels: Allow only these pods of the namespace. Default: the
                service's usual labels (``DEFAULT_SERVICE_POD_LABELS``).
            namespace_wide: Allow every pod of the namespace instead. Default: False.
            name: The binding's name. Default: ``id``.

        Returns:
            The binding; bind it with ``hub.add_binding`` or ``profile.add_binding``.

        Raises:
            ConfigurationError: A value is invalid; a credential given as plain text is
                refused without being echoed.
        """
        where = _path(scope, id)
        _text(where, "database", database, "analytics")
        _text(where, "user", user, "jupyter")
        secret = _secret(where, "password", password)
        mode = _enum(where, "sslmode", sslmode, PostgresSslMode)
        assert secret is not None
        env: dict[str, str | SecretRef] = {
            "PGHOST": host,
            "PGPORT": str(port),
            "PGDATABASE": database,
            "PGUSER": user,
            "PGPASSWORD": secret,
            "PGSSLMODE": mode,
        }
        service_file = (
            f"[platform]\nhost={host}\nport={port}\ndbname={database}\nuser={user}\n"
            f"sslmode={mode}\n"
        )
        return cls(
            scope,
            id,
            service="postgres",
            host=host,
            port=port,
            env=env,
            files={"pg_service.conf": service_file},
            namespace=namespace,
            target_port=target_port,
            service_pod_labels=service_pod_labels,
            namespace_wide=namespace_wide,
            name=name,
        )

    @classmethod
    def datahub(
        cls,
        scope: Construct,
        id: str,
        *,
        host: str,
        port: int = 8080,
        tls: bool = False,
        token: SecretRef | None = None,
        namespace: str | None = None,
        target_port: int | None = None,
        service_pod_labels: Mapping[str, str] | None = None,
        namespace_wide: bool = False,
        name: str | None = None,
    ) -> PlatformServiceBinding:
        """DataHub GMS: ``DATAHUB_GMS_URL`` and the optional token.

        No config file (DataHub's ``~/.datahubenv`` would hold the token).

        Args:
            scope: The hub's chart.
            id: Construct id (the binding's name unless ``name`` is given).
            host: The service's DNS name, ``<service>.<namespace>``.
            port: Default: 8080.
            tls: https. Default: False (http).
            token: A DataHub personal access token. Default: none (GMS without metadata
                service authentication).
            namespace: Where the service runs. Default: read from ``host``.
            target_port: The port its pods listen on. Default: ``port``.
            service_pod_labels: Allow only these pods of the namespace. Default: the
                service's usual labels (``DEFAULT_SERVICE_POD_LABELS``).
            namespace_wide: Allow every pod of the namespace instead. Default: False.
            name: The binding's name. Default: ``id``.

        Returns:
            The binding; bind it with ``hub.add_binding`` or ``profile.add_binding``.

        Raises:
            ConfigurationError: A value is invalid; a credential given as plain text is
                refused without being echoed.
        """
        where = _path(scope, id)
        check_bool(where, "tls", tls)
        secret = _secret(where, "token", token, optional=True)
        env: dict[str, str | SecretRef] = {"DATAHUB_GMS_URL": _http_url(tls, host, port)}
        if secret is not None:
            env["DATAHUB_GMS_TOKEN"] = secret
        return cls(
            scope,
            id,
            service="datahub",
            host=host,
            port=port,
            env=env,
            namespace=namespace,
            target_port=target_port,
            service_pod_labels=service_pod_labels,
            namespace_wide=namespace_wide,
            name=name,
        )

    @classmethod
    def ray(
        cls,
        scope: Construct,
        id: str,
        *,
        host: str,
        port: int = 10001,
        namespace: str | None = None,
        target_port: int | None = None,
        service_pod_labels: Mapping[str, str] | None = None,
        namespace_wide: bool = False,
        name: str | None = None,
    ) -> PlatformServiceBinding:
        """Ray Client: ``RAY_ADDRESS=ray://host:port``. No config file, no credentials.

        Args:
            scope: The hub's chart.
            id: Construct id (the binding's name unless ``name`` is given).
            host: The head Service (KubeRay names it ``<cluster>-head-svc``).
            port: The Ray Client server's port, the only one opened. Default: 10001.
            namespace: Where the service runs. Default: read from ``host``.
            target_port: The port its pods listen on. Default: ``port``.
            service_pod_labels: Allow only these pods of the namespace. Default: the
                service's usual labels (``DEFAULT_SERVICE_POD_LABELS``).
            namespace_wide: Allow every pod of the namespace instead. Default: False.
            name: The binding's name. Default: ``id``.

        Returns:
            The binding; bind it with ``hub.add_binding`` or ``profile.add_binding``.

        Raises:
            ConfigurationError: A value is invalid; a credential given as plain text is
                refused without being echoed.
        """
        return cls(
            scope,
            id,
            service="ray",
            host=host,
            port=port,
            env={"RAY_ADDRESS": f"ray://{host}:{port}"},
            namespace=namespace,
            target_port=target_port,
            service_pod_labels=service_pod_labels,
            namespace_wide=namespace_wide,
            name=name,
        )

    @classmethod
    def kafka(
        cls,
        scope: Construct,
        id: str,
        *,
        host: str,
        port: int = 9092,
        security_protocol: KafkaSecurityProtocol = KafkaSecurityProtocol.PLAINTEXT,
        sasl_mechanism: KafkaSaslMechanism | None = None,
        sasl_username: str | None = None,
        sasl_password: SecretRef | None = None,
        namespace: str | None = None,
        target_port: int | None = None,
        service_pod_labels: Mapping[str, str] | None = None,
        namespace_wide: bool = False,
        name: str | None = None,
    ) -> PlatformServiceBinding:
        """Kafka: ``KAFKA_*`` and ``client.properties`` (no password).

        Brokers are reached at the addresses they advertise: they must run in
        ``namespace`` and listen on ``target_port`` too (Strimzi's do).

        Args:
            scope: The hub's chart.
            id: Construct id (the binding's name unless ``name`` is given).
            host: The bootstrap Service.
            port: Default: 9092.
            security_protocol: Default: ``KafkaSecurityProtocol.PLAINTEXT``.
            sasl_mechanism: With the SASL protocols (required there, refused otherwise).
            sasl_username: With the SASL protocols.
            sasl_password: With the SASL protocols (a credential).
            namespace: Where the service runs. Default: read from ``host``.
            target_port: The port its pods listen on. Default: ``port``.
            service_pod_labels: Allow only these pods of the namespace. Default: the
                service's usual labels (``DEFAULT_SERVICE_POD_LABELS``).
            namespace_wide: Allow every pod of the namespace instead. Default: False.
            name: The binding's name. Default: ``id``.

        Returns:
            The binding; bind it with ``hub.add_binding`` or ``profile.add_binding``.

        Raises:
            ConfigurationError: A value is invalid; a credential given as plain text is
                refused without being echoed.
        """
        where = _path(scope, id)
        protocol = _enum(where, "security_protocol", security_protocol, KafkaSecurityProtocol)
        secret = _secret(where, "sasl_password", sasl_password, optional=True)
        sasl = protocol.startswith("SASL_")
        given = {
            "sasl_mechanism": sasl_mechanism,
            "sasl_username": sasl_username,
            "sasl_password": secret,
        }
        for what, value in given.items():
            if sasl and value is None:
                raise invalid(
                    where,
                    what,
                    None,
                    allowed=f"a value with security_protocol {protocol}",
                    fix="pass sasl_mechanism=, sasl_username= and sasl_password= together",
                )
            if not sasl and value is not None:
                raise invalid(
                    where,
                    what,
                    "<SecretRef>" if what == "sasl_password" else value,
                    allowed=f"None with security_protocol {protocol} (no SASL)",
                    fix="use KafkaSecurityProtocol.SASL_SSL or SASL_PLAINTEXT, or drop it",
                )
        env: dict[str, str | SecretRef] = {
            "KAFKA_BOOTSTRAP_SERVERS": f"{host}:{port}",
            "KAFKA_SECURITY_PROTOCOL": protocol,
        }
        properties = {"bootstrap.servers": f"{host}:{port}", "security.protocol": protocol}
        if sasl:
            mechanism = _enum(where, "sasl_mechanism", sasl_mechanism, KafkaSaslMechanism)
            username = _text(where, "sasl_username", sasl_username, "jupyter")
            assert secret is not None
            env.update(
                {
                    "KAFKA_SASL_MECHANISM": mechanism,
                    "KAFKA_SASL_USERNAME": username,
                    "KAFKA_SASL_PASSWORD": secret,
                }
            )
            properties.update({"sasl.mechanism": mechanism, "sasl.username": username})
        return cls(
            scope,
            id,
            service="kafka",
            host=host,
            port=port,
            env=env,
            files={"client.properties": _properties(properties)},
            namespace=namespace,
            target_port=target_port,
            service_pod_labels=service_pod_labels,
            namespace_wide=namespace_wide,
            name=name,
        )


__all__ = [
    "KafkaSaslMechanism",
    "KafkaSecurityProtocol",
    "PlatformServiceBinding",
    "PostgresSslMode",
]
