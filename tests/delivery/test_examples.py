"""Every app in ``examples/`` runs as a user runs it and renders valid manifests.

Each example is run in its own Python process (``python examples/NAME.py``) with
``CDK8S_OUTDIR`` pointing at a temporary folder, as the examples' docstrings promise.
Every object it writes must validate strictly against the Kubernetes schemas (1.27 and
the newest kubernetes-validate knows) and, for custom resources, against their CRDs.
``tests/k8s/test_apply.py`` applies the same output to a real API server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest

from tests.core.test_manifests import CORE_GROUPS, VERSIONS
from tests.crd_schemas import is_custom_resource, validate_custom_resource
from tests.helpers import load_manifests

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def run_example(example: Path, outdir: Path) -> list[dict[str, object]]:
    """Run ``example`` like a user would and return what it wrote."""
    env = {**os.environ, "CDK8S_OUTDIR": str(outdir)}
    result = subprocess.run(
        [sys.executable, str(example)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, f"{example.name} failed:\n{result.stderr[-3000:]}"
    return load_manifests(outdir)


def test_there_are_examples() -> None:
    assert EXAMPLES, "examples/ holds no app"


def test_every_example_is_listed_in_the_examples_readme() -> None:
    readme = (ROOT / "examples" / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in EXAMPLES if f"({p.name})" not in readme]
    assert not missing, f"examples/README.md does not link {missing}"


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_renders_valid_manifests(example: Path, tmp_path: Path) -> None:
    objects = run_example(example, tmp_path / "out")
    assert objects, f"{example.name} wrote nothing to $CDK8S_OUTDIR"
    errors = []
    for obj in objects:
        name = f"{obj['kind']}/{obj['metadata']['name']}"  # type: ignore[index]
        if is_custom_resource(obj):
            try:
                validate_custom_resource(obj)
            except Exception as err:  # jsonschema.ValidationError
                errors.append(f"{name}: {err}")
        elif obj["apiVersion"] in CORE_GROUPS:
            for version in VERSIONS:
                try:
                    kubernetes_validate.validate(obj, version, strict=True)
                except kubernetes_validate.ValidationError as err:
                    errors.append(f"{name} ({version}): {err.message}")
        else:
            errors.append(f"{name}: apiVersion {obj['apiVersion']} is validated nowhere")
    assert not errors, "\n".join(errors)


def test_an_example_that_fails_is_reported(tmp_path: Path) -> None:
    """The runner above really fails on a broken app (it is not a pass-through)."""
    broken = tmp_path / "broken.py"
    broken.write_text("raise SystemExit('boom')\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="boom"):
        run_example(broken, tmp_path / "out")
