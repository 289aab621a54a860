"""The deployment guide's first sync, followed literally (issue 20, test 5).

The test reads ``docs/DEPLOYMENT_GUIDE.md`` and does what it says, in its order, with the
real ``kubectl`` (v1.34.3) against the test cluster where ArgoCD runs:

- the namespace variable of its introduction (``export NS=...``);
- every shell command of the first-sync procedure: the section whose heading contains
  "first sync" if the guide has one, else the sections that hold the procedure today
  ("Secrets you create", then "ArgoCD"); a command reading a secret value from stdin gets
  a test value there, as the operator pastes it;
- an ``AppProject`` given as YAML in those sections, or else the one its prose asks for
  ("must allow the destination namespace and the cluster-scoped Namespace kind"), created
  before the Applications;

and then waits for every Application to be Synced and Healthy. Only two things differ
from a real operator's run, both forced by the test machine: the Applications' git URL
points at a local copy of this checkout's ``dist/`` (ArgoCD cannot reach GitHub here),
and ArgoCD, its CRDs and the cluster's controllers are already installed (the guide's
prerequisites).

With today's guide the first command fails: the credential Secrets are to be created in
the hub's namespace before the first sync, and the first sync is what creates it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.argocd.conftest import DIST, ROOT, Cluster
from tests.argocd.test_first_sync import FIRST_SYNC_BOUND
from tests.support.argocd import (
    PROJECTS,
    GitRepo,
    documented_project,
    dump_all,
    is_application,
    load_output,
)
from tests.support.kube import binaries
from tests.support.kube.client import ApiError

pytestmark = pytest.mark.argocd

#: The guide followed: the checkout's, or another version of it (``JC_ARGOCD_GUIDE``, e.g.
#: a branch's guide with that branch's output in ``JC_ARGOCD_DIST``).
GUIDE = Path(os.environ.get("JC_ARGOCD_GUIDE") or ROOT / "docs" / "DEPLOYMENT_GUIDE.md")
#: Where the procedure is today, in the order the guide gives it.
TODAYS_SECTIONS = ("Secrets you create", "ArgoCD")


class ProcedureStepFailed(AssertionError):
    """A command of the guide's procedure failed as written."""


@dataclass(frozen=True)
class Block:
    section: str
    language: str
    text: str


def _sections(markdown: str) -> list[tuple[int, str, str]]:
    """``(level, heading, body)`` of every heading, the body up to the next heading
    (lines in code blocks are never headings: ``# a comment`` in a shell block)."""
    sections: list[tuple[int, str, list[str]]] = [(0, "", [])]
    fenced = False
    for line in markdown.splitlines(keepends=True):
        if line.startswith("```"):
            fenced = not fenced
        heading = None if fenced else re.match(r"(#{1,6}) (.+)$", line)
        if heading:
            sections.append((len(heading.group(1)), heading.group(2).strip(), []))
        else:
            sections[-1][2].append(line)
    return [(level, title, "".join(body)) for level, title, body in sections[1:]]


def procedure(markdown: str) -> list[Block]:
    """The code blocks of the first-sync procedure, in the guide's order."""
    sections = _sections(markdown)
    wanted: list[tuple[str, str]] = []
    first_sync = [i for i, (_, title, _) in enumerate(sections) if "first sync" in title.lower()]
    if first_sync:
        start = first_sync[0]
        level = sections[start][0]
        for lvl, title, body in sections[start:]:
            if lvl <= level and title != sections[start][1]:
                break
            wanted.append((title, body))
    else:
        by_title = {title: body for _, title, body in sections}
        missing = [t for t in TODAYS_SECTIONS if t not in by_title]
        assert not missing, f"the guide has no section {missing}: update TODAYS_SECTIONS"
        wanted = [(t, by_title[t]) for t in TODAYS_SECTIONS]
    blocks = []
    for title, body in wanted:
        for language, text in re.findall(r"^```(\w*)\n(.*?)^```", body, flags=re.M | re.S):
            blocks.append(Block(title, language, text))
    return blocks


