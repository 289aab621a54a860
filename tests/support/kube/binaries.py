"""Where the real Kubernetes binaries are, and what to do when they are missing.

They are built by ``scripts/build_real_consumers.py`` (``make real-consumers``) into the
user's cache directory. In CI (``CI=true``) a missing or stale binary is a test failure;
elsewhere the test is skipped with the one command that builds it.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]
BUILD_SCRIPT = ROOT / "scripts" / "build_real_consumers.py"


@functools.cache
def build_script() -> ModuleType:
    """``scripts/build_real_consumers.py`` as a module (it is not part of a package)."""
    spec = importlib.util.spec_from_file_location("build_real_consumers", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_real_consumers", module)
    spec.loader.exec_module(module)
    return module


def in_ci() -> bool:
    """True on the CI machine (``.ci/run`` exports ``CI=true``)."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(*names: str) -> dict[str, Path]:
    """Paths of the binaries ``names``; skip (locally) or fail (CI) when one is missing."""
    script = build_script()
    found: dict[str, Path] = {}
    missing: list[str] = []
    for name in names:
        path = script.binary_path(name)
        if path is None:
            missing.append(name)
        else:
            found[name] = path
    if missing:
        message = (
            f"{', '.join(missing)} not built (or stale) in {script.cache_root()}; "
            f"build with: {script.build_command(missing)}"
        )
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found
