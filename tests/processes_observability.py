"""Process helpers for the observability tests: promtool, Prometheus, the hub, the proxy.

Every wait is bounded and every process started here is stopped by ``ManagedProcess.stop``
(terminate, then kill), so a failing test never leaves a server behind. Kept out of
conftest.py on purpose: only the observability tests use them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import promql_parser
import pytest

from tests.processes import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
CHP_BIN = REPO_ROOT / "node_modules" / ".bin" / "configurable-http-proxy"

T = TypeVar("T")


def require_executable(name: str) -> str:
    """Path of ``name`` on PATH; fails the test (never skips) when it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed: install Debian's 'prometheus' package "
            "(apt-get install prometheus), as .ci/run does."
        )
    return path


def wait_for(
    what: str, probe: Callable[[], T | None], *, timeout: float, interval: float = 0.2
) -> T:
    """Call ``probe`` until it returns something other than None/False, or fail."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except (OSError, ValueError, urllib.error.URLError) as exc:
            last_error = exc
        else:
            if result is not None and result is not False:
                return result
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last_error!r})")


@dataclass
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    data: bytes | None = None,
    timeout: float = 10,
) -> HttpResponse:
    """One HTTP request; 4xx/5xx are returned, not raised. No redirects followed."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    try:
        with opener.open(request, timeout=timeout) as resp:
            return HttpResponse(resp.status, resp.read(), dict(resp.headers))
    except urllib.error.HTTPError as err:
        return HttpResponse(err.code, err.read(), dict(err.headers))


@dataclass
class ManagedProcess:
    """A child process with its output in a log file, stopped on teardown."""

    name: str
    argv: Sequence[str]
    log_path: Path
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> ManagedProcess:
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            list(self.argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(self.env) if self.env is not None else None,
            cwd=self.cwd,
        )
        log.close()
        return self

    def check_alive(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}"
            )

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 10) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)


def wait_http_ok(process: ManagedProcess, url: str, *, timeout: float) -> None:
    """Wait until ``url`` answers below 500, failing early if ``process`` died."""

    def probe() -> bool:
        process.check_alive()
        return http("GET", url, timeout=2).status < 500

    try:
        wait_for(f"{process.name} at {url}", probe, timeout=timeout)
    except TimeoutError as exc:
        raise TimeoutError(f"{exc}\n--- {process.name} log ---\n{process.log_tail()}") from exc


def run_tool(argv: Sequence[str], *, cwd: Path | None = None, timeout: float = 60) -> str:
    """Run a command line tool; returns stdout+stderr, fails the test on a non-zero exit."""
    result = subprocess.run(
        list(argv), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"{' '.join(argv)} exited with {result.returncode}:\n{output}")
    return output


