"""The few lines a synth ends with: what was written, what changed against git, capacity.

``synth_summary(outdir)`` after a successful synth (``make synth``, ``python main.py``
and ``cdk8s synth`` all end with it)::

    synthesized dist/: 2 folders, 54 objects
      dist/argocd/  1 object
      dist/prod/   53 objects
    against git (dist/ at HEAD): 0 to add, 3 to change, 0 to remove (details: make plan)
    capacity of namespace jupyter (servers of one profile at once):
      small: 198 (limited by limits.cpu)

The comparison with git uses ``plan`` (``jupyter_constructs.delivery.plan``) on the
output folder as committed at ``HEAD``; outside a git repository, or when the folder is
not in one, that line says so instead. A change that will not apply in place or that
loses data is called out (``make plan`` shows which).

Only success goes through here; a failed synth prints one line of its own and leaves
the output folder as it was (``synth.main``).
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from jupyter_constructs.core.errors import ConfigurationError
from jupyter_constructs.delivery.plan import export_ref, load_output, make_plan

__all__ = ["git_changes", "synth_summary"]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _label(outdir: Path) -> str:
    try:
        return f"{outdir.resolve().relative_to(Path.cwd().resolve())}/"
    except ValueError:
        return f"{outdir}/"


def _same_files(a: Path, b: Path) -> bool:
    """True when folders ``a`` and ``b`` hold the same files, byte for byte."""
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    return files_a == files_b and all((a / f).read_bytes() == (b / f).read_bytes() for f in files_a)


def git_changes(outdir: str | Path, *, ref: str = "HEAD") -> str:
    """One line: how ``outdir`` differs from the same folder at git ``ref``.

    Args:
        outdir: The synthesized folder (``dist``), inside a git work tree.
        ref: The git ref to compare with. Default: ``"HEAD"``.

    Returns:
        ``"against git (dist/ at HEAD): ..."``, or why there is nothing to compare with.
    """
    folder = Path(outdir).resolve()
    label = _label(Path(outdir))
    try:
        inside = subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree"],
            cwd=folder.parent,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "against git: git is not installed"
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return f"against git: {label} is not in a git work tree"
    try:
        with tempfile.TemporaryDirectory(prefix="jc-summary-") as scratch:
            old = export_ref(ref, folder.name, Path(scratch), cwd=folder.parent)
            if _same_files(Path(old), folder):  # the usual case: nothing to parse or diff
                return f"against git ({label} at {ref}): no changes"
            plan = make_plan(load_output(old), load_output(folder))
    except ConfigurationError as error:
        return f"against git: no comparison ({' '.join(str(error).split())})"
    if not plan.changes:
        return f"against git ({label} at {ref}): no changes"
    line = (
        f"against git ({label} at {ref}): {plan.count('added')} to add, "
        f"{plan.count('changed')} to change, {plan.count('removed')} to remove"
    )
    if plan.dangerous:
        return line + (
            f"; {len(plan.dangerous)} will NOT apply in place or lose data: run make plan"
        )
    return line + " (details: make plan)"


def synth_summary(
    outdir: str | Path, *, notes: Iterable[str] = (), compare_with_git: bool = True
) -> str:
    """The summary printed after a successful synth (module docstring).

    Args:
        outdir: The folder just written.
        notes: More lines, printed last (e.g. each hub's ``format_capacity()``).
        compare_with_git: Add the line comparing ``outdir`` with git. Default: True.

    Returns:
        The text, ending with a newline.
    """
    root = Path(outdir)
    label = _label(root)
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    counts = {f.name: len(load_output(f)) for f in folders}
    total = sum(counts.values())
    width = max((len(name) for name in counts), default=0) + len(label) + 1
    lines = [f"synthesized {label}: {_plural(len(folders), 'folder')}, {_plural(total, 'object')}"]
    for name, count in counts.items():
        lines.append(f"  {(label + name + '/').ljust(width)}  {_plural(count, 'object')}")
    if compare_with_git:
        lines.append(git_changes(root))
    for note in notes:
        lines += note.splitlines()
    return "\n".join(lines) + "\n"
