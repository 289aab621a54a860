"""What the product renders, as the API-server tests use it: pod templates, the user pods
and PVCs the real KubeSpawner renders from the generated hub config, the bootstrap Job.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.kube.client import KubeClient

Obj = dict[str, Any]
WORKLOAD_KINDS = ("Deployment", "DaemonSet", "StatefulSet", "Job", "ReplicaSet")
#: The env the hub container gets from Secrets (values are test values).
HUB_ENV_VARS = {"JUPYTERHUB_SERVICE_TOKEN_PROMETHEUS": "test-metrics-token"}


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


def hub_secret_env(objects: Iterable[Obj]) -> dict[str, str]:
    """Test values for every variable the hub container reads from a Secret (as the
    kubelet would set them), plus ``HUB_ENV_VARS``.
    """
    env = dict(HUB_ENV_VARS)
    for container in find(objects, "Deployment", "hub")["spec"]["template"]["spec"]["containers"]:
        for variable in container.get("env", []):
            if "secretKeyRef" in variable.get("valueFrom", {}):
                env.setdefault(variable["name"], f"test-{variable['name'].lower()}")
    return env


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

    objects = list(objects)
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(write_config_dir(objects, Path(tmp)), hub_secret_env(objects))

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


# ---------------------------------------------------------------------- secret bootstrap


def _bootstrap_job(objects: Iterable[Obj]) -> tuple[Obj, Obj]:
    job = next(
        o
        for o in objects
        if o["kind"] == "Job"
        and o["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "secret-bootstrap"
    )
    return job, job["spec"]["template"]["spec"]["containers"][0]


def _job_env(objects: Iterable[Obj]) -> dict[str, str]:
    _, container = _bootstrap_job(objects)
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


def bootstrap_secrets(objects: Iterable[Obj]) -> dict[str, list[str]]:
    """Secret name to keys, as the Job's ``SECRETS`` names them.

    Releases before the hub-service tokens got Secrets of their own (issue 16) named one
    Secret (``SECRET_NAME``) and its keys (``SECRET_KEYS``, comma-separated): the upgrade
    tests deploy such a release first.
    """
    env = _job_env(objects)
    if "SECRETS" not in env:
        return {env["SECRET_NAME"]: env["SECRET_KEYS"].split(",")}
    wanted: dict[str, list[str]] = json.loads(env["SECRETS"])
    return wanted


def bootstrap_secret_name(objects: Iterable[Obj]) -> str:
    """The hub Secret (the one holding the cookie secret)."""
    return next(n for n, keys in bootstrap_secrets(objects).items() if "cookie-secret" in keys)


def bootstrap_keys(objects: Iterable[Obj]) -> list[str]:
    """The keys of the hub Secret."""
    return bootstrap_secrets(objects)[bootstrap_secret_name(objects)]


def secret_bootstrap_command(
    admin: KubeClient,
    objects: Iterable[Obj],
    namespace: str,
    tmp: Path,
    *,
    secret_name: str | None = None,
    pod_namespace: str | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of the bootstrap script as the Job runs it, with
    its ServiceAccount's own token (see ``run_secret_bootstrap``).

    Args:
        admin: The control plane's admin client (reads the ConfigMap, mints the token).
        objects: The product's objects (the Job is found among them).
        namespace: Where the product was applied.
        tmp: Folder for the script and the token file.
        secret_name: Aim the Job's keys at this Secret instead (what its Role must refuse).
        pod_namespace: The namespace the pod would say it runs in. Default: ``namespace``.
        env: More variables, e.g. ``BOOTSTRAP_MAX_ATTEMPTS``.
    """
    objects = list(objects)
    job, container = _bootstrap_job(objects)
    spec = job["spec"]["template"]["spec"]
    volume = next(v for v in spec["volumes"] if "configMap" in v)
    config_map = admin.get(
        f"/api/v1/namespaces/{namespace}/configmaps/{volume['configMap']['name']}"
    )
    script_name = Path(next(a for a in container["command"] if a.endswith(".py"))).name
    script = tmp / script_name
    script.write_text(config_map["data"][script_name])
    token = tmp / "token"
    token.write_text(admin.token_for(namespace, spec["serviceAccountName"]))
    variables = {
        **_job_env(objects),
        "POD_NAMESPACE": pod_namespace or namespace,
        "KUBERNETES_API_URL": admin.server,
        "KUBERNETES_TOKEN_FILE": str(token),
        "KUBERNETES_CA_FILE": str(admin.ca_file),
        "PATH": "/usr/bin:/bin",
    }
    if secret_name:
        # The Job's keys, aimed at another Secret (what its Role must refuse).
        variables["SECRETS"] = json.dumps({secret_name: bootstrap_keys(objects)})
    variables.update(env or {})
    return [sys.executable, str(script)], variables


def run_secret_bootstrap(
    admin: KubeClient,
    objects: Iterable[Obj],
    namespace: str,
    tmp: Path,
    *,
    secret_name: str | None = None,
    pod_namespace: str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the bootstrap script as the Job would, with its ServiceAccount's own token.

    The script is the file of the ConfigMap the Job mounts (read from the API server), its
    env the Job's (``POD_NAMESPACE`` resolved as the kubelet would); only the transport is
    local: the script's documented ``KUBERNETES_API_URL``/``_TOKEN_FILE``/``_CA_FILE``.
    """
    command, variables = secret_bootstrap_command(
        admin,
        objects,
        namespace,
        tmp,
        secret_name=secret_name,
        pod_namespace=pod_namespace,
        env=env,
    )
    return subprocess.run(command, env=variables, capture_output=True, text=True, timeout=120)


# ---------------------------------------------------------------------- the platform


def referenced_secrets(tree: Any) -> dict[str, set[str]]:
    """Every ``secretKeyRef`` under ``tree``: Secret name -> keys."""
    found: dict[str, set[str]] = {}
    if isinstance(tree, dict):
        ref = tree.get("secretKeyRef")
        if isinstance(ref, dict) and "name" in ref:
            found.setdefault(ref["name"], set()).add(ref["key"])
        for value in tree.values():
            for name, keys in referenced_secrets(value).items():
                found.setdefault(name, set()).update(keys)
    elif isinstance(tree, list):
        for value in tree:
            for name, keys in referenced_secrets(value).items():
                found.setdefault(name, set()).update(keys)
    return found


def platform_secret_values(objects: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Test values for the Secrets the platform team provides (deployment guide: created
    before the first sync): every Secret the hub and the profiles reference, except the
    ones the bootstrap Job makes."""
    hub = find(objects, "Deployment", "hub")
    refs = referenced_secrets(hub_settings(objects)) | referenced_secrets(hub)
    made_by_bootstrap = set(bootstrap_secrets(objects))
    return {
        name: {key: f"test-{name}-{key}-{secrets.token_hex(4)}" for key in sorted(keys)}
        for name, keys in refs.items()
        if name not in made_by_bootstrap
    }


def prepare_platform(
    admin: KubeClient, namespace: str, objects: list[dict[str, Any]], tmp: Path
) -> dict[str, dict[str, str]]:
    """Create the platform's Secrets and run the bootstrap script; returns the Secret values."""
    values = platform_secret_values(objects)
    for name, data in values.items():
        admin.create(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": data},
            namespace,
        )
    run = run_secret_bootstrap(admin, objects, namespace, tmp)
    assert run.returncode == 0, run.stderr
    return values
