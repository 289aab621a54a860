"""Reachability matrices: who can reach whom, from the rendered objects, by two judges.

A ``Scenario`` is a synthesized app seen as a network: its NetworkPolicies, and the pods
and addresses around it. The hub's pods are the real ones: each workload's pod template
rendered as a Pod, and the user pods the real KubeSpawner renders from the generated hub
config (``tests/support/kube/product.py``). The pods of other namespaces (DNS, ingress
controllers, Prometheus, the platform services and decoys beside them) and the addresses
(API server, cloud metadata, the internet...) stand for what a cluster has.

A matrix cell is (source row, destination column): ``Y`` allowed, ``.`` denied, ``-`` not
judged (address to address, or a connection the process never makes). Two judges fill
it: our evaluator (``tests/netpol.py``) and network-config-analyzer
(``tests/support/nca.py``); ``disagreements`` lists the cells where they differ.

A *process* row is a program inside a pod that reaches its destinations through the URLs
it is configured with (the idle culler inside the hub pod, with its ``--url``): the URL
is resolved as the pod would (``localhost`` is the pod's own loopback, a Service name its
pods), then judged.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tests.helpers import find
from tests.netpol import Endpoint, Evaluator, address, container_ports, loopback, pod, service_pods
from tests.support import nca
from tests.support.kube.product import UserChoice, pod_templates, render_user_pod

NS = "jupyter"
Obj = dict[str, Any]


@dataclass(frozen=True)
class Column:
    """A destination: an endpoint, a port and a protocol."""

    endpoint: str
    port: int
    protocol: str = "TCP"

    @property
    def title(self) -> str:
        return f"{self.endpoint}:{self.port}{'/udp' if self.protocol == 'UDP' else ''}"


def columns(spec: str) -> list[Column]:
    """``"hub:8081 kube-dns:53/udp"`` as columns."""
    result = []
    for item in spec.split():
        name, _, rest = item.partition(":")
        port, _, protocol = rest.partition("/")
        result.append(Column(name, int(port), protocol.upper() or "TCP"))
    return result


@dataclass(frozen=True)
class Process:
    """A program in pod ``pod`` that reaches ``urls`` (column endpoint -> the URL it uses)."""

    pod: str
    urls: Mapping[str, str]


@dataclass
class Scenario:
    """An app as a network: its policies, pods (with their Pod manifests) and addresses."""

    name: str
    objects: list[Obj]
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    manifests: dict[str, Obj] = field(default_factory=dict)
    processes: dict[str, Process] = field(default_factory=dict)

    @property
    def evaluator(self) -> Evaluator:
        return Evaluator.from_objects(self.objects)

    @property
    def policies(self) -> list[Obj]:
        return [o for o in self.objects if o["kind"] == "NetworkPolicy"]

    # -- building -----------------------------------------------------------------------

    def add_pod(self, key: str, ip: str, manifest: Obj, namespace: str = NS) -> None:
        """Add a pod from its manifest (renamed ``key``, in ``namespace``)."""
        manifest = json.loads(json.dumps(manifest))
        metadata = manifest.setdefault("metadata", {})
        metadata["name"] = key
        metadata["namespace"] = namespace
        labels = metadata.get("labels") or {}
        self.manifests[key] = manifest
        self.endpoints[key] = pod(key, ip, namespace, labels, container_ports(manifest["spec"]))

    def add_workload(self, key: str, ip: str, kind: str, name: str) -> None:
        """The pod of workload ``kind/name``, from its pod template."""
        self.add_pod(key, ip, pod_templates(self.objects)[f"{kind}/{name}"])

    def add_user(self, key: str, ip: str, profile: str, user: str) -> None:
        """The user pod the real KubeSpawner renders for ``user`` on ``profile``."""
        manifest, _ = render_user_pod(self.objects, UserChoice(profile), user)
        assert manifest["metadata"].get("namespace", NS) == NS
        self.add_pod(key, ip, manifest)

    def add_external(
        self,
        key: str,
        ip: str,
        namespace: str,
        labels: Mapping[str, str],
        ports: Mapping[str, tuple[int, str]] | None = None,
    ) -> None:
        """A pod of another namespace (no policy of ours selects it)."""
        container_ports_ = [
            {"name": name, "containerPort": port, "protocol": protocol}
            for name, (port, protocol) in (ports or {}).items()
        ]
        manifest = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"labels": dict(labels)},
            "spec": {
                "containers": [{"name": "main", "image": "example", "ports": container_ports_}]
            },
        }
        self.add_pod(key, ip, manifest, namespace)

    def add_address(self, key: str, ip: str) -> None:
        self.endpoints[key] = address(key, ip)

    # -- judging ------------------------------------------------------------------------

    def route(self, source: Endpoint, url: str) -> Endpoint:
        """Where a connection to ``url`` from ``source`` goes: its loopback or a Service's pod."""
        host = urlparse(url).hostname or ""
        if host == "localhost" or _is_loopback_ip(host):
            return loopback(host)
        service_name, _, namespace = host.partition(".")
        namespace = namespace.split(".")[0] or source.namespace or NS
        service = find(
            (o for o in self.objects if o["metadata"].get("namespace", NS) == namespace),
            "Service",
            service_name,
        )
        (target,) = service_pods(service, self.endpoints.values())
        return target

    def process_target(self, row: str, column: Column) -> Endpoint | None:
        """The endpoint process ``row`` reaches for ``column``; None if it never does."""
        process = self.processes[row]
        url = process.urls.get(column.endpoint)
        if url is None:
            return None
        parsed = urlparse(url)
        assert parsed.port == column.port, (url, column)
        return self.route(self.endpoints[process.pod], url)

    def source_of(self, row: str) -> Endpoint:
        return self.endpoints[self.processes[row].pod if row in self.processes else row]

    def cell(self, evaluator: Evaluator, row: str, column: Column) -> str:
        source = self.source_of(row)
        if row in self.processes:
            target = self.process_target(row, column)
            if target is None:
                return "-"
        else:
            target = self.endpoints[column.endpoint]
        if not source.is_pod and not target.is_pod:
            return "-"
        return "Y" if evaluator.allows(source, target, column.port, column.protocol) else "."

    def matrix(self, rows: Sequence[str], cols: Sequence[Column]) -> dict[str, str]:
        """Our evaluator's matrix: row -> its cells, space separated."""
        evaluator = self.evaluator
        return {row: " ".join(self.cell(evaluator, row, c) for c in cols) for row in rows}

    def analyzer_cell(self, report: nca.Connectivity, row: str, column: Column) -> str | None:
        """nca's verdict on a cell; None where it has none (loopback, a pod to itself)."""
        source = self.source_of(row)
        if row in self.processes:
            target = self.process_target(row, column)
            if target is None:
                return "-"
            if not target.is_pod and _is_loopback_ip(target.ip):
                return None  # never leaves the pod: nca has no notion of it, no policy applies
        else:
            target = self.endpoints[column.endpoint]
        if not source.is_pod and not target.is_pod:
            return "-"
        if source is target:
            return None  # nca reports no connection of a pod to itself
        allowed = report.allows(_nca_id(source), _nca_id(target), column.port, column.protocol)
        return "Y" if allowed else "."

    def analyze(self, workdir: Path) -> nca.Connectivity:
        """Run network-config-analyzer on this scenario's policies and pods."""
        return nca.connectivity(self.policies, self.manifests.values(), workdir)

    def disagreements(
        self, report: nca.Connectivity, rows: Sequence[str], cols: Sequence[Column]
    ) -> list[str]:
        """Every cell where nca and our evaluator differ, described."""
        evaluator = self.evaluator
        found = []
        for row in rows:
            for column in cols:
                ours = self.cell(evaluator, row, column)
                theirs = self.analyzer_cell(report, row, column)
                if theirs is not None and theirs != ours:
                    found.append(
                        f"{self.name}: {row} -> {column.title}: ours {ours!r}, nca {theirs!r}"
                    )
        return found

    def compared_cells(
        self, report: nca.Connectivity, rows: Sequence[str], cols: Sequence[Column]
    ) -> int:
        """How many cells both judges ruled on (Y or .)."""
        return sum(
            1
            for row in rows
            for column in cols
            if self.analyzer_cell(report, row, column) in ("Y", ".")
        )


