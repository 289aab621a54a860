"""The library's custom resources work beside a consumer's own ``cdk8s import`` of the same CRDs.

Being imported into other platform repositories is one way this library is used, and
those repositories run ``cdk8s import`` on the same CRDs (ServiceMonitor, PodMonitor,
PrometheusRule, Application, AppProject, ExternalSecret). With jsii bindings of the same
assembly name (``comcoreosmonitoring@0.0.0``...) the first one loaded wins: with the
consumer's ``imports/`` first the library failed with ``Type
'comcoreosmonitoring.PodMonitor' not found``; with the library first the consumer's
newer fields were dropped without a word (issue 10).

Here a consumer project gets its own ``imports/`` from the real ``cdk8s import`` of the
CRD files (located like ``tests/crd_schemas.py`` does), with one field added to its copy
of the ServiceMonitor CRD to stand for a newer release. It builds the library's hub with
observability, external secrets and an ArgoCD Application, plus its own objects of the
same kinds, in both import orders. Its newer field must survive, and the library's
objects must validate against the CRDs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.crd_schemas import CRDS_DIR, validate_custom_resource
from tests.helpers import load_manifests

ROOT = Path(__file__).resolve().parents[2]
CDK8S = ROOT / "node_modules" / ".bin" / "cdk8s"
GROUPS = {
    "monitoring": (
        "monitoring.coreos.com_servicemonitors.yaml",
        "monitoring.coreos.com_podmonitors.yaml",
        "monitoring.coreos.com_prometheusrules.yaml",
    ),
    "argoproj": ("argoproj.io_applications.yaml", "argoproj.io_appprojects.yaml"),
    "external-secrets": ("external-secrets.io_externalsecrets.yaml",),
}
NEWER_FIELD = "jcNewerField"

CONSUMER_MAIN = """
import os
import sys

import cdk8s

ORDER = os.environ["IMPORT_ORDER"]
if ORDER == "consumer-first":
    from imports.com.coreos import monitoring as theirs_monitoring
    from imports.io import argoproj as theirs_argoproj
    from imports.io import external_secrets as theirs_es
    import jupyter_constructs
else:
    import jupyter_constructs
    from jupyter_constructs.crds import monitoring  # the library's, loaded first

    from imports.com.coreos import monitoring as theirs_monitoring
    from imports.io import argoproj as theirs_argoproj
    from imports.io import external_secrets as theirs_es

from jupyter_constructs import (
    ArgoCdApplication,
    ExternalSecretSource,
    JupyterHub,
    ObservabilityBundle,
    OidcAuth,
    SecretRef,
)

app = cdk8s.App(outdir=sys.argv[1])
chart = cdk8s.Chart(app, "platform", namespace="jupyter")
hub = JupyterHub(
    chart,
    "hub",
    domain="jupyter.example.com",
    auth=OidcAuth(
        client_id="hub",
        client_secret=SecretRef("oidc", "client-secret"),
        authorize_url="https://idp.example.com/authorize",
        token_url="https://idp.example.com/token",
        userdata_url="https://idp.example.com/userinfo",
        allow_all=True,
    ),
)
hub.add_profile("small", display_name="Small", default=True)
ObservabilityBundle(chart, "observability", hub=hub)
hub.attach_addon(
    ExternalSecretSource(chart, "creds", secret_name="creds", store="vault", keys={"k": "p#k"})
)
ArgoCdApplication(
    chart,
    "app",
    name="platform",
    repo_url="https://github.com/example/platform.git",
    path="dist/platform",
    destination_namespace="jupyter",
)

