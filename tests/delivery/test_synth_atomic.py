"""synthesize(): all-or-nothing replacement of dist/, the layout, Environment."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cdk8s
import jsii
import pytest
import yaml
from cdk8s_plus_27 import k8s
from constructs import Construct, IValidation

from jupyter_constructs.core.errors import ConfigurationError
from jupyter_constructs.delivery.synth import ARGOCD_FOLDER, Environment, main, synthesize

REPO = "https://github.com/example/platform.git"
ENVIRONMENTS = (
    Environment("staging", cluster="staging", destination_server="https://staging.example.com"),
    Environment("prod", cluster="in-cluster", values={"greeting": "hello"}),
)


def build(app: cdk8s.App) -> None:
    argocd = cdk8s.Chart(app, ARGOCD_FOLDER)
    for env in ENVIRONMENTS:
        chart = env.chart(app, namespace="jupyter")
        k8s.KubeConfigMap(chart, "settings", data={"env": env.name, **env.values})
        env.add_application(argocd, repo_url=REPO, destination_namespace="jupyter")


def build_other(app: cdk8s.App) -> None:
    chart = cdk8s.Chart(app, "prod", namespace="jupyter")
    k8s.KubeConfigMap(chart, "other", data={"changed": "yes"})


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def leftovers(parent: Path, name: str = "dist") -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}-"))


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    out = synthesize(build, outdir=tmp_path / "dist")
    # Something a synth would never write: must survive a failed synth untouched.
    (out / "prod" / "hand-made.txt").write_bytes(b"keep me\n")
    return out


def _fails_in_build(app: cdk8s.App) -> None:
    build(app)
    raise RuntimeError("boom in build")


@jsii.implements(IValidation)
class _AlwaysInvalid:
    def validate(self) -> list[str]:
        return ["always invalid"]


class _Invalid(Construct):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.node.add_validation(_AlwaysInvalid())


def _fails_in_synth(app: cdk8s.App) -> None:
    build(app)
    _Invalid(cdk8s.Chart(app, "broken"), "thing")


def _nested_chart(app: cdk8s.App) -> None:
    build(app)
    prod = app.node.find_child("prod")
    k8s.KubeConfigMap(cdk8s.Chart(prod, "monitoring"), "dashboards")


@pytest.mark.parametrize(
    ("failing_build", "error", "message"),
    [
        (_fails_in_build, RuntimeError, "boom in build"),
        (_fails_in_synth, ConfigurationError, "^broken/thing: always invalid$"),
        (_nested_chart, ConfigurationError, "invalid chart folders"),
    ],
    ids=["build-raises", "validation-fails", "unstable-folder-names"],
)
def test_failing_synth_leaves_dist_byte_identical(
    dist: Path,
    failing_build: Callable[[cdk8s.App], None],
    error: type[Exception],
    message: str,
) -> None:
    before = tree(dist)
    mode = dist.stat().st_mode
    with pytest.raises(error, match=message):
        synthesize(failing_build, outdir=dist)
    assert tree(dist) == before
    assert dist.stat().st_mode == mode
    assert leftovers(dist.parent) == []


def test_failing_first_synth_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="boom in build"):
        synthesize(_fails_in_build, outdir=tmp_path / "dist")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_success_replaces_stale_files(dist: Path) -> None:
    (dist / "gone").mkdir()
    (dist / "gone" / "ConfigMap.old.k8s.yaml").write_text("stale\n")
    synthesize(build_other, outdir=dist)
    assert sorted(tree(dist)) == ["prod/ConfigMap.prod-other-c8743c25.k8s.yaml"]
    assert leftovers(dist.parent) == []


def test_two_synths_are_byte_identical(tmp_path: Path) -> None:
    first = tree(synthesize(build, outdir=tmp_path / "a" / "dist"))
    second = tree(synthesize(build, outdir=tmp_path / "b" / "dist"))
    assert first == second
    assert len(first) == 4


def test_layout_one_folder_per_environment_and_one_for_the_applications(dist: Path) -> None:
    files = sorted(f for f in tree(dist) if f != "prod/hand-made.txt")
    assert files == [
        "argocd/Application.jupyterhub-prod.k8s.yaml",
        "argocd/Application.jupyterhub-staging.k8s.yaml",
        "prod/ConfigMap.prod-settings-c8853afa.k8s.yaml",
        "staging/ConfigMap.staging-settings-c810a523.k8s.yaml",
    ]
    staging = yaml.safe_load((dist / files[1]).read_text())
    assert staging["spec"]["source"]["path"] == "dist/staging"
    assert staging["spec"]["destination"]["server"] == "https://staging.example.com"
    prod = yaml.safe_load((dist / files[0]).read_text())
    assert prod["spec"]["source"]["path"] == "dist/prod"
    # No Application deploys the folder the Applications live in.
    assert ARGOCD_FOLDER not in {Path(prod["spec"]["source"]["path"]).name}
    settings = yaml.safe_load((dist / files[2]).read_text())
    assert settings["data"] == {"env": "prod", "greeting": "hello"}


def test_main_prints_one_line_and_exits_1(dist: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = tree(dist)
    with pytest.raises(SystemExit) as exited:
        main(_fails_in_synth, outdir=dist)
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    line = "synth failed, {}/ left unchanged: ConfigurationError: broken/thing: always invalid\n"
    assert err == line.format(dist)
    assert tree(dist) == before


def test_main_exits_0_on_success(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(build, outdir=tmp_path / "dist")
    assert exited.value.code == 0
    assert (tmp_path / "dist" / "prod").is_dir()


def test_main_in_a_real_process_reads_cdk8s_outdir(tmp_path: Path) -> None:
    """What `python main.py` does: CDK8S_OUTDIR (set by the cdk8s CLI) picks the folder."""
    script = tmp_path / "main.py"
    script.write_text(
        textwrap.dedent(
            """
            import cdk8s
            from cdk8s_plus_27 import k8s
            from jupyter_constructs.delivery.synth import main

            def build(app):
                k8s.KubeConfigMap(cdk8s.Chart(app, "prod"), "cm")
                raise ValueError("bad\\nvalue")

            main(build)
            """
        )
    )
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.yaml").write_text("kept\n")
    env = {"CDK8S_OUTDIR": "out"}
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr == "synth failed, out/ left unchanged: ValueError: bad value\n"
    assert (tmp_path / "out" / "keep.yaml").read_text() == "kept\n"
    assert leftovers(tmp_path, "out") == []


# --- Environment ------------------------------------------------------------------------


def test_environment_defaults_and_read_only_values() -> None:
    env = Environment("prod", cluster="main")
    assert env.destination_server == "https://kubernetes.default.svc"
    assert dict(env.values) == {}
    assert env.path() == "dist/prod"
    assert env.path("out/") == "out/prod"
    values: dict[str, Any] = {"domain": "a.example.com"}
    env = Environment("prod", cluster="main", values=values)
    values["domain"] = "changed.example.com"
    assert env.values["domain"] == "a.example.com"
    with pytest.raises(TypeError):
        env.values["domain"] = "x"  # type: ignore[index]


def test_fails_when_environment_name_is_not_a_dns_label() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Environment("Prod", cluster="main")
    assert str(caught.value) == (
        "Environment: invalid environment name 'Prod'. Allowed: a DNS-1123 label: 1-63 "
        "lowercase letters, digits and '-', starting and ending with a letter or digit. "
        "Fix: use a short name like 'prod' or 'staging'"
    )


def test_fails_when_environment_is_named_like_the_applications_folder() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Environment("argocd", cluster="main")
    assert str(caught.value) == (
        "Environment: invalid environment name 'argocd'. Allowed: any DNS label except "
        "'argocd', the Applications' own folder. Fix: rename the environment, e.g. 'ops'"
    )


def test_fails_when_environment_server_is_not_https() -> None:
    with pytest.raises(ConfigurationError, match="invalid destination_server 'http://x:6443'"):
        Environment("prod", cluster="main", destination_server="http://x:6443")


def test_fails_when_outdir_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "dist").write_text("not a folder\n")
    with pytest.raises(ConfigurationError, match="invalid outdir"):
        synthesize(build, outdir=tmp_path / "dist")
    assert (tmp_path / "dist").read_text() == "not a folder\n"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("character", ["\x7f", "\x85", "\x9f", "\u2028", "\u2029", "\ufffe"])
def test_refuses_text_yaml_cannot_carry(dist: Path, character: str) -> None:
    """A value the library passes through unchecked still cannot break the manifests:
    cdk8s writes these characters unescaped, and kubectl and ArgoCD (go-yaml) refuse the
    file ("control characters are not allowed") or read another value. Found by the
    property test against the real API server (issue 23): an ExtraFile holding DEL."""
    before = tree(dist)

    def broken(app: cdk8s.App) -> None:
        chart = cdk8s.Chart(app, "prod", namespace="jupyter")
        k8s.KubeConfigMap(chart, "notes", data={"notes.txt": f"line one{character}line two"})

    with pytest.raises(ConfigurationError) as caught:
        synthesize(broken, outdir=dist)
    message = str(caught.value)
    assert message.startswith("prod/notes: invalid ConfigMap ")
    assert ".data.notes.txt" in message
    assert f"U+{ord(character):04X}" in message and "Fix: remove the character" in message
    assert tree(dist) == before
    assert leftovers(dist.parent) == []


def test_text_yaml_carries_is_written_as_given(tmp_path: Path) -> None:
    """Tabs, NUL, other control characters, non-breaking spaces and emoji are escaped or
    valid YAML: kept, and read back as given."""
    text = "tab\there\x00nul\x01soh\u00a0nbsp\u00e9\U0001f600\ufeff"

    def build_text(app: cdk8s.App) -> None:
        chart = cdk8s.Chart(app, "prod", namespace="jupyter")
        k8s.KubeConfigMap(chart, "notes", data={"notes.txt": text})

    out = synthesize(build_text, outdir=tmp_path / "dist")
    (written,) = (out / "prod").glob("ConfigMap.*.yaml")
    assert yaml.safe_load(written.read_text(encoding="utf-8"))["data"]["notes.txt"] == text
