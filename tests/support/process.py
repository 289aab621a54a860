"""The one process helper: every program the tests start runs as a ``Service``.

Built on mirakuru (https://github.com/dbfixtures/mirakuru): each process gets its own
process group and a marker in its environment, readiness is polled until a deadline
(an HTTP status, an open TCP port, or a check of our own), and ``stop()`` ends the whole
group and anything else that carries the marker. Output goes to a log file: a start that
fails raises ``ServiceError`` with the log's last lines, and ``tests/support/fixtures.py``
adds the logs of every running service to the report of a failing test.

One-shot tools (promtool, ...) run through ``run_tool``: bounded, output on failure.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import mirakuru
import pytest
from mirakuru.exceptions import AlreadyRunning, ProcessExitedWithError, TimeoutExpired

LOOPBACK = "127.0.0.1"
#: Seconds a service gets to end after its stop signal before its process group is killed.
STOP_TIMEOUT = 15.0
#: Lines of a service's log quoted in an error or a failing test's report.
LOG_LINES = 60


def free_port() -> int:
    """A loopback TCP port nothing listens on now, chosen by the kernel.

    From the kernel's ephemeral range (32768-60999 by default), which programs with
    fixed port ranges of their own keep clear of (Ray's workers use 10002-19999 and its
    client servers 23000-24000: a port picked there makes Ray wait minutes).
    """
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def fixed_port(port: int, timeout: float = 600.0) -> Iterator[int]:
    """Hold loopback port ``port`` for a test that needs that exact port.

    A rendered configuration sometimes names a port (the culler's
    ``--url=http://localhost:8081/hub/api``, as in the hub pod). Concurrent test runs on
    one machine take turns through a lock file in the system's temp folder; a port taken
    by something else fails the test with what to do.

    Raises:
        pytest.fail.Exception: the lock was not had within ``timeout`` seconds, or the
            port is in use by another program.
    """
    path = Path(tempfile.gettempdir()) / f"jupyter-constructs-port-{port}.lock"
    deadline = time.monotonic() + timeout
    with path.open("a+") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"port {port}: another test run held {path} for {timeout:.0f} s")
                time.sleep(0.5)
        try:
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind((LOOPBACK, port))
                except OSError as error:
                    pytest.fail(
                        f"loopback port {port} is in use by another program ({error}); "
                        "this test needs that exact port: stop that program"
                    )
            yield port
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def closed_port() -> int:
    """A loopback port that refuses connections (for "unreachable" tests)."""
    return free_port()


class ServiceError(RuntimeError):
    """A service did not start, or died while a test used it. The message quotes its log."""


@dataclass(frozen=True)
class Http:
    """Ready when ``GET url`` answers with a status matching ``status`` (a regex).

    ``own_port``: the URL's port is the service's own, so it must be free before the
    start (a process left from an earlier run is an error, not a ready service). False
    when the URL goes through another service (e.g. a hub behind its proxy).
    """

    url: str
    status: str = r"^2\d\d$"
    own_port: bool = True


@dataclass(frozen=True)
class Tcp:
    """Ready when ``port`` on loopback accepts a connection."""

    port: int


Ready = Http | Tcp | Callable[[], bool]


class _Environment:
    """Drops inherited variables by prefix (mirakuru starts from this process's environment)."""

    drop_env: tuple[str, ...] = ()

    @property
    def envvars(self) -> dict[str, str]:
        env: dict[str, str] = super().envvars  # type: ignore[misc]
        own: dict[str, str] = self._envvars  # type: ignore[attr-defined]
        return {k: v for k, v in env.items() if k in own or not k.startswith(self.drop_env)}


class _HttpExecutor(_Environment, mirakuru.HTTPExecutor):  # type: ignore[misc]
    own_port = True

    def pre_start_check(self) -> bool:
        return bool(self.own_port and super().pre_start_check())


class _TcpExecutor(_Environment, mirakuru.TCPExecutor):  # type: ignore[misc]
    pass


class _CheckExecutor(_Environment, mirakuru.Executor):  # type: ignore[misc]
    """A mirakuru executor whose readiness is a callable."""

    def __init__(self, command: list[str], check: Callable[[], bool], **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self._check = check

    def pre_start_check(self) -> bool:
        return False

    def after_start_check(self) -> bool:
        with contextlib.suppress(OSError):
            return bool(self._check())
        return False


def log_tail(path: Path, lines: int = LOG_LINES) -> str:
    """The last ``lines`` lines of a log file (or why there are none)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


# Services started by this process and not stopped yet (for logs on test failures).
_RUNNING: list[Service] = []


def running_services() -> list[Service]:
    """Every service this test process started and has not stopped yet."""
    return list(_RUNNING)


@dataclass
class Service:
    """A program running for the tests, with its output in ``log_path``."""

    name: str
    argv: list[str]
    log_path: Path
    _executor: Any = field(repr=False)
    _stop_signal: int = field(default=signal.SIGTERM, repr=False)
    _stop_timeout: float = field(default=STOP_TIMEOUT, repr=False)

    @property
    def pid(self) -> int | None:
        process = self._executor.process
        return None if process is None else int(process.pid)

    def running(self) -> bool:
        return bool(self._executor.running())

    def log_tail(self, lines: int = LOG_LINES) -> str:
        return log_tail(self.log_path, lines)

    def check_alive(self) -> None:
        """Raise ``ServiceError`` (with the log) if the process has exited."""
        process = self._executor.process
        if process is None or process.poll() is not None:
            code = None if process is None else process.returncode
            raise ServiceError(f"{self.name} is not running (exit code {code})\n{self._log()}")

    def stop(self) -> None:
        """Send the stop signal to the process group, wait the stop timeout, then kill.

        Idempotent. Also kills any process that inherited this service's marker and
        left the group (mirakuru finds them by their environment).
        """
        process = self._executor.process
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, self._stop_signal)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=self._stop_timeout)
        self._executor.kill()
        with contextlib.suppress(ValueError):
            _RUNNING.remove(self)

    def _log(self) -> str:
        return f"--- last lines of {self.log_path} ---\n{self.log_tail()}"


def start(
    name: str,
    argv: Sequence[str | os.PathLike[str]],
    *,
    ready: Ready,
    log_path: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    drop_env: Sequence[str] = (),
    user: str | None = None,
    stop_signal: int = signal.SIGTERM,
    stop_timeout: float = STOP_TIMEOUT,
) -> Service:
    """Start ``argv`` and wait until ``ready`` (at most ``timeout`` s); return the Service.

    Args:
        name: What the errors call it ("PostgreSQL 15", "jupyterhub", ...).
        argv: The command line; ``argv[0]`` must exist.
        ready: When the service counts as started (see ``Http``, ``Tcp``).
        log_path: File that receives stdout and stderr (created or truncated).
        timeout: Seconds to wait for readiness; the process is killed after that.
        env: Variables added to this process's environment.
        drop_env: Prefixes of inherited variables the process must not see (e.g.
            ``("AWS_",)`` so a server never picks up the test's cloud credentials).
        cwd: Working folder of the process.
        user: Run as this user (through ``runuser``) when the tests run as root.
        stop_signal: Signal that asks the program to end (e.g. SIGINT for PostgreSQL's
            fast shutdown).
        stop_timeout: Seconds ``stop()`` waits after that signal before it kills the
            process group (short for servers that hold test data only).

    Raises:
        ServiceError: the process exited, or was not ready within ``timeout`` s, or
            its port was already taken; the message quotes the log.
    """
    command = [os.fspath(a) for a in argv]
    if user is not None and os.geteuid() == 0:
        command = ["runuser", "-u", user, "--", *command]
    common: dict[str, Any] = {
        "timeout": timeout,
        "sleep": 0.1,
        "envvars": dict(env or {}),
        "cwd": None if cwd is None else os.fspath(cwd),
        "stop_signal": stop_signal,
        "stdin": subprocess.DEVNULL,
        "stderr": subprocess.STDOUT,
    }
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log: IO[bytes] = log_path.open("wb")
    executor: _Environment
    if isinstance(ready, Http):
        executor = _HttpExecutor(
            command,
            url=ready.url,
            status=ready.status,
            method="GET",
            request_timeout=2,
            stdout=log,
            **common,
        )
    elif isinstance(ready, Tcp):
        executor = _TcpExecutor(command, host=LOOPBACK, port=ready.port, stdout=log, **common)
    else:
        executor = _CheckExecutor(command, ready, stdout=log, **common)
    executor.drop_env = tuple(drop_env)
    if isinstance(ready, Http):
        executor.own_port = ready.own_port
    service = Service(name, command, log_path, executor, stop_signal, stop_timeout)
    try:
        executor.start()
    except TimeoutExpired:
        service.stop()
        raise ServiceError(
            f"{name} was not ready after {timeout:.0f} s\n{service._log()}"
        ) from None
    except ProcessExitedWithError as err:
        service.stop()
        raise ServiceError(
            f"{name} exited with code {err.exit_code} before it was ready\n{service._log()}"
        ) from None
    except AlreadyRunning:
        service.stop()
        raise ServiceError(f"{name}: its port is already taken by another process") from None
    except BaseException:
        service.stop()
        raise
    finally:
        log.close()
    _RUNNING.append(service)
    return service


@contextlib.contextmanager
def started(name: str, argv: Sequence[str | os.PathLike[str]], **kwargs: Any) -> Any:
    """``start`` as a context manager: the service is stopped when the block ends."""
    service = start(name, argv, **kwargs)
    try:
        yield service
    finally:
        service.stop()


def require_executable(name: str, install: str) -> str:
    """Path of ``name`` on PATH; fails the test (never skips) with how to install it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: {install} (.ci/run does this)")
    return path


def require_distribution(name: str, version: str) -> None:
    """Fail the test unless the Python distribution ``name`` is installed at ``version``
    (the pin in requirements-dev.txt)."""
    try:
        installed = metadata.version(name)
    except metadata.PackageNotFoundError:
        installed = "nothing"
    if installed != version:
        pytest.fail(
            f"expected {name} {version}, found {installed}: pip install -r requirements-dev.txt"
        )


def run_tool(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    timeout: float = 60,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run a command line tool to completion; its stdout+stderr, or fail the test with it."""
    command = [os.fspath(a) for a in argv]
    result = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=None if env is None else {**os.environ, **env},
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited with {result.returncode}:\n{output}")
    return output