# The consumer's own objects of the same kinds, with its own (newer) CRD classes.
theirs_monitoring.ServiceMonitor(
    chart,
    "their-monitor",
    metadata={"name": "their-monitor"},
    spec=theirs_monitoring.ServiceMonitorSpec(
        endpoints=[theirs_monitoring.ServiceMonitorSpecEndpoints(port="web")],
        selector=theirs_monitoring.ServiceMonitorSpecSelector(match_labels={"app": "web"}),
        jc_newer_field="kept",
    ),
)
theirs_monitoring.PodMonitor(
    chart,
    "their-pods",
    metadata={"name": "their-pods"},
    spec=theirs_monitoring.PodMonitorSpec(
        selector=theirs_monitoring.PodMonitorSpecSelector(match_labels={"app": "web"}),
    ),
)
theirs_argoproj.Application(
    chart,
    "their-app",
    metadata={"name": "their-app"},
    spec=theirs_argoproj.ApplicationSpec(
        project="default",
        destination=theirs_argoproj.ApplicationSpecDestination(namespace="web"),
    ),
)
theirs_es.ExternalSecret(
    chart,
    "their-secret",
    metadata={"name": "their-secret"},
    spec=theirs_es.ExternalSecretSpec(refresh_interval="5m"),
)
app.synth()
print("synthesized")
"""


def _newer(crd_text: str) -> str:
    """The ServiceMonitor CRD with one field a newer release might add to its spec."""
    crd = yaml.safe_load(crd_text)
    for version in crd["spec"]["versions"]:
        spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
        spec["properties"][NEWER_FIELD] = {"type": "string", "description": "newer field"}
    return yaml.safe_dump(crd)


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A consumer project whose imports/ come from a real `cdk8s import` of the CRDs."""
    missing = [f for files in GROUPS.values() for f in files if not (CRDS_DIR / f).is_file()]
    if missing:
        pytest.skip(f"{missing} not found in {CRDS_DIR}: set JC_CRDS_DIR to the CRD folder")
    if not CDK8S.exists():
        pytest.skip("the cdk8s CLI is not installed (make setup)")
    project = tmp_path_factory.mktemp("consumer")
    env = dict(os.environ)
    for group, files in GROUPS.items():
        texts = [(CRDS_DIR / f).read_text(encoding="utf-8") for f in files]
        if group == "monitoring":
            texts[0] = _newer(texts[0])
        # One call per API group: separate calls of one group overwrite each other.
        source = project / f"{group}.yaml"
        source.write_text("\n---\n".join(texts), encoding="utf-8")
        subprocess.run(
            [str(CDK8S), "import", str(source), "--language", "python", "--no-save"],
            cwd=project,
            env=env,
            check=True,
            capture_output=True,
            timeout=600,
        )
    (project / "main.py").write_text(textwrap.dedent(CONSUMER_MAIN), encoding="utf-8")
    return project


def _synth(consumer: Path, order: str, outdir: Path) -> list[dict[str, Any]]:
    env = {**os.environ, "IMPORT_ORDER": order}
    result = subprocess.run(
        [sys.executable, "main.py", str(outdir)],
        cwd=consumer,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "synthesized" in result.stdout
    return load_manifests(outdir)


@pytest.mark.integration
@pytest.mark.parametrize("order", ["consumer-first", "library-first"])
def test_library_and_consumer_crds_coexist(consumer: Path, order: str, tmp_path: Path) -> None:
    objects = _synth(consumer, order, tmp_path / "dist")
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in objects}

    theirs = by_name[("ServiceMonitor", "their-monitor")]
    assert theirs["spec"][NEWER_FIELD] == "kept", "the consumer's newer field was dropped"
    assert theirs["spec"]["endpoints"] == [{"port": "web"}]
    assert ("PodMonitor", "their-pods") in by_name
    assert by_name[("Application", "their-app")]["spec"]["destination"] == {"namespace": "web"}
    assert by_name[("ExternalSecret", "their-secret")]["spec"] == {"refreshInterval": "5m"}

    ours = [
        o
        for o in objects
        if o["kind"] in ("ServiceMonitor", "PodMonitor", "PrometheusRule", "ExternalSecret")
        and not o["metadata"]["name"].startswith("their-")
    ] + [by_name[("Application", "platform")]]
    assert sorted(o["kind"] for o in ours) == [
        "Application",
        "ExternalSecret",
        "PodMonitor",
        "PrometheusRule",
        "ServiceMonitor",
    ]
    for obj in ours:
        validate_custom_resource(obj)
