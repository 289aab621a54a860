"""The notebook image against its base image and the hub (issue 17).

- The user server's JupyterHub has the hub's major.minor: the hub image
  (quay.io/jupyterhub/k8s-hub:4.4.0) runs jupyterhub 5.5.0, pinned in
  requirements-dev.txt to match; the docker-stacks base image brings the newest
  jupyterhub-singleuser (6.x) unless requirements.txt says otherwise.
- ``make image-deps-check`` resolves requirements.txt with the base image's packages as
  constraints; the constraints file is generated from the base image
  (``scripts/base_image_constraints.py``) and refused when it belongs to another image.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "dockerfiles" / "jupyter-notebook"
SCRIPT = ROOT / "scripts" / "base_image_constraints.py"

sys.path.insert(0, str(ROOT / "scripts"))
import base_image_constraints as generator  # noqa: E402


def _pin(text: str, name: str) -> str:
    match = re.search(rf"^{re.escape(name)}==(\S+)$", text, re.M)
    assert match, f"{name} is not pinned"
    return match.group(1)


def test_the_notebook_image_runs_the_hubs_jupyterhub_major_minor() -> None:
    image = _pin((IMAGE / "requirements.txt").read_text(), "jupyterhub")
    hub = _pin((ROOT / "requirements-dev.txt").read_text(), "jupyterhub")
    assert image.split(".")[:2] == hub.split(".")[:2], (image, hub)


def test_the_hub_pin_is_the_hub_images() -> None:
    from jupyter_constructs.core.images import HUB_IMAGE

    # z2jh 4.4.0's hub image contains jupyterhub 5.5.0 (FACTS); the test env mirrors it.
    assert HUB_IMAGE == "quay.io/jupyterhub/k8s-hub:4.4.0"
    assert _pin((ROOT / "requirements-dev.txt").read_text(), "jupyterhub") == "5.5.0"


PIP_LIST = [
    {"name": "jupyterhub", "version": "6.1.0"},
    {"name": "JupyterLab", "version": "4.6.1"},
    {"name": "numpy", "version": "2.4.0"},
    {"name": "ruamel.yaml", "version": "0.18.16"},
]


def test_constraints_keep_the_base_packages_but_not_the_ones_we_pin(tmp_path: Path) -> None:
    text = generator.constraints(
        PIP_LIST, "quay.io/jupyter/scipy-notebook:2026-11-16", generator.pinned_names()
    )
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    # jupyterhub and numpy are pinned by requirements.txt: those pins win.
    assert lines == ["jupyterlab==4.6.1", "ruamel-yaml==0.18.16"]
    path = tmp_path / "base-constraints.txt"
    path.write_text(text)
    assert generator.image_of(path) == "quay.io/jupyter/scipy-notebook:2026-11-16"


def test_the_check_refuses_missing_or_stale_constraints(tmp_path: Path) -> None:
    out = tmp_path / "base-constraints.txt"
    image = generator.base_image()
    missing = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1
    assert "make image-base-constraints" in missing.stderr
    saved = tmp_path / "pip-list.json"
    saved.write_text(json.dumps(PIP_LIST))
    for generated_for, expected in (("quay.io/jupyter/scipy-notebook:2020-01-01", 1), (image, 0)):
        subprocess.run(
            [
                sys.executable,
                str(SCRIPT),
                "--from-json",
                str(saved),
                "--image",
                generated_for,
                "--out",
                str(out),
            ],
            check=True,
            capture_output=True,
        )
        result = subprocess.run(
            [sys.executable, str(SCRIPT), "--check", "--out", str(out)],
            capture_output=True,
            text=True,
        )
        assert result.returncode == expected, result.stderr
        if expected:
            assert "regenerate it" in result.stderr


@pytest.mark.skipif(
    not (IMAGE / "base-constraints.txt").is_file(), reason="base-constraints.txt not generated yet"
)
def test_committed_constraints_belong_to_the_dockerfiles_base_image() -> None:
    assert generator.image_of(IMAGE / "base-constraints.txt") == generator.base_image()
