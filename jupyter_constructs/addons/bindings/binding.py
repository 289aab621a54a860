"""``PlatformServiceBinding``: connect notebook pods to one service of the data platform.

A binding renders three things for the user pods of the profiles it is bound to:

- environment variables, named by ``binding_contract.SERVICE_ENV`` (the contract the
  notebook image's ``platform_services`` package reads); credentials come from a
  Kubernetes Secret through ``secretKeyRef`` and never appear in ``dist/``;
- client config files (no credentials) in a ConfigMap, mounted read-only at
  ``/etc/platform-services/<name>/``;
- a NetworkPolicy that lets exactly those pods reach exactly the service's namespace and
  port, and nothing else.

Build one with a factory per service and bind it::

    trino = PlatformServiceBinding.trino(
        chart, "trino", host="trino.data-platform", catalog="iceberg", user="jupyter"
    )
    hub.add_binding(trino)  # every profile
    gpu.add_binding(PlatformServiceBinding.ray(chart, "ray", host="ray-head.ray"))

Reference: docs/platform-services.md (the variable table).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import cdk8s
import jsii
from cdk8s_plus_27 import k8s
from constructs import Construct, IValidation

from jupyter_constructs.addons.bindings.contract import SERVICE_ENV
from jupyter_constructs.core._utils import DNS_LABEL, DNS_NAME, sort_keys
from jupyter_constructs.core.errors import ConfigurationError, invalid
from jupyter_constructs.core.secrets import SecretRef
from jupyter_constructs.delivery.gitops import apply_sync_waves
from jupyter_constructs.hub.profiles import PROFILE_LABEL

if TYPE_CHECKING:
    from jupyter_constructs.hub.hub import JupyterHub
    from jupyter_constructs.hub.profiles import NotebookProfile

CONFIG_MOUNT_ROOT = "/etc/platform-services"
"""User pods see a binding's config files in ``CONFIG_MOUNT_ROOT/<binding name>/``."""

USER_POD_COMPONENT = "singleuser-server"
"""The ``app.kubernetes.io/component`` label KubeSpawner puts on user pods."""

_NAMESPACE_LABEL = "kubernetes.io/metadata.name"
_VOLUME_PREFIX = "binding-"
_MAX_NAME = 63 - len(_VOLUME_PREFIX)
# A cluster-local service address: <service>.<namespace>[.svc[.cluster.local]].
_CLUSTER_SUFFIXES = ((), ("svc",), ("svc", "cluster", "local"))
_TEXT = re.compile(r"^[^\s{}]+$")
_S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


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


def _path(scope: Construct, id: str) -> str:
    """The construct path a binding built as ``(scope, id)`` will have."""
    return f"{scope.node.path}/{id}" if scope.node.path else id


def _secret(where: str, what: str, value: object, *, optional: bool = False) -> SecretRef | None:
    """``value`` if it is a SecretRef (or None when ``optional``); a plain value is refused
    without echoing it, because it is most likely the credential itself."""
    if value is None and optional:
        return None
    if isinstance(value, SecretRef):
        return value
    shown = "<plain str, value hidden>" if isinstance(value, str) else type(value).__name__
    raise invalid(
        where,
        what,
        shown,
        allowed="a SecretRef(name, key) naming the Kubernetes Secret that holds it",
        fix=f'pass {what}=SecretRef("<secret name>", "<key>"); credentials never go in code '
        "or in dist/",
    )


def _text(where: str, what: str, value: object, example: str) -> str:
    if not isinstance(value, str) or not _TEXT.match(value):
        raise invalid(
            where,
            what,
            value,
            allowed="a non-empty string without whitespace or braces",
            fix=f"e.g. {what}={example!r}",
        )
    return value


def _enum(where: str, what: str, value: object, kind: type[enum.Enum]) -> Any:
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


@jsii.implements(IValidation)
class _BindingValidation:
    def __init__(self, binding: PlatformServiceBinding) -> None:
        self._binding = binding

    def validate(self) -> list[str]:
        return self._binding.validation_errors()


