"""Shared pytest set-up. Helpers live in tests/helpers.py; server fixtures in their own modules."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

ROOT = Path(__file__).resolve().parents[1]
# main.py (the reference platform) is importable by the tests.
sys.path.insert(0, str(ROOT))

# The API-server fixtures (control plane, test kubelet, ...), shared by tests/k8s/ and
# tests/consumers/: one control plane and one kubelet per session.
pytest_plugins = ["tests.support.kube.fixtures"]


@pytest.fixture(scope="session")
def reference_manifests() -> list[dict]:
    """Every object of the reference platform (main.py), synthesized in memory once."""
    import main
    from tests.helpers import synth_app

    return synth_app(main.build)
