"""jsii's Node.js side: a writable package cache and a supported Node.js (issue 17).

The report: with an unwritable ``$HOME`` (read-only CI runners, some containers) synth
failed at import on jsii's package cache (here it even hung: jsii's default is
``$HOME/.cache/aws/jsii/package-cache``); the project ran Node.js 20, past its end of
life, and silenced jsii's notice about it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_constructs.core import toolchain

ROOT = Path(__file__).resolve().parents[2]
#: A $HOME nobody can create anything under, not even root (procfs).
UNWRITABLE_HOME = "/proc/no-such-home"


def test_an_explicit_cache_is_left_alone(tmp_path: Path) -> None:
    env = {"HOME": UNWRITABLE_HOME, toolchain.CACHE_ENV: str(tmp_path / "mine")}
    assert toolchain.ensure_jsii_package_cache(env) == str(tmp_path / "mine")
    assert env[toolchain.CACHE_ENV] == str(tmp_path / "mine")


def test_a_writable_home_keeps_jsiis_default(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    cache = toolchain.ensure_jsii_package_cache(env)
    assert cache == str(tmp_path / ".cache" / "aws" / "jsii" / "package-cache")
    assert toolchain.CACHE_ENV not in env  # jsii finds it by itself


def test_an_unwritable_home_moves_the_cache(tmp_path: Path) -> None:
    env = {"HOME": UNWRITABLE_HOME, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    assert toolchain.ensure_jsii_package_cache(env) == str(tmp_path / "xdg" / "jsii-package-cache")
    assert env[toolchain.CACHE_ENV] == str(tmp_path / "xdg" / "jsii-package-cache")
    env = {"HOME": UNWRITABLE_HOME}
    cache = toolchain.ensure_jsii_package_cache(env)
    assert cache is not None and Path(cache).name.startswith("jupyter-constructs-jsii-cache-")
    assert Path(cache).is_dir()


def test_synth_with_an_unwritable_home(tmp_path: Path) -> None:
    """``python main.py`` as a read-only CI runner runs it: same output as dist/."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in (toolchain.CACHE_ENV, "XDG_CACHE_HOME", "CDK8S_OUTDIR")
    }
    env.update(
        HOME=UNWRITABLE_HOME, TMPDIR=str(tmp_path / "tmp"), CDK8S_OUTDIR=str(tmp_path / "dist")
    )
    (tmp_path / "tmp").mkdir()
    result = subprocess.run(
        [sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-2000:]
    written = sorted(p.relative_to(tmp_path / "dist") for p in (tmp_path / "dist").rglob("*.yaml"))
    assert written == sorted(p.relative_to(ROOT / "dist") for p in (ROOT / "dist").rglob("*.yaml"))
    caches = list((tmp_path / "tmp").glob("jupyter-constructs-jsii-cache-*"))
    assert caches and any(caches[0].iterdir()), "jsii did not unpack into the fallback cache"


def _major(node: str) -> int:
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    match = re.match(r"v(\d+)\.", version.stdout)
    assert match, version.stdout
    return int(match.group(1))


def test_jsii_runs_a_supported_node_lts() -> None:
    node = toolchain.node_js(ROOT, {})
    if node == "node":
        pytest.skip("node_modules/.bin/node missing: run `make setup` (npm ci)")
    # jsii 1.14x supports ^22 (end of life 2027-04-30) and ^24 (2028-04-30).
    assert _major(node) in (22, 24), node
    package = (ROOT / "package.json").read_text()
    assert re.search(r'"node": "24\.\d+\.\d+"', package), "package.json pins Node.js 24 LTS"


def test_nothing_silences_jsiis_end_of_life_notice() -> None:
    offenders = []
    for path in [
        ROOT / "Makefile",
        ROOT / "main.py",
        *ROOT.glob("tests/**/*.py"),
        *ROOT.glob("benchmarks/*.py"),
    ]:
        text = path.read_text(encoding="utf-8")
        if "JSII_SILENCE_WARNING" + "_END_OF_LIFE_NODE_VERSION" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_synth_prints_no_end_of_life_notice(tmp_path: Path) -> None:
    if toolchain.node_js(ROOT, {}) == "node":
        pytest.skip("node_modules/.bin/node missing: run `make setup` (npm ci)")
    env = {k: v for k, v in os.environ.items() if k != "JSII_NODE"}
    env["CDK8S_OUTDIR"] = str(tmp_path / "dist")
    result = subprocess.run(
        [sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "end-of-life" not in result.stderr + result.stdout
