"""Everything the product renders meets a real kube-apiserver (issue 19, test 1).

``dist/`` (and the output of every app in ``examples/``) is applied the way ArgoCD's
``ServerSideApply=true`` sync applies it: wave by wave, in gitops-engine's kind order,
server-side with strict field validation, after the CRDs of ``JC_CRDS_DIR``. An error
or a warning from the API server fails the test with the server's own message.

Then an in-place upgrade: the ``dist/`` ArgoCD last synced (the previous version on
``main``) followed by this one, in the same namespace and with the same field manager:
anything an in-place sync would hit (immutable fields, a kind that changed, a PVC that
the new version would prune) fails the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support.kube import history
from tests.support.kube.client import KubeClient
from tests.support.kube.fixtures import DIST, ROOT
from tests.support.kube.sync import (
    SyncResult,
    key,
    load_manifests,
    prune_protected,
    pruned,
    rename_namespaces,
    sync,
)

pytestmark = pytest.mark.k8s

EXAMPLES = sorted((ROOT / "examples").glob("*.py")) if (ROOT / "examples").is_dir() else []

#: Warnings the API server gives today, each with the reason it is accepted for now.
#: Anything else is a failure; an entry that no longer occurs is a failure too.
KNOWN_WARNINGS: dict[tuple[str, str], str] = {}


def _unqualified(name: str) -> str:
    """``Kind/namespace/name`` -> ``Kind/name`` (namespaces are renamed per test)."""
    kind, *_, obj_name = name.split("/")
    return f"{kind}/{obj_name}"


def _create_namespaces(admin: KubeClient, names: list[str]) -> None:
    for name in names:
        admin.post("/api/v1/namespaces", {"metadata": {"name": name}})


def _apply(admin: KubeClient, objects: list[dict[str, Any]]) -> tuple[SyncResult, list[str]]:
    moved, external = rename_namespaces(objects, uuid.uuid4().hex[:6])
    _create_namespaces(admin, external)
    return sync(admin, moved), external


def _assert_clean(result: SyncResult, count: int) -> None:
    assert not result.errors, "the API server refused:\n" + result.report()
    assert len(result.applied) == count, result.report()
    seen = {(_unqualified(k), w) for k, ws in result.warnings.items() for w in ws}
    unexpected = sorted(seen - set(KNOWN_WARNINGS))
    assert not unexpected, "the API server warned:\n" + "\n".join(
        f"{k}: {w}" for k, w in unexpected
    )


def test_all_of_dist_is_accepted_wave_by_wave_without_warnings(
    admin: KubeClient, crds: list[str]
) -> None:
    objects = load_manifests(DIST)
    result, _ = _apply(admin, objects)
    _assert_clean(result, len(objects))
    seen = {(_unqualified(k), w) for k, ws in result.warnings.items() for w in ws}
    stale = sorted(set(KNOWN_WARNINGS) - seen)
    assert not stale, f"known warnings no longer given (remove them from KNOWN_WARNINGS): {stale}"
    print(f"\napplied {len(result.applied)} objects of dist/ ({len(crds)} CRDs first)")


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_app_is_accepted(
    admin: KubeClient, crds: list[str], example: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "CDK8S_OUTDIR": str(tmp_path / "out")}
    run = subprocess.run(
        [sys.executable, str(example)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-3000:]
    objects = load_manifests(tmp_path / "out")
    assert objects, f"{example.name} wrote nothing to $CDK8S_OUTDIR"
    result, _ = _apply(admin, objects)
    _assert_clean(result, len(objects))


# ---------------------------------------------------------------------- upgrade


def upgrade_problems(
    admin: KubeClient, old: list[dict[str, Any]], new: list[dict[str, Any]]
) -> str:
    """Sync ``old`` then ``new`` into the same namespaces; describe what an upgrade hits."""
    suffix = uuid.uuid4().hex[:6]
    old_moved, external = rename_namespaces(old, suffix)
    new_moved, external_new = rename_namespaces(new, suffix)
    _create_namespaces(admin, sorted(set(external) | set(external_new)))
    first = sync(admin, old_moved)
    if first.errors:
        return "the previous version itself does not apply:\n" + first.report()
    second = sync(admin, new_moved)
    problems = [f"{k}: {m}" for k, m in second.errors.items()]
    problems += [
        f"{key(o)}: would be pruned by the sync and it holds data (no Prune=false/Delete=false)"
        for o in pruned(old_moved, new_moved)
        if o["kind"] in ("PersistentVolumeClaim", "Namespace") and not prune_protected(o)
    ]
    return "\n".join(problems)


def test_upgrade_in_place_from_the_previous_release(
    admin: KubeClient, crds: list[str], tmp_path: Path
) -> None:
    try:
        rev = history.previous_release(ROOT)
    except history.NoHistory as error:
        pytest.skip(f"no previous release to upgrade from: {error}")
    old = load_manifests(history.export(ROOT, rev, "dist", tmp_path))
    new = load_manifests(DIST)
    problems = upgrade_problems(admin, old, new)
    assert not problems, (
        f"upgrading from {history.subject(ROOT, rev)} to this dist/ fails:\n{problems}"
    )
