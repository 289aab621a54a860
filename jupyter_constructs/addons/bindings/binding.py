"""``ServiceBinding``: the construct that connects notebook pods to one platform service.

A binding renders, for the user pods of the profiles it is bound to:

- environment variables, named by ``jupyter_constructs.addons.bindings.contract`` (the
  contract the notebook image's ``platform_services`` package reads); credentials come
  from a Kubernetes Secret through ``secretKeyRef`` and never appear in ``dist/``;
- client config files (no credentials) in a ConfigMap, mounted read-only at
  ``/etc/platform-services/<name>/``;
- a NetworkPolicy (through ``hub.allow_traffic``) that lets exactly those pods reach
  exactly the service's pods (``service_pod_labels``, a default per service) on its
  port, and nothing else: not the other pods of its namespace.

The seven services' factories (``PlatformServiceBinding.trino`` ...) live in
``services.py``; this module is the generic construct they build. It is a hub add-on:
``hub.add_binding(b)`` or ``profile.add_binding(b)`` attach it (``bind``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from constructs import Construct

from jupyter_constructs.addons.bindings.contract import SERVICE_ENV
from jupyter_constructs.core.checks import add_check
from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.network_policy import egress, pods_in_namespace, tcp
from jupyter_constructs.core.objects import KubeObject, adopt, chart_namespace
from jupyter_constructs.core.rules import (
    CONFIG_MAP_KEY_RULE,
    DNS_LABEL,
    DNS_NAME,
    check,
    check_bool,
    check_labels,
    check_manifest_text,
    is_clean_text,
)
from jupyter_constructs.core.secrets import SecretRef, check_secret
from jupyter_constructs.hub.hub import JupyterHub
from jupyter_constructs.hub.kubespawner_traits import check_templates

CONFIG_MOUNT_ROOT = "/etc/platform-services"

DEFAULT_SERVICE_POD_LABELS: dict[str, dict[str, str]] = {
    # trinodb/charts: clients talk to the coordinator only.
    "trino": {"app.kubernetes.io/name": "trino", "app.kubernetes.io/component": "coordinator"},
    # The Bitnami MinIO chart (the MinIO operator's tenants: {"v1.min.io/tenant": NAME}).
    "s3": {"app.kubernetes.io/name": "minio"},
    # The community-charts and Bitnami MLflow charts.
    "mlflow": {"app.kubernetes.io/name": "mlflow"},
    # The Bitnami PostgreSQL chart (CloudNativePG: {"cnpg.io/cluster": NAME}).
    "postgres": {"app.kubernetes.io/name": "postgresql"},
    # The DataHub chart's GMS subchart.
    "datahub": {"app.kubernetes.io/name": "datahub-gms"},
    # KubeRay: the Ray Client server runs on the head pod only.
    "ray": {"ray.io/node-type": "head"},
    # Strimzi and Bitnami brokers both carry it; clients reach every broker.
    "kafka": {"app.kubernetes.io/name": "kafka"},
}
"""The labels of each service's pods as its usual chart or operator sets them: a
binding's egress rule selects these pods, in the service's namespace, on its port."""
"""User pods see a binding's config files in ``CONFIG_MOUNT_ROOT/<binding name>/``."""

_VOLUME_PREFIX = "binding-"
_MAX_NAME = 63 - len(_VOLUME_PREFIX)
# A cluster-local service address: <service>.<namespace>[.svc[.cluster.local]].
_CLUSTER_SUFFIXES = ((), ("svc",), ("svc", "cluster", "local"))


