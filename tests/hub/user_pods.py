"""User pods and PVCs as the real KubeSpawner renders them from a synthesized hub config.

``spawn(objects, slug, user)`` loads the hub ConfigMap's files exactly as the hub does,
builds a real ``KubeSpawner`` (only its Kubernetes client is mocked), selects the profile
as the spawn form does (``load_user_options``) and renders ``get_pod_manifest`` and
``get_pvc_manifest``. ``check_pod`` validates a pod strictly (Kubernetes 1.27 and the
newest schema) and against every rule of the restricted Pod Security Standard.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
from kubespawner import KubeSpawner

from tests.core.test_manifests import NEWEST_KUBERNETES
from tests.core.test_pod_security import RULES
from tests.helpers import find, write_config_dir
from tests.real_hub import load_config, mock_kubespawner

#: The policy labels: the NetworkPolicies select user pods by these.
POLICY_LABELS = {
    "app.kubernetes.io/name": "jupyterhub",
    "app.kubernetes.io/instance": "jupyter",
    "app.kubernetes.io/component": "singleuser-server",
}


@dataclass
class Spawned:
    """What the real KubeSpawner made of one user's start."""

    pod: dict[str, Any]
    pvc: dict[str, Any]
    spawner: KubeSpawner

    @property
    def notebook(self) -> dict[str, Any]:
        return next(c for c in self.pod["spec"]["containers"] if c["name"] == "notebook")

    @property
    def volumes(self) -> dict[str, dict[str, Any]]:
        return {v["name"]: v for v in self.pod["spec"].get("volumes") or []}

    @property
    def mounts(self) -> dict[str, dict[str, Any]]:
        return {m["mountPath"]: m for m in self.notebook.get("volumeMounts") or []}

    @property
    def env(self) -> dict[str, Any]:
        return {e["name"]: e.get("value", e.get("valueFrom")) for e in self.notebook["env"]}


def settings(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The generated ``hub_config.json``."""
    return json.loads(find(objects, "ConfigMap", "hub-config")["data"]["hub_config.json"])  # type: ignore[no-any-return]


def spawner_traits(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The hub-wide KubeSpawner traits of the generated config."""
    return settings(objects)["traits"]["KubeSpawner"]  # type: ignore[no-any-return]


def profile_override(objects: list[dict[str, Any]], slug: str) -> dict[str, Any]:
    """The ``kubespawner_override`` of profile ``slug``."""
    profiles = spawner_traits(objects)["profile_list"]
    return next(p for p in profiles if p["slug"] == slug)["kubespawner_override"]  # type: ignore[no-any-return]


def spawn(
    objects: list[dict[str, Any]], slug: str | None, user: str = "alice.smith@example.org"
) -> Spawned:
    """Render ``user``'s pod and PVC for profile ``slug`` with the real KubeSpawner."""
    from kubernetes_asyncio.client import ApiClient

    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(
            write_config_dir(objects, Path(tmp)),
            {"JUPYTERHUB_SERVICE_TOKEN_PROMETHEUS": "test-metrics-token"},
        )

    async def render(spawner: KubeSpawner) -> tuple[dict[str, Any], dict[str, Any]]:
        if slug is not None:
            spawner.user_options = {"profile": slug}
            await spawner.load_user_options()
        api = ApiClient()
        try:
            pod = api.sanitize_for_serialization(await spawner.get_pod_manifest())
            pvc = api.sanitize_for_serialization(spawner.get_pvc_manifest())
        finally:
            await api.close()
        return pod, pvc

    with mock_kubespawner(config, user) as spawner:
        pod, pvc = asyncio.run(render(spawner))
        return Spawned(pod, pvc, spawner)


def check_pod(pod: dict[str, Any]) -> None:
    """Fail unless ``pod`` validates strictly and meets every restricted PSS rule."""
    for version in ("1.27", NEWEST_KUBERNETES):
        kubernetes_validate.validate(pod, version, strict=True)
    broken = {rule: problems for rule, check in RULES.items() if (problems := check(pod))}
    assert not broken, broken


def check_pvc(pvc: dict[str, Any]) -> None:
    """Fail unless ``pvc`` validates strictly."""
    for version in ("1.27", NEWEST_KUBERNETES):
        kubernetes_validate.validate(pvc, version, strict=True)
