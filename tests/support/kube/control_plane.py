"""A real Kubernetes control plane on loopback: etcd, kube-apiserver and, when asked, controllers.

Each component is a ``mirakuru`` executor with a bounded readiness check and its output
in a log file. ``ControlPlane.logs()`` gives the tail of every log (the fixtures attach
it to a failing test's report).

Levels:

- ``start_control_plane()``: etcd + kube-apiserver + a kube-controller-manager running
  only what every real namespace has (ServiceAccount, ResourceQuota, namespace, garbage
  collector, root CA publisher, PVC/PV protection controllers). Without them a pod without
  ``serviceAccountName`` is refused and ResourceQuota admission refuses every pod
  ("status unknown for quota"), which no real cluster does.
- ``ControlPlane.start_workload_controllers()``: the opt-in level for controller tests:
  deployment, replicaset, job (and more) controllers plus kube-scheduler.

Authentication: static tokens for the admin (``system:masters``), the controller manager
and the scheduler; every ServiceAccount token is a real TokenRequest token signed by the
API server's ServiceAccount key. Authorization is RBAC only.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import ssl
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from mirakuru import Executor

from tests.support.kube.client import KubeClient, wait_until
from tests.support.kube.pki import Pki, create_pki

LOOPBACK = "127.0.0.1"
SERVICE_CIDR = "10.96.0.0/16"
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"

#: Controllers every namespace relies on in a real cluster (run at the base level).
NAMESPACE_CONTROLLERS = (
    "serviceaccount-controller",
    "resourcequota-controller",
    "namespace-controller",
    "garbage-collector-controller",
    "root-ca-certificate-publisher-controller",
    "persistentvolumeclaim-protection-controller",
    "persistentvolume-protection-controller",
)
#: What keeps a Service's EndpointSlices in step with its ready pods (service discovery
#: reads them), started by the tests that need it. With the test kubelet's loopback pod
#: addresses its writes are refused (``tests/support/kube/endpoints.py``).
ENDPOINTSLICE_CONTROLLERS = ("endpointslice-controller",)
#: Controllers of the opt-in level (workloads).
WORKLOAD_CONTROLLERS = (
    "deployment-controller",
    "replicaset-controller",
    "job-controller",
    "ttl-after-finished-controller",
    "pod-garbage-collector-controller",
    "disruption-controller",
    "endpointslice-controller",
    "persistentvolume-binder-controller",
    "daemonset-controller",
)


def free_port() -> int:
    """A loopback TCP port that is free right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


