"""A user's server spawned end to end through the real API server (issue 19, test 5).

The real hub process runs the generated config (the hub ConfigMap as applied to the API
server) behind the real configurable-http-proxy, with the env its Deployment gives it
(Secrets resolved through the API, the hub Secret made by the bootstrap script) and a
kubeconfig holding the hub ServiceAccount's own TokenRequest token. KubeSpawner creates
the user's PVC and pod through RBAC, PodSecurity, LimitRange and ResourceQuota
admission; the test kubelet binds the pod, resolves its env through the API, runs
``jupyterhub-singleuser`` on the pod's loopback address and reports it Running/Ready;
the user reaches it through the proxy. Stop and the idle culler delete the pod (the
kubelet finishes the graceful delete). One user more than the ResourceQuota admits is
refused, and the API server's "exceeded quota" reaches the user's progress stream.

Test-only overrides (``tests/support/hub.py`` and ``EXTRA`` below) only move addresses to
loopback, set the namespace, add an admin service token for the test, and shorten the
culler's timeout where the culler is tested.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from jupyter_constructs import NamespaceQuota
from jupyter_constructs.hub.deployment import HUB_PORT
from tests.helpers import make_hub, synth
from tests.support.hub import hub_process
from tests.support.kube.client import KubeClient
from tests.support.kube.fixtures import DIST, apply_product, delete_namespace
from tests.support.kube.kubelet import TestKubelet, container_env
from tests.support.kube.product import find, hub_settings, pod_templates, prepare_platform
from tests.support.kube.sync import load_manifests
from tests.support.process import fixed_port

pytestmark = [pytest.mark.k8s, pytest.mark.integration]

PROD = load_manifests(DIST / "prod")
ADMIN_TOKEN = secrets.token_hex(24)
EXTRA = """
c.KubeSpawner.namespace = {namespace!r}
c.KubeSpawner.start_timeout = 120
c.JupyterHub.services.append({{"name": "test-admin", "api_token": {token!r}}})
c.JupyterHub.load_roles.append(
    {{"name": "test-admin", "scopes": ["admin:users", "admin:servers", "tokens"],
      "services": ["test-admin"]}}
)
# The test's users are created through the API and never sign in, so they have no
# provider tokens for the product's OidcAuth to re-check: the re-check (before a spawn, and
# on their API tokens) would refuse them, as it should for a real user
# (tests/addons/test_oidc_keycloak.py). Not what this test is about: turned off.
c.GenericOAuthenticator.auth_refresh_age = 0
"""
SHORT_CULLER = """
for _service in c.JupyterHub.services:
    if _service.get("name") == "idle-culler":
        _service["command"] = [
            a for a in _service["command"] if not a.startswith(("--timeout=", "--cull-every="))
        ] + ["--timeout={timeout}", "--cull-every={every}"]
"""


# ---------------------------------------------------------------------- the hub


@dataclass
class Hub:
    public_url: str
    hub_url: str
    log: Path
    namespace: str
    env: dict[str, str]

    def api(self, method: str, path: str, body: Any = None, token: str = ADMIN_TOKEN) -> Any:
        response = requests.request(
            method,
            f"{self.hub_url}/hub/api{path}",
            json=body,
            headers={"Authorization": f"token {token}"},
            timeout=30,
        )
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def server(self, user: str, name: str = "") -> dict[str, Any] | None:
        return (self.api("GET", f"/users/{user}") or {}).get("servers", {}).get(name)  # type: ignore[no-any-return]

    def progress_failure(self, user: str, timeout: float = 60) -> str:
        """The message of the failure event of ``user``'s spawn progress (the spawn page)."""
        with requests.get(
            f"{self.hub_url}/hub/api/users/{user}/server/progress",
            headers={"Authorization": f"token {ADMIN_TOKEN}"},
            stream=True,
            timeout=timeout,
        ) as response:
            for line in response.iter_lines(decode_unicode=True):
                if line and line.startswith("data:"):
                    event = json.loads(line[5:])
                    if event.get("failed"):
                        return str(event.get("message", ""))
        return ""


