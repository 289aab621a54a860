"""Test levels, xdist groups and the shared fixtures (see docs/testing.md).

- Every test has one level marker: ``integration`` (real processes: hub, proxy,
  databases, ...), reserved ``k8s``/``argocd``/``consumers``, or else ``unit``, added
  here. A test that asks for a shared service fixture is ``integration`` whatever its
  module says. ``pytest -m unit`` runs the fast level alone.
- With ``pytest -n N --dist loadgroup`` (``make test``), tests that use the shared data
  services run in one worker, tests of the reference app in one worker, and each
  integration module's tests in one worker, so every service starts once per run.
- Fixtures: ``tests/support/fixtures.py``; chart helpers: ``tests/helpers.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# jsii runs the repository's Node.js LTS (node_modules, `make setup`), in this process and
# in every process a test starts; its end-of-life notice is not silenced.
os.environ.setdefault("JSII_NODE", str(ROOT / "node_modules" / ".bin" / "node"))
if not Path(os.environ["JSII_NODE"]).exists():
    del os.environ["JSII_NODE"]
# main.py (the reference platform) is importable by the tests.
sys.path.insert(0, str(ROOT))

# The shared services (tests/support/fixtures.py) and the API-server fixtures (control
# plane, test kubelet, ...; tests/support/kube/fixtures.py), the latter shared by tests/k8s/
# and tests/consumers/.
pytest_plugins = ["tests.support.fixtures", "tests.support.kube.fixtures"]

#: Levels above ``unit``; a test marked with one of them is not ``unit``.
LEVELS = ("integration", "k8s", "argocd", "consumers")
#: Session services shared by many modules (tests/support/fixtures.py): the tests that
#: use them run in one xdist group (one worker), so each starts once per run.
DATA_SERVICES = frozenset({"postgres_server", "s3_server", "mlflow_server"})
#: Built from main.py once per worker: its tests run in one group too.
REFERENCE_APP = frozenset({"reference_dist"})
#: Fixtures that start a server: a test using one is ``integration``.
SERVICE_FIXTURES = DATA_SERVICES | {"ray_head"}


def _group(item: pytest.Item, fixtures: set[str]) -> str | None:
    # One control plane (session fixture of tests/support/kube/fixtures.py) per run: every test
    # against it runs in one worker.
    if item.get_closest_marker("k8s") is not None:
        return "k8s"
    # The ArgoCD tests' cluster (package fixture of tests/argocd/conftest.py): one worker.
    if item.get_closest_marker("argocd") is not None:
        return "argocd"
    # The consumers' tests have a control plane of their own (they install other CRD
    # versions and operators in it): one worker, apart from the k8s tests where possible.
    if item.get_closest_marker("consumers") is not None:
        return "consumers"
    if fixtures & DATA_SERVICES:
        return "data-services"
    if fixtures & REFERENCE_APP:
        return "reference-app"
    if any(item.get_closest_marker(level) for level in ("integration", "consumers")):
        # Module-scoped hubs and stacks then start once, in one worker.
        return item.nodeid.split("::", 1)[0]
    return None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Any:
    _mark(items)
    result = yield
    # In an xdist worker, xdist has now appended "@<group>" to the node id of each grouped
    # test; the scheduler reads it there. Some pytest releases silently defeat that
    # (pytest-xdist issue 1386): then every shared service would start in every worker.
    if os.environ.get("PYTEST_XDIST_WORKER") and config.getvalue("loadgroup"):
        lost = [
            i.nodeid for i in items if i.get_closest_marker("xdist_group") and "@" not in i.nodeid
        ]
        if lost:
            raise pytest.UsageError(
                f"pytest-xdist --dist loadgroup does not group with pytest {pytest.__version__} "
                f"(e.g. {lost[0]}): use the pytest pinned in requirements-dev.txt"
            )
    return result


def _mark(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SERVICE_FIXTURES and item.get_closest_marker("integration") is None:
            item.add_marker(pytest.mark.integration)
        if not any(item.get_closest_marker(level) for level in LEVELS):
            item.add_marker(pytest.mark.unit)
        group = _group(item, fixtures)
        if group is not None and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group))