def commands(block: Block) -> list[str]:
    """The commands of a shell block (comments dropped, continuation lines joined)."""
    joined = re.sub(r"\\\n\s*", " ", block.text)
    return [
        line.strip()
        for line in joined.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def namespace_variable(markdown: str) -> dict[str, str]:
    match = re.search(r"`export (\w+)=([\w-]+)`", markdown)
    assert match, "the guide no longer says `export NS=...`"
    return {match.group(1): match.group(2)}


@pytest.fixture
def checkout(cluster: Cluster, tmp_path: Path) -> Iterator[tuple[Path, GitRepo]]:
    """A working copy of this checkout's ``dist/`` whose Applications point at a git
    repository holding the same ``dist/``; everything the procedure made is removed."""
    repo = GitRepo.create(tmp_path / "repo")
    files = {
        f"dist/{relative}": dump_all(objects) for relative, objects in load_output(DIST).items()
    }
    repo.commit(files, "dist/ of this checkout")
    work = tmp_path / "work"
    shutil.copytree(DIST, work / "dist")
    applications: list[dict] = []  # type: ignore[type-arg]
    for path in sorted((work / "dist").rglob("*.yaml")):
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
        if any(is_application(d) for d in docs):
            for doc in docs:
                if is_application(doc):
                    doc["spec"]["source"]["repoURL"] = repo.url
                    applications.append(doc)
            path.write_text(dump_all(docs))
    yield work, repo
    for app in applications:
        cluster.argocd.forget(app["metadata"]["name"])
        with contextlib.suppress(ApiError):
            cluster.admin.delete(f"{PROJECTS}/{app['spec'].get('project', 'default')}")
        with contextlib.suppress(ApiError):
            cluster.admin.delete(f"/api/v1/namespaces/{app['spec']['destination']['namespace']}")


def test_the_guides_first_sync_works_as_written(
    cluster: Cluster, checkout: tuple[Path, GitRepo]
) -> None:
    work, repo = checkout
    kubectl = binaries.require("kubectl")["kubectl"]
    markdown = GUIDE.read_text()
    kubeconfig = cluster.admin.kubeconfig(work / "kubeconfig")
    guide_variables = namespace_variable(markdown)
    env = {
        "PATH": f"{kubectl.parent}:/usr/bin:/bin",
        "HOME": str(work),
        "KUBECONFIG": str(kubeconfig),
        **guide_variables,
    }
    blocks = procedure(markdown)
    assert any(b.language in ("sh", "bash", "shell") for b in blocks), "no shell step found"
    applications = [
        o for objs in load_output(work / "dist").values() for o in objs if is_application(o)
    ]
    project_yaml = [
        d
        for b in blocks
        if b.language in ("yaml", "yml")
        for d in yaml.safe_load_all(b.text)
        if d and d.get("kind") == "AppProject"
    ]

    def create_projects() -> None:
        projects = project_yaml or [
            documented_project(
                app["spec"].get("project", "default"),
                app["spec"]["destination"]["namespace"],
                repo.url,
            )
            for app in applications
        ]
        for project in projects:
            cluster.argocd.apply(project)

    projects_created = False
    for block in blocks:
        if block.language not in ("sh", "bash", "shell"):
            continue
        for command in commands(block):
            if not projects_created and re.search(r"kubectl .*apply .*argocd", command):
                create_projects()
                projects_created = True
            reads_stdin = "/dev/stdin" in command or re.search(r"(^|\s)-f -(\s|$)", command)
            result = subprocess.run(
                ["bash", "-c", f"set -euo pipefail\n{command}"],
                cwd=work,
                env=env,
                input="value-the-operator-pastes\n" if reads_stdin else "",
                capture_output=True,
                text=True,
                timeout=60,
            )
            if result.returncode != 0:
                variables = " ".join(f"{k}={shlex.quote(v)}" for k, v in guide_variables.items())
                raise ProcedureStepFailed(
                    f"a step of section {block.section!r} failed as written "
                    f"(with {variables}):\n$ {command}\n{result.stdout}{result.stderr}"
                )
    assert projects_created, "the procedure never applies the Applications"
    for app in applications:
        cluster.argocd.wait_synced_healthy(
            app["metadata"]["name"], FIRST_SYNC_BOUND, revision=repo.head()
        )


def test_the_procedure_is_found_in_the_guide() -> None:
    """The parser above finds today's steps (guards against reading nothing)."""
    markdown = GUIDE.read_text()
    steps = [c for b in procedure(markdown) if b.language == "sh" for c in commands(b)]
    assert any("create secret" in s for s in steps), steps
    assert any(re.search(r"kubectl .*apply .*argocd", s) for s in steps), steps
    assert namespace_variable(markdown)
