"""The test-support layer itself: pins agree with the install files, the process helper
waits within its bound, quotes logs on failure and leaves no process behind."""

from __future__ import annotations

import json
import re
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.support import hub, mlflow, proxy, ray, s3, singleuser
from tests.support.paths import ROOT
from tests.support.process import Http, ServiceError, Tcp, free_port, start, started

PY = sys.executable


def _requirement(name: str) -> str:
    text = (ROOT / "requirements-dev.txt").read_text()
    match = re.search(rf"^{re.escape(name)}(?:\[[^\]]*\])?==(\S+)$", text, re.M | re.I)
    assert match, f"{name} is not pinned in requirements-dev.txt"
    return match.group(1)


@pytest.mark.parametrize(
    ("module", "distribution"),
    [
        (hub, "jupyterhub"),
        (mlflow, "mlflow"),
        (ray, "ray"),
        (s3, "moto"),
        (singleuser, "jupyter-server"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_each_consumer_module_pins_the_version_requirements_dev_installs(
    module: object, distribution: str
) -> None:
    assert _requirement(distribution) == module.VERSION  # type: ignore[attr-defined]


def test_the_proxy_module_pins_the_version_package_json_installs() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]
    assert pinned["configurable-http-proxy"] == proxy.VERSION


def test_a_service_that_exits_early_fails_with_its_log(tmp_path: Path) -> None:
    code = "import sys; print('listening? no: bad flag --x'); sys.exit(3)"
    started_at = time.monotonic()
    with pytest.raises(ServiceError) as caught:
        start(
            "broken",
            [PY, "-c", code],
            ready=Tcp(free_port()),
            log_path=tmp_path / "log",
            timeout=30,
        )
    assert time.monotonic() - started_at < 10
    assert "broken exited with code 3 before it was ready" in str(caught.value)
    assert "bad flag --x" in str(caught.value)


def test_a_service_that_never_gets_ready_is_killed_after_its_timeout(tmp_path: Path) -> None:
    code = "import time; print('starting', flush=True); time.sleep(60)"
    started_at = time.monotonic()
    with pytest.raises(ServiceError, match=r"slow was not ready after 2 s\n(.|\n)*starting"):
        start("slow", [PY, "-c", code], ready=lambda: False, log_path=tmp_path / "log", timeout=2)
    assert time.monotonic() - started_at < 10


def test_stop_ends_the_whole_process_group_and_its_escapees(tmp_path: Path) -> None:
    """The server forks a child that ignores SIGTERM and one that leaves the group."""
    port = free_port()
    pids = tmp_path / "pids"
    code = f"""
import http.server, os, signal, subprocess, sys, time
stubborn = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
escaped = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
    start_new_session=True)
open({str(pids)!r}, "w").write(f"{{stubborn.pid}} {{escaped.pid}}")
http.server.HTTPServer(("127.0.0.1", {port}), http.server.SimpleHTTPRequestHandler).serve_forever()
"""
    with started(
        "forking",
        [PY, "-c", code],
        ready=Http(f"http://127.0.0.1:{port}/"),
        log_path=tmp_path / "log",
        timeout=30,
        cwd=tmp_path,
        stop_timeout=2,
    ) as service:
        assert service.running()
        children = [int(p) for p in pids.read_text().split()]
    assert not service.running()
    for pid in children:
        assert _gone_within(pid, 5), f"process {pid} survived stop()"


def _gone_within(pid: int, seconds: float) -> bool:
    """True once ``pid`` no longer runs (gone, or a zombie waiting to be reaped)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return True
        if "zombie" in status:
            return True
        time.sleep(0.05)
    return False


def test_a_port_already_in_use_is_an_error_not_a_ready_service(tmp_path: Path) -> None:
    port = free_port()
    code = (
        "import http.server; http.server.HTTPServer(('127.0.0.1', "
        f"{port}), http.server.SimpleHTTPRequestHandler).serve_forever()"
    )
    with (
        started("first", [PY, "-c", code], ready=Http(f"http://127.0.0.1:{port}/"),
                log_path=tmp_path / "first.log", timeout=30),
        pytest.raises(ServiceError, match="second: its port is already taken"),
    ):  # fmt: skip
        start("second", [PY, "-c", code], ready=Http(f"http://127.0.0.1:{port}/"),
              log_path=tmp_path / "second.log", timeout=30)  # fmt: skip


def test_dropped_variables_do_not_reach_the_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-the-test")
    out = tmp_path / "env.json"
    code = (
        "import json, os, time; "
        f"json.dump(dict(os.environ), open({str(out)!r}, 'w')); time.sleep(60)"
    )
    with started(
        "env",
        [PY, "-c", code],
        ready=out.exists,
        log_path=tmp_path / "log",
        timeout=30,
        env={"AWS_REGION": "kept-because-given"},
        drop_env=("AWS_",),
        stop_timeout=1,
    ):
        env = json.loads(out.read_text())
    assert "AWS_SECRET_ACCESS_KEY" not in env
    assert env["AWS_REGION"] == "kept-because-given"


def test_stop_signal_is_the_one_asked_for(tmp_path: Path) -> None:
    marker = tmp_path / "got-sigint"
    code = f"""
import signal, sys, time
def bye(*_):
    open({str(marker)!r}, "w").write("yes")
    sys.exit(0)
signal.signal(signal.SIGINT, bye)
print("ready", flush=True)
time.sleep(60)
"""
    log = tmp_path / "log"
    with started(
        "int",
        [PY, "-c", code],
        ready=lambda: "ready" in log.read_text(),
        log_path=log,
        timeout=30,
        stop_signal=signal.SIGINT,
    ):
        pass
    assert marker.read_text() == "yes"
