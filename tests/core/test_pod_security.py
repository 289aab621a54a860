"""Every pod we run meets the ``restricted`` Pod Security Standard, rule by rule.

Each rule of https://kubernetes.io/docs/concepts/security/pod-security-standards/
(baseline, then restricted) is one checker returning the violations it finds. They run on
every pod template in ``dist/`` (hub, proxy, secret bootstrap Job, image pullers,
cloudflared) and on the user pod the real KubeSpawner renders for each profile from the
committed hub config, one test id per rule and pod. Each checker also has a test showing
it catches a violation.
"""

from __future__ import annotations

import copy
import functools
import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import load_manifests, write_config_dir
from tests.real_hub import load_config, mock_kubespawner, pod_manifest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
WORKLOAD_KINDS = ("Deployment", "DaemonSet", "StatefulSet", "Job", "ReplicaSet")

Pod = dict[str, Any]  # {"metadata": ..., "spec": ...}
Checker = Callable[[Pod], list[str]]


# --- helpers ---------------------------------------------------------------------------


def _containers(pod: Pod) -> Iterator[dict[str, Any]]:
    spec = pod["spec"]
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(key) or []


def _pod_sc(pod: Pod) -> dict[str, Any]:
    return pod["spec"].get("securityContext") or {}


def _sc(container: dict[str, Any]) -> dict[str, Any]:
    return container.get("securityContext") or {}


def _security_contexts(pod: Pod) -> Iterator[tuple[str, dict[str, Any]]]:
    """The pod's security context, then each container's, with a location."""
    yield "spec.securityContext", _pod_sc(pod)
    for container in _containers(pod):
        yield f"container {container['name']}", _sc(container)


# --- baseline --------------------------------------------------------------------------


def check_host_process(pod: Pod) -> list[str]:
    """HostProcess: windowsOptions.hostProcess must be unset or false."""
    return [
        f"{where}: windowsOptions.hostProcess is true"
        for where, sc in _security_contexts(pod)
        if (sc.get("windowsOptions") or {}).get("hostProcess") is True
    ]


def check_host_namespaces(pod: Pod) -> list[str]:
    """Host namespaces: hostNetwork, hostPID, hostIPC must be unset or false."""
    return [
        f"spec.{k} is true" for k in ("hostNetwork", "hostPID", "hostIPC") if pod["spec"].get(k)
    ]


def check_privileged(pod: Pod) -> list[str]:
    """Privileged containers: securityContext.privileged must be unset or false."""
    return [f"{c['name']}: privileged" for c in _containers(pod) if _sc(c).get("privileged")]


BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)


def check_baseline_capabilities(pod: Pod) -> list[str]:
    """Capabilities (baseline): only the default set may be added."""
    return [
        f"{c['name']}: adds {cap}"
        for c in _containers(pod)
        for cap in (_sc(c).get("capabilities") or {}).get("add") or []
        if cap not in BASELINE_CAPABILITIES
    ]


def check_host_path_volumes(pod: Pod) -> list[str]:
    """HostPath volumes are forbidden."""
    return [
        f"volume {v['name']}: hostPath" for v in pod["spec"].get("volumes") or [] if "hostPath" in v
    ]


def check_host_ports(pod: Pod) -> list[str]:
    """Host ports: hostPort must be unset or 0."""
    return [
        f"{c['name']}: hostPort {p['hostPort']}"
        for c in _containers(pod)
        for p in c.get("ports") or []
        if p.get("hostPort")
    ]


APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def check_apparmor(pod: Pod) -> list[str]:
    """AppArmor: no Unconfined profile (annotation or appArmorProfile field)."""
    problems = [
        f"annotation {key}: {value}"
        for key, value in (pod["metadata"].get("annotations") or {}).items()
        if key.startswith(APPARMOR_ANNOTATION)
        and value != "runtime/default"
        and not value.startswith("localhost/")
    ]
    problems += [
        f"{where}: appArmorProfile {sc['appArmorProfile']['type']}"
        for where, sc in _security_contexts(pod)
        if "appArmorProfile" in sc
        and sc["appArmorProfile"].get("type") not in ("RuntimeDefault", "Localhost")
    ]
    return problems


SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)


def check_selinux(pod: Pod) -> list[str]:
    """SELinux: only the container types; user and role unset."""
    problems = []
    for where, sc in _security_contexts(pod):
        options = sc.get("seLinuxOptions") or {}
        if options.get("type", "") not in SELINUX_TYPES:
            problems.append(f"{where}: seLinuxOptions.type {options['type']}")
        problems += [f"{where}: seLinuxOptions.{k} set" for k in ("user", "role") if options.get(k)]
    return problems


def check_proc_mount(pod: Pod) -> list[str]:
    """/proc mount type: unset or Default."""
    return [
        f"{c['name']}: procMount {_sc(c)['procMount']}"
        for c in _containers(pod)
        if _sc(c).get("procMount", "Default") != "Default"
    ]


def check_baseline_seccomp(pod: Pod) -> list[str]:
    """Seccomp (baseline): no Unconfined profile anywhere."""
    return [
        f"{where}: seccompProfile Unconfined"
        for where, sc in _security_contexts(pod)
        if (sc.get("seccompProfile") or {}).get("type") == "Unconfined"
    ]


SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)


def check_sysctls(pod: Pod) -> list[str]:
    """Sysctls: only the safe set."""
    return [
        f"sysctl {s['name']}"
        for s in _pod_sc(pod).get("sysctls") or []
        if s["name"] not in SAFE_SYSCTLS
    ]


# --- restricted ------------------------------------------------------------------------

RESTRICTED_VOLUME_SOURCES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)


def check_volume_types(pod: Pod) -> list[str]:
    """Volume types: configMap, csi, downwardAPI, emptyDir, ephemeral, PVC, projected, secret."""
    problems = []
    for volume in pod["spec"].get("volumes") or []:
        sources = set(volume) - {"name"}
        if not sources or not sources <= RESTRICTED_VOLUME_SOURCES:
            problems.append(f"volume {volume['name']}: {sorted(sources)}")
    return problems


def check_privilege_escalation(pod: Pod) -> list[str]:
    """Privilege escalation: allowPrivilegeEscalation must be set to false on every container."""
    return [
        f"{c['name']}: allowPrivilegeEscalation is not false"
        for c in _containers(pod)
        if _sc(c).get("allowPrivilegeEscalation") is not False
    ]


def check_run_as_non_root(pod: Pod) -> list[str]:
    """Running as non-root: runAsNonRoot true for every container (its own or the pod's)."""
    pod_value = _pod_sc(pod).get("runAsNonRoot")
    return [
        f"{c['name']}: runAsNonRoot is not true"
        for c in _containers(pod)
        if _sc(c).get("runAsNonRoot", pod_value) is not True
    ]


def check_run_as_user(pod: Pod) -> list[str]:
    """Running as non-root user: runAsUser must not be 0 (pod or container)."""
    return [
        f"{where}: runAsUser 0" for where, sc in _security_contexts(pod) if sc.get("runAsUser") == 0
    ]


def check_restricted_seccomp(pod: Pod) -> list[str]:
    """Seccomp (restricted): every container's effective profile is RuntimeDefault or Localhost."""
    pod_type = (_pod_sc(pod).get("seccompProfile") or {}).get("type")
    problems = []
    for container in _containers(pod):
        effective = (_sc(container).get("seccompProfile") or {}).get("type", pod_type)
        if effective not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{container['name']}: seccompProfile {effective}")
    if pod_type not in (None, "RuntimeDefault", "Localhost"):
        problems.append(f"spec.securityContext: seccompProfile {pod_type}")
    return problems


