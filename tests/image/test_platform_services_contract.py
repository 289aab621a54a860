"""The env var contract, from both sides: the construct library and the image helper."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import platform_services
import pytest
from platform_services import _contract as helper_contract

import jupyter_constructs
from jupyter_constructs.addons.bindings import contract as binding_contract

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "platform-services.md"

# The table of the product brief, written out once more by hand on purpose: a change to
# the contract must be made in both copies and here, consciously.
EXPECTED = {
    "trino": "TRINO_HOST TRINO_PORT TRINO_HTTP_SCHEME TRINO_CATALOG TRINO_SCHEMA TRINO_USER"
    " TRINO_PASSWORD?*",
    "s3": "S3_ENDPOINT_URL AWS_ACCESS_KEY_ID* AWS_SECRET_ACCESS_KEY* AWS_DEFAULT_REGION"
    " S3_VERIFY_TLS S3_BUCKET?",
    "mlflow": "MLFLOW_TRACKING_URI MLFLOW_TRACKING_USERNAME? MLFLOW_TRACKING_PASSWORD?*"
    " MLFLOW_S3_ENDPOINT_URL?",
    "postgres": "PGHOST PGPORT PGDATABASE PGUSER PGPASSWORD* PGSSLMODE",
    "datahub": "DATAHUB_GMS_URL DATAHUB_GMS_TOKEN?*",
    "ray": "RAY_ADDRESS",
    "kafka": "KAFKA_BOOTSTRAP_SERVERS KAFKA_SECURITY_PROTOCOL KAFKA_SASL_MECHANISM?"
    " KAFKA_SASL_USERNAME? KAFKA_SASL_PASSWORD?*",
}


def _as_plain(contract: dict[str, object]) -> dict[str, dict[str, object]]:
    return {key: dataclasses.asdict(value) for key, value in contract.items()}  # type: ignore[call-overload]


def _marked(spec: binding_contract.ServiceEnv) -> str:
    return " ".join(
        name + ("?" if name in spec.optional else "") + ("*" if name in spec.secret else "")
        for name in spec.names
    )


def test_helper_copy_is_identical_to_the_construct_contract() -> None:
    assert _as_plain(helper_contract.SERVICE_ENV) == _as_plain(binding_contract.SERVICE_ENV)
    assert list(helper_contract.SERVICE_ENV) == list(binding_contract.SERVICE_ENV)
    for name in ("TRINO_HTTP_SCHEMES", "S3_VERIFY_TLS_VALUES", "KAFKA_SECURITY_PROTOCOLS"):
        assert getattr(helper_contract, name) == getattr(binding_contract, name)


def test_contract_matches_the_product_table() -> None:
    got = {key: _marked(spec) for key, spec in binding_contract.SERVICE_ENV.items()}
    assert got == EXPECTED


def test_contract_is_consistent() -> None:
    for key, spec in binding_contract.SERVICE_ENV.items():
        assert spec.service == key
        assert spec.factory == f"PlatformServiceBinding.{key}"
        assert not set(spec.required) & set(spec.optional)
        assert set(spec.secret) <= set(spec.names)
    every = [n for spec in binding_contract.SERVICE_ENV.values() for n in spec.names]
    assert len(every) == len(set(every)), "a variable belongs to two services"


def test_docs_table_lists_every_variable_and_marks_secrets() -> None:
    text = DOC.read_text()
    for spec in binding_contract.SERVICE_ENV.values():
        assert f"`{spec.factory}(...)`" in text
        for name in spec.names:
            assert text.count(f"`{name}`") >= 1, name
            row_secret = f"`{name}` (secret" in text
            assert row_secret == (name in spec.secret), name


def test_contract_module_does_not_import_cdk8s() -> None:
    # Loaded as a standalone file: the module's own imports, not the package's __init__.
    path = Path(jupyter_constructs.__file__).parent / "addons" / "bindings" / "contract.py"
    code = (
        "import sys, importlib.util;"
        f"spec = importlib.util.spec_from_file_location('binding_contract', {str(path)!r});"
        "module = importlib.util.module_from_spec(spec); sys.modules['binding_contract'] = module;"
        "spec.loader.exec_module(module);"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('cdk8s', 'cdk8s_plus_27',"
        " 'constructs', 'jsii')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_importing_the_helper_is_cheap() -> None:
    heavy = ("trino", "s3fs", "boto3", "mlflow", "sqlalchemy", "confluent_kafka", "ray", "datahub")
    code = (
        "import sys, platform_services;"
        "from platform_services import trino, s3, mlflow, postgres, kafka, ray, datahub;"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_helper_package_is_independent_of_the_construct_library() -> None:
    src = Path(platform_services.__file__).parent
    for module in src.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert "jupyter_constructs" not in roots, module.name


@pytest.mark.parametrize("service", list(binding_contract.SERVICE_ENV))
def test_bound_services_follows_required_variables(service: str) -> None:
    spec = binding_contract.SERVICE_ENV[service]
    env = {name: "x" for name in spec.required}
    assert platform_services.bound_services(env) == [service]
    env[spec.required[0]] = ""
    assert platform_services.bound_services(env) == []
