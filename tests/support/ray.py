"""A one-CPU Ray head (``ray start --head --block``) with its Ray Client server."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.process import LOOPBACK, Tcp, free_port, require_distribution, started

#: ray, as pinned in requirements-dev.txt.
VERSION = "2.60.0"
START_TIMEOUT = 180.0
DROP_ENV = ("AWS_", "S3_", "MLFLOW_", "PG", "TRINO_", "KAFKA_", "RAY_", "DATAHUB_")


#: Ports Ray keeps for itself: its workers (``--min/max-worker-port`` defaults) and the
#: servers its client proxy starts per client.
RAY_PORTS = (range(10002, 20000), range(23000, 24000))


def _free_port_outside_ray_ports() -> int:
    """A free port Ray will not want for itself (it would refuse to start, or wait)."""
    while any((port := free_port()) in ports for ports in RAY_PORTS):
        pass
    return port


@contextmanager
def ray_head() -> Iterator[str]:
    """Start the head on loopback; yields its ``ray://`` address. Every process Ray
    started (they carry the service's marker) is ended afterwards."""
    require_distribution("ray", VERSION)
    port = _free_port_outside_ray_ports()
    # A short folder: Ray's unix sockets live under it (107-byte socket path limit),
    # which rules out pytest's temporary folders.
    tmp = Path(tempfile.mkdtemp(prefix="ray-"))
    argv = [
        Path(sys.executable).with_name("ray"), "start", "--head", "--block",
        "--node-ip-address", LOOPBACK,
        "--port", "0",
        "--ray-client-server-port", str(port),
        "--num-cpus", "1",
        "--include-dashboard", "false",
        "--dashboard-agent-listen-port", str(_free_port_outside_ray_ports()),
        "--disable-usage-stats",
        "--temp-dir", tmp,
    ]  # fmt: skip
    env = {
        "RAY_USAGE_STATS_ENABLED": "0",
        # Under load (2 cores, a busy test run) the per-client server Ray starts can take
        # longer than the proxier's default 30 s wait for its channel.
        "RAY_CLIENT_SERVER_CHECK_CHANNEL_TIMEOUT_S": "120",
    }
    try:
        with started(
            f"ray {VERSION} head",
            argv,
            ready=Tcp(port),
            log_path=tmp / "head.log",
            timeout=START_TIMEOUT,
            env=env,
            drop_env=DROP_ENV,
            stop_timeout=5,
        ):
            yield f"ray://{LOOPBACK}:{port}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