def check_restricted_capabilities(pod: Pod) -> list[str]:
    """Capabilities (restricted): drop ALL, add at most NET_BIND_SERVICE."""
    problems = []
    for container in _containers(pod):
        capabilities = _sc(container).get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            problems.append(f"{container['name']}: does not drop ALL")
        problems += [
            f"{container['name']}: adds {cap}"
            for cap in capabilities.get("add") or []
            if cap != "NET_BIND_SERVICE"
        ]
    return problems


RULES: dict[str, Checker] = {
    "baseline-host-process": check_host_process,
    "baseline-host-namespaces": check_host_namespaces,
    "baseline-privileged": check_privileged,
    "baseline-capabilities": check_baseline_capabilities,
    "baseline-host-path-volumes": check_host_path_volumes,
    "baseline-host-ports": check_host_ports,
    "baseline-apparmor": check_apparmor,
    "baseline-selinux": check_selinux,
    "baseline-proc-mount": check_proc_mount,
    "baseline-seccomp": check_baseline_seccomp,
    "baseline-sysctls": check_sysctls,
    "restricted-volume-types": check_volume_types,
    "restricted-privilege-escalation": check_privilege_escalation,
    "restricted-run-as-non-root": check_run_as_non_root,
    "restricted-run-as-user": check_run_as_user,
    "restricted-seccomp": check_restricted_seccomp,
    "restricted-capabilities": check_restricted_capabilities,
}


# --- the pods --------------------------------------------------------------------------


@functools.cache
def _dist_objects() -> tuple[dict[str, Any], ...]:
    return tuple(load_manifests(DIST))


def _dist_workloads() -> dict[str, dict[str, Any]]:
    return {
        f"{o['kind']}/{o['metadata']['name']}": o
        for o in _dist_objects()
        if o["kind"] in WORKLOAD_KINDS
    }


def _dist_profiles() -> list[str]:
    config_map = next(
        o
        for o in _dist_objects()
        if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "hub-config"
    )
    settings = json.loads(config_map["data"]["hub_config.json"])
    return [p["slug"] for p in settings["traits"]["KubeSpawner"]["profile_list"]]


DIST_PODS = sorted(_dist_workloads())
PROFILES = _dist_profiles()
POD_IDS = DIST_PODS + [f"user-pod/{slug}" for slug in PROFILES]


@functools.cache
def _user_pods() -> dict[str, Pod]:
    """The pod the real KubeSpawner renders for each profile of the committed hub config."""
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(
            write_config_dir(list(_dist_objects()), Path(tmp)),
            {"JUPYTERHUB_SERVICE_TOKEN_PROMETHEUS": "test-metrics-token"},
        )
    pods = {}
    for slug in PROFILES:
        with mock_kubespawner(config) as spawner:
            pods[slug] = pod_manifest(spawner, slug)
    return pods


def load_pod(pod_id: str) -> Pod:
    if pod_id.startswith("user-pod/"):
        return copy.deepcopy(_user_pods()[pod_id.split("/", 1)[1]])
    template = copy.deepcopy(_dist_workloads()[pod_id]["spec"]["template"])
    return {"metadata": template.get("metadata") or {}, "spec": template["spec"]}


def test_the_pods_checked_are_every_pod_we_run() -> None:
    assert DIST_PODS == [
        "DaemonSet/image-puller",
        "DaemonSet/image-puller-gpu",
        "Deployment/hub",
        "Deployment/prod-tunnel-deployment",
        "Deployment/proxy",
        "Job/hub-secrets-bootstrap",
    ]
    assert PROFILES == ["small", "medium", "large", "gpu"]


@pytest.mark.parametrize("pod_id", POD_IDS)
@pytest.mark.parametrize("rule", sorted(RULES))
def test_pod_meets_the_restricted_standard(rule: str, pod_id: str) -> None:
    assert RULES[rule](load_pod(pod_id)) == []


def test_the_namespace_enforces_restricted() -> None:
    namespace = next(o for o in _dist_objects() if o["kind"] == "Namespace")
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "latest"


# --- beyond the standard: what the checkov skips (.checkov.yaml) rely on ----------------


