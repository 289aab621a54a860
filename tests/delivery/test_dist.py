"""dist/ is what a fresh synth gives (ArgoCD deploys it from git); synth is deterministic.

``reference_dist`` is ``main.py`` synthesized once for the whole run (in this process);
the determinism test synthesizes a second time, as ``python main.py`` in a process of
its own, the way ``make synth`` runs it.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _synth(outdir: Path) -> None:
    subprocess.run(
        [sys.executable, "main.py"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "CDK8S_OUTDIR": str(outdir)},
        capture_output=True,
    )


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_committed_dist_matches_a_fresh_synth(reference_dist: Path) -> None:
    fresh, committed = _tree(reference_dist), _tree(ROOT / "dist")
    assert sorted(fresh) == sorted(committed), "files differ: run `make synth` and commit dist/"
    changed = [name for name in fresh if fresh[name] != committed[name]]
    assert changed == [], f"stale files in dist/: {changed}; run `make synth` and commit dist/"


def test_two_synths_are_byte_identical(reference_dist: Path, tmp_path: Path) -> None:
    _synth(tmp_path / "dist")
    comparison = filecmp.dircmp(reference_dist, tmp_path / "dist")
    assert _tree(reference_dist) == _tree(tmp_path / "dist"), comparison.report()
    catalog = Path("catalog") / "jupyterhub.json"
    assert (tmp_path / catalog).read_bytes() == (reference_dist.parent / catalog).read_bytes()


def test_catalog_matches_a_fresh_synth(reference_dist: Path) -> None:
    fresh = (reference_dist.parent / "catalog" / "jupyterhub.json").read_bytes()
    assert fresh == (ROOT / "catalog" / "jupyterhub.json").read_bytes()


def test_bad_input_fails_with_a_clear_error_and_leaves_dist_intact(
    reference_dist: Path, tmp_path: Path
) -> None:
    """main.py with one wrong value: exit 1, the message names path and value, dist/ kept."""
    shutil.copytree(reference_dist, tmp_path / "dist")
    before = _tree(tmp_path / "dist")
    broken = tmp_path / "main.py"
    source = (ROOT / "main.py").read_text()
    assert 'memory_request="16Gi"' in source
    broken.write_text(source.replace('memory_request="16Gi"', 'memory_request="16 GB"', 1))
    result = subprocess.run(
        [sys.executable, str(broken)],
        cwd=tmp_path,
        env={**os.environ, "CDK8S_OUTDIR": str(tmp_path / "dist"), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "invalid memory_request '16 GB'" in result.stderr
    assert "prod/hub/Profile-large" in result.stderr
    assert _tree(tmp_path / "dist") == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dist-")]
