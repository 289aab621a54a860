"""The test kubelet does not lie: it reports what a kubelet would, or says it cannot.

Small pods of a known program (``python3 -m http.server``) in a namespace of their own:
Secret references resolved through the API (and the kubelet's own error while the
Secret is missing, then a start once it exists); a readiness probe on the pod's own
address; an unknown program leaves the pod Pending with a message, never Running.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.kube.client import KubeClient, wait_until
from tests.support.kube.kubelet import TestKubelet

pytestmark = pytest.mark.k8s


def _pod(name: str, command: list[str], **container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "fsGroup": 100},
            "automountServiceAccountToken": False,
            "containers": [
                {"name": "main", "image": "example.com/test:1", "command": command, **container}
            ],
        },
    }


def _status(admin: KubeClient, namespace: str, name: str) -> dict[str, Any]:
    return admin.get(f"/api/v1/namespaces/{namespace}/pods/{name}")["status"]  # type: ignore[no-any-return]


def _waiting(status: dict[str, Any]) -> dict[str, Any]:
    states = [c["state"] for c in status.get("containerStatuses") or []]
    return states[0].get("waiting", {}) if states else {}


def test_a_missing_secret_is_the_kubelets_error_until_it_exists(
    admin: KubeClient, kubelet: TestKubelet, namespace: str
) -> None:
    pod = _pod(
        "server",
        ["python3", "-m", "http.server", "8080", "--bind", "0.0.0.0"],
        env=[{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "later", "key": "token"}}}],
        ports=[{"containerPort": 8080, "name": "http"}],
        readinessProbe={"httpGet": {"path": "/", "port": "http"}},
    )
    admin.create(pod, namespace)
    waiting = wait_until(
        lambda: _waiting(_status(admin, namespace, "server")) or None,
        30,
        "the kubelet's report",
        on_timeout=kubelet.logs,
    )
    assert waiting == {
        "reason": "CreateContainerConfigError",
        "message": 'secret "later" not found',
    }
    admin.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "later"},
            "stringData": {"token": "t0k3n"},
        },
        namespace,
    )
    status = wait_until(
        lambda: (
            (s := _status(admin, namespace, "server"))
            and any(c["type"] == "Ready" and c["status"] == "True" for c in s.get("conditions", []))
            and s
        ),
        60,
        "the pod to be Ready once the Secret exists",
        on_timeout=kubelet.logs,
    )
    assert status["phase"] == "Running"
    assert status["podIP"].startswith("127.") and status["podIP"] != "127.0.0.1"
    admin.delete(f"/api/v1/namespaces/{namespace}/pods/server")
    wait_until(
        lambda: not admin.exists(f"/api/v1/namespaces/{namespace}/pods/server"),
        30,
        "the kubelet to finish the delete",
        on_timeout=kubelet.logs,
    )


def test_an_unknown_program_is_never_reported_running(
    admin: KubeClient, kubelet: TestKubelet, namespace: str
) -> None:
    admin.create(_pod("unknown", ["/opt/vendor/bin/agent"]), namespace)
    waiting = wait_until(
        lambda: _waiting(_status(admin, namespace, "unknown")) or None,
        30,
        "the kubelet's report",
        on_timeout=kubelet.logs,
    )
    assert "cannot run '/opt/vendor/bin/agent'" in waiting["message"]
    assert _status(admin, namespace, "unknown")["phase"] == "Pending"


def test_a_command_that_exits_completes_the_pod(
    admin: KubeClient, kubelet: TestKubelet, namespace: str
) -> None:
    pod = _pod("job", ["python3", "-c", "import os; assert os.getuid() == 1000"])
    pod["spec"]["restartPolicy"] = "Never"
    admin.create(pod, namespace)
    status = wait_until(
        lambda: (
            (s := _status(admin, namespace, "job")).get("phase") in ("Succeeded", "Failed") and s
        ),
        60,
        "the pod to finish",
        on_timeout=kubelet.logs,
    )
    assert status["phase"] == "Succeeded", kubelet.container_log(namespace, "job", "main")