def test_only_the_hub_and_the_bootstrap_job_get_a_service_account_token() -> None:
    mounted = sorted(
        pod_id
        for pod_id in POD_IDS
        if load_pod(pod_id)["spec"].get("automountServiceAccountToken") is not False
    )
    assert mounted == ["Deployment/hub", "Job/hub-secrets-bootstrap"]


def test_long_running_servers_have_liveness_and_readiness_probes() -> None:
    for pod_id in ("Deployment/hub", "Deployment/proxy", "Deployment/prod-tunnel-deployment"):
        for container in load_pod(pod_id)["spec"]["containers"]:
            assert "livenessProbe" in container and "readinessProbe" in container, pod_id


# --- each checker catches a violation ---------------------------------------------------


def _compliant() -> Pod:
    return {
        "metadata": {"annotations": {}},
        "spec": {
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "app",
                    "image": "example.com/app:1",
                    "ports": [{"containerPort": 8080}],
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        },
    }


def _container_sc(pod: Pod) -> dict[str, Any]:
    sc: dict[str, Any] = pod["spec"]["containers"][0]["securityContext"]
    return sc


VIOLATIONS: dict[str, Callable[[Pod], None]] = {
    "baseline-host-process": lambda p: _container_sc(p).update(
        windowsOptions={"hostProcess": True}
    ),
    "baseline-host-namespaces": lambda p: p["spec"].update(hostPID=True),
    "baseline-privileged": lambda p: _container_sc(p).update(privileged=True),
    "baseline-capabilities": lambda p: _container_sc(p)["capabilities"].update(add=["SYS_ADMIN"]),
    "baseline-host-path-volumes": lambda p: p["spec"]["volumes"].append(
        {"name": "h", "hostPath": {"path": "/"}}
    ),
    "baseline-host-ports": lambda p: p["spec"]["containers"][0]["ports"][0].update(hostPort=80),
    "baseline-apparmor": lambda p: p["metadata"]["annotations"].update(
        {APPARMOR_ANNOTATION + "app": "unconfined"}
    ),
    "baseline-selinux": lambda p: _container_sc(p).update(seLinuxOptions={"type": "spc_t"}),
    "baseline-proc-mount": lambda p: _container_sc(p).update(procMount="Unmasked"),
    "baseline-seccomp": lambda p: _container_sc(p).update(seccompProfile={"type": "Unconfined"}),
    "baseline-sysctls": lambda p: p["spec"]["securityContext"].update(
        sysctls=[{"name": "kernel.msgmax", "value": "1"}]
    ),
    "restricted-volume-types": lambda p: p["spec"]["volumes"].append(
        {"name": "n", "nfs": {"server": "x", "path": "/"}}
    ),
    "restricted-privilege-escalation": lambda p: _container_sc(p).pop("allowPrivilegeEscalation"),
    "restricted-run-as-non-root": lambda p: _container_sc(p).update(runAsNonRoot=False),
    "restricted-run-as-user": lambda p: _container_sc(p).update(runAsUser=0),
    "restricted-seccomp": lambda p: p["spec"]["securityContext"].pop("seccompProfile"),
    "restricted-capabilities": lambda p: _container_sc(p)["capabilities"].update(add=["CHOWN"]),
}


def test_every_rule_has_a_violation_test() -> None:
    assert sorted(VIOLATIONS) == sorted(RULES)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_checker_catches_a_violation(rule: str) -> None:
    pod = _compliant()
    assert RULES[rule](pod) == []
    VIOLATIONS[rule](pod)
    assert RULES[rule](pod) != []


