"""Snapshots a reviewer can read (syrupy's amber format, one change: no package source).

A string in a snapshot that is, byte for byte, a Python file shipped in the
jupyter_constructs package (the hub's config loader, the secret bootstrap script, an
authenticator module, all carried by ConfigMaps) is stored as ``<package file NAME>``.
Those files are tested as code where they run (the real hub, the real classes); a
changed or generated value stays in full, so the snapshot still shows any difference.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from syrupy.extensions.amber import AmberSnapshotExtension


@functools.cache
def package_files() -> dict[str, str]:
    """File name of every Python file of the jupyter_constructs package, by its text."""
    import jupyter_constructs

    root = Path(jupyter_constructs.__file__).resolve().parent
    texts = {p: p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.py"))}
    # Empty files (package markers) would match every empty string.
    return {text: path.name for path, text in texts.items() if text.strip()}


def without_package_source(data: Any) -> Any:
    """``data`` with every string equal to a package file replaced by its name."""
    if isinstance(data, str):
        name = package_files().get(data)
        return data if name is None else f"<package file {name}>"
    if isinstance(data, dict):
        return {key: without_package_source(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return type(data)(without_package_source(value) for value in data)
    return data


class ReviewableSnapshotExtension(AmberSnapshotExtension):  # type: ignore[misc]
    def serialize(self, data: Any, **kwargs: Any) -> str:
        return str(super().serialize(without_package_source(data), **kwargs))