class Component(Executor):  # type: ignore[misc]
    """A control-plane process, ready when ``ready()`` says so (bounded by ``timeout``).

    ``env`` is added to this process' environment; ``cwd`` is its working directory.
    """

    def __init__(
        self,
        name: str,
        command: list[str],
        log: Path,
        ready: Callable[[], bool],
        timeout: float = 60,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.log = log
        self._ready = ready
        self._log_file: IO[str] = log.open("a")
        super().__init__(
            command,
            timeout=timeout,
            sleep=0.2,
            stdin=None,
            stdout=self._log_file,
            stderr=self._log_file,
            envvars=env,
            cwd=str(cwd) if cwd else None,
        )

    def pre_start_check(self) -> bool:
        return False

    def after_start_check(self) -> bool:
        try:
            return bool(self._ready())
        except Exception:
            return False

    def stop(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().stop(*args, **kwargs)
        finally:
            self._log_file.flush()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        self._log_file.close()


def _https_ok(url: str, ca_file: Path, token: str | None = None) -> bool:
    context = ssl.create_default_context(cafile=str(ca_file))
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, context=context, timeout=2) as response:
        return int(response.status) == 200


def _https_insecure_ok(url: str) -> bool:
    """A component's own healthz: it serves a self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(url, context=context, timeout=2) as response:
        return int(response.status) == 200


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:
        return int(response.status) == 200


@dataclass
class ControlPlane:
    """A running control plane; ``admin()`` is a client with full rights."""

    server: str
    pki: Pki
    admin_token: str
    workdir: Path
    binaries: dict[str, Path]
    tokens: dict[str, str]
    components: list[Component] = field(default_factory=list)
    workload_level: bool = False

    def admin(self) -> KubeClient:
        return KubeClient(self.server, self.pki.ca_cert, self.admin_token)

    def logs(self, lines: int = 40) -> str:
        """The last ``lines`` of every component's log, for a failure report."""
        parts = []
        for component in self.components:
            text = component.log.read_text(errors="replace").splitlines()
            parts.append(f"--- {component.name} ({component.log}) ---")
            parts += text[-lines:]
        return "\n".join(parts)

    def _kubeconfig(self, user: str) -> Path:
        client = KubeClient(self.server, self.pki.ca_cert, self.tokens[user])
        return client.kubeconfig(self.workdir / f"{user}.kubeconfig")

    def _start(self, component: Component) -> None:
        self.components.append(component)
        try:
            component.start()
        except Exception as error:
            raise RuntimeError(
                f"{component.name} did not become ready: {error}\n{self.logs(80)}"
            ) from error

    def start_controller_manager(self, name: str, controllers: tuple[str, ...]) -> None:
        port = free_port()
        command = [
            str(self.binaries["kube-controller-manager"]),
            f"--kubeconfig={self._kubeconfig('kube-controller-manager')}",
            f"--bind-address={LOOPBACK}",
            f"--secure-port={port}",
            f"--cert-dir={self.workdir / name}",
            f"--controllers={','.join(controllers)}",
            f"--root-ca-file={self.pki.ca_cert}",
            f"--service-account-private-key-file={self.pki.sa_private_key}",
            "--use-service-account-credentials=true",
            "--leader-elect=false",
            # Bounded test runtime: the namespace and quota controllers react quickly.
            "--concurrent-namespace-syncs=4",
            "--resource-quota-sync-period=10s",
            "--v=1",
        ]
        self._start(
            Component(
                name,
                command,
                self.workdir / f"{name}.log",
                lambda: _https_insecure_ok(f"https://{LOOPBACK}:{port}/healthz"),
            )
        )

    def start_workload_controllers(self) -> None:
        """The opt-in level: workload controllers and kube-scheduler (idempotent)."""
        if self.workload_level:
            return
        self.start_controller_manager("kube-controller-manager-workloads", WORKLOAD_CONTROLLERS)
        port = free_port()
        command = [
            str(self.binaries["kube-scheduler"]),
            f"--kubeconfig={self._kubeconfig('kube-scheduler')}",
            f"--bind-address={LOOPBACK}",
            f"--secure-port={port}",
            "--leader-elect=false",
            "--v=1",
        ]
        self._start(
            Component(
                "kube-scheduler",
                command,
                self.workdir / "kube-scheduler.log",
                lambda: _https_insecure_ok(f"https://{LOOPBACK}:{port}/healthz"),
            )
        )
        self.workload_level = True

    def stop_workload_controllers(self) -> None:
        """Back to the base level (the opt-in components stopped)."""
        self.stop_components("kube-controller-manager-workloads", "kube-scheduler")
        self.workload_level = False

    def stop_components(self, *names: str) -> None:
        """Stop the components called ``names`` (those a test module started)."""
        for component in list(self.components):
            if component.name in names:
                component.close()
                self.components.remove(component)

    def stop(self) -> None:
        for component in reversed(self.components):
            component.close()


@contextlib.contextmanager
def start_control_plane(binaries: dict[str, Path]) -> Iterator[ControlPlane]:
    """etcd + kube-apiserver + the namespace controllers, torn down on exit.

    Args:
        binaries: Paths of ``etcd``, ``kube-apiserver``, ``kube-controller-manager`` and
            (for the workload level) ``kube-scheduler``.
    """
    workdir = Path(tempfile.mkdtemp(prefix="jc-kube-"))
    tokens = {
        "admin": secrets.token_hex(24),
        "kube-controller-manager": secrets.token_hex(24),
        "kube-scheduler": secrets.token_hex(24),
    }
    token_file = workdir / "tokens.csv"
    token_file.write_text(
        f'{tokens["admin"]},admin,admin-uid,"system:masters"\n'
        f"{tokens['kube-controller-manager']},system:kube-controller-manager,kcm-uid\n"
        f"{tokens['kube-scheduler']},system:kube-scheduler,scheduler-uid\n"
    )
    token_file.chmod(0o600)
    pki = create_pki(workdir / "pki")
    api_port, etcd_port, peer_port = free_port(), free_port(), free_port()
    plane = ControlPlane(
        server=f"https://{LOOPBACK}:{api_port}",
        pki=pki,
        admin_token=tokens["admin"],
        workdir=workdir,
        binaries=binaries,
        tokens=tokens,
    )
    try:
        etcd_url = f"http://{LOOPBACK}:{etcd_port}"
        plane._start(
            Component(
                "etcd",
                [
                    str(binaries["etcd"]),
                    f"--data-dir={workdir / 'etcd'}",
                    f"--listen-client-urls={etcd_url}",
                    f"--advertise-client-urls={etcd_url}",
                    f"--listen-peer-urls=http://{LOOPBACK}:{peer_port}",
                    f"--initial-advertise-peer-urls=http://{LOOPBACK}:{peer_port}",
                    f"--initial-cluster=default=http://{LOOPBACK}:{peer_port}",
                    "--unsafe-no-fsync",
                    "--log-level=warn",
                ],
                workdir / "etcd.log",
                lambda: _http_ok(f"{etcd_url}/health"),
            )
        )
        plane._start(
            Component(
                "kube-apiserver",
                [
                    str(binaries["kube-apiserver"]),
                    f"--etcd-servers={etcd_url}",
                    f"--secure-port={api_port}",
                    f"--bind-address={LOOPBACK}",
                    f"--advertise-address={LOOPBACK}",
                    f"--cert-dir={workdir / 'apiserver-certs'}",
                    f"--tls-cert-file={pki.serving_cert}",
                    f"--tls-private-key-file={pki.serving_key}",
                    f"--client-ca-file={pki.ca_cert}",
                    f"--service-account-issuer={SA_ISSUER}",
                    f"--service-account-key-file={pki.sa_public_key}",
                    f"--service-account-signing-key-file={pki.sa_private_key}",
                    f"--service-cluster-ip-range={SERVICE_CIDR}",
                    "--authorization-mode=RBAC",
                    f"--token-auth-file={token_file}",
                    "--endpoint-reconciler-type=none",
                    # Without it, validation refuses a privileged pod before PodSecurity can.
                    "--allow-privileged=true",
                    "--profiling=false",
                    "--v=1",
                ],
                workdir / "kube-apiserver.log",
                lambda: _https_ok(f"{plane.server}/readyz", pki.ca_cert, tokens["admin"]),
                timeout=90,
            )
        )
        plane.start_controller_manager("kube-controller-manager", NAMESPACE_CONTROLLERS)
        admin = plane.admin()
        # The namespace controllers are working once `default` has its ServiceAccount.
        wait_until(
            lambda: admin.exists("/api/v1/namespaces/default/serviceaccounts/default"),
            60,
            "the ServiceAccount controller to create default/default",
            on_timeout=plane.logs,
        )
        yield plane
    finally:
        plane.stop()
        shutil.rmtree(workdir, ignore_errors=True)
