"""jupyter-server's single-user server (``jupyterhub-singleuser``), spawned by a real hub.

KubeSpawner needs a cluster; with these settings the hub spawns each user's server as a
local process instead, from this virtualenv, so a test can start, use and cull a real
user server.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.support.process import require_distribution

#: jupyter-server, as pinned in requirements-dev.txt.
VERSION = "2.21.1"
START_TIMEOUT = 60


def local_spawner_settings() -> str:
    """Hub settings (appended after the test overrides) that spawn local servers."""
    require_distribution("jupyter-server", VERSION)
    # jupyter-server refuses to run as root unless told to.
    args = ["--ServerApp.allow_root=True"] if os.geteuid() == 0 else []
    return (
        "\n# KubeSpawner needs a cluster: run user servers as local processes instead.\n"
        'c.JupyterHub.spawner_class = "simple"\n'
        f"c.Spawner.args = {args!r}\n"
        f"c.Spawner.start_timeout = {START_TIMEOUT}\n"
    )


def local_spawner_env() -> dict[str, str]:
    """The hub runs ``python3 -m jupyterhub_idle_culler`` and ``jupyterhub-singleuser``:
    this virtualenv's interpreter and scripts come first on PATH, as in the hub image."""
    bin_dir = str(Path(sys.executable).parent)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
