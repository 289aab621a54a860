"""The ArgoCD component of the real-consumer build script, and where builds are kept
(no Go build here: these run without the binaries).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.kube.binaries import build_script


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    module = build_script()
    monkeypatch.setattr(module, "go_version", lambda: "go1.99")
    return module


def test_argocd_is_one_pinned_multi_call_binary(script: ModuleType) -> None:
    component = script.COMPONENTS["argocd"]
    assert component.binaries == {"argocd": "github.com/argoproj/argo-cd/v3/cmd"}
    for role in ("argocd-application-controller", "argocd-repo-server"):
        assert script.component_of(role) is component
        assert component.symlinks[role] == "argocd"
    gomod = (script.PINS_DIR / "argocd" / "go.mod").read_text()
    assert f"github.com/argoproj/argo-cd/v3 {script.ARGOCD_VERSION}" in gomod
    # ArgoCD's own go.mod replace lines, copied (it does not build without them).
    assert "k8s.io/api => k8s.io/api v0.34.0" in gomod
    assert "tool github.com/argoproj/argo-cd/v3/cmd" in gomod
    flags = " ".join(component.ldflags)
    assert f"common.version={script.ARGOCD_VERSION.lstrip('v')}" in flags


def _fake_build(script: ModuleType, name: str) -> Path:
    component = script.COMPONENTS[name]
    bin_dir = script.bin_dir(name)
    bin_dir.mkdir(parents=True)
    for binary in component.binaries:
        (bin_dir / binary).write_text("#!/bin/sh\n")
        (bin_dir / binary).chmod(0o755)
    for link, target in component.symlinks.items():
        (bin_dir / link).symlink_to(target)
    (bin_dir.parent / "stamp.json").write_text(json.dumps(script.wanted_stamp(component)))
    return bin_dir


def test_a_role_link_is_found_like_a_binary(script: ModuleType) -> None:
    bin_dir = _fake_build(script, "argocd")
    assert script.binary_path("argocd-repo-server") == bin_dir / "argocd-repo-server"


def test_builds_of_other_inputs_are_kept_apart(
    script: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two checkouts with different pins (two branches) never rebuild each other's
    binaries: each set of inputs has its own folder, and both stay current."""
    first = _fake_build(script, "etcd")
    pins = tmp_path / "pins"
    shutil.copytree(script.PINS_DIR, pins)
    (pins / "etcd" / "go.sum").write_text((pins / "etcd" / "go.sum").read_text() + "\n")
    monkeypatch.setattr(script, "PINS_DIR", pins)
    assert script.bin_dir("etcd") != first
    assert not script.is_current(script.COMPONENTS["etcd"])
    second = _fake_build(script, "etcd")
    assert script.is_current(script.COMPONENTS["etcd"])
    monkeypatch.setattr(script, "PINS_DIR", script.SCRIPT.parent / "real_consumers")
    assert script.bin_dir("etcd") == first and first.is_dir() and second.is_dir()
    assert script.is_current(script.COMPONENTS["etcd"])
