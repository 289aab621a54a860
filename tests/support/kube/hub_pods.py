"""The product's hub and proxy pods, run by the test kubelet from their Deployments' templates.

The kubelet resolves their env from the Secrets (the hub Secret the bootstrap script
made, the platform's OIDC Secret), mounts the hub ConfigMap, gives each pod a loopback
address of its own as its pod IP, checks their readiness probes there, and reports
them Running/Ready — so that a Service's Endpoints list the real processes' addresses.

Two programs stand in for the images (the kubelet cannot pull them):

- ``configurable-http-proxy`` (image ``configurable-http-proxy``): npm's release, with
  the product's arguments; an empty ``--ip=``/``--api-ip=``/``--metrics-ip=`` ("all
  interfaces") becomes the pod's address, as it is inside a pod's network namespace;
- ``jupyterhub`` (image ``k8s-hub``): the real hub with the generated configuration as
  mounted (``--config``) plus test overrides that only replace what needs cluster DNS or
  a volume this machine lacks — the bind address ``http://:8081`` ("all interfaces")
  becomes the pod's address, the ``hub`` and ``proxy-api`` Service names become the
  addresses of the pods behind them, the sqlite file moves to a temp folder.
"""

from __future__ import annotations

import contextlib
import copy
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.kube.client import ApiError, KubeClient, wait_until
from tests.support.kube.kubelet import POD_IP_ENV, TestKubelet
from tests.support.kube.product import pod_templates

Obj = dict[str, Any]
ROOT = Path(__file__).resolve().parents[3]
CHP = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"

_PROXY = """#!{python}
# Stand-in for the configurable-http-proxy image: an empty listen address is the pod's.
import os, sys

ip = os.environ[{pod_ip_env!r}]
empty = ("--ip=", "--api-ip=", "--metrics-ip=")
args = [a + ip if a in empty else a for a in sys.argv[1:]]
os.execv({node!r}, [{node!r}, {chp!r}, *args])
"""

#: The test overrides (a ``string.Template``), loaded after the generated config.
HUB_OVERRIDES = """\
from urllib.parse import urlsplit

load_subconfig("$config")  # noqa: F821 -- the generated config, as mounted, unchanged
c = get_config()  # noqa: F821
port = urlsplit(c.JupyterHub.hub_bind_url).port
c.JupyterHub.hub_bind_url = f"http://$ip:{port}"  # "http://:8081": all interfaces of the pod
c.JupyterHub.hub_connect_url = f"http://$ip:{port}"  # the hub Service -> its endpoint
api_port = urlsplit(c.ConfigurableHTTPProxy.api_url).port
c.ConfigurableHTTPProxy.api_url = f"http://$proxy_ip:{api_port}"  # the proxy-api Service
c.JupyterHub.db_url = "sqlite:///$work/jupyterhub.sqlite"  # the hub-db-dir volume
"""

_HUB = """#!{python}
# Stand-in for the k8s-hub image: the real hub with the generated config as mounted, and
# the test overrides (HUB_OVERRIDES in tests/support/kube/hub_pods.py).
import os, string, sys, tempfile

args = sys.argv[1:]
at = args.index("--config")
work = tempfile.mkdtemp(prefix="jc-hub-")
overrides = os.path.join(work, "test_overrides.py")
with open(overrides, "w") as handle:
    handle.write(string.Template({overrides!r}).substitute(
        config=args[at + 1], ip=os.environ[{pod_ip_env!r}], proxy_ip={proxy_ip!r}, work=work
    ))
os.chdir(work)
rest = args[:at] + args[at + 2:]
os.execv(sys.executable, [sys.executable, "-m", "jupyterhub", *rest, "--config", overrides])
"""


@dataclass
class HubPods:
    """The running hub and proxy pods (as stored by the API server once Ready)."""

    hub: Obj
    proxy: Obj

    @property
    def hub_url(self) -> str:
        return f"http://{self.hub['status']['podIP']}:8081"

    @property
    def proxy_metrics_url(self) -> str:
        return f"http://{self.proxy['status']['podIP']}:8002/metrics"


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def _ready_pod(admin: KubeClient, namespace: str, name: str) -> Obj | None:
    pod: Obj = admin.get(f"/api/v1/namespaces/{namespace}/pods/{name}")
    conditions = pod.get("status", {}).get("conditions") or []
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
    return pod if ready else None


def _create(admin: KubeClient, namespace: str, template: Obj) -> str:
    pod = copy.deepcopy(template)
    stored, _ = admin.create(pod, namespace)
    return str(stored["metadata"]["name"])


@contextlib.contextmanager
def running_hub_and_proxy(
    admin: KubeClient, kubelet: TestKubelet, namespace: str, objects: list[Obj]
) -> Iterator[HubPods]:
    """The proxy pod, then the hub pod (it needs the proxy's API), both Ready.

    Args:
        admin: A client that creates the pods (as the Deployment controller would).
        kubelet: The test kubelet; its programs get the two stand-ins meanwhile.
        namespace: Where the product is applied and its Secrets exist.
        objects: The product's objects (the Deployments' pod templates are taken from them).
    """
    if not CHP.exists():
        raise RuntimeError(f"{CHP} is missing: run `make setup` (npm ci)")
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed")
    directory = Path(tempfile.mkdtemp(prefix="jc-hub-programs-"))
    directory.chmod(0o755)
    python = kubelet.programs["python3"]
    templates = pod_templates(objects)
    created: list[str] = []
    saved = dict(kubelet.programs)
    try:
        kubelet.programs["configurable-http-proxy"] = _write(
            directory / "configurable-http-proxy",
            _PROXY.format(python=python, pod_ip_env=POD_IP_ENV, node=node, chp=str(CHP.resolve())),
        )
        created.append(_create(admin, namespace, templates["Deployment/proxy"]))
        proxy = wait_until(
            lambda: _ready_pod(admin, namespace, created[0]),
            90,
            "the proxy pod to be Ready",
            on_timeout=lambda: kubelet.logs(40),
        )
        kubelet.programs["jupyterhub"] = _write(
            directory / "jupyterhub",
            _HUB.format(
                python=python,
                pod_ip_env=POD_IP_ENV,
                proxy_ip=proxy["status"]["podIP"],
                overrides=HUB_OVERRIDES,
            ),
        )
        created.append(_create(admin, namespace, templates["Deployment/hub"]))
        hub = wait_until(
            lambda: _ready_pod(admin, namespace, created[1]),
            150,
            "the hub pod to be Ready",
            on_timeout=lambda: kubelet.logs(60),
        )
        yield HubPods(hub=hub, proxy=proxy)
    finally:
        for name in created:
            with contextlib.suppress(ApiError):
                admin.delete(f"/api/v1/namespaces/{namespace}/pods/{name}")

        def gone() -> bool:
            return not any(
                admin.exists(f"/api/v1/namespaces/{namespace}/pods/{n}") for n in created
            )

        with contextlib.suppress(TimeoutError):
            wait_until(gone, 60, f"pods {created} to be deleted")
        kubelet.programs.clear()
        kubelet.programs.update(saved)
        shutil.rmtree(directory, ignore_errors=True)
