"""apply_sync_waves: every object lands in the ArgoCD wave of its kind, once."""

from __future__ import annotations

import cdk8s
from cdk8s_plus_27 import k8s

from jupyter_constructs import ExternalSecretSource, SharedData
from jupyter_constructs.delivery.gitops import SyncWave, apply_sync_waves, sync_wave
from tests.helpers import make_hub, synth

WAVE = "argocd.argoproj.io/sync-wave"


def _waves(objects):
    return {
        f"{o['kind']}/{o['metadata']['name']}": o["metadata"].get("annotations", {}).get(WAVE)
        for o in objects
    }


def test_hub_objects_are_ordered_by_kind():
    chart, _ = make_hub()
    waves = _waves(synth(chart))
    assert waves["Namespace/jupyter"] == "-3"
    for name in (
        "ServiceAccount/hub",
        "Role/hub",
        "RoleBinding/hub",
        "ConfigMap/hub-config",
        "ResourceQuota/jupyterhub",
        "LimitRange/jupyterhub",
    ):
        assert waves[name] == "-2", name
    assert waves["Job/hub-secrets-bootstrap"] == "-1"
    # With its consumer, the hub (WaitForFirstConsumer: it binds once the hub's pod is
    # scheduled; in an earlier wave ArgoCD would wait for it forever, argo-cd#12840).
    assert waves["PersistentVolumeClaim/hub-db-dir"] == "0"
    for name in (
        "Deployment/hub",
        "Deployment/proxy",
        "Service/hub",
        "Ingress/jupyterhub",
        "DaemonSet/image-puller",
    ):
        assert waves[name] is None, name  # ArgoCD's default wave 0


def test_a_claim_only_user_servers_mount_comes_last_and_out_of_the_health():
    chart, _ = make_hub(shared_data=SharedData())
    (claim,) = [o for o in synth(chart) if o["metadata"]["name"] == "shared-data"]
    assert claim["metadata"]["annotations"] == {
        WAVE: "1",  # the last wave, with the custom resources
        "argocd.argoproj.io/ignore-healthcheck": "true",
        # The custom resources' wave brings SkipDryRunOnMissingResource: harmless on a
        # built-in kind.
        "argocd.argoproj.io/sync-options": (
            "SkipDryRunOnMissingResource=true,Delete=false,Prune=false"
        ),
    }


def test_external_secrets_sync_before_the_hub_and_skip_dry_run():
    chart, _ = make_hub()
    source = ExternalSecretSource(
        chart, "creds", secret_name="creds", store="vault", keys={"token": "path#token"}
    )
    (obj,) = [o for o in synth(chart) if o["kind"] == "ExternalSecret"]
    # Before the pods that read the Secret it creates, and still safe without the CRD.
    assert obj["metadata"]["annotations"] == {
        WAVE: "-2",
        "argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true",
    }
    assert source.external_secret is not None


def test_an_explicit_wave_is_kept():
    chart, hub = make_hub()
    sync_wave(hub.service, SyncWave.NAMESPACE)
    assert _waves(synth(chart))["Service/hub"] == "-3"


def test_objects_of_other_libraries_are_recognised_by_their_kind():
    chart = cdk8s.Chart(cdk8s.Testing.app(), "other", namespace="x")
    cdk8s.ApiObject(chart, "raw", api_version="v1", kind="ConfigMap")
    cdk8s.ApiObject(chart, "crd", api_version="monitoring.coreos.com/v1", kind="Probe")
    k8s.KubeService(chart, "svc")
    apply_sync_waves(chart)
    waves = {
        o["kind"]: o["metadata"].get("annotations", {}).get(WAVE)
        for o in cdk8s.Testing.synth(chart)
    }
    assert waves == {"ConfigMap": "-2", "Probe": "1", "Service": None}


def test_objects_of_other_libraries_that_hold_data_are_protected():
    chart = cdk8s.Chart(cdk8s.Testing.app(), "other", namespace="x")
    cdk8s.ApiObject(chart, "claim", api_version="v1", kind="PersistentVolumeClaim")
    apply_sync_waves(chart)
    apply_sync_waves(chart)  # idempotent
    (claim,) = cdk8s.Testing.synth(chart)
    assert claim["metadata"]["annotations"] == {
        "argocd.argoproj.io/sync-options": "Delete=false,Prune=false"
    }


def test_a_second_pass_changes_nothing():
    chart, _ = make_hub()
    first = synth(chart)
    apply_sync_waves(chart)
    assert cdk8s.Testing.synth(chart) == first
