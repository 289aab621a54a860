"""ArgoCdApplication and the sync-wave helpers (jupyter_constructs.delivery.argocd, .gitops)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cdk8s
import jsonschema
import pytest
from cdk8s_plus_27 import k8s

from jupyter_constructs.core.errors import ConfigurationError
from jupyter_constructs.crds.monitoring import ServiceMonitor
from jupyter_constructs.delivery.argocd import ArgoCdApplication
from jupyter_constructs.delivery.gitops import SyncWave, add_sync_option, sync_wave
from tests.crd_schemas import crd_schema

REPO = "https://github.com/example/platform.git"
REPO_ROOT = Path(__file__).resolve().parents[2]


def _app(chart: cdk8s.Chart | None = None, **options: Any) -> dict[str, Any]:
    chart = chart or cdk8s.Testing.chart()
    settings: dict[str, Any] = {
        "name": "jupyterhub",
        "repo_url": REPO,
        "path": "dist/prod",
        "destination_namespace": "jupyter",
    }
    settings.update(options)
    ArgoCdApplication(chart, "app", **settings)
    (manifest,) = cdk8s.Testing.synth(chart)
    return manifest


def _error(**options: Any) -> str:
    with pytest.raises(ConfigurationError) as caught:
        _app(**options)
    return str(caught.value)


def test_snapshot(snapshot: Any) -> None:
    assert _app() == snapshot


def test_defaults() -> None:
    """Every default the docstring promises."""
    app = _app()
    assert app["apiVersion"] == "argoproj.io/v1alpha1"
    assert app["kind"] == "Application"
    assert app["metadata"]["name"] == "jupyterhub"
    assert app["metadata"]["namespace"] == "argocd"
    assert app["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": "-2"}
    # No cascade by default: deleting or renaming the Application deletes nothing.
    assert "finalizers" not in app["metadata"]
    spec = app["spec"]
    assert spec["project"] == "default"
    assert spec["source"] == {
        "repoURL": REPO,
        "path": "dist/prod",
        "targetRevision": "main",
        "directory": {"recurse": True},
    }
    assert spec["destination"] == {
        "server": "https://kubernetes.default.svc",
        "namespace": "jupyter",
    }
    policy = spec["syncPolicy"]
    assert policy["automated"] == {"prune": True, "selfHeal": True}
    assert policy["retry"] == {
        "limit": 5,
        "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"},
    }
    assert policy["syncOptions"] == [
        "ServerSideApply=true",
        "PruneLast=true",
        "ApplyOutOfSyncOnly=true",
    ]


def test_options_change_the_output() -> None:
    app = _app(
        target_revision="v1.2.0",
        project="platform",
        destination_server="https://prod.example.com:6443",
        argocd_namespace="gitops",
        sync_wave=3,
        automated=False,
        retry_limit=2,
        backoff_duration="5s",
        backoff_factor=3,
        backoff_max_duration="1m30s",
        create_namespace=True,
        server_side_apply=False,
        repo_url="git@github.com:example/platform.git",
    )
    assert app["metadata"]["namespace"] == "gitops"
    assert app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "3"
    spec = app["spec"]
    assert spec["project"] == "platform"
    assert spec["source"]["targetRevision"] == "v1.2.0"
    assert spec["source"]["repoURL"] == "git@github.com:example/platform.git"
    assert spec["destination"]["server"] == "https://prod.example.com:6443"
    assert "automated" not in spec["syncPolicy"]
    assert spec["syncPolicy"]["retry"] == {
        "limit": 2,
        "backoff": {"duration": "5s", "factor": 3, "maxDuration": "1m30s"},
    }
    assert spec["syncPolicy"]["syncOptions"] == [
        "PruneLast=true",
        "ApplyOutOfSyncOnly=true",
        "CreateNamespace=true",
    ]


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/example/platform.git",
        "https://git.example.com:8443/team/platform",
        "git@github.com:example/platform.git",
        "ssh://git@git.example.com:2222/team/platform.git",
    ],
)
def test_accepts_repo_url_forms(url: str) -> None:
    assert _app(repo_url=url)["spec"]["source"]["repoURL"] == url


def test_attributes() -> None:
    chart = cdk8s.Testing.chart()
    app = ArgoCdApplication(
        chart, "app", name="hub", repo_url=REPO, path="dist/a", destination_namespace="jupyter"
    )
    assert (app.name, app.path, app.repo_url, app.target_revision) == (
        "hub",
        "dist/a",
        REPO,
        "main",
    )
    assert app.application.kind == "Application"


# --- validation against the CRD's own schema -------------------------------------------


@pytest.fixture(scope="module")
def application_schema() -> dict[str, Any]:
    return crd_schema("argoproj.io/v1alpha1", "Application")


@pytest.mark.parametrize(
    "options",
    [{}, {"automated": False, "create_namespace": True, "server_side_apply": False}],
    ids=["defaults", "manual-sync"],
)
def test_validates_against_the_crd_schema(
    application_schema: dict[str, Any], options: dict[str, Any]
) -> None:
    jsonschema.validate(_app(**options), application_schema)


def test_crd_schema_check_catches_mistakes(application_schema: dict[str, Any]) -> None:
    """The schema check above can fail: a wrong type and an unknown field are caught."""
    wrong_type = _app()
    wrong_type["spec"]["syncPolicy"]["retry"]["limit"] = "five"
    with pytest.raises(jsonschema.ValidationError, match="'five' is not of type 'integer'"):
        jsonschema.validate(wrong_type, application_schema)
    unknown = _app()
    unknown["spec"]["source"]["recurse"] = True
    with pytest.raises(jsonschema.ValidationError, match="'recurse' was unexpected"):
        jsonschema.validate(unknown, application_schema)


# --- failures ---------------------------------------------------------------------------


def test_fails_when_repo_url_is_plain_http() -> None:
    assert _error(repo_url="http://github.com/example/platform.git") == (
        "test/app: invalid repo_url 'http://github.com/example/platform.git'. Allowed: an "
        "https:// URL ('https://github.com/org/repo.git'), an ssh:// URL, or the scp-like SSH "
        "form ('git@github.com:org/repo.git'). Fix: copy the clone URL of the repository that "
        "holds dist/"
    )


@pytest.mark.parametrize("path", ["/dist/prod", "dist/../secrets", "dist/prod/", "", "./dist"])
def test_fails_when_path_is_not_a_clean_relative_path(path: str) -> None:
    assert _error(path=path) == (
        f"test/app: invalid path {path!r}. Allowed: a relative path inside the repository "
        "such as 'dist/prod': segments of letters, digits, '.', '_' and '-', no leading '/', "
        "no '.' or '..' segment, no trailing '/'. Fix: give the synthesized folder relative "
        "to the repository root"
    )


def test_fails_when_name_is_not_a_dns_label() -> None:
    assert _error(name="JupyterHub") == (
        "test/app: invalid Application name 'JupyterHub'. Allowed: a DNS-1123 label: 1-63 "
        "lowercase letters, digits and '-', starting and ending with a letter or digit. "
        "Fix: choose a Application name like 'jupyter' or 'team-a'"
    )


def test_fails_when_destination_namespace_is_not_a_dns_label() -> None:
    assert "invalid destination namespace 'jupyter_hub'" in _error(
        destination_namespace="jupyter_hub"
    )


@pytest.mark.parametrize("duration", ["10", "10 s", "1d", "0s", ""])
def test_fails_when_backoff_duration_is_not_a_duration(duration: str) -> None:
    assert _error(backoff_duration=duration) == (
        f"test/app: invalid backoff_duration {duration!r}. Allowed: a positive duration in "
        "hours, minutes and seconds such as '10s', '3m' or '1m30s'. Fix: write "
        "backoff_duration with a unit, e.g. '10s'"
    )


def test_fails_when_backoff_max_is_shorter_than_backoff() -> None:
    assert _error(backoff_duration="5m", backoff_max_duration="3m") == (
        "test/app: invalid backoff_max_duration '3m'. Allowed: a duration at least as long as "
        "backoff_duration ('5m'). Fix: raise backoff_max_duration or lower backoff_duration"
    )


def test_fails_when_retry_limit_is_negative() -> None:
    assert _error(retry_limit=-1) == (
        "test/app: invalid retry_limit -1. Allowed: an integer >= 0. "
        "Fix: pass retry_limit as an integer >= 0"
    )


def test_fails_when_destination_server_is_not_https() -> None:
    assert "invalid destination_server 'kubernetes.default.svc'" in _error(
        destination_server="kubernetes.default.svc"
    )


def test_fails_when_target_revision_has_spaces() -> None:
    assert "invalid target_revision 'my branch'" in _error(target_revision="my branch")


# --- sync waves -------------------------------------------------------------------------


def test_sync_wave_values_are_ordered() -> None:
    assert [w.value for w in SyncWave] == [-3, -2, -1, 0, 1]
    # Claims only user servers mount share the last wave with the custom resources.
    assert SyncWave.USER_CLAIMS == SyncWave.CUSTOM_RESOURCES
    assert list(SyncWave) == sorted(SyncWave)


def test_sync_wave_on_l1_object_and_plus_construct() -> None:
    from cdk8s_plus_27 import ConfigMap

    chart = cdk8s.Testing.chart()
    namespace = k8s.KubeNamespace(chart, "ns")
    sync_wave(namespace, SyncWave.NAMESPACE)
    config = ConfigMap(chart, "cm")
    sync_wave(config, SyncWave.CONFIGURATION)
    sync_wave(config, SyncWave.CONFIGURATION)  # idempotent
    ns_doc, cm_doc = cdk8s.Testing.synth(chart)
    assert ns_doc["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": "-3"}
    assert cm_doc["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": "-2"}


def test_custom_resources_skip_dry_run_and_keep_other_options() -> None:
    chart = cdk8s.Testing.chart()
    # Built without a wave, as an object of another library would be.
    monitor = ServiceMonitor(
        chart, "sm", spec={"endpoints": [{"port": "http"}], "selector": {}}, wave=None
    )
    add_sync_option(monitor, "Replace=true")
    sync_wave(monitor, SyncWave.CUSTOM_RESOURCES)
    sync_wave(monitor, SyncWave.CUSTOM_RESOURCES)
    (doc,) = cdk8s.Testing.synth(chart)
    assert doc["metadata"]["annotations"] == {
        "argocd.argoproj.io/sync-wave": "1",
        "argocd.argoproj.io/sync-options": "Replace=true,SkipDryRunOnMissingResource=true",
    }


def test_workload_wave_does_not_add_sync_options() -> None:
    chart = cdk8s.Testing.chart()
    config = k8s.KubeConfigMap(chart, "cm")
    sync_wave(config.metadata, SyncWave.WORKLOADS)
    (doc,) = cdk8s.Testing.synth(chart)
    assert doc["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": "0"}


def test_fails_when_sync_wave_target_has_no_metadata() -> None:
    chart = cdk8s.Testing.chart()
    with pytest.raises(ConfigurationError) as caught:
        sync_wave(chart.node, SyncWave.WORKLOADS)
    assert str(caught.value) == (
        "sync_wave: invalid target 'Node'. Allowed: a cdk8s ApiObject, a cdk8s-plus "
        "construct, or an ApiObjectMetadataDefinition. Fix: pass the Kubernetes object "
        "(or its .metadata), not a plain construct"
    )


@pytest.mark.parametrize("wave", ["1", 1.5, True])
def test_fails_when_sync_wave_is_not_an_integer(wave: Any) -> None:
    chart = cdk8s.Testing.chart()
    with pytest.raises(ConfigurationError) as caught:
        sync_wave(k8s.KubeConfigMap(chart, "cm"), wave)
    assert str(caught.value) == (
        f"sync_wave: invalid wave {wave!r}. Allowed: an integer, preferably a SyncWave member "
        "(-3 to 1). Fix: use SyncWave.WORKLOADS or another SyncWave member"
    )


def test_fails_when_sync_option_is_not_one_pair() -> None:
    chart = cdk8s.Testing.chart()
    with pytest.raises(ConfigurationError, match="invalid sync option 'A=1,B=2'"):
        add_sync_option(k8s.KubeConfigMap(chart, "cm"), "A=1,B=2")


def test_cascade_delete_adds_the_qualified_resources_finalizer() -> None:
    """Opt-in cascading deletion; the domain-qualified name draws no API server warning."""
    chart = cdk8s.Chart(cdk8s.Testing.app(), "argocd")
    ArgoCdApplication(
        chart,
        "app",
        name="jupyterhub",
        repo_url=REPO,
        path="dist/prod",
        destination_namespace="jupyter",
        cascade_delete=True,
    )
    (app,) = cdk8s.Testing.synth(chart)
    assert app["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io/foreground"]


def test_fails_when_name_is_the_label_user_pods_carry() -> None:
    """With ArgoCD's label tracking (the default before 3.0) an Application owns every
    object whose ``app.kubernetes.io/instance`` is its name, and prunes those not in git
    (https://argo-cd.readthedocs.io/en/stable/user-guide/resource_tracking/). The real
    KubeSpawner labels each user pod of ``dist/`` with the namespace's name: an
    Application named after the namespace would delete running servers on every sync."""
    from tests.helpers import load_manifests
    from tests.hub.user_pods import spawn

    spawned = spawn(load_manifests(REPO_ROOT / "dist"), None, "alice")
    instance = spawned.pod["metadata"]["labels"]["app.kubernetes.io/instance"]
    namespace = spawned.spawner.namespace
    assert instance == namespace
    error = _error(name=instance, destination_namespace=namespace)
    assert error.startswith(f"test/app: invalid Application name '{instance}'. Allowed: ")
    assert f"Fix: name it differently, e.g. 'jupyterhub-{namespace}'" in error
    assert _app(name=f"jupyterhub-{namespace}", destination_namespace=namespace)
