"""A failed synth prints one line naming dist/ and the exception type, as users run it.

The reference app (main.py) is run in a scratch project three ways: ``python main.py``
(what ``make synth`` runs), ``make synth``, and ``npx cdk8s synth`` (the cdk8s CLI, which
empties its own output folder first and answers a failing app with its own error and a
Node.js stack unless the app stops it). Each exits non-zero, prints the one line (the CLI
also its usual "Synthesizing application" progress line on stdout), and leaves ``dist/``
byte for byte as it was. The failure is the issue's first example: a domain read from a
file with its trailing newline.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINE = (
    "synth failed, dist/ left unchanged: ConfigurationError: ServiceCatalogEntry: invalid url "
    "'https://jupyter.example.com\\n/'."
)

pytestmark = pytest.mark.integration


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the reference app whose environment has a domain with a newline."""
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            f"""
            import sys
            sys.path.insert(0, {str(ROOT)!r})
            import main
            from jupyter_constructs.delivery.synth import Environment
            main.ENVIRONMENTS = (
                Environment("prod", cluster="in-cluster",
                            values={{"domain": "jupyter.example.com\\n"}}),
            )
            sys.exit(main.main(sys.argv[1:]))
            """
        )
    )
    (tmp_path / "cdk8s.yaml").write_text(
        f"language: python\napp: {sys.executable} app.py --publish dist\noutput: .dist-cdk8s\n"
    )
    (tmp_path / "Makefile").write_text(f"synth:\n\t@CDK8S_OUTDIR=dist {sys.executable} app.py\n")
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    dist = tmp_path / "dist" / "prod"
    dist.mkdir(parents=True)
    (dist / "Namespace.jupyter.k8s.yaml").write_text("kept: true\n")
    return tmp_path


def _run(
    project: Path, *command: str, outdir: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)  # main.py picks the project's Node.js (core.toolchain)
    env.pop("CDK8S_OUTDIR", None)
    if outdir is not None:
        env["CDK8S_OUTDIR"] = outdir
    return subprocess.run(
        list(command), cwd=project, env=env, capture_output=True, text=True, timeout=300
    )


def _dist(project: Path) -> dict[str, str]:
    return {
        str(p.relative_to(project)): p.read_text()
        for p in sorted((project / "dist").rglob("*"))
        if p.is_file()
    }


def test_python_main_prints_one_line(project: Path) -> None:
    before = _dist(project)
    result = _run(project, sys.executable, "app.py", outdir="dist")  # as make synth runs it
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(LINE), result.stderr
    assert _dist(project) == before


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_synth_prints_one_line_and_makes_own_status(project: Path) -> None:
    before = _dist(project)
    result = _run(project, "make", "--no-print-directory", "synth")
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    # The app's line, then make's own "make: *** [Makefile:2: synth] Error 1".
    assert lines[0].startswith(LINE) and len(lines) == 2
    assert re.match(r"make(\[[0-9]+\])?: \*\*\* ", lines[1]), lines[1]
    assert _dist(project) == before


def test_cdk8s_cli_prints_one_line_and_no_stack(project: Path) -> None:
    before = _dist(project)
    result = _run(project, "npx", "--no-install", "cdk8s", "synth", "--no-check-upgrade")
    assert result.returncode != 0
    assert result.stdout == "Synthesizing application\n"
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(LINE), result.stderr
    assert "Error: command" not in result.stderr and "    at " not in result.stderr
    assert _dist(project) == before
