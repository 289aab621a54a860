"""What the product renders, as the API-server tests use it: pod templates, the user pods
and PVCs the real KubeSpawner renders from the generated hub config, the bootstrap Job.
"""

from __future__ import annotations

import asyncio
import copy
import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Obj = dict[str, Any]
WORKLOAD_KINDS = ("Deployment", "DaemonSet", "StatefulSet", "Job", "ReplicaSet")
#: The env the hub container gets from Secrets (values are test values).
HUB_SECRET_ENV = {"JUPYTERHUB_SERVICE_TOKEN_PROMETHEUS": "test-metrics-token"}


def find(objects: Iterable[Obj], kind: str, name: str) -> Obj:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def pod_templates(objects: Iterable[Obj]) -> dict[str, Obj]:
    """``Kind/name`` -> a Pod built from that workload's pod template."""
    pods = {}
    for obj in objects:
        if obj["kind"] not in WORKLOAD_KINDS:
            continue
        template = copy.deepcopy(obj["spec"]["template"])
        metadata = template.get("metadata") or {}
        metadata["name"] = f"{obj['metadata']['name']}-template"
        pods[f"{obj['kind']}/{obj['metadata']['name']}"] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": metadata,
            "spec": template["spec"],
        }
    return pods


def hub_settings(objects: Iterable[Obj]) -> Obj:
    """The generated ``hub_config.json`` (traits) of the hub ConfigMap."""
    config_map = find(objects, "ConfigMap", "hub-config")
    return json.loads(config_map["data"]["hub_config.json"])  # type: ignore[no-any-return]


@dataclass(frozen=True)
class UserChoice:
    """A profile (and, if it has options, one choice per option) as the spawn form sends it."""

    slug: str
    options: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        extra = ",".join(f"{k}={v}" for k, v in self.options)
        return f"{self.slug}[{extra}]" if extra else self.slug

    def user_options(self) -> dict[str, str]:
        return {"profile": self.slug, **dict(self.options)}


def user_choices(objects: Iterable[Obj]) -> list[UserChoice]:
    """Every profile, and every listed choice of each of its options."""
    choices = []
    for profile in hub_settings(objects)["traits"]["KubeSpawner"].get("profile_list", []):
        choices.append(UserChoice(profile["slug"]))
        for option, spec in (profile.get("profile_options") or {}).items():
            for choice in spec.get("choices") or {}:
                choices.append(UserChoice(profile["slug"], ((option, choice),)))
    return choices


def render_user_pod(
    objects: Iterable[Obj], choice: UserChoice, user_name: str = "alice@example.com"
) -> tuple[Obj, Obj]:
    """The pod and PVC the real KubeSpawner 7 renders for ``choice`` from the generated config.

    Only the Kubernetes client is mocked (nothing is sent); the config is loaded from the
    hub ConfigMap's files exactly as the hub loads it.
    """
    from kubernetes_asyncio.client import ApiClient

    from tests.helpers import write_config_dir
    from tests.real_hub import load_config, mock_kubespawner

    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(write_config_dir(list(objects), Path(tmp)), HUB_SECRET_ENV)

    async def render() -> tuple[Obj, Obj]:
        with mock_kubespawner(config, user_name) as spawner:
            spawner.user_options = choice.user_options()
            await spawner.load_user_options()
            api = ApiClient()
            try:
                pod = api.sanitize_for_serialization(await spawner.get_pod_manifest())
                pvc = api.sanitize_for_serialization(spawner.get_pvc_manifest())
            finally:
                await api.close()
            return pod, pvc

    return asyncio.run(render())
