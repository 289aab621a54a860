"""``plan``: object-by-object differences and the changes that will not apply in place.

Every flagged kind has a case in ``tests/support/plan_cases.py``; the real API server
judges the same cases in ``tests/k8s/test_plan_judge.py``. The command line runs against
a git repository made for the test, as CI would run it on a pull request.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from jupyter_constructs import SlugScheme, UserStorage
from jupyter_constructs.delivery.plan import (
    ObjectKey,
    format_plan,
    load_output,
    make_plan,
)
from tests.support.plan_cases import CASE_IDS, CASES, REMOVALS, Case, in_namespace

ROOT = Path(__file__).resolve().parents[2]


def _outputs(tmp: Path, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> tuple[Path, Path]:
    for side, objects in (("old", old), ("new", new)):
        folder = tmp / side / "prod"
        folder.mkdir(parents=True)
        for obj in objects:
            path = folder / f"{obj['kind']}.{obj['metadata']['name']}.k8s.yaml"
            path.write_text(yaml.safe_dump(obj), encoding="utf-8")
    return tmp / "old", tmp / "new"


def _plan(tmp: Path, old: list[dict[str, Any]], new: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    old_dir, new_dir = _outputs(tmp, old, new)
    return make_plan(load_output(old_dir), load_output(new_dir))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_each_flagged_kind(case: Case, tmp_path: Path) -> None:
    plan = _plan(tmp_path, [in_namespace(case.old, "jupyter")], [in_namespace(case.new, "jupyter")])
    (change,) = plan.changes
    assert change.action == "changed"
    severities = [f.severity for f in change.findings]
    if case.severity is None:
        assert severities == [], change.findings
        assert not plan.dangerous
        return
    assert case.severity in severities, change.findings
    finding = next(f for f in change.findings if f.severity == case.severity)
    if case.field is not None:
        assert finding.field == case.field
    assert bool(plan.dangerous) == (case.severity == "refused")


@pytest.mark.parametrize(("name", "obj", "severity"), REMOVALS, ids=[r[0] for r in REMOVALS])
def test_removals(name: str, obj: dict[str, Any], severity: str | None, tmp_path: Path) -> None:
    plan = _plan(tmp_path, [in_namespace(obj, "jupyter")], [])
    (change,) = plan.changes
    assert change.action == "removed"
    assert [f.severity for f in change.findings] == ([severity] if severity else [])


def test_a_renamed_claim_is_a_removal_and_an_addition(tmp_path: Path) -> None:
    old = in_namespace(CASES[0].old, "jupyter")
    claim = next(c.old for c in CASES if c.old["kind"] == "PersistentVolumeClaim")
    renamed = {**claim, "metadata": {"name": "team-data"}}
    plan = _plan(
        tmp_path, [old, in_namespace(claim, "jupyter")], [old, in_namespace(renamed, "jupyter")]
    )
    assert [(c.action, c.key.name) for c in plan.changes] == [
        ("removed", "data"),
        ("added", "team-data"),
    ]
    assert plan.dangerous == [plan.changes[0]]


def test_json_in_a_config_map_is_compared_field_by_field(tmp_path: Path) -> None:
    old = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "hub-config"}}
    new = dict(old)
    old = {**old, "data": {"hub_config.json": '{"traits": {"KubeSpawner": {"image": "a:1"}}}'}}
    new = {**new, "data": {"hub_config.json": '{"traits": {"KubeSpawner": {"image": "a:2"}}}'}}
    (change,) = _plan(tmp_path, [old], [new]).changes
    assert change.fields == (("data.hub_config.json > traits.KubeSpawner.image", "a:1", "a:2"),)


def test_an_api_version_change_is_the_same_object(tmp_path: Path) -> None:
    old = {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h"},
    }
    new = {**old, "apiVersion": "autoscaling/v2"}
    (change,) = _plan(tmp_path, [old], [new]).changes
    assert change.action == "changed"
    assert change.key == ObjectKey("prod", "autoscaling", "HorizontalPodAutoscaler", "", "h")


def test_the_text_names_objects_fields_and_dangers(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.id == "deployment-selector")
    plan = _plan(tmp_path, [in_namespace(case.old, "jupyter")], [in_namespace(case.new, "jupyter")])
    text = format_plan(plan, old_label="dist/ at HEAD", new_label="a fresh synth")
    assert text.splitlines()[:3] == [
        "plan: dist/ at HEAD -> a fresh synth",
        "  prod/",
        "    ~ Deployment jupyter/deployment",
    ]
    assert "spec.selector.matchLabels.tier: (added) 'edge'" in text
    assert "!! refused spec.selector: Deployment spec.selector is immutable" in text
    assert text.rstrip().endswith(
        "0 to add, 1 to change, 0 to remove; 1 DANGEROUS (will not apply in place or lose data)"
    )


def test_identical_outputs_have_no_changes(tmp_path: Path) -> None:
    plan = _plan(tmp_path, [CASES[0].old], [CASES[0].old])
    assert plan.changes == ()
    assert format_plan(plan, old_label="a", new_label="b").endswith("no changes\n")


# -- the command line, in a git repository --------------------------------------------


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


APP = """
import os, pathlib, sys, yaml
out = pathlib.Path(os.environ["CDK8S_OUTDIR"]) / "prod"
out.mkdir(parents=True)
labels = {"app": "web", **({"tier": "edge"} if os.environ.get("SELECTOR") else {})}
image = os.environ.get("IMAGE", "registry.k8s.io/pause:3.10.1")
deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "jupyter"},
    "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels},
        "spec": {"containers": [{"name": "web", "image": image}]}}}}
