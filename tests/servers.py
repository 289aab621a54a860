"""Throwaway real servers on loopback for integration tests: PostgreSQL, S3 (moto), MLflow.

Plain context managers, so any test module can wrap them in fixtures of the scope it
needs. Each picks a free port, waits until the server answers (bounded), and stops and
removes everything on exit.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.processes import free_port

LOOPBACK = "127.0.0.1"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def closed_port() -> int:
    """A loopback port that refuses connections (for 'unreachable' tests)."""
    return free_port()


def wait_until(
    ready: Callable[[], bool],
    timeout: float,
    what: str,
    proc: subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll ``ready`` every 0.2 s; fail after ``timeout`` s or if ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        with contextlib.suppress(OSError):
            if ready():
                return
        time.sleep(0.2)
    raise TimeoutError(f"{what} not ready after {timeout} s")


def port_open(port: int) -> bool:
    with socket.create_connection((LOOPBACK, port), timeout=1):
        return True


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:
        return 200 <= int(response.status) < 300


@contextlib.contextmanager
def _process(
    args: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _clean_env() -> dict[str, str]:
    """The test's environment without cloud credentials or service bindings."""
    drop = ("AWS_", "S3_", "MLFLOW_", "PG", "TRINO_", "KAFKA_", "RAY_", "DATAHUB_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    password: str
    database: str

    def env(self, sslmode: str = "disable") -> dict[str, str]:
        """The ``PG*`` variables a postgres binding sets."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGDATABASE": self.database,
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGSSLMODE": sslmode,
        }


def postgres_available() -> bool:
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


@contextlib.contextmanager
def postgres_server() -> Iterator[Postgres]:
    """A PostgreSQL 15 cluster in a temp dir with password (scram) auth on loopback.

    PostgreSQL refuses to run as root: as root the data dir belongs to ``postgres`` and
    the binaries run through ``runuser -u postgres --``.
    """
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    base = Path(tempfile.mkdtemp(prefix="pgtest-"))
    data, pwfile = base / "data", base / "pwfile"
    password = secrets.token_urlsafe(16)
    pwfile.write_text(password + "\n")
    if as_root:
        shutil.chown(base, "postgres")
        shutil.chown(pwfile, "postgres")
    port = free_port()
    try:
        subprocess.run(
            [
                *prefix,
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "notebook",
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [
                *prefix,
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(base / "log"),
                "-w",
                "-t",
                "60",
                "-o",
                f"-h {LOOPBACK} -p {port} -k {base} -F",
                "start",
            ],
            check=True,
            capture_output=True,
            timeout=90,
        )
        try:
            yield Postgres(LOOPBACK, port, "notebook", password, "postgres")
        finally:
            subprocess.run(
                [*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=60,
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)


@dataclass(frozen=True)
class S3:
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def env(self, bucket: str | None = None) -> dict[str, str]:
        """The variables an s3 binding sets."""
        env = {
            "S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "S3_VERIFY_TLS": "false",
        }
        if bucket:
            env["S3_BUCKET"] = bucket
        return env


@contextlib.contextmanager
def moto_s3_server() -> Iterator[S3]:
    """moto's S3 API server on loopback (any key pair is accepted; these are random)."""
    port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="moto-") as tmp,
        _process(
            [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)],
            Path(tmp) / "log",
            _clean_env(),
        ) as proc,
    ):
        wait_until(lambda: port_open(port), 60, "moto server", proc)
        yield S3(f"http://{LOOPBACK}:{port}", secrets.token_hex(8), secrets.token_hex(16))


@dataclass(frozen=True)
class Mlflow:
    tracking_uri: str


@contextlib.contextmanager
def mlflow_server() -> Iterator[Mlflow]:
    """``mlflow server`` on loopback, sqlite backend and local artifacts in a temp dir."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="mlflow-") as tmp:
        args = [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{tmp}/mlflow.db",
            "--artifacts-destination",
            f"{tmp}/artifacts",
        ]
        with _process(args, Path(tmp) / "log", _clean_env()) as proc:
            uri = f"http://{LOOPBACK}:{port}"
            try:
                wait_until(lambda: http_ok(f"{uri}/health"), 120, "mlflow server", proc)
            except (RuntimeError, TimeoutError) as exc:
                raise RuntimeError(f"{exc}\n{(Path(tmp) / 'log').read_text()[-3000:]}") from exc
            yield Mlflow(uri)


@contextlib.contextmanager
def ray_head() -> Iterator[str]:
    """A one-CPU Ray head (``ray start --head --block``) with its Ray Client server on
    loopback; yields the ``ray://`` address. Stops the whole process group it started."""
    port = free_port()
    # Short path: Ray's unix sockets live under the temp dir (107-byte socket path limit).
    tmp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    ray_bin = Path(sys.executable).with_name("ray")
    # Under load (2 cores, a busy test run) the per-client server Ray starts can take longer
    # than the proxier's default 30 s wait for its channel.
    env = {
        **_clean_env(),
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_CLIENT_SERVER_CHECK_CHANNEL_TIMEOUT_S": "120",
    }
    args = [
        str(ray_bin),
        "start",
        "--head",
        "--block",
        "--node-ip-address",
        LOOPBACK,
        "--port",
        "0",
        "--ray-client-server-port",
        str(port),
        "--num-cpus",
        "1",
        "--include-dashboard",
        "false",
        "--disable-usage-stats",
        "--temp-dir",
        str(tmp),
    ]
    log = (tmp / "head.log").open("wb")
    proc = subprocess.Popen(
        args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    try:
        wait_until(lambda: port_open(port), 120, "ray head", proc)
        yield f"ray://{LOOPBACK}:{port}"
    finally:
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=grace)
                if sig == signal.SIGTERM:
                    # The head is gone; its children may still be draining.
                    time.sleep(1)
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    break
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
