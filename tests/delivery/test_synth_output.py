"""What a synth prints, the three ways it is run (issue 17).

``make synth`` (``python main.py``) and ``cdk8s synth`` (the CLI runs ``main.py
--publish dist``) end with the same summary: the folders and object counts, what changed
against git, and each hub's capacity. On failure both print the same one line, and
neither leaves ``dist/`` emptied or partial: the CLI empties only its own scratch folder
(``.dist-cdk8s``), never ``dist/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_constructs.delivery.summary import git_changes, synth_summary

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "node_modules" / ".bin" / "cdk8s"


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _project(tmp_path: Path, *, broken: bool = False) -> Path:
    """A copy of this repository's app (main.py, cdk8s.yaml, the committed dist/)."""
    project = tmp_path / "project"
    project.mkdir(parents=True)
    source = (ROOT / "main.py").read_text(encoding="utf-8")
    if broken:
        assert 'memory_request="16Gi"' in source
        source = source.replace('memory_request="16Gi"', 'memory_request="16 GB"', 1)
    (project / "main.py").write_text(source, encoding="utf-8")
    config = (ROOT / "cdk8s.yaml").read_text(encoding="utf-8")
    config = config.replace("app: .venv/bin/python main.py", f"app: {sys.executable} main.py")
    (project / "cdk8s.yaml").write_text(config, encoding="utf-8")
    shutil.copytree(ROOT / "dist", project / "dist")
    return project


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CDK8S_OUTDIR"}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _direct(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py"],
        cwd=project,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )


def _cli(project: Path) -> subprocess.CompletedProcess[str]:
    if not CLI.exists():
        pytest.skip("the cdk8s CLI is not installed (make setup)")
    return subprocess.run(
        [str(CLI), "synth", "--no-check-upgrade"],
        cwd=project,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _summary_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith(("  - ", "Synthesizing"))]


def test_make_synth_ends_with_the_summary(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = _direct(project)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "synthesized dist/: 2 folders, 55 objects",
        "  dist/argocd/  1 object",
        "  dist/prod/    54 objects",  # with the two Secrets the bootstrap Job fills
    ]
    # Not a git work tree: said plainly instead of a comparison.
    assert lines[3] == "against git: dist/ is not in a git work tree"
    assert lines[4] == "capacity of namespace jupyter (servers of one profile at once):"
    assert lines[5].startswith("  small: ")
    assert "no scratch" not in result.stdout and ".dist-" not in result.stdout


def test_cdk8s_synth_says_the_same(tmp_path: Path) -> None:
    direct = _project(tmp_path / "a")
    cli = _project(tmp_path / "b")
    expected = _direct(direct)
    result = _cli(cli)
    assert result.returncode == 0, result.stderr
    # The CLI swallows the app's stdout: the summary comes on stderr, line for line.
    assert _summary_lines(result.stderr) == expected.stdout.splitlines()
    assert _tree(cli / "dist") == _tree(direct / "dist")


def test_both_fail_with_the_same_line_and_keep_dist(tmp_path: Path) -> None:
    direct = _project(tmp_path / "a", broken=True)
    cli = _project(tmp_path / "b", broken=True)
    before = _tree(cli / "dist")
    failed = _direct(direct)
    assert failed.returncode == 1
    (line,) = failed.stderr.strip().splitlines()
    assert "16 GB" in line and "dist" in line
    result = _cli(cli)
    assert result.returncode != 0
    assert line in result.stderr.splitlines(), result.stderr
    assert _tree(cli / "dist") == before, "cdk8s synth changed dist/ on a failed synth"
    assert _tree(direct / "dist") == before
    assert not [p for p in cli.iterdir() if p.name.startswith(".dist-") and p.name != ".dist-cdk8s"]


def test_the_git_line_counts_what_plan_counts(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "dist" / "prod").mkdir(parents=True)
    config_map = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: jupyter\n"
        "data:\n  a: '{value}'\n"
    )
    (repo / "dist" / "prod" / "ConfigMap.a.k8s.yaml").write_text(
        config_map.format(name="a", value=1)
    )
    (repo / "dist" / "prod" / "PersistentVolumeClaim.data.k8s.yaml").write_text(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n"
        "  namespace: jupyter\n"
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "first"], cwd=repo, check=True)
    assert git_changes(repo / "dist").endswith("at HEAD): no changes")
    (repo / "dist" / "prod" / "ConfigMap.a.k8s.yaml").write_text(
        config_map.format(name="a", value=2)
    )
    (repo / "dist" / "prod" / "ConfigMap.b.k8s.yaml").write_text(
        config_map.format(name="b", value=1)
    )
    assert git_changes(repo / "dist").endswith(
        "at HEAD): 1 to add, 1 to change, 0 to remove (details: make plan)"
    )
    (repo / "dist" / "prod" / "PersistentVolumeClaim.data.k8s.yaml").unlink()
    assert git_changes(repo / "dist").endswith(
        "1 to add, 1 to change, 1 to remove; 1 will NOT apply in place or lose data: run make plan"
    )
    text = synth_summary(repo / "dist", notes=["capacity: n/a"], compare_with_git=False)
    lines = text.splitlines()
    assert lines[0].endswith("dist/: 1 folder, 2 objects")
    assert lines[1].endswith("prod/  2 objects")
    assert lines[2:] == ["capacity: n/a"]