(out / "Deployment.web.k8s.yaml").write_text(yaml.safe_dump(deployment))
if os.environ.get("FAIL"):
    sys.exit("synth failed: boom")
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text(APP, encoding="utf-8")
    subprocess.run(
        [sys.executable, "app.py"],
        cwd=repo,
        env={**os.environ, "CDK8S_OUTDIR": str(repo / "dist")},
        check=True,
    )
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    return repo


def _run(repo: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_constructs",
            "plan",
            "--app",
            f"{sys.executable} app.py",
            *args,
        ],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
    )


def test_cli_exit_0_for_a_safe_change(repo: Path) -> None:
    result = _run(repo, IMAGE="registry.k8s.io/pause:3.10")
    assert result.returncode == 0, result.stderr
    assert (
        "spec.template.spec.containers[0].image: 'registry.k8s.io/pause:3.10.1' -> "
        in result.stdout
    )
    assert result.stdout.splitlines()[0].startswith("plan: dist/ at HEAD -> a fresh synth")


def test_cli_exit_2_for_a_dangerous_change(repo: Path) -> None:
    result = _run(repo, SELECTOR="1")
    assert result.returncode == 2, result.stderr
    assert "DANGEROUS" in result.stdout


def test_cli_against_another_ref_and_folders(repo: Path, tmp_path: Path) -> None:
    assert _run(repo, "--ref", "main").returncode == 0
    other = tmp_path / "other"
    subprocess.run(
        [sys.executable, "app.py"],
        cwd=repo,
        env={**os.environ, "CDK8S_OUTDIR": str(other), "SELECTOR": "1"},
        check=True,
    )
    result = _run(repo, "--old", str(repo / "dist"), "--new", str(other))
    assert result.returncode == 2
    assert result.stdout.splitlines()[0] == f"plan: {repo / 'dist'} -> {other}"


def test_cli_exit_1_with_one_line_when_it_cannot_plan(repo: Path) -> None:
    failed = _run(repo, FAIL="1")
    assert failed.returncode == 1
    assert len(failed.stderr.strip().splitlines()) == 1
    assert "plan: invalid app" in failed.stderr and "synth failed: boom" in failed.stderr
    bad_ref = _run(repo, "--ref", "no-such-branch")
    assert bad_ref.returncode == 1
    assert "no-such-branch" in bad_ref.stderr


