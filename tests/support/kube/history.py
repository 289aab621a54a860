"""The ``dist/`` of an earlier commit, for the upgrade test (git, read-only)."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path


class NoHistory(Exception):
    """No git history to compare with (a tarball checkout, a shallow clone)."""


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=check)


def _differs(root: Path, rev: str, path: str) -> bool:
    """True when ``path`` at ``rev`` differs from the working tree."""
    return _git(root, "diff", "--quiet", rev, "--", path, check=False).returncode == 1


def previous_release(root: Path, path: str = "dist") -> str:
    """The commit whose ``path`` an in-place upgrade to the working tree starts from.

    ``JC_UPGRADE_FROM`` (any revision) wins. Otherwise, on ``main``'s first-parent history
    (``HEAD``'s when there is no ``main``): the newest commit whose ``path`` differs from
    the working tree, i.e. what ArgoCD last synced before this change.

    Raises:
        NoHistory: No git repository or no earlier version of ``path``.
    """
    wanted = os.environ.get("JC_UPGRADE_FROM")
    if wanted:
        return _git(root, "rev-parse", "--verify", wanted).stdout.decode().strip()
    try:
        _git(root, "rev-parse", "--git-dir")
    except (subprocess.CalledProcessError, FileNotFoundError) as error:
        raise NoHistory(f"{root} is not a git checkout") from error
    base = (
        "main"
        if _git(root, "rev-parse", "--verify", "-q", "main", check=False).returncode == 0
        else "HEAD"
    )
    log = _git(root, "log", "--first-parent", "--format=%H", base, "--", path).stdout.decode()
    for commit in log.split():
        if _differs(root, commit, path):
            return commit
        parent = _git(root, "rev-parse", "--verify", "-q", f"{commit}^", check=False)
        if parent.returncode == 0:
            rev = parent.stdout.decode().strip()
            if _git(root, "cat-file", "-e", f"{rev}:{path}", check=False).returncode == 0:
                return rev
        break
    raise NoHistory(f"no earlier version of {path}/ on {base}'s first-parent history")


def export(root: Path, rev: str, path: str, target: Path) -> Path:
    """Write ``path`` as of ``rev`` under ``target``; returns ``target / path``."""
    archive = _git(root, "archive", "--format=tar", rev, path).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / path


def subject(root: Path, rev: str) -> str:
    return _git(root, "log", "-1", "--format=%h %s", rev).stdout.decode().strip()
