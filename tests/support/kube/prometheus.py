"""Prometheus 3, built from its Go module, run as the pod prometheus-operator defines.

The operator writes a StatefulSet for each Prometheus resource; no StatefulSet controller
runs here, so its pod is run directly from the StatefulSet's pod template
(``tests/support/kube/pod_root.py``): the init container ``init-config-reloader`` (the
operator's own config reloader, same release) expands ``$(POD_NAME)``/``$(SHARD)`` into
``/etc/prometheus/config_out/prometheus.env.yaml``; then the ``prometheus`` container
starts with the operator's arguments, its rule-file ConfigMap, TLS assets and web
config at their mount paths, and the ``prometheus`` ServiceAccount's token for
Kubernetes service discovery against the test API server.

Not run: the ``config-reloader`` sidecar (it reloads Prometheus when the mounted
Secret changes; mounts are not refreshed here, so a test that changes what the
operator generates starts a new Prometheus).

This Prometheus has Kubernetes service discovery (Debian's package leaves it out), and
its ``promtool`` checks the generated configuration as it is mounted in the pod.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.kube import binaries
from tests.support.kube.client import KubeClient, wait_until
from tests.support.kube.pod_root import ImageStandIn, PodRoot
from tests.support.kube.prometheus_operator import NAMESPACE, OperatorRelease

Obj = dict[str, Any]
IMAGE = "quay.io/prometheus/prometheus"
CONFIG_FILE = "/etc/prometheus/config_out/prometheus.env.yaml"


def version(release: OperatorRelease) -> str:
    """The Prometheus release ``release`` runs, built from its pinned module
    (``v3.16.0`` for module ``v0.316.0``, ``v2.48.1`` for ``v0.48.1``)."""
    script = binaries.build_script()
    component = script.COMPONENTS[release.prometheus_component]
    return str(script._prometheus_release(component.requires[0][1]))


def image(release: OperatorRelease) -> ImageStandIn:
    """``quay.io/prometheus/prometheus``: entrypoint ``/bin/prometheus``, user nobody,
    ``/prometheus`` as its data directory, listening on port 9090 of the pod."""
    script = binaries.build_script()
    server, tool = script.COMPONENTS[release.prometheus_component].binaries
    found = binaries.require(server, tool)
    return ImageStandIn(
        ("/bin/prometheus",),
        {"/bin/prometheus": found[server], "/bin/promtool": found[tool]},
        directories=("/prometheus",),
        listen_flags={"--web.listen-address": 9090},
    )


def _get_json(url: str, timeout: float = 10) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def _ready(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
        return int(response.status) == 200


@dataclass
class PrometheusPod:
    """A running Prometheus pod, driven through Prometheus' HTTP API."""

    pod: PodRoot
    url: str

    def api(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        try:
            payload = _get_json(f"{self.url}/api/v1/{path}{query}")
        except urllib.error.HTTPError as error:
            payload = json.loads(error.read() or b"{}")
            raise AssertionError(f"Prometheus {path} {params}: {error.code} {payload}") from error
        if payload.get("status") != "success":
            raise AssertionError(f"Prometheus {path} {params}: {payload}")
        return payload["data"]

    def query(self, expr: str) -> list[Obj]:
        data = self.api("query", query=expr)
        return list(data["result"]) if data["resultType"] == "vector" else []

    def targets(self, state: str = "active") -> list[Obj]:
        """``activeTargets`` (discovered and kept) or ``droppedTargets``."""
        data = self.api("targets", state=state)
        return list(data["activeTargets" if state == "active" else "droppedTargets"])

    def rules(self) -> list[Obj]:
        return [rule for group in self.api("rules")["groups"] for rule in group["rules"]]

    def metric_names(self) -> set[str]:
        return set(self.api("label/__name__/values"))

    def promtool(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``promtool`` inside the pod's filesystem (the generated paths resolve)."""
        return self.pod.exec("prometheus", ["/bin/promtool", *args])

    def logs(self, lines: int = 60) -> str:
        return self.pod.logs(lines)


@contextlib.contextmanager
def running_prometheus(
    admin: KubeClient, name: str, release: OperatorRelease, namespace: str = NAMESPACE
) -> Iterator[PrometheusPod]:
    """The pod of the operator's StatefulSet ``prometheus-<name>``; stopped on exit.

    Raises:
        AssertionError: The init container failed (its output in the message).
    """
    statefulset = wait_until(
        lambda: admin.get(f"/apis/apps/v1/namespaces/{namespace}/statefulsets/prometheus-{name}"),
        60,
        f"the operator's StatefulSet prometheus-{name}",
    )
    template = statefulset["spec"]["template"]
    pod = {
        "metadata": {**template["metadata"], "name": f"prometheus-{name}-0"},
        "spec": template["spec"],
    }
    workdir = Path(tempfile.mkdtemp(prefix="jc-prometheus-"))
    root = PodRoot(admin, namespace, pod, workdir, {IMAGE: image(release), **release.images()})
    try:
        for init in template["spec"].get("initContainers") or []:
            done = root.run(init["name"])
            output = done.stdout + done.stderr
            assert done.returncode == 0, f"{init['name']} exited {done.returncode}:\n{output}"
        url = f"http://{root.ip}:9090"
        root.start("prometheus", lambda: _ready(url), timeout=90)
        yield PrometheusPod(root, url)
    finally:
        root.stop()