class _EgressPolicy(cdk8s.ApiObject):
    """The binding's NetworkPolicy; its spec is rendered at synth, after every bind()."""

    def __init__(self, binding: PlatformServiceBinding) -> None:
        super().__init__(
            binding,
            "egress",
            api_version="networking.k8s.io/v1",
            kind="NetworkPolicy",
            metadata=cdk8s.ApiObjectMetadata(labels=binding.labels()),
        )
        self._binding = binding

    def to_json(self) -> Any:
        manifest = dict(super().to_json())
        # Keys sorted like every other object cdk8s writes.
        manifest["spec"] = sort_keys(self._binding.network_policy_spec())
        return manifest


class PlatformServiceBinding(Construct):
    """Connects notebook pods to one platform service (Trino, S3/MinIO, MLflow, ...).

    Use a factory (``trino``, ``s3``/``minio``, ``mlflow``, ``postgres``, ``datahub``,
    ``ray``, ``kafka``); they build the environment of the contract for you. Then
    ``hub.add_binding(b)`` (every profile) or ``profile.add_binding(b)`` (one profile; a
    binding may be bound to several profiles of one hub).

    Common parameters of every factory:

    - ``host``: the service's DNS name, normally ``<service>.<namespace>`` (also
      ``.svc`` and ``.svc.cluster.local`` forms). IP addresses are refused: a
      NetworkPolicy cannot follow them, and they change.
    - ``port``: the port clients connect to (the Service port). Default: the service's
      usual port.
    - ``namespace``: where the service runs; the NetworkPolicy allows egress to it.
      Default: read from ``host`` (``trino.data-platform`` is in ``data-platform``);
      required when ``host`` does not say.
    - ``target_port``: the port the service's pods listen on, when the Service maps
      ``port`` to another one. NetworkPolicies see pod ports, not Service ports.
      Default: ``port``.
    - ``service_pod_labels``: labels of the service's pods; the egress rule then allows
      only those pods of the namespace. Default: any pod of the namespace (on that port).
    - ``name``: the binding's name (DNS label, unique per hub); the config files are
      mounted at ``/etc/platform-services/<name>/``. Default: the construct id.

    The constructor is the generic form the factories call: ``service`` (a key of
    ``binding_contract.SERVICE_ENV``), ``env`` (only that service's contract variables,
    all required ones, credentials as ``SecretRef``) and ``files`` (config file name ->
    content, never a credential). Prefer the factories.

    Attributes: ``network_policy`` (the egress NetworkPolicy), ``config_map`` (the
    client config files, or None for services without any).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        service: str,
        host: str,
        port: int,
        env: Mapping[str, str | SecretRef],
        files: Mapping[str, str] | None = None,
        namespace: str | None = None,
        target_port: int | None = None,
        service_pod_labels: Mapping[str, str] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        if service not in SERVICE_ENV:
            raise invalid(
                self,
                "service",
                service,
                allowed=", ".join(SERVICE_ENV),
                fix="use a PlatformServiceBinding factory such as PlatformServiceBinding.trino",
            )
        self.service = service
        self.name: str = self._check_name(id if name is None else name)
        self.host: str = self._check_host(host)
        self.port: int = self._check_port("port", port)
        self.target_port: int = (
            self.port if target_port is None else self._check_port("target_port", target_port)
        )
        self.namespace: str = self._check_namespace(namespace)
        self.service_pod_labels = self._check_labels(service_pod_labels or {})
        self._env = self._check_env(env)
        self.files: dict[str, str] = dict(sorted((files or {}).items()))
        self._hub: JupyterHub | None = None
        self._hub_wide = False
        self._profiles: list[NotebookProfile] = []

        self.config_map: k8s.KubeConfigMap | None = None
        if self.files:
            self.config_map = k8s.KubeConfigMap(
                self,
                "config",
                metadata=k8s.ObjectMeta(labels=self.labels()),
                data=self.files,
            )
        self.network_policy: cdk8s.ApiObject = _EgressPolicy(self)
        self.node.add_validation(_BindingValidation(self))
        apply_sync_waves(self)

    # -- factories ----------------------------------------------------------------------

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
        name: str | None = None,
    ) -> PlatformServiceBinding:
        """Trino: ``TRINO_*`` and ``trino-cli.properties`` (the Trino CLI's config format).

        ``user``: the Trino user. KubeSpawner expands ``"{unescaped_username}"`` to the
        notebook user's hub name (``"{username}"``: its escaped form), so each user
        queries as themselves. ``trino-cli.properties`` has no user (the CLI's ``--user``).
        ``password``: basic authentication. Default: none. Trino accepts passwords only
        over https, so a password needs ``tls=True``. ``tls``: https. Default: http.
        ``schema`` default ``"default"``; ``port`` default 8080.
        """
        where = _path(scope, id)
        _text(where, "catalog", catalog, "iceberg")
        _text(where, "schema", schema, "default")
        if not isinstance(user, str) or not user.strip() or any(c.isspace() for c in user):
            raise invalid(
                where,
                "user",
                user,
                allowed="a non-empty user name without whitespace",
                fix='e.g. user="{unescaped_username}" (each notebook user as themselves)',
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
        name: str | None = None,
    ) -> PlatformServiceBinding:
        """MinIO or any S3 API in the cluster: ``S3_*``/``AWS_*`` and ``aws-config``.

        ``aws-config`` is an AWS shared config file (region, ``endpoint_url``, path-style
        addressing; no credentials): ``AWS_CONFIG_FILE=/etc/platform-services/<name>/aws-config``
        for the AWS CLI. Both keys are credentials (``SecretRef``). ``port`` default 9000
        (MinIO); ``region`` default ``us-east-1`` (what MinIO answers to); ``bucket``:
        the default bucket (``S3_BUCKET``), default none; ``tls``: https, default http;
        ``verify_tls``: check the certificate, default: same as ``tls``.
        """
        where = _path(scope, id)
        key_id = _secret(where, "access_key_id", access_key_id)
        secret_key = _secret(where, "secret_access_key", secret_access_key)
        _text(where, "region", region, "us-east-1")
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
        name: str | None = None,
    ) -> PlatformServiceBinding:
        """MLflow tracking server: ``MLFLOW_*``. No config file.

        ``username``/``password``: MLflow basic auth. Default: none; a password needs a
        username. ``artifact_store``: the s3/minio binding whose endpoint clients upload
        artifacts to (``MLFLOW_S3_ENDPOINT_URL``). Default: none (the tracking server
        proxies artifacts). Bind that s3 binding too: its credentials and NetworkPolicy
        are what the upload uses. ``port`` default 5000; ``tls`` default http.
        """
        where = _path(scope, id)
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
        name: str | None = None,
    ) -> PlatformServiceBinding:
        """PostgreSQL: the libpq ``PG*`` variables and ``pg_service.conf``.

        ``pg_service.conf`` holds service ``platform`` (no password; libpq reads
        ``PGPASSWORD``): ``PGSERVICEFILE=/etc/platform-services/<name>/pg_service.conf
        psql service=platform``. ``sslmode`` default ``REQUIRE`` (encrypted; opt out
        with ``PostgresSslMode.DISABLE`` for a server without TLS). ``port`` default 5432.
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
        name: str | None = None,
    ) -> PlatformServiceBinding:
        """DataHub GMS: ``DATAHUB_GMS_URL`` and the optional token. No config file
        (DataHub's ``~/.datahubenv`` would hold the token).

        ``token``: a DataHub personal access token. Default: none (GMS without
        metadata service authentication). ``port`` default 8080; ``tls`` default http.
        """
        where = _path(scope, id)
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
        name: str | None = None,
    ) -> PlatformServiceBinding:
        """Ray Client: ``RAY_ADDRESS=ray://host:port``. No config file, no credentials.

        ``host``: the head Service (KubeRay names it ``<cluster>-head-svc``). ``port``
        default 10001 (Ray Client server); only that port is opened.
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
        name: str | None = None,
    ) -> PlatformServiceBinding:
        """Kafka: ``KAFKA_*`` and ``client.properties`` (no password).

        ``host``/``port``: the bootstrap Service (default port 9092). Brokers are
        reached at the addresses they advertise: they must run in ``namespace`` and
        listen on ``target_port`` too (Strimzi's do). ``security_protocol`` default
        ``PLAINTEXT``; the SASL protocols need ``sasl_mechanism``, ``sasl_username`` and
        ``sasl_password``, the others refuse them.
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
            name=name,
        )

    # -- checks -------------------------------------------------------------------------

    def _check_name(self, name: object) -> str:
        if not isinstance(name, str) or not DNS_LABEL.match(name) or len(name) > _MAX_NAME:
            raise invalid(
                self,
                "binding name",
                name,
                allowed=f"a DNS-1123 label of at most {_MAX_NAME} characters: lowercase "
                "letters, digits and '-'",
                fix="pass name= (or use a construct id) like 'trino' or 'minio'",
            )
        return name

    def _check_host(self, host: object) -> str:
        if not isinstance(host, str) or not (DNS_NAME.match(host) or DNS_LABEL.match(host)):
            raise invalid(
                self,
                "host",
                host,
                allowed="a lowercase DNS name or in-cluster service name such as "
                "'trino.data-platform' (no scheme, port, path or IP address)",
                fix="pass the service's DNS name: <service>.<namespace>",
            )
        return host

    def _check_port(self, what: str, port: object) -> int:
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise invalid(
                self,
                what,
                port,
                allowed="an integer 1-65535",
                fix="pass the port the service listens on, e.g. 8080",
            )
        return port

    def _check_namespace(self, namespace: object) -> str:
        labels = self.host.split(".")
        implied = labels[1] if len(labels) > 1 and tuple(labels[2:]) in _CLUSTER_SUFFIXES else None
        if namespace is None:
            if implied is None:
                raise invalid(
                    self,
                    "namespace",
                    None,
                    allowed=f"the namespace the service runs in (host {self.host!r} does not "
                    "say it)",
                    fix="pass namespace=, e.g. namespace='data-platform'",
                )
            namespace = implied
        if not isinstance(namespace, str) or not DNS_LABEL.match(namespace):
            raise invalid(
                self,
                "namespace",
                namespace,
                allowed="a DNS-1123 label: 1-63 lowercase letters, digits and '-', "
                "starting and ending with a letter or digit",
                fix="pass the namespace the service runs in, e.g. 'data-platform'",
            )
        if implied is not None and namespace != implied:
            raise invalid(
                self,
                "namespace",
                namespace,
                allowed=f"{implied!r}, the namespace host {self.host!r} points to",
                fix="drop namespace= or make host and namespace agree",
            )
        return namespace

    def _check_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        for key, value in labels.items():
            if not (isinstance(key, str) and _LABEL_KEY.match(key)) or not (
                isinstance(value, str) and _LABEL_VALUE.match(value)
            ):
                raise invalid(
                    self,
                    "service_pod_labels",
                    {key: value},
                    allowed="Kubernetes label keys and values",
                    fix="copy the labels from the service's pods, e.g. "
                    "{'app.kubernetes.io/name': 'trino'}",
                )
        return dict(sorted(labels.items()))

    def _check_env(self, env: Mapping[str, str | SecretRef]) -> dict[str, str | SecretRef]:
        spec = SERVICE_ENV[self.service]
        missing = [n for n in spec.required if n not in env]
        unknown = [n for n in env if n not in spec.names]
        if missing or unknown:
            raise invalid(
                self,
                "environment",
                sorted(env),
                allowed=f"the {self.service} contract: required {', '.join(spec.required)}"
                + (f"; optional {', '.join(spec.optional)}" if spec.optional else ""),
                fix=f"build the binding with {spec.factory}(...)",
            )
        for name, value in env.items():
            if name in spec.secret:
                _secret(self.node.path, name, value)
            elif not isinstance(value, str) or not value:
                raise invalid(
                    self,
                    name,
                    "<SecretRef>" if isinstance(value, SecretRef) else value,
                    allowed="a non-empty plain string (this variable is not a credential)",
                    fix=f"build the binding with {spec.factory}(...)",
                )
        return {name: env[name] for name in spec.names if name in env}

    # -- binding ------------------------------------------------------------------------

    def bind(self, target: JupyterHub | NotebookProfile) -> None:
        """Give ``target``'s user pods this service. Called by ``hub.add_binding`` and
        ``profile.add_binding``; call those instead."""
        from jupyter_constructs.hub.hub import JupyterHub

        hub = target if isinstance(target, JupyterHub) else target.hub
        if self._hub is not None and self._hub is not hub:
            raise invalid(
                self,
                "hub",
                hub.node.path,
                allowed=f"the hub it is bound to already ({self._hub.node.path})",
                fix="create one binding per hub",
            )
        if self._chart_namespace() != hub.namespace:
            raise invalid(
                self,
                "chart namespace",
                self._chart_namespace(),
                allowed=f"{hub.namespace!r}, the hub's namespace (the ConfigMap and the "
                "NetworkPolicy must live beside the user pods)",
                fix="create the binding in the hub's chart",
            )
        bound_to = "the hub" if self._hub_wide else ", ".join(p.slug for p in self._profiles)
        if self._hub_wide or (isinstance(target, JupyterHub) and self._profiles):
            raise invalid(
                self,
                "binding target",
                target.node.path,
                allowed=f"one target per binding: it is already bound to {bound_to}",
                fix="bind it to the hub (every profile) or to profiles, not both",
            )
        if target in self._profiles:
            raise invalid(
                self,
                "binding target",
                target.node.path,
                allowed="each profile once",
                fix="remove the second add_binding call",
            )
        for other in _bindings_of(hub):
            if other is not self and other.name == self.name:
                raise invalid(
                    self,
                    "binding name",
                    self.name,
                    allowed=f"a name no other binding of the hub uses ({other.node.path} has it)",
                    fix="pass name= to one of them",
                )
        profiles = hub.profiles if isinstance(target, JupyterHub) else [target]
        for profile in profiles:
            clash = self._clash(profile, _bindings_on(profile, hub))
            if clash:
                raise ConfigurationError(clash)
        self._hub = hub
        if isinstance(target, JupyterHub):
            self._hub_wide = True
        else:
            self._profiles.append(target)

    def _clash(self, profile: NotebookProfile, others: list[PlatformServiceBinding]) -> str:
        mine = set(self._env)
        for other in others:
            if other is self:
                continue
            shared = sorted(mine & set(other._env))
            if shared:
                return str(
                    invalid(
                        self,
                        "environment variable",
                        shared[0],
                        allowed=f"a variable no other binding of profile {profile.slug!r} "
                        f"sets ({other.node.path} sets it)",
                        fix="bind only one binding of each service to a profile; bind the "
                        "other one to another profile",
                    )
                )
        return ""

    def _chart_namespace(self) -> str | None:
        """The namespace this binding's objects are synthesized into."""
        return cdk8s.Chart.of(self).namespace

    @property
    def hub_wide(self) -> bool:
        """True when bound with ``hub.add_binding`` (every profile)."""
        return self._hub_wide

    @property
    def profiles(self) -> list[NotebookProfile]:
        """The profiles bound with ``profile.add_binding``."""
        return list(self._profiles)

    # -- rendering ----------------------------------------------------------------------

    def labels(self) -> dict[str, str]:
        """Labels of the binding's own objects."""
        return {
            "app.kubernetes.io/name": "jupyterhub",
            "app.kubernetes.io/component": "platform-service-binding",
            "app.kubernetes.io/managed-by": "jupyter-constructs",
            "jupyter-constructs.io/binding": self.name,
            "jupyter-constructs.io/service": self.service,
        }

    def literal_env(self, name: str) -> str:
        """The plain value of a non-secret variable this binding sets."""
        value = self._env[name]
        assert isinstance(value, str), name
        return value

    def environment(self) -> dict[str, Any]:
        """KubeSpawner ``environment`` entries: plain strings, or ``{"valueFrom":
        {"secretKeyRef": ...}}`` for credentials."""
        return {
            name: {"valueFrom": value.env_value_from()} if isinstance(value, SecretRef) else value
            for name, value in self._env.items()
        }

    @property
    def mount_path(self) -> str:
        """Where user pods see the config files."""
        return f"{CONFIG_MOUNT_ROOT}/{self.name}"

    @property
    def volume_name(self) -> str:
        return _VOLUME_PREFIX + self.name

    def user_volumes(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """KubeSpawner ``volumes`` and ``volume_mounts`` entries for the config files."""
        if self.config_map is None:
            return [], []
        volume = {
            "name": self.volume_name,
            "configMap": {"name": self.config_map.name, "defaultMode": 0o444},
        }
        mount = {"name": self.volume_name, "mountPath": self.mount_path, "readOnly": True}
        return [volume], [mount]

    def pod_selector(self) -> dict[str, Any]:
        """The LabelSelector of the bound profiles' user pods."""
        if self._hub is None:
            raise invalid(
                self,
                "binding",
                self.node.path,
                allowed="a binding bound to a hub or profile",
                fix="call hub.add_binding(binding) or profile.add_binding(binding)",
            )
        selector: dict[str, Any] = {
            "matchLabels": {
                "app.kubernetes.io/component": USER_POD_COMPONENT,
                "app.kubernetes.io/instance": self._hub.namespace,
            }
        }
        if not self._hub_wide:
            selector["matchExpressions"] = [
                {
                    "key": PROFILE_LABEL,
                    "operator": "In",
                    "values": [p.slug for p in self._profiles],
                }
            ]
        return selector

    def network_policy_spec(self) -> dict[str, Any]:
        """Egress from the bound user pods to the service's namespace and port only."""
        peer: dict[str, Any] = {
            "namespaceSelector": {"matchLabels": {_NAMESPACE_LABEL: self.namespace}}
        }
        if self.service_pod_labels:
            peer["podSelector"] = {"matchLabels": dict(self.service_pod_labels)}
        return {
            "podSelector": self.pod_selector(),
            "policyTypes": ["Egress"],
            "egress": [{"to": [peer], "ports": [{"protocol": "TCP", "port": self.target_port}]}],
        }

    def validation_errors(self) -> list[str]:
        """Synth-time checks: bound at all, and no variable set twice on one profile."""
        if self._hub is None:
            return [
                str(
                    invalid(
                        self,
                        "binding",
                        self.node.path,
                        allowed="a binding bound to a hub or profile",
                        fix="call hub.add_binding(binding) or profile.add_binding(binding), "
                        "or delete the binding",
                    )
                )
            ]
        hub = self._hub
        errors = []
        for profile in hub.profiles if self._hub_wide else self._profiles:
            clash = self._clash(profile, _bindings_on(profile, hub))
            if clash:
                errors.append(clash)
        return errors


def _bindings_of(hub: JupyterHub) -> list[PlatformServiceBinding]:
    """Every binding of the hub: hub-wide and per profile, without duplicates."""
    seen: list[PlatformServiceBinding] = []
    for binding in [*hub.bindings, *(b for p in hub.profiles for b in p.bindings)]:
        if binding not in seen:
            seen.append(binding)
    return seen


def _bindings_on(profile: NotebookProfile, hub: JupyterHub) -> list[PlatformServiceBinding]:
    """Bindings reaching ``profile``'s pods (hub-wide, then its own)."""
    return [*hub.bindings, *profile.bindings]


__all__ = [
    "CONFIG_MOUNT_ROOT",
    "KafkaSaslMechanism",
    "KafkaSecurityProtocol",
    "PlatformServiceBinding",
    "PostgresSslMode",
]
