"""Real processes for integration tests: free ports, waiting, PostgreSQL, the hub and its proxy."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHP = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None) -> int:
    """Poll ``url`` until it answers (any HTTP status); return the status. Bounded."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as err:
            return err.code
        except OSError as err:
            last_error = err
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s: {last_error}")


@contextlib.contextmanager
def running(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    log: Path,
    cwd: Path | None = None,
    user: str | None = None,
) -> Iterator[subprocess.Popen]:
    """Run ``cmd`` for the duration of the block; terminate (then kill) it afterwards."""
    if user is not None:
        cmd = ["runuser", "-u", user, "--", *cmd]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            cmd, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT, cwd=cwd
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@dataclass(frozen=True)
class HubProcess:
    public_url: str
    hub_url: str
    log: Path


OVERRIDES = """
# Test-only overrides, loaded after the generated config. Each one replaces something
# that needs a Kubernetes cluster or in-cluster DNS:
load_subconfig("jupyterhub_config.py")  # noqa: F821
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"          # pod IP -> loopback
c.JupyterHub.hub_connect_url = "http://127.0.0.1:{hub_port}"       # Service 'hub' -> loopback
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"    # Service 'proxy-api'
c.JupyterHub.bind_url = "http://127.0.0.1:{public_port}"           # Service 'proxy-public'
c.JupyterHub.db_url = {db_url!r}                                   # PVC path / cluster DB
c.KubeSpawner.namespace = "jupyter"
"""


@contextlib.contextmanager
def hub_with_proxy(
    config_dir: Path, *, db_url: str, env: dict[str, str], extra_overrides: str = ""
) -> Iterator[HubProcess]:
    """The real hub from ``config_dir`` plus the real configurable-http-proxy, on loopback.

    ``extra_overrides`` is Python appended to the test overrides (each test lists its own).
    """
    public_port, api_port, hub_port = free_port(), free_port(), free_port()
    (config_dir / "test_overrides.py").write_text(
        OVERRIDES.format(
            hub_port=hub_port, api_port=api_port, public_port=public_port, db_url=db_url
        )
        + extra_overrides
    )
    token = env["CONFIGPROXY_AUTH_TOKEN"]
    proxy_cmd = [
        str(CHP),
        "--ip=127.0.0.1",
        f"--port={public_port}",
        "--api-ip=127.0.0.1",
        f"--api-port={api_port}",
        f"--default-target=http://127.0.0.1:{hub_port}",
        f"--error-target=http://127.0.0.1:{hub_port}/hub/error",
    ]
    hub_cmd = [
        sys.executable,
        "-m",
        "jupyterhub",
        "--config",
        str(config_dir / "test_overrides.py"),
    ]
    with (
        running(proxy_cmd, env={"CONFIGPROXY_AUTH_TOKEN": token}, log=config_dir / "proxy.log"),
        running(hub_cmd, env=env, log=config_dir / "hub.log", cwd=config_dir) as hub,
    ):
        try:
            wait_for_http(f"http://127.0.0.1:{hub_port}/hub/health", timeout=60, process=hub)
        except Exception as err:
            raise RuntimeError(
                f"hub did not start:\n{(config_dir / 'hub.log').read_text()}"
            ) from err
        yield HubProcess(
            f"http://127.0.0.1:{public_port}",
            f"http://127.0.0.1:{hub_port}",
            config_dir / "hub.log",
        )
