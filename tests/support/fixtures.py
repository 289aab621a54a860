"""The one fixture module: every shared service and the reference app, once per session.

Loaded by ``tests/conftest.py`` (``pytest_plugins``). Tests ask for these fixtures by
name, never for a binary or a port. Session fixtures start at most once per pytest
process (once per xdist worker); ``tests/conftest.py`` sends every test that uses one of
the shared data services to the same worker, so each starts once per run.

| fixture | what | scope |
| --- | --- | --- |
| ``postgres_server`` | PostgreSQL 15 (``tests/support/postgres.py``) | session |
| ``postgres`` | a fresh database on it, dropped afterwards | test |
| ``s3_server`` | moto's S3 API server (``tests/support/s3.py``) | session |
| ``empty_s3`` | the same server, emptied before the test | test |
| ``mlflow_server`` | ``mlflow server`` (``tests/support/mlflow.py``) | session |
| ``ray_head`` | a Ray head, its ``ray://`` address (``tests/support/ray.py``) | module |
| ``promtool`` | path of the pinned promtool (``tests/support/prometheus.py``) | session |
| ``reference_dist`` | ``main.py`` synthesized once, in a temp folder | session |
| ``reference_manifests`` | every object of ``reference_dist`` | session |
| ``snapshot`` | syrupy's, without package source (``tests/support/snapshots.py``) | test |

Hubs and proxies are configured per test module, so they are started by the modules'
own fixtures with ``tests/support/hub.py``. Prometheus servers run only as the pods
prometheus-operator defines (``tests/support/kube/prometheus.py``, marker ``consumers``).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from tests.support import mlflow as mlflow_support
from tests.support import postgres as postgres_support
from tests.support import prometheus as prometheus_support
from tests.support import ray as ray_support
from tests.support import s3 as s3_support
from tests.support.process import LOG_LINES, running_services
from tests.support.snapshots import ReviewableSnapshotExtension


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres_support.PostgresServer]:
    with postgres_support.postgres_server() as server:
        yield server


@pytest.fixture
def postgres(
    postgres_server: postgres_support.PostgresServer,
) -> Iterator[postgres_support.Postgres]:
    database = postgres_server.new_database()
    yield database
    postgres_server.drop_database(database)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[s3_support.S3]:
    with s3_support.moto_s3_server() as server:
        yield server


@pytest.fixture
def empty_s3(s3_server: s3_support.S3) -> s3_support.S3:
    s3_server.reset()
    return s3_server


@pytest.fixture(scope="session")
def mlflow_server() -> Iterator[mlflow_support.Mlflow]:
    with mlflow_support.mlflow_server() as server:
        yield server


@pytest.fixture(scope="module")
def ray_head() -> Iterator[str]:
    # Module scope: an idle Ray head still costs CPU, so it ends with its tests.
    with ray_support.ray_head() as address:
        yield address


@pytest.fixture(scope="session")
def promtool() -> str:
    return prometheus_support.promtool()


@pytest.fixture(scope="session")
def reference_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``dist/`` as ``main.py`` writes it now, in a temporary folder (its catalog beside
    it, as ``main.py`` puts it). Run in this process: ``main.main()`` is what
    ``python main.py`` runs; ``tests/delivery/test_dist.py`` also runs it as a process."""
    import main

    outdir = tmp_path_factory.mktemp("reference") / "dist"
    stderr = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stderr(stderr):
        patch.setenv("CDK8S_OUTDIR", str(outdir))
        try:
            code = main.main([])
        except SystemExit as exit_:
            code = exit_.code
    if code not in (0, None):
        raise AssertionError(f"main.py failed: {stderr.getvalue()}")
    return outdir


@pytest.fixture(scope="session")
def reference_manifests(reference_dist: Path) -> list[dict[str, Any]]:
    """Every object of the reference platform (main.py), from ``reference_dist``."""
    from tests.helpers import load_manifests

    return load_manifests(reference_dist)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failing integration test's report ends with the last lines of the log of every
    service still running in this worker."""
    report = yield
    if report.failed and item.get_closest_marker("integration") is not None:
        for service in running_services():
            report.sections.append(
                (f"{service.name} (last {LOG_LINES} lines of its log)", service.log_tail())
            )
    return report


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """syrupy's snapshot, without package source files (tests/support/snapshots.py)."""
    return snapshot.use_extension(ReviewableSnapshotExtension)