class ServiceBinding(Construct):
    """Connects notebook pods to one platform service; the generic form of a binding.

    Build bindings with the factories of ``PlatformServiceBinding`` (``trino``,
    ``s3``/``minio``, ``mlflow``, ``postgres``, ``datahub``, ``ray``, ``kafka``): they
    build the contract's environment for you. Then ``hub.add_binding(b)`` (every
    profile) or ``profile.add_binding(b)`` (one profile; a binding may be bound to several
    profiles of one hub).

    Args:
        scope: The hub's chart.
        id: Construct id.
        service: A key of ``contract.SERVICE_ENV`` (``"trino"``, ``"s3"``...).
        host: The service's DNS name, normally ``<service>.<namespace>`` (also ``.svc``
            and ``.svc.cluster.local`` forms). IP addresses are refused: a NetworkPolicy
            cannot follow them, and they change.
        port: The port clients connect to (the Service port).
        env: The service's contract variables (all required ones; credentials as
            ``SecretRef``, the others plain strings).
        files: Client config files, name -> content, never a credential. Default: none.
        namespace: Where the service runs; the NetworkPolicy allows egress to it.
            Default: read from ``host`` (``trino.data-platform`` is in
            ``data-platform``); required when ``host`` does not say.
        target_port: The port the service's pods listen on, when the Service maps
            ``port`` to another one (NetworkPolicies see pod ports). Default: ``port``.
        service_pod_labels: Labels of the service's pods; the egress rule allows only
            those pods of the namespace. Default: the service's
            (``DEFAULT_SERVICE_POD_LABELS``, e.g. ``app.kubernetes.io/name: trino``);
            read yours with ``kubectl -n <namespace> get pods --show-labels``.
        namespace_wide: Allow every pod of the namespace instead (decoys and admin
            replicas included): only when asked for. Default: False.
        name: The binding's name (a DNS label, unique per hub); the config files are
            mounted at ``/etc/platform-services/<name>/``. Default: the construct id.

    Attributes:
        network_policy: The egress NetworkPolicy, once bound to a hub that renders
            NetworkPolicies; else ``None``.
        config_map: The client config files, or ``None`` for services without any.

    Raises:
        ConfigurationError: A value is invalid, or the environment breaks the contract.
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
        namespace_wide: bool = False,
        name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
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
        check_bool(self, "namespace_wide", namespace_wide)
        if namespace_wide and service_pod_labels is not None:
            raise invalid(
                self,
                "namespace_wide",
                namespace_wide,
                allowed="False when service_pod_labels is given (the labels narrow the "
                "rule, namespace_wide widens it to every pod)",
                fix="drop one of service_pod_labels= and namespace_wide=True",
            )
        self.namespace_wide = bool(namespace_wide)
        #: The labels the egress rule selects; empty when ``namespace_wide``.
        self.service_pod_labels: dict[str, str] = (
            {}
            if namespace_wide
            else self._check_labels(
                DEFAULT_SERVICE_POD_LABELS[service]
                if service_pod_labels is None
                else service_pod_labels
            )
        )
        self._env = self._check_env(env)
        self.files: dict[str, str] = self._check_files(files or {})
        self._hub: JupyterHub | None = None

        self.config_map: KubeObject | None = None
        if self.files:
            self.config_map = KubeObject(
                self,
                "config",
                api_version="v1",
                kind="ConfigMap",
                labels=self.labels(),
                body={"data": self.files},
            )
        #: The egress NetworkPolicy, once bound to a hub that renders NetworkPolicies.
        self.network_policy: KubeObject | None = None
        add_check(self, self._check_bound)

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
        if not labels:
            raise invalid(
                self,
                "service_pod_labels",
                dict(labels),
                allowed="the (non-empty) labels of the service's pods",
                fix="copy them from `kubectl -n <namespace> get pods --show-labels`, or "
                "pass namespace_wide=True to allow every pod of the namespace",
            )
        return dict(sorted(check_labels(self, "service_pod_labels", labels).items()))

    def _check_files(self, files: Mapping[str, str]) -> dict[str, str]:
        for key, content in files.items():
            check(
                self,
                "files key",
                key,
                CONFIG_MAP_KEY_RULE,
                fix="name the file like 'client.properties'",
            )
            if not isinstance(content, str) or "\0" in content:
                raise invalid(
                    self,
                    f"files[{key!r}]",
                    type(content).__name__,
                    allowed="text without NUL characters",
                    fix="pass the file's text",
                )
            check_manifest_text(self, f"files[{key!r}]", content, fix="pass the file's text")
        return dict(sorted(files.items()))

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
                check_secret(self, name, value)
            elif not isinstance(value, str) or not value or not is_clean_text(value):
                raise invalid(
                    self,
                    name,
                    "<SecretRef>" if isinstance(value, SecretRef) else value,
                    allowed="a non-empty plain string without control characters or "
                    "surrounding whitespace (this variable is not a credential)",
                    fix=f"build the binding with {spec.factory}(...)",
                )
            else:
                check_templates(self, name, value)
        return {name: env[name] for name in spec.names if name in env}

    # -- attaching ---------------------------------------------------------------------

    def bind(self, hub: JupyterHub) -> None:
        """Attach to ``hub``; called by ``hub.add_binding``/``profile.add_binding``, call those.

        Raises:
            ConfigurationError: The binding is bound to another hub already, or its chart
                is not in the hub's namespace.
        """
        if self._hub is not None and self._hub is not hub:
            raise invalid(
                self,
                "hub",
                hub.node.path,
                allowed=f"the hub it is bound to already ({self._hub.node.path})",
                fix="create one binding per hub",
            )
        namespace = chart_namespace(self)
        if namespace != hub.namespace:
            raise invalid(
                self,
                "chart namespace",
                namespace,
                allowed=f"{hub.namespace!r}, the hub's namespace (the ConfigMap and the "
                "NetworkPolicy must live beside the user pods)",
                fix="create the binding in the hub's chart",
            )
        peer = pods_in_namespace(self.namespace, self.service_pod_labels or None)
        # namespace_wide: no pod selector, every pod of the namespace.
        self.network_policy = hub.allow_traffic(
            self,
            "egress",
            labels=self.labels(),
            # Late: profiles bound after this call are selected too.
            pod_selector=lambda: hub.user_pod_selector(hub.binding_profiles(self)),
            egress_rules=[egress([peer], [tcp(self.target_port)])],
        )
        self._hub = hub  # last: a bind that failed leaves the binding unbound

    @property
    def hub_wide(self) -> bool:
        """True when bound with ``hub.add_binding`` (every profile)."""
        return self._hub is not None and self._hub.binding_profiles(self) is None

    @property
    def profiles(self) -> list[Any]:
        """The profiles bound with ``profile.add_binding``."""
        return (self._hub.binding_profiles(self) or []) if self._hub is not None else []

    def _check_bound(self) -> list[str]:
        if self._hub is not None:
            return []
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
        """KubeSpawner ``environment`` entries of this binding.

        Returns:
            Variable name -> a plain string, or ``{"valueFrom": {"secretKeyRef": ...}}``
            for credentials.
        """
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
        """The name of the config files' volume in user pods."""
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


__all__ = ["CONFIG_MOUNT_ROOT", "DEFAULT_SERVICE_POD_LABELS", "ServiceBinding", "check_secret"]