def test_cli_on_a_ref_without_the_folder_plans_a_first_deployment(repo: Path) -> None:
    _git(repo, "rm", "-q", "-r", "dist")
    _git(repo, "commit", "-q", "-m", "no dist")
    result = _run(repo)
    assert result.returncode == 0
    assert "+ Deployment jupyter/web" in result.stdout


# -- the homes KubeSpawner makes (not in git): judged from the rendered hub config ---------


def _hub_objects(**hub_options: Any) -> list[dict[str, Any]]:
    from tests.helpers import make_hub, synth

    chart, _ = make_hub(**hub_options)
    return synth(chart)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"user_storage": UserStorage.dynamic(delete_pvc=True)}, "KubeSpawner.delete_pvc"),
        ({"user_storage": UserStorage.none()}, "KubeSpawner.volumes"),
        (
            {"user_storage": UserStorage.dynamic(pvc_name_template="home-{username}")},
            "KubeSpawner.pvc_name_template",
        ),
        (
            {"user_storage": UserStorage.dynamic(slug_scheme=SlugScheme.ESCAPE)},
            "KubeSpawner.slug_scheme",
        ),
    ],
)
def test_a_change_that_loses_or_hides_homes_is_dangerous(change, field, tmp_path: Path) -> None:
    """A hostile review found these exited 0: homes are KubeSpawner's, not in git."""
    plan = _plan(tmp_path, _hub_objects(), _hub_objects(**change))
    assert [f.field for c in plan.dangerous for f in c.findings] == [field]


def test_a_safe_hub_change_is_not_dangerous(tmp_path: Path) -> None:
    plan = _plan(tmp_path, _hub_objects(), _hub_objects(start_timeout=600))
    assert plan.changes and not plan.dangerous


def _notes(plan) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.field for c in plan.changes for f in c.findings if f.severity == "note"]


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"user_storage": UserStorage.dynamic(size="20Gi")}, ["KubeSpawner.storage_capacity"]),
        (
            {"user_storage": UserStorage.dynamic(storage_class="fast-ssd")},
            ["KubeSpawner.storage_class"],
        ),
    ],
)
def test_a_home_setting_existing_homes_do_not_get_is_noted(change, fields, tmp_path: Path) -> None:
    """Found by the simulated month (issue 21): raising the home size or changing its
    class planned as a plain config change, while every existing user keeps the old claim
    (KubeSpawner never changes a claim it made; tests/k8s/test_month.py)."""
    plan = _plan(tmp_path, _hub_objects(), _hub_objects(**change))
    assert _notes(plan) == fields and not plan.dangerous


def test_a_profile_leaving_the_list_is_noted(tmp_path: Path) -> None:
    """Found by the simulated month (issue 21): a renamed profile slug strands its running
    servers outside the profile's NetworkPolicies and breaks a restart that reuses the
    user's last choice (tests/k8s/test_month.py)."""
    from tests.helpers import make_hub, synth

    def objects(slug: str) -> list[dict[str, Any]]:
        chart, hub = make_hub()
        hub.add_profile(slug, display_name="Medium")
        return synth(chart)

    plan = _plan(tmp_path, objects("medium"), objects("standard"))
    (finding,) = [f for c in plan.changes for f in c.findings]
    assert (finding.severity, finding.field) == ("note", "KubeSpawner.profile_list")
    assert "medium" in finding.message and "No such profile" in finding.message
    assert not _notes(_plan(tmp_path / "same", objects("medium"), objects("medium")))


def test_turning_on_culling_users_is_noted(tmp_path: Path) -> None:
    """Found by the simulated month (issue 21): ``IdleCuller(cull_users=True)`` planned as
    a plain config change; it deletes idle users, and their API tokens with them (their
    homes stay; tests/k8s/test_month.py)."""
    from jupyter_constructs import IdleCuller

    plan = _plan(tmp_path, _hub_objects(), _hub_objects(idle_culler=IdleCuller(cull_users=True)))
    assert _notes(plan) == ["JupyterHub.services.idle-culler"] and not plan.dangerous
    back = _plan(
        tmp_path / "back", _hub_objects(idle_culler=IdleCuller(cull_users=True)), _hub_objects()
    )
    assert not _notes(back)
