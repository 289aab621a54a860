"""An MLflow tracking server (``mlflow server``), one per test session.

sqlite backend and local artifacts in a temporary folder; experiments are told apart
by name, so tests share the server.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.process import LOOPBACK, Http, free_port, require_distribution, started

#: mlflow, as pinned in requirements-dev.txt.
VERSION = "3.17.2"
START_TIMEOUT = 180.0
#: The server must not see the test's cloud credentials or service bindings.
DROP_ENV = ("AWS_", "S3_", "MLFLOW_", "PG", "TRINO_", "KAFKA_", "RAY_", "DATAHUB_")


@dataclass(frozen=True)
class Mlflow:
    tracking_uri: str


@contextmanager
def mlflow_server() -> Iterator[Mlflow]:
    """Start ``mlflow server`` on a free loopback port; stop it and delete its data."""
    require_distribution("mlflow", VERSION)
    port = free_port()
    uri = f"http://{LOOPBACK}:{port}"
    with tempfile.TemporaryDirectory(prefix="mlflow-") as tmp:
        argv = [
            sys.executable, "-m", "mlflow", "server",
            "--host", LOOPBACK,
            "--port", str(port),
            "--workers", "1",
            "--backend-store-uri", f"sqlite:///{tmp}/mlflow.db",
            "--artifacts-destination", f"{tmp}/artifacts",
        ]  # fmt: skip
        with started(
            f"mlflow {VERSION}",
            argv,
            ready=Http(f"{uri}/health"),
            log_path=Path(tmp) / "server.log",
            timeout=START_TIMEOUT,
            drop_env=DROP_ENV,
            # uvicorn waits for idle keep-alive connections on SIGTERM; the data is
            # thrown away anyway.
            stop_timeout=3,
        ):
            yield Mlflow(uri)