def metric_names(expr: str) -> set[str]:
    """Metric names of every selector in a PromQL expression, from the parsed AST."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            return
        if isinstance(node, promql_parser.MatrixSelector):
            walk(node.vector_selector)
            return
        if isinstance(node, promql_parser.Call):
            for arg in node.args:
                walk(arg)
            return
        if isinstance(node, promql_parser.BinaryExpr):
            walk(node.lhs)
            walk(node.rhs)
            return
        if isinstance(node, promql_parser.AggregateExpr):
            walk(node.expr)
            if node.param is not None:
                walk(node.param)
            return
        if isinstance(node, promql_parser.ParenExpr | promql_parser.UnaryExpr):
            walk(node.expr)
            return
        if isinstance(node, promql_parser.SubqueryExpr):
            walk(node.expr)

    walk(promql_parser.parse(expr))
    return names


# --- Prometheus -------------------------------------------------------------------------


class Prometheus:
    """A real Prometheus server on loopback, driven through its HTTP API."""

    def __init__(self, workdir: Path, config: Mapping[str, Any]) -> None:
        import yaml

        binary = require_executable("prometheus")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config_path = workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(dict(config), sort_keys=False))
        (workdir / "tsdb").mkdir()
        self.process = ManagedProcess(
            "prometheus",
            [
                binary,
                f"--config.file={config_path}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            workdir / "prometheus.log",
        )

    def start(self, timeout: float = 30) -> None:
        self.process.start()
        wait_http_ok(self.process, f"{self.url}/-/ready", timeout=timeout)

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        response = http("GET", url)
        payload = response.json()
        if response.status != 200 or payload.get("status") != "success":
            raise AssertionError(f"Prometheus {path} {params} -> {response.status}: {payload}")
        return payload["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.api("query", query=expr)
        result: list[dict[str, Any]] = data["result"] if data["resultType"] == "vector" else []
        return result

    def metric_names(self) -> set[str]:
        return set(self.api("label/__name__/values"))

    def targets(self) -> list[dict[str, Any]]:
        active: list[dict[str, Any]] = self.api("targets")["activeTargets"]
        return active


# --- JupyterHub and configurable-http-proxy ---------------------------------------------


def start_proxy(workdir: Path, *, auth_token: str) -> tuple[ManagedProcess, dict[str, int]]:
    """Start the real configurable-http-proxy (npm) with its metrics port, all on loopback."""
    if not CHP_BIN.exists():
        pytest.fail(f"{CHP_BIN.relative_to(REPO_ROOT)} is missing: run `make setup` (npm ci).")
    ports = {"public": free_port(), "api": free_port(), "metrics": free_port()}
    env = {**os.environ, "CONFIGPROXY_AUTH_TOKEN": auth_token}
    process = ManagedProcess(
        "configurable-http-proxy",
        [
            str(CHP_BIN),
            "--ip=127.0.0.1",
            f"--port={ports['public']}",
            "--api-ip=127.0.0.1",
            f"--api-port={ports['api']}",
            "--metrics-ip=127.0.0.1",
            f"--metrics-port={ports['metrics']}",
            "--log-level=warn",
        ],
        workdir / "proxy.log",
        env=env,
    )
    process.start()
    try:
        wait_http_ok(process, f"http://127.0.0.1:{ports['metrics']}/metrics", timeout=30)
    except BaseException:
        process.stop()
        raise
    return process, ports


def start_hub(
    workdir: Path,
    *,
    config_file: Path,
    proxy_auth_token: str,
    hub_port: int,
    extra_env: Mapping[str, str] | None = None,
) -> ManagedProcess:
    """Start a real JupyterHub process from the virtualenv with ``config_file``."""
    env = {**os.environ, **(extra_env or {}), "CONFIGPROXY_AUTH_TOKEN": proxy_auth_token}
    process = ManagedProcess(
        "jupyterhub",
        [sys.executable, "-m", "jupyterhub", "-f", str(config_file)],
        workdir / "hub.log",
        env=env,
        cwd=workdir,
    )
    process.start()
    try:
        wait_http_ok(process, f"http://127.0.0.1:{hub_port}/hub/api/", timeout=60)
    except BaseException:
        process.stop()
        raise
    return process


def hub_login(base_url: str, username: str, password: str) -> tuple[int, str]:
    """Log in through the hub's real login form (xsrf cookie + form field).

    Returns the status of the POST and its Location header; redirects are not followed,
    so no server is spawned.
    """
    import html
    import http.cookiejar
    import re

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    with opener.open(f"{base_url}/hub/login", timeout=10) as resp:
        page = resp.read().decode()
    match = re.search(r'name="_xsrf"\s+value="([^"]+)"', page)
    if match is None:
        raise AssertionError("the hub login page has no _xsrf field")
    form = urllib.parse.urlencode(
        {"_xsrf": html.unescape(match.group(1)), "username": username, "password": password}
    ).encode()
    request = urllib.request.Request(f"{base_url}/hub/login", data=form, method="POST")
    try:
        with opener.open(request, timeout=10) as resp:
            return resp.status, resp.headers.get("Location", "")
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Location", "")
