"""The runbook's commands name things that exist in what we render (issue 17).

The runbook told operators ``kubectl -l component=hub``, which matches no pod: the hub
and proxy pods carry ``app.kubernetes.io/component``. Here every label selector of a
``kubectl`` or ``velero`` command in ``docs/runbook.md`` (code blocks and inline code)
is matched against the labels of what it selects, taken from the real output:

- pods (``get pods``, ``describe pod``, ``top pod``, ``wait ... pod``, ``logs``): the pod
  templates of ``dist/`` and a user pod rendered by the real KubeSpawner from ``dist/``'s
  hub configuration;
- Velero restores of volumes: the claims of ``dist/`` and a user's home claim as the
  real KubeSpawner renders it;
- Velero backups: the labels of the ``examples/backups.py`` Schedule (Velero copies a
  Schedule's labels to the Backups it makes);
- anything else: the objects of ``dist/``.

Every ``deploy/NAME``, ``pvc NAME`` and ArgoCD Application a command names exists too.
"""

from __future__ import annotations

import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import EXAMPLES, ROOT, load_manifests, run_example
from tests.hub.user_pods import spawn

RUNBOOK = ROOT / "docs" / "runbook.md"
NAMESPACE = "jupyter"
USER = "alice"
POD_VERBS = re.compile(r"\b(get pods?|describe pods?|top pods?|logs|wait)\b")


def _commands(markdown: str) -> list[str]:
    """Every kubectl/velero command: lines of code blocks and inline code spans."""
    found: list[str] = []
    in_block = False
    for line in markdown.splitlines():
        if line.strip().startswith("```"):
            in_block = not in_block
            continue
        pieces = [line] if in_block else re.findall(r"`([^`]+)`", line)
        found += [p for p in pieces if re.match(r"\s*(kubectl|velero|argocd)\b", p)]
    text = "\n".join(found)
    return [c.strip() for c in re.sub(r"\\\n\s*", " ", text).splitlines()]


COMMANDS = _commands(RUNBOOK.read_text(encoding="utf-8"))


def _selectors(command: str) -> list[str]:
    words = shlex.split(command.replace("$NS", NAMESPACE).replace("$USER_SLUG", USER))
    selectors = []
    for index, word in enumerate(words):
        if word in ("-l", "--selector") and index + 1 < len(words):
            selectors.append(words[index + 1])
        elif word.startswith(("-l=", "--selector=")):
            selectors.append(word.split("=", 1)[1])
    return selectors


def _matches(selector: str, labels: dict[str, str]) -> bool:
    """Equality-based selector (``k=v,k2=v2``), as ``kubectl -l`` reads it."""
    for term in selector.split(","):
        key, _, value = term.partition("=")
        if labels.get(key.strip()) != value.strip():
            return False
    return True


@cache
def _dist() -> list[dict[str, Any]]:
    return load_manifests(ROOT / "dist")


@cache
def _user() -> tuple[dict[str, Any], dict[str, Any]]:
    spawned = spawn(_dist(), None, USER)
    return spawned.pod, spawned.pvc


def _pod_labels() -> list[dict[str, str]]:
    templates = [
        o["spec"]["template"]["metadata"].get("labels") or {}
        for o in _dist()
        if o["kind"] in ("Deployment", "DaemonSet", "StatefulSet", "Job")
    ]
    return [*templates, _user()[0]["metadata"]["labels"]]


def _claim_labels() -> list[dict[str, str]]:
    claims = [
        o["metadata"].get("labels") or {} for o in _dist() if o["kind"] == "PersistentVolumeClaim"
    ]
    return [*claims, _user()[1]["metadata"]["labels"]]


def _schedule_labels(tmp_path: Path) -> list[dict[str, str]]:
    example = next(e for e in EXAMPLES if e.stem == "backups")
    objects = load_manifests(run_example(example, tmp_path / "backups"))
    return [o["metadata"].get("labels") or {} for o in objects if o["kind"] == "Schedule"]


def test_the_runbook_has_selectors() -> None:
    """Guards the extraction: the pod selectors are found."""
    selectors = [s for c in COMMANDS for s in _selectors(c)]
    assert len(selectors) >= 6, COMMANDS


@pytest.mark.parametrize("command", [c for c in COMMANDS if _selectors(c)], ids=lambda c: c[:60])
def test_every_selector_matches_what_it_selects(command: str, tmp_path: Path) -> None:
    if command.startswith("velero backup"):
        candidates, what = _schedule_labels(tmp_path), "the Velero Schedule"
    elif command.startswith("velero restore"):
        candidates, what = _claim_labels(), "claim of dist/ nor user home claim"
    elif command.startswith("kubectl") and POD_VERBS.search(command):
        candidates, what = _pod_labels(), "pod of dist/ nor user pod"
    else:
        candidates = [o["metadata"].get("labels") or {} for o in _dist()]
        what = "object of dist/"
    for selector in _selectors(command):
        assert any(_matches(selector, labels) for labels in candidates), (
            f"docs/runbook.md: {selector!r} in `{command}` selects nothing: no {what} carries it"
        )


def test_named_objects_exist() -> None:
    """``deploy/NAME``, ``pvc NAME`` and ``argocd app ... NAME`` name rendered objects."""
    names = {(o["kind"], o["metadata"]["name"]) for o in _dist()}
    for command in COMMANDS:
        for name in re.findall(r"\bdeploy/([\w-]+)", command):
            assert ("Deployment", name) in names, f"no Deployment {name}: `{command}`"
        for name in re.findall(r"\bdelete pvc ([\w-]+)", command):
            assert ("PersistentVolumeClaim", name) in names, f"no claim {name}: `{command}`"
        for name in re.findall(r"\bargocd app \w+ ([\w-]+)", command):
            assert ("Application", name) in names, f"no Application {name}: `{command}`"
