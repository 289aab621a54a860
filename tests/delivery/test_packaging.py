"""The built wheel works in a consumer's own cdk8s project, beside its own imports/.

Builds the wheel from a clean copy of the sources, installs it into a fresh virtualenv
(dependencies from the package registry, the pip cache is reused) and runs a consumer
``main.py`` that has its OWN ``imports/`` package, as ``cdk8s import k8s`` makes it.
The typed custom resources ship as ``jupyter_constructs.crds`` (plain data, no jsii), so
the two never collide.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
import yaml

# Builds the wheel and installs it, dependencies included, into a fresh virtualenv.
pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "jupyter_constructs")

CONSUMER_MAIN = """
import sys
from pathlib import Path

import cdk8s

import imports
import imports.k8s
import jupyter_constructs
from jupyter_constructs.crds.monitoring import ServiceMonitor
from jupyter_constructs.delivery.gitops import SyncWave, sync_wave
from jupyter_constructs.delivery.synth import ARGOCD_FOLDER, Environment, main

HERE = Path(__file__).resolve().parent
# The consumer's imports/ must be its own folder, not anything from our wheel.
assert Path(imports.__file__).resolve().parent == HERE / "imports", imports.__file__
assert imports.k8s.MARKER == "consumer imports.k8s", imports.k8s.MARKER
print("jupyter_constructs from", Path(jupyter_constructs.__file__).resolve().parent)

PROD = Environment("prod", cluster="in-cluster")


def build(app: cdk8s.App) -> None:
    chart = PROD.chart(app, namespace="jupyter")
    monitor = ServiceMonitor(
        chart,
        "hub-metrics",
        name="hub",
        spec={
            "endpoints": [{"port": "http", "path": "/hub/metrics"}],
            "selector": {"matchLabels": {"component": "hub"}},
        },
    )
    sync_wave(monitor, SyncWave.CUSTOM_RESOURCES)
    hub = jupyter_constructs.JupyterHub(
        chart,
        "hub",
        domain="jupyter.example.com",
        auth=jupyter_constructs.OidcAuth(
            client_id="hub",
            client_secret=jupyter_constructs.SecretRef("oidc", "client-secret"),
            authorize_url="https://idp.example.com/authorize",
            token_url="https://idp.example.com/token",
            userdata_url="https://idp.example.com/userinfo",
            allowed_groups=["data"],
        ),
    )
    hub.add_profile("small", display_name="Small", default=True)
    jupyter_constructs.ObservabilityBundle(chart, "observability", hub=hub)
    PROD.add_application(
        cdk8s.Chart(app, ARGOCD_FOLDER),
        repo_url="https://github.com/example/consumer.git",
        destination_namespace="jupyter",
    )


main(build)
"""


def _run(args: list[str], *, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, float]]:
    """(wheel, virtualenv python, timings in seconds)."""
    work = tmp_path_factory.mktemp("packaging")
    # A clean copy: an in-tree build/ folder can carry stale modules into the wheel.
    src = work / "src"
    src.mkdir()
    for name in SOURCES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, src / name)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(src), "-w", "wheels"],
        cwd=work,
    )
    timings["wheel build"] = time.perf_counter() - start
    (wheel,) = (work / "wheels").glob("jupyter_constructs-*.whl")

    start = time.perf_counter()
    _run([sys.executable, "-m", "venv", "venv"], cwd=work)
    python = work / "venv" / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", str(wheel)], cwd=work)
    timings["venv + install"] = time.perf_counter() - start
    print(
        "\npackaging timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()),
        file=sys.stderr,
    )
    return wheel, python, timings


@pytest.mark.integration
def test_wheel_ships_the_bindings_inside_the_package(
    installed: tuple[Path, Path, dict[str, float]],
) -> None:
    wheel, _, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {n.split("/")[0] for n in names}
    # No top-level imports/ package that would shadow the consumer's own.
    dist_info = "-".join(wheel.name.split("-")[:2]) + ".dist-info"
    assert top_level == {"jupyter_constructs", dist_info}
    for module in ("monitoring", "argoproj", "external_secrets"):
        package = f"jupyter_constructs/crds/{module}"
        assert f"{package}/__init__.py" in names
        assert f"{package}/py.typed" in names
    # No jsii assembly of ours: nothing to collide with a consumer's cdk8s import.
    assert not any(n.endswith(".jsii.tgz") for n in names)
    assert "jupyter_constructs/py.typed" in names
    assert "jupyter_constructs/delivery/argocd.py" in names


@pytest.mark.integration
def test_consumer_project_synthesizes_with_its_own_imports(
    installed: tuple[Path, Path, dict[str, float]], tmp_path: Path
) -> None:
    _, python, _ = installed
    consumer = tmp_path / "consumer"
    (consumer / "imports" / "k8s").mkdir(parents=True)
    (consumer / "imports" / "__init__.py").write_text("")
    (consumer / "imports" / "k8s" / "__init__.py").write_text('MARKER = "consumer imports.k8s"\n')
    (consumer / "main.py").write_text(textwrap.dedent(CONSUMER_MAIN))

    result = _run([str(python), "main.py"], cwd=consumer, timeout=300)

    venv = python.parent.parent.resolve()
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("jupyter_constructs from")]
    assert Path(line.split(" from ", 1)[1]).is_relative_to(venv), line
    files = sorted(
        str(p.relative_to(consumer / "dist")) for p in (consumer / "dist").rglob("*.yaml")
    )
    assert files[0] == "argocd/Application.jupyterhub-prod.k8s.yaml"
    for expected in (
        "prod/ServiceMonitor.hub.k8s.yaml",
        "prod/Deployment.hub.k8s.yaml",
        "prod/ConfigMap.hub-config.k8s.yaml",
        "prod/Job.hub-secrets-bootstrap.k8s.yaml",
        "prod/DaemonSet.image-puller.k8s.yaml",
    ):
        assert expected in files, files
    assert any(f.startswith("prod/PrometheusRule.") for f in files), files
    assert any(f.startswith("prod/ServiceMonitor.") and "observability" in f for f in files)
    # The hub's static config file and the bootstrap script come from the wheel.
    hub_config = yaml.safe_load((consumer / "dist/prod/ConfigMap.hub-config.k8s.yaml").read_text())
    assert (
        'settings = json.loads((CONFIG_DIR / "hub_config.json")'
        in (hub_config["data"]["jupyterhub_config.py"])
    )
    monitor = yaml.safe_load((consumer / "dist/prod/ServiceMonitor.hub.k8s.yaml").read_text())
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["namespace"] == "jupyter"
    assert monitor["metadata"]["annotations"] == {
        "argocd.argoproj.io/sync-wave": "1",
        "argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true",
    }
    assert monitor["spec"] == {
        "endpoints": [{"path": "/hub/metrics", "port": "http"}],
        "selector": {"matchLabels": {"component": "hub"}},
    }
    application = yaml.safe_load((consumer / "dist" / files[0]).read_text())
    assert (
        "jupyter_constructs/hub/files/jupyterhub_config.py"
        in zipfile.ZipFile(installed[0]).namelist()
    )
    assert application["kind"] == "Application"
    assert application["spec"]["source"]["path"] == "dist/prod"
    assert application["spec"]["source"]["repoURL"] == "https://github.com/example/consumer.git"