@pytest.mark.parametrize(
    ("rule", "change"),
    [
        # The pod-level value is inherited by containers that do not set one...
        ("restricted-run-as-non-root", lambda p: p["spec"]["securityContext"].pop("runAsNonRoot")),
        # ...and an init container is checked like any other.
        (
            "restricted-privilege-escalation",
            lambda p: p["spec"].update(initContainers=[{"name": "init", "image": "x:1"}]),
        ),
        (
            "baseline-selinux",
            lambda p: p["spec"]["securityContext"].update(seLinuxOptions={"user": "root"}),
        ),
        (
            "baseline-apparmor",
            lambda p: _container_sc(p).update(appArmorProfile={"type": "Unconfined"}),
        ),
        (
            "restricted-capabilities",
            lambda p: _container_sc(p)["capabilities"].update(drop=["NET_RAW"]),
        ),
    ],
)
def test_checker_catches_the_less_obvious_violations(
    rule: str, change: Callable[[Pod], Any]
) -> None:
    pod = _compliant()
    change(pod)
    assert RULES[rule](pod) != []


def test_container_settings_override_the_pod_ones() -> None:
    pod = _compliant()
    pod["spec"]["securityContext"] = {}
    _container_sc(pod).update(
        runAsNonRoot=True, seccompProfile={"type": "Localhost", "localhostProfile": "x"}
    )
    assert check_run_as_non_root(pod) == [] and check_restricted_seccomp(pod) == []


#: Every checkov exception in dist/, per object (issue 16: all skips were global). Each is
#: an annotation on the object itself, with its reason; no check is skipped globally.
SCANNER_EXCEPTIONS = {
    "DaemonSet/image-puller": ["CKV_K8S_15", "CKV_K8S_43", "CKV_K8S_8", "CKV_K8S_9"],
    "DaemonSet/image-puller-gpu": ["CKV_K8S_15", "CKV_K8S_43", "CKV_K8S_8", "CKV_K8S_9"],
    "Deployment/hub": ["CKV_K8S_15", "CKV_K8S_35", "CKV_K8S_38", "CKV_K8S_40", "CKV_K8S_43"],
    "Deployment/prod-tunnel-deployment": ["CKV_K8S_15", "CKV_K8S_35", "CKV_K8S_43"],
    "Deployment/proxy": ["CKV_K8S_15", "CKV_K8S_35", "CKV_K8S_43"],
    "Job/hub-secrets-bootstrap": ["CKV_K8S_15", "CKV_K8S_38", "CKV_K8S_40", "CKV_K8S_43"],
}


def test_checkov_exceptions_are_scoped_per_object_with_reasons() -> None:
    import yaml

    config = yaml.safe_load((ROOT / ".checkov.yaml").read_text())
    assert "skip-check" not in config, "no global skips: scope each to its object"
    found: dict[str, list[str]] = {}
    for path in sorted(DIST.rglob("*.yaml")):
        for obj in yaml.safe_load_all(path.read_text()):
            annotations = (obj or {}).get("metadata", {}).get("annotations") or {}
            skips = [v for k, v in annotations.items() if k.startswith("checkov.io/skip")]
            for value in skips:
                _check, _, reason = value.partition("=")
                assert len(reason) > 40 and "=" not in reason, (path.name, value)
            if skips:
                found[f"{obj['kind']}/{obj['metadata']['name']}"] = sorted(
                    v.partition("=")[0] for v in skips
                )
    assert found == SCANNER_EXCEPTIONS


def test_the_digest_exception_names_each_image_without_a_digest() -> None:
    """CKV_K8S_43 is excepted only where an image has no digest, and names that image."""
    import yaml

    from jupyter_constructs.core.images import PAUSE_IMAGE

    assert "@sha256:" in PAUSE_IMAGE
    for pod_id in ("Deployment/hub", "Deployment/proxy", "Job/hub-secrets-bootstrap"):
        kind, name = pod_id.split("/")
        (path,) = DIST.rglob(f"{kind}.{name}.k8s.yaml")
        obj = yaml.safe_load(path.read_text())
        reason = next(
            v for v in obj["metadata"]["annotations"].values() if v.startswith("CKV_K8S_43=")
        )
        for container in obj["spec"]["template"]["spec"]["containers"]:
            assert "@sha256:" in container["image"] or container["image"] in reason