def wait(
    check: Callable[[], Any], timeout: float, what: str, hub: Hub, kubelet: TestKubelet
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    log = [
        line
        for line in hub.log.read_text(errors="replace").splitlines()
        if "(test-admin@127.0.0.1)" not in line  # the test's own polling
    ]
    raise AssertionError(
        f"timed out after {timeout:.0f} s waiting for {what}\n--- hub log ---\n"
        + "\n".join(log[-80:])
        + f"\n--- kubelet ---\n{kubelet.logs(40)}"
    )


@contextlib.contextmanager
def running_hub(
    admin: KubeClient,
    namespace: str,
    objects: list[dict[str, Any]],
    directory: Path,
    extra: str = "",
    hub_port: int | None = None,
) -> Iterator[Hub]:
    """The real hub (generated config, Deployment env, hub ServiceAccount) and proxy,
    on ``hub_port`` (default: a free port)."""
    directory.mkdir(parents=True, exist_ok=True)
    config_map = admin.get(f"/api/v1/namespaces/{namespace}/configmaps/hub-config")
    for name, text in config_map["data"].items():
        (directory / name).write_text(text)
    hub_container = find(objects, "Deployment", "hub")["spec"]["template"]["spec"]["containers"][0]
    env = container_env(admin, namespace, hub_container, lambda _path: namespace)
    kubeconfig = admin.as_service_account(namespace, "hub").kubeconfig(
        directory / "hub.kubeconfig", namespace
    )
    bin_dir = str(Path(sys.executable).parent)
    env.update(KUBECONFIG=str(kubeconfig), PATH=f"{bin_dir}:{os.environ['PATH']}")
    overrides = EXTRA.format(namespace=namespace, token=ADMIN_TOKEN) + extra
    db_url = f"sqlite:///{directory / 'jupyterhub.sqlite'}"
    with hub_process(
        directory, settings=overrides, env=env, db_url=db_url, hub_port=hub_port
    ) as hub:
        yield Hub(hub.public_url, hub.hub_url, hub.log_path, namespace, env)


def user_pods(admin: KubeClient, namespace: str, user: str) -> list[dict[str, Any]]:
    pods = admin.get(f"/api/v1/namespaces/{namespace}/pods")["items"]
    return [
        p
        for p in pods
        if (p["metadata"].get("annotations") or {}).get("hub.jupyter.org/username") == user
    ]


def process_env(kubelet: TestKubelet, namespace: str, name: str) -> dict[str, str]:
    """The environment the kubelet gave the pod's first container process."""
    pod = next(p for p in kubelet.pods.values() if (p.namespace, p.name) == (namespace, name))
    process = next(iter(pod.containers.values())).process
    assert process is not None
    raw = Path(f"/proc/{process.pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def platform(
    admin: KubeClient, product_namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, dict[str, dict[str, str]]]:
    values = prepare_platform(admin, product_namespace, PROD, tmp_path_factory.mktemp("bootstrap"))
    return product_namespace, values


# ---------------------------------------------------------------------- tests


def test_a_user_starts_reaches_and_stops_a_server(
    admin: KubeClient,
    kubelet: TestKubelet,
    platform: tuple[str, dict[str, dict[str, str]]],
    tmp_path: Path,
) -> None:
    namespace, values = platform
    profile = hub_settings(PROD)["traits"]["KubeSpawner"]["profile_list"][1]["slug"]
    with running_hub(admin, namespace, PROD, tmp_path / "hub") as hub:
        hub.api("POST", "/users/alice")
        hub.api("POST", "/users/alice/server", {"profile": profile})
        wait(lambda: (hub.server("alice") or {}).get("ready"), 150, "alice's server", hub, kubelet)

        (pod,) = user_pods(admin, namespace, "alice")
        assert pod["metadata"]["labels"]["jupyter-constructs.io/profile"] == profile
        assert pod["spec"]["nodeName"] == kubelet.node_name
        assert pod["status"]["phase"] == "Running"
        claim = next(v for v in pod["spec"]["volumes"] if v["name"] == "home")
        claim_name = claim["persistentVolumeClaim"]["claimName"]
        pvc_path = f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{claim_name}"
        assert admin.exists(pvc_path)
        # The kubelet resolved the profile's Secret references through the API.
        env = process_env(kubelet, namespace, pod["metadata"]["name"])
        assert env["AWS_SECRET_ACCESS_KEY"] == values["minio-notebooks"]["secret-access-key"]
        assert env["JUPYTERHUB_API_URL"].startswith("http://127.0.0.1:")

        # The user reaches the server through the real proxy, with their own token.
        token = hub.api("POST", "/users/alice/tokens", {"note": "test"})["token"]
        response = requests.get(
            f"{hub.public_url}/user/alice/api/status",
            headers={"Authorization": f"token {token}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        assert "last_activity" in response.json()

        # Named servers are not enabled by the product: the hub refuses them.
        settings = hub_settings(PROD)["traits"]["JupyterHub"]
        if not settings.get("allow_named_servers"):
            with pytest.raises(AssertionError, match="400"):
                hub.api("POST", "/users/alice/servers/second")

        hub.api("DELETE", "/users/alice/server")
        wait(
            lambda: not (hub.api("GET", "/users/alice") or {}).get("servers"),
            60,
            "the stop",
            hub,
            kubelet,
        )
        wait(
            lambda: not user_pods(admin, namespace, "alice"),
            60,
            "the pod to be deleted",
            hub,
            kubelet,
        )
        assert admin.exists(pvc_path), "the home PVC must outlive the server"


def test_the_metrics_scraper_reads_metrics_and_nothing_else(
    admin: KubeClient, platform: tuple[str, dict[str, dict[str, str]]], tmp_path: Path
) -> None:
    """Prometheus scrapes the hub with the token the bootstrap made (the ServiceMonitor's
    credentials); it gets no Kubernetes rights from the product (test_rbac.py)."""
    namespace, _ = platform
    with running_hub(admin, namespace, PROD, tmp_path / "hub") as hub:
        token = hub.env["JUPYTERHUB_SERVICE_TOKEN_PROMETHEUS"]
        metrics = requests.get(
            f"{hub.hub_url}/hub/metrics", headers={"Authorization": f"token {token}"}, timeout=30
        )
        assert metrics.status_code == 200 and "jupyterhub_" in metrics.text
        users = requests.get(
            f"{hub.hub_url}/hub/api/users", headers={"Authorization": f"token {token}"}, timeout=30
        )
        assert users.status_code == 403


def test_the_idle_culler_deletes_an_idle_server(
    admin: KubeClient,
    kubelet: TestKubelet,
    platform: tuple[str, dict[str, dict[str, str]]],
    tmp_path: Path,
) -> None:
    """The culler runs with its rendered ``--url=http://localhost:8081/hub/api`` (the hub
    pod's loopback): the hub listens on 8081 here too, as in its pod."""
    namespace, _ = platform
    culler = SHORT_CULLER.format(timeout=5, every=2)
    with (
        fixed_port(HUB_PORT) as port,
        running_hub(admin, namespace, PROD, tmp_path / "hub", extra=culler, hub_port=port) as hub,
    ):
        hub.api("POST", "/users/bob")
        hub.api("POST", "/users/bob/server")
        wait(lambda: (hub.server("bob") or {}).get("ready"), 150, "bob's server", hub, kubelet)
        assert user_pods(admin, namespace, "bob")
        wait(
            lambda: not (hub.api("GET", "/users/bob") or {}).get("servers"),
            90,
            "the culler",
            hub,
            kubelet,
        )
        wait(
            lambda: not user_pods(admin, namespace, "bob"),
            60,
            "the pod to be deleted",
            hub,
            kubelet,
        )
    assert "idle-culler" in hub.log.read_text()


def test_one_user_more_than_the_quota_admits_gets_the_api_servers_message(
    admin: KubeClient, kubelet: TestKubelet, crds: list[str], tmp_path: Path
) -> None:
    """``capacity_summary`` says how many servers fit; the ResourceQuota admits that many
    (with the hub and proxy pods running, as the summary assumes) and refuses the next."""
    chart, built = make_hub(quota=NamespaceQuota(pods=4))
    objects = synth(chart)
    capacity, limit = built.capacity_summary()["small"]
    assert (capacity, limit) == (2, "pods")
    namespace = f"quota-{secrets.token_hex(3)}"
    try:
        apply_product(admin, namespace, objects)
        prepare_platform(admin, namespace, objects, tmp_path)
        templates = pod_templates(objects)
        for workload in ("Deployment/hub", "Deployment/proxy"):  # what the summary reserves
            admin.create(templates[workload], namespace)
        with running_hub(admin, namespace, objects, tmp_path / "hub") as hub:
            for n in range(capacity):
                hub.api("POST", f"/users/u{n}")
                hub.api("POST", f"/users/u{n}/server")
                wait(
                    lambda n=n: (hub.server(f"u{n}") or {}).get("ready"), 150, f"u{n}", hub, kubelet
                )
            hub.api("POST", "/users/one-more")
            hub.api("POST", "/users/one-more/server")
            message = hub.progress_failure("one-more")
            print(f"\nthe user's spawn progress says: {message}")
            assert (
                "exceeded quota: jupyterhub, requested: pods=1, used: pods=4, limited: pods=4"
                in message
            ), message
            assert not user_pods(admin, namespace, "one-more")
            for n in range(capacity):
                hub.api("DELETE", f"/users/u{n}/server")
            wait(
                lambda: all(not user_pods(admin, namespace, f"u{n}") for n in range(capacity)),
                60,
                "stops",
                hub,
                kubelet,
            )
    finally:
        delete_namespace(admin, namespace)


def test_a_user_restarts_a_server_when_the_pvc_quota_is_full(
    admin: KubeClient, kubelet: TestKubelet, crds: list[str], tmp_path: Path
) -> None:
    """Why the hub's Role keeps ``get`` on PVCs (issue 16 removed the verbs KubeSpawner never
    uses): with the ``persistentvolumeclaims`` quota full, creating a claim that already
    exists is refused with 403 (quota admission comes before the existence check), and
    KubeSpawner reads the claim to tell "exists" from "over quota". The hub database's PVC
    and alice's home fill a quota of 2; alice starts, stops and starts again."""
    chart, _ = make_hub(quota=NamespaceQuota(persistent_volume_claims=2))
    objects = synth(chart)
    namespace = f"pvc-quota-{secrets.token_hex(3)}"
    try:
        apply_product(admin, namespace, objects)
        prepare_platform(admin, namespace, objects, tmp_path)
        with running_hub(admin, namespace, objects, tmp_path / "hub") as hub:
            hub.api("POST", "/users/alice")
            for attempt in ("first start", "restart"):
                hub.api("POST", "/users/alice/server")
                wait(
                    lambda: (hub.server("alice") or {}).get("ready"),
                    150,
                    f"alice's server ({attempt})",
                    hub,
                    kubelet,
                )
                hub.api("DELETE", "/users/alice/server")
                wait(lambda: not user_pods(admin, namespace, "alice"), 60, "the stop", hub, kubelet)
            quota = admin.get(f"/api/v1/namespaces/{namespace}/resourcequotas/jupyterhub")
            assert quota["status"]["used"]["persistentvolumeclaims"] == "2"
            log = hub.log.read_text(errors="replace")
            assert "already exists, possibly have reached quota though" in log
    finally:
        delete_namespace(admin, namespace)
