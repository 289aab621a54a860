"""configurable-http-proxy, the hub's proxy (npm package, installed by ``make setup``).

Runs as in the cluster, apart from the hub: its own process, the REST API on one port,
the public side on another and, on request, metrics on a third; all on loopback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.paths import NODE_BIN, ROOT
from tests.support.process import LOOPBACK, Http, Service, Tcp, free_port, start

#: As pinned in package.json (npm ci installs exactly that).
VERSION = "5.3.0"
BINARY = NODE_BIN / "configurable-http-proxy"
START_TIMEOUT = 60.0


@dataclass
class Proxy:
    service: Service
    auth_token: str
    public_port: int
    api_port: int
    metrics_port: int | None

    @property
    def public_url(self) -> str:
        return f"http://{LOOPBACK}:{self.public_port}"

    @property
    def api_url(self) -> str:
        return f"http://{LOOPBACK}:{self.api_port}"

    @property
    def metrics_url(self) -> str:
        assert self.metrics_port is not None, "started without metrics"
        return f"http://{LOOPBACK}:{self.metrics_port}/metrics"

    def stop(self) -> None:
        self.service.stop()


def _binary() -> Path:
    package = ROOT / "node_modules" / "configurable-http-proxy" / "package.json"
    if not BINARY.exists() or not package.exists():
        pytest.fail("configurable-http-proxy is missing from node_modules: run `make setup`")
    installed = json.loads(package.read_text())["version"]
    if installed != VERSION:
        pytest.fail(f"expected configurable-http-proxy {VERSION}, found {installed}: npm ci")
    return BINARY


def start_proxy(
    workdir: Path,
    *,
    auth_token: str,
    default_target: str | None = None,
    metrics: bool = False,
    host_routing: bool = False,
    env: Mapping[str, str] | None = None,
    public_port: int | None = None,
    error_path: str = "/hub/error",
) -> Proxy:
    """Start the proxy; ``default_target`` and ``/hub/error`` under it as z2jh sets them.

    Args:
        workdir: Folder for its log.
        auth_token: ``CONFIGPROXY_AUTH_TOKEN`` of its REST API.
        default_target: Where unrouted requests go (the hub).
        metrics: Start the metrics endpoint too.
        host_routing: ``--host-routing`` (routes keyed by host, for a hub with
            ``subdomain_host``), as the rendered proxy Deployment sets it then.
        env: More variables (e.g. ``NODE_OPTIONS`` as the rendered Deployment sets it).
        public_port: The public port, when the caller needs it before the start (a hub
            whose ``public_url`` names it); a free port by default.
        error_path: The hub's error page under ``default_target`` (``<base_url>hub/error``).
    """
    public_port, api_port = public_port or free_port(), free_port()
    metrics_port = free_port() if metrics else None
    argv: list[str | Path] = [
        _binary(),
        f"--ip={LOOPBACK}",
        f"--port={public_port}",
        f"--api-ip={LOOPBACK}",
        f"--api-port={api_port}",
        "--log-level=warn",
    ]
    if default_target is not None:
        argv += [
            f"--default-target={default_target}",
            f"--error-target={default_target}{error_path}",
        ]
    if host_routing:
        argv.append("--host-routing")
    if metrics_port is not None:
        argv += [f"--metrics-ip={LOOPBACK}", f"--metrics-port={metrics_port}"]
    service = start(
        f"configurable-http-proxy {VERSION}",
        argv,
        ready=Tcp(api_port)
        if metrics_port is None
        else Http(f"http://{LOOPBACK}:{metrics_port}/metrics"),
        log_path=workdir / "proxy.log",
        timeout=START_TIMEOUT,
        env={**(env or {}), "CONFIGPROXY_AUTH_TOKEN": auth_token},
    )
    return Proxy(service, auth_token, public_port, api_port, metrics_port)
