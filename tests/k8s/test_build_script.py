"""The build script of the real consumers: stamps, clear errors, the registry (no Go build here).

These run without the binaries (no ``k8s`` marker): they check the decisions the script
makes before and after ``go build``, with its cache directory in a temp folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.kube.binaries import build_script


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return build_script()


def _fake_build(script: ModuleType, name: str, **stamp_changes: Any) -> Path:
    """Binaries and a stamp as a finished build leaves them (without building)."""
    component = script.COMPONENTS[name]
    bin_dir = script.bin_dir(name)
    bin_dir.mkdir(parents=True)
    for binary in component.binaries:
        (bin_dir / binary).write_text("#!/bin/sh\n")
        (bin_dir / binary).chmod(0o755)
    stamp = script.wanted_stamp(component, go="go1.99")
    stamp.update(stamp_changes)
    (bin_dir.parent / "stamp.json").write_text(json.dumps(stamp))
    return bin_dir


def test_every_binary_the_tests_use_has_a_component(script: ModuleType) -> None:
    for binary in (
        "kube-apiserver",
        "etcd",
        "kubectl",
        "kube-controller-manager",
        "kube-scheduler",
        "prometheus-operator",
        "prometheus-config-reloader",
        "prometheus-operator-oldest",
        "prometheus-config-reloader-oldest",
        "prometheus",
        "promtool",
        "prometheus-v2",
        "promtool-v2",
    ):
        assert binary in script.component_of(binary).binaries
    for component in script.COMPONENTS.values():
        for pin in ("go.mod", "go.sum"):
            assert (script.PINS_DIR / component.name / pin).is_file(), (component.name, pin)


def test_the_kubernetes_binaries_carry_their_release_version(script: ModuleType) -> None:
    flags = " ".join(script.COMPONENTS["kubernetes"].ldflags)
    assert f"k8s.io/component-base/version.gitVersion={script.KUBERNETES_VERSION}" in flags
    assert "k8s.io/client-go/pkg/version.gitVersion=" in flags
    gomod = (script.PINS_DIR / "kubernetes" / "go.mod").read_text()
    assert f"k8s.io/kubernetes {script.KUBERNETES_VERSION}" in gomod
    assert "k8s.io/api => k8s.io/api v0.34.3" in gomod  # a staging module, replaced


def test_a_build_with_the_same_pins_is_current(
    script: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(script, "go_version", lambda: "go1.99")
    _fake_build(script, "etcd")
    assert script.is_current(script.COMPONENTS["etcd"])
    assert script.binary_path("etcd") == script.bin_dir("etcd") / "etcd"


@pytest.mark.parametrize(
    "change",
    [
        {"procedure_sha256": "0" * 64},
        {"pins_sha256": "0" * 64},
        {"go": "go1.98"},
        {"ldflags": ["-X main.version=other"]},
        {"files": {"crds": "elsewhere"}},
    ],
    ids=["procedure-changed", "pins-changed", "other-go", "ldflags-changed", "files-changed"],
)
def test_a_changed_input_makes_the_binaries_stale(
    script: ModuleType, monkeypatch: pytest.MonkeyPatch, change: dict[str, str]
) -> None:
    monkeypatch.setattr(script, "go_version", lambda: "go1.99")
    _fake_build(script, "etcd", **change)
    assert not script.is_current(script.COMPONENTS["etcd"])
    assert script.binary_path("etcd") is None


def test_checkouts_with_other_inputs_keep_their_own_builds(
    script: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two branches sharing the cache (other pins, another build procedure) each keep
    their build in a folder named by its inputs, instead of rebuilding each other's."""
    monkeypatch.setattr(script, "go_version", lambda: "go1.99")
    mine = _fake_build(script, "etcd")
    monkeypatch.setattr(script, "_procedure_sha256", lambda: "0" * 64)
    assert script.bin_dir("etcd") != mine
    assert script.binary_path("etcd") is None  # the other checkout builds its own
    theirs = _fake_build(script, "etcd")
    assert script.binary_path("etcd") == theirs / "etcd"
    assert mine.parent.parent == theirs.parent.parent == script.cache_root() / "etcd"
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(mine.parents[4]))
    monkeypatch.setattr(script, "go_version", lambda: "go1.99")
    assert script.binary_path("etcd") == mine / "etcd"  # still current, untouched


def test_a_missing_binary_makes_the_component_stale(
    script: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(script, "go_version", lambda: "go1.99")
    bin_dir = _fake_build(script, "kubernetes")
    (bin_dir / "kube-scheduler").unlink()
    assert script.binary_path("kube-apiserver") is None


def test_without_go_the_error_says_what_to_install(
    script: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(script.BuildError, match=r"Go toolchain \(`go`\) is not on PATH"):
        script.build(script.COMPONENTS["etcd"])
    assert script.main(["etcd"]) == 2


def test_without_disk_space_the_error_says_how_much(
    script: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    class Usage:
        free = 2 * 10**9

    monkeypatch.setattr(script, "_go_dirs", lambda go: [tmp_path])
    monkeypatch.setattr(script.shutil, "disk_usage", lambda path: Usage())
    with pytest.raises(script.BuildError, match=r"needs about 6\.0 GB free .* only 2\.0 GB"):
        script._check_disk(script.COMPONENTS["kubernetes"], "go")


def test_binary_names_follow_go_build(script: ModuleType) -> None:
    assert script._default_binary_name("go.etcd.io/etcd/server/v3") == "server"
    assert script._default_binary_name("k8s.io/kubernetes/cmd/kubectl") == "kubectl"


def test_the_skip_message_names_one_command(script: ModuleType) -> None:
    assert script.build_command(["etcd", "kube-apiserver"]) == (
        'make real-consumers COMPONENTS="etcd kubernetes"'
    )


def test_prometheus_module_tags_map_to_their_releases(script: ModuleType) -> None:
    assert script._prometheus_release("v0.316.0") == "v3.16.0"
    assert script._prometheus_release("v0.48.1") == "v2.48.1"
    flags = " ".join(script.COMPONENTS["prometheus"].ldflags)
    assert "github.com/prometheus/common/version.Version=3.16.0" in flags


@pytest.mark.parametrize("name", ["prometheus-operator", "prometheus-operator-oldest"])
def test_the_operator_wrapper_requires_its_own_submodules(script: ModuleType, name: str) -> None:
    """The operator's go.mod replaces its submodules by local paths, which a wrapper
    cannot use: the wrapper requires them at the operator's version instead."""
    module, version = script.COMPONENTS[name].requires[0]
    gomod = (script.PINS_DIR / name / "go.mod").read_text()
    for sub in ("pkg/apis/monitoring", "pkg/client"):
        assert f"{module}/{sub} {version}" in gomod, sub
    assert "=> ./" not in gomod


def test_a_missing_module_file_makes_the_component_stale(
    script: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(script, "go_version", lambda: "go1.99")
    _fake_build(script, "prometheus-operator")
    share = script.share_dir("prometheus-operator")
    for name in script.COMPONENTS["prometheus-operator"].files:
        (share / name).mkdir(parents=True)
    assert script.is_current(script.COMPONENTS["prometheus-operator"])
    (share / "crds").rmdir()
    assert script.binary_path("prometheus-operator") is None
