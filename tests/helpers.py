"""Test helpers: build a hub, synthesize it, find objects, load its config in the real classes."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import cdk8s
import yaml

from jupyter_constructs import JupyterHub, OidcAuth, SecretRef
from jupyter_constructs.delivery.gitops import apply_sync_waves

NAMESPACE = "jupyter"
DOMAIN = "jupyter.example.com"


def oidc_auth(**overrides: Any) -> OidcAuth:
    """A valid OidcAuth for tests."""
    options: dict[str, Any] = {
        "client_id": "hub-client",
        "client_secret": SecretRef("oidc", "client-secret"),
        "authorize_url": "https://idp.example.com/authorize",
        "token_url": "https://idp.example.com/token",
        "userdata_url": "https://idp.example.com/userinfo",
        "allowed_groups": ["data-science"],
        "admin_users": ["admin@example.com"],
    }
    options.update(overrides)
    return OidcAuth(**options)


def new_chart(namespace: str | None = NAMESPACE) -> cdk8s.Chart:
    """A fresh chart in a fresh test app (names without hashes, as in main.py)."""
    app = cdk8s.Testing.app()
    return cdk8s.Chart(app, "test", namespace=namespace, disable_resource_name_hashes=True)


def make_hub(*, with_profile: bool = True, **overrides: Any) -> tuple[cdk8s.Chart, JupyterHub]:
    """A hub with test defaults and one default profile; keyword arguments override them."""
    chart = new_chart()
    options: dict[str, Any] = {"domain": DOMAIN, "auth": oidc_auth()}
    options.update(overrides)
    hub = JupyterHub(chart, "hub", **options)
    if with_profile:
        hub.add_profile("small", display_name="Small", default=True)
    return chart, hub


def validate(chart: cdk8s.Chart) -> list[str]:
    """Every validation error under ``chart``, as ``cdk8s synth`` collects them."""
    return [error for node in chart.node.find_all() for error in node.node.validate()]


def synth(chart: cdk8s.Chart) -> list[dict[str, Any]]:
    """The chart's objects as plain dicts, as ``synthesize`` writes them: validations first,
    then sync waves by kind.
    """
    errors = validate(chart)
    if errors:
        raise AssertionError(errors)
    apply_sync_waves(chart)
    return [json.loads(json.dumps(obj)) for obj in cdk8s.Testing.synth(chart)]


def synth_app(build: Callable[[cdk8s.App], None]) -> list[dict[str, Any]]:
    """Run ``build`` in an app that synthesizes to a temp dir, return every object."""
    with tempfile.TemporaryDirectory() as out:
        app = cdk8s.App(outdir=out)
        build(app)
        app.synth()
        return load_manifests(Path(out))


def load_manifests(directory: Path) -> list[dict[str, Any]]:
    """Every YAML document under ``directory``, in file order."""
    docs: list[dict[str, Any]] = []
    for path in sorted(directory.rglob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def find(objects: Iterable[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The one object of ``kind`` named ``name``."""
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a Deployment, DaemonSet, StatefulSet or Job."""
    return obj["spec"]["template"]["spec"]


def write_config_dir(objects: Iterable[dict[str, Any]], directory: Path) -> Path:
    """Write the hub ConfigMap's files into ``directory`` as the hub pod would see them."""
    objects = list(objects)
    config_map = find(objects, "ConfigMap", "hub-config")
    # The kubelet projects each key where the Deployment's volume ``items`` say (templates
    # go to a subfolder); without ``items`` every key is a file at the top.
    deployments = [
        o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "hub"
    ]
    volumes = pod_spec(deployments[0])["volumes"] if deployments else []
    config_volume = next((v["configMap"] for v in volumes if v["name"] == "config"), {})
    paths = {item["key"]: item["path"] for item in config_volume.get("items", [])}
    for name, text in config_map["data"].items():
        target = directory / paths.get(name, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return directory / "jupyterhub_config.py"


def proxy_options(objects: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """``start_hub`` options that run the local proxy as the rendered proxy Deployment
    runs it: ``--host-routing`` when its command has it, and its plain env values
    (``NODE_OPTIONS``); its secret env is the test's own token."""
    container = pod_spec(find(objects, "Deployment", "proxy"))["containers"][0]
    return {
        "proxy_host_routing": "--host-routing" in container["command"],
        "proxy_env": {e["name"]: e["value"] for e in container.get("env", []) if "value" in e},
    }


ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def run_example(example: Path, outdir: Path) -> Path:
    """Run ``examples/NAME.py`` as a user would, writing into ``outdir``; returns it."""
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(example)],
        cwd=ROOT,
        env={**os.environ, "CDK8S_OUTDIR": str(outdir)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"{example.name} failed:\n{result.stderr[-3000:]}"
    return outdir


def output_folders(root: Path) -> dict[str, list[dict[str, Any]]]:
    """The objects of each folder of a synthesized output (``dist/prod``, ...)."""
    return {
        str(folder.relative_to(root.parent)): load_manifests(folder)
        for folder in sorted(p for p in root.iterdir() if p.is_dir())
    }


#: What keeps a server of a profile without a GPU off GPU nodes with the default
#: ``GpuIsolation()`` (issue 21): written out, not taken from the library.
NO_GPU_NODE = [
    {"key": "cloud.google.com/gke-accelerator", "operator": "DoesNotExist"},
    {"key": "nvidia.com/gpu.present", "operator": "NotIn", "values": ["true"]},
]
