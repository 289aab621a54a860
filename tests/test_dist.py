"""dist/ is what a fresh synth gives (ArgoCD deploys it from git); synth is deterministic."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _synth(outdir: Path) -> None:
    subprocess.run(
        [sys.executable, "main.py"],
        cwd=ROOT,
        check=True,
        env={**__import__("os").environ, "CDK8S_OUTDIR": str(outdir)},
        capture_output=True,
    )


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_committed_dist_matches_a_fresh_synth(tmp_path):
    _synth(tmp_path / "dist")
    fresh, committed = _tree(tmp_path / "dist"), _tree(ROOT / "dist")
    assert sorted(fresh) == sorted(committed), "files differ: run `make synth` and commit dist/"
    changed = [name for name in fresh if fresh[name] != committed[name]]
    assert changed == [], f"stale files in dist/: {changed}; run `make synth` and commit dist/"


def test_two_synths_are_byte_identical(tmp_path):
    _synth(tmp_path / "a")
    _synth(tmp_path / "b")
    comparison = filecmp.dircmp(tmp_path / "a", tmp_path / "b")
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b"), comparison.report()
