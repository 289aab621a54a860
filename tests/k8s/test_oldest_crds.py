"""The custom resources of ``dist/`` against the oldest CRDs we support (issue 19, test 1).

``JC_CRDS_DIR/oldest/`` holds the oldest supported versions of the operators' CRDs
(prometheus-operator v0.71, as in kube-prometheus-stack before 66.7, ...). Each custom
resource of ``dist/`` is applied server-side with strict field validation while those
CRDs are installed: a field the older operator lacks is refused, as on a real user's
first sync. The newest CRDs are restored afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.kube.client import ApiError, KubeClient
from tests.support.kube.fixtures import CRDS_DIR, DIST, ROOT, crd_files, install_crds
from tests.support.kube.sync import key, load_manifests, retarget

pytestmark = pytest.mark.k8s

OLDEST_DIR = CRDS_DIR / "oldest"


def _served_kinds(directory: Path) -> set[tuple[str, str]]:
    """``(apiVersion, kind)`` of every version the CRDs in ``directory`` serve."""
    kinds = set()
    for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else []:
        for crd in yaml.safe_load_all(path.read_text()):
            if crd:
                for version in crd["spec"]["versions"]:
                    kinds.add(
                        (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
                    )
    return kinds


OLDEST_KINDS = _served_kinds(OLDEST_DIR)
CUSTOM_RESOURCES = [o for o in load_manifests(DIST) if (o["apiVersion"], o["kind"]) in OLDEST_KINDS]


def _param(obj: dict[str, Any]) -> Any:
    return pytest.param(obj, id=key(obj))


@pytest.fixture(scope="module")
def oldest_crds(admin: KubeClient, crds: list[str]) -> Iterator[list[str]]:
    """The oldest CRDs replace the newest ones for this module; the newest come back after."""
    installed = install_crds(admin, crd_files(OLDEST_DIR))
    try:
        yield installed
    finally:
        install_crds(admin, crd_files(CRDS_DIR))


def test_some_custom_resources_are_checked_against_the_oldest_crds() -> None:
    if not OLDEST_DIR.is_dir():
        pytest.skip(f"no {OLDEST_DIR}")
    assert CUSTOM_RESOURCES, f"no custom resource of dist/ has a CRD in {OLDEST_DIR}"


@pytest.mark.parametrize("obj", [_param(o) for o in CUSTOM_RESOURCES])
def test_custom_resource_is_accepted_by_the_oldest_crd(
    admin: KubeClient, oldest_crds: list[str], namespace: str, obj: dict[str, Any]
) -> None:
    name = key(obj)
    (moved,) = retarget([obj], namespace)
    try:
        _, warnings = admin.apply(moved)
    except ApiError as error:
        pytest.fail(f"{name} refused by the oldest CRD: {error.message}", pytrace=False)
    assert not warnings, f"{name}: {warnings}"


EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_custom_resources_of_examples_are_accepted_by_the_oldest_crds(
    admin: KubeClient, oldest_crds: list[str], namespace: str, example: Path, tmp_path: Path
) -> None:
    """The same for each app of ``examples/`` (e.g. an ExternalSecret on External Secrets
    v0.16, which ``dist/`` does not render)."""
    env = {**os.environ, "CDK8S_OUTDIR": str(tmp_path / "out")}
    run = subprocess.run(
        [sys.executable, str(example)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-3000:]
    objects = [
        o for o in load_manifests(tmp_path / "out") if (o["apiVersion"], o["kind"]) in OLDEST_KINDS
    ]
    refused = []
    for obj in objects:
        (moved,) = retarget([obj], namespace)
        try:
            _, warnings = admin.apply(moved)
        except ApiError as error:
            refused.append(f"{key(obj)}: {error.message}")
            continue
        assert not warnings, f"{key(obj)}: {warnings}"
    assert not refused, "refused by the oldest CRDs:\n" + "\n".join(refused)