def _is_loopback_ip(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _nca_id(endpoint: Endpoint) -> str | nca.Address:
    if endpoint.is_pod:
        return f"{endpoint.namespace}/{endpoint.name}"
    return ipaddress.ip_address(endpoint.ip)


def hub_settings(objects: Iterable[Obj]) -> Obj:
    """The generated ``hub_config.json`` (traits) of the hub ConfigMap."""
    config_map = find(objects, "ConfigMap", "hub-config")
    return json.loads(config_map["data"]["hub_config.json"])  # type: ignore[no-any-return]


def hub_service(objects: Iterable[Obj], name: str) -> Obj:
    """The hub-managed service ``name`` of the generated config."""
    services = hub_settings(objects)["traits"]["JupyterHub"]["services"]
    return next(s for s in services if s["name"] == name)  # type: ignore[no-any-return]


def culler_url(objects: Iterable[Obj]) -> str:
    """The hub API URL the idle culler is started with (its ``--url``)."""
    command = hub_service(objects, "idle-culler")["command"]
    (url,) = [a.removeprefix("--url=") for a in command if a.startswith("--url=")]
    return url


# -- the cluster around the hub ----------------------------------------------------------

#: Pods of other namespaces and outside addresses, the same in every scenario.
KUBE_DNS_LABELS = {"k8s-app": "kube-dns", "pod-template-hash": "5d78c9869d"}
DNS_PORTS = {"dns": (53, "UDP"), "dns-tcp": (53, "TCP"), "metrics": (9153, "TCP")}


def add_cluster(scenario: Scenario) -> None:
    """The pods and addresses around a hub, as a typical cluster has them."""
    s = scenario
    s.add_external("kube-dns", "10.244.2.2", "kube-system", KUBE_DNS_LABELS, DNS_PORTS)
    # NodeLocal DNSCache's pods, as Cilium's Local Redirect Policy runs them.
    s.add_external(
        "node-local-dns", "10.244.2.3", "kube-system", {"k8s-app": "node-local-dns"}, DNS_PORTS
    )
    # Another kube-system pod listening on 53 (a DNS server no pod should use).
    s.add_external("kube-other", "10.244.2.4", "kube-system", {"app": "other"}, DNS_PORTS)
    s.add_external(
        "ingress-nginx",
        "10.244.2.5",
        "ingress-nginx",
        {
            "app.kubernetes.io/name": "ingress-nginx",
            "app.kubernetes.io/component": "controller",
            "app.kubernetes.io/instance": "ingress-nginx",
        },
        {"http": (80, "TCP"), "https": (443, "TCP")},
    )
    # The admission webhook of the same chart: same namespace, not the controller.
    s.add_external(
        "ingress-other",
        "10.244.2.7",
        "ingress-nginx",
        {
            "app.kubernetes.io/name": "ingress-nginx",
            "app.kubernetes.io/component": "admission-webhook",
        },
        {"webhook": (8443, "TCP")},
    )
    s.add_external(
        "traefik",
        "10.244.3.3",
        "traefik",
        {"app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "traefik-traefik"},
        {"web": (8000, "TCP"), "websecure": (8443, "TCP")},
    )
    s.add_external(
        "prometheus",
        "10.244.2.6",
        "monitoring",
        {"app.kubernetes.io/name": "prometheus", "prometheus": "kube-prometheus"},
        {"web": (9090, "TCP")},
    )
    # Platform services that bindings open, and decoys beside them.
    s.add_external(
        "trino",
        "10.244.5.1",
        "data-platform",
        {"app.kubernetes.io/name": "trino", "app.kubernetes.io/component": "coordinator"},
        {"http": (8080, "TCP")},
    )
    s.add_external(
        "trino-worker",
        "10.244.5.2",
        "data-platform",
        {"app.kubernetes.io/name": "trino", "app.kubernetes.io/component": "worker"},
        {"http": (8080, "TCP")},
    )
    s.add_external(
        "postgres",
        "10.244.5.3",
        "data-platform",
        {"app.kubernetes.io/name": "postgresql", "app.kubernetes.io/component": "primary"},
        {"tcp-postgresql": (5432, "TCP")},
    )
    # An admin database replica in the same namespace: listens on the bound ports.
    s.add_external(
        "admin-db",
        "10.244.5.9",
        "data-platform",
        {"app.kubernetes.io/name": "admin-db"},
        {"pg": (5432, "TCP"), "http": (8080, "TCP"), "s3": (9000, "TCP"), "kafka": (9092, "TCP")},
    )
    s.add_external(
        "ray-head",
        "10.244.6.1",
        "ray",
        {"ray.io/node-type": "head", "ray.io/cluster": "raycluster"},
        {"client": (10001, "TCP"), "gcs": (6379, "TCP")},
    )
    s.add_external(
        "ray-worker",
        "10.244.6.2",
        "ray",
        {"ray.io/node-type": "worker", "ray.io/cluster": "raycluster"},
        {"client": (10001, "TCP")},
    )
    # The control plane at a private address outside the pod network, and its IPv6 one.
    s.add_address("api-server", "172.20.0.10")
    s.add_address("api-server-v6", "fd00:10:96::1")
    s.add_address("node-local", "169.254.20.10")
    s.add_address("kube-dns-svc", "10.96.0.10")
    s.add_address("metadata", "169.254.169.254")
    s.add_address("metadata-v6", "fd00:ec2::254")
    s.add_address("private-host", "10.0.0.5")
    s.add_address("internet", "8.8.8.8")
    s.add_address("internet-v6", "2606:4700:4700::1111")


def add_hub(
    scenario: Scenario,
    *,
    users: Sequence[tuple[str, str, str]],
    tunnel: bool = False,
    puller: bool = True,
    bootstrap: bool = True,
) -> None:
    """The hub's own pods (from its objects) and the culler inside the hub pod.

    Args:
        users: (key, profile slug, user name) of the user pods to render.
    """
    s = scenario
    s.add_workload("hub", "10.244.0.10", "Deployment", "hub")
    s.add_workload("proxy", "10.244.0.11", "Deployment", "proxy")
    if bootstrap:
        s.add_workload("bootstrap", "10.244.0.12", "Job", "hub-secrets-bootstrap")
    if puller:
        s.add_workload("puller", "10.244.0.13", "DaemonSet", "image-puller")
    if tunnel:
        (name,) = [
            o["metadata"]["name"]
            for o in s.objects
            if o["kind"] == "Deployment"
            and o["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/name")
            == "cloudflared"
        ]
        s.add_workload("cloudflared", "10.244.0.14", "Deployment", name)
    for index, (key, profile, user) in enumerate(users):
        s.add_user(key, f"10.244.1.{20 + index}", profile, user)
    s.processes["culler"] = Process("hub", {"hub": culler_url(s.objects)})


def markdown_matrix(expected: Mapping[str, str], cols: Sequence[Column]) -> str:
    """A matrix as the Markdown table docs/security.md shows."""
    header = ["from \\ to"] + [c.title for c in cols]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    symbol = {"Y": "✅", ".": "·", "-": " "}
    for source, row in expected.items():
        lines.append("| " + " | ".join([source] + [symbol[c] for c in row.split()]) + " |")
    return "\n".join(lines)
