"""No secret value is in ``dist/`` (it is in git) or in the package.

Two checks: a structural one (no Secret object carries ``data``/``stringData``: secrets
are referenced, or generated in the cluster by the bootstrap Job) and a secret scanner
(detect-secrets, every default plugin). The scanner's findings must each be explained
by an exact, verified rule below; anything else fails. ``tests/`` is not scanned: its
fixtures hold fake credentials on purpose (to run the real hub), and they could only
leak through ``dist/`` or the package, which are scanned. ``imports/`` is code generated
from the public CRD schemas (field names such as ``passwordSecret``, no values).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from detect_secrets import SecretsCollection
from detect_secrets.settings import default_settings

from jupyter_constructs.core.objects import sha256_of
from tests.helpers import load_manifests

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
NOT_SCANNED = ("tests/", "imports/", "dist/")

# Findings in the repository that are names, not values: (file, value) -> what it is.
# A new finding fails the test: read it, and add it here only if it is not a secret.
KNOWN_NAMES = {
    ("jupyter_constructs/hub/tunables.py", "a secret: the hub reads it from hub-secrets"): (
        "a reason set_trait gives"
    ),
    # The generated trait table: trait names such as cookie_secret and the kind of value.
    ("jupyter_constructs/hub/traits.py", "str"): "a value kind of the trait table",
    ("jupyter_constructs/hub/traits.py", "list|str"): "a value kind of the trait table",
    ("jupyter_constructs/hub/traits.py", "dict<str>"): "a value kind of the trait table",
    ("jupyter_constructs/hub/traits.py", "str?"): "a value kind of the trait table",
    ("jupyter_constructs/addons/signin/oidc.py", "OAUTH_CLIENT_SECRET"): "an env var's name",
    ("jupyter_constructs/hub/bootstrap.py", "cookie-secret"): "a key name of the hub Secret",
    ("jupyter_constructs/addons/signin/ldap.py", "LDAP_SEARCH_PASSWORD"): "an env var's name",
    ("examples/custom_authenticator.py", "GITLAB_CLIENT_SECRET"): "an env var's name",
    (
        "jupyter_constructs/addons/signin/oauth_providers.py",
        "OAUTH_CLIENT_SECRET",
    ): "an env var's name",
    ("jupyter_constructs/addons/external_secrets.py", "jupyterhub-oidc"): "a Secret name (doc)",
    ("jupyter_constructs/addons/external_secrets.py", "jupyterhub/oidc#secret"): "a remote key",
    ("jupyter_constructs/addons/external_secrets.py", "db#password"): "a remote key path",
    ("jupyter_constructs/addons/external_secrets.py", "ClusterSecretStore"): "a store kind",
    ("jupyter_constructs/addons/external_secrets.py", "SecretStore"): "a store kind",
    ("jupyter_constructs/__init__.py", "addons.external_secrets"): "a module name",
    ("jupyter_constructs/__init__.py", "core.secrets"): "a module name",
    ("docs/DEPLOYMENT_GUIDE.md", "my-hub-secrets"): "a Secret name in an example",
    ("docs/DEPLOYMENT_GUIDE.md", "jupyterhub-oidc"): "a Secret name in an example",
    (
        "docs/DEPLOYMENT_GUIDE.md",
        "platform/jupyterhub/oidc#client-secret",
    ): "a secret store path in an example",
    ("examples/secret_store.py", "jupyterhub-oidc"): "a Secret name in an example",
    (
        "examples/secret_store.py",
        "platform/jupyterhub/oidc#client_secret",
    ): "a secret store path in an example",
    ("docs/comparison-z2jh.md", "my-hub-secrets"): "a Secret name in an example",
    ("jupyter_constructs/hub/volumes.py", "team-ssh"): "a Secret name (doc example)",
    ("docs/api-reference.md", "team-ssh"): "the same example, generated from the docstring",
    ("jupyter_constructs/hub/volumes.py", "secret"): "a volume source's name (VolumeSource)",
    ("jupyter_constructs/hub/singleuser.py", "image_pull_secrets"): "a KubeSpawner trait name",
    ("docs/comparison-z2jh.md", "jupyterhub-tls"): "the TLS Secret's name",
    ("jupyter_constructs/delivery/z2jh.py", "jupyterhub-oauth"): "the OAuth Secret's name",
    ("jupyter_constructs/delivery/z2jh.py", "hub-db-password"): "the database Secret's name",
    (
        "docs/platform-services.md",
        "PGSSLMODE` (default `require`) | `password` → `PGPASSWORD` | `pg_service.conf` "
        "(service `platform",
    ): "a table of environment variable names",
}


def scan(paths: list[Path], root: Path) -> list[tuple[str, int, str, str]]:
    """(file relative to root, line, detector, value) for every detect-secrets finding."""
    collection = SecretsCollection(root=str(root))
    with default_settings():
        for path in paths:
            collection.scan_file(str(path.relative_to(root)))
    return sorted(
        (filename, secret.line_number, secret.type, secret.secret_value or "")
        for filename, secret in collection
    )


def secret_objects_with_values(objects: list[dict[str, Any]]) -> list[str]:
    return [
        f"Secret/{o['metadata']['name']}"
        for o in objects
        if o.get("kind") == "Secret" and (o.get("data") or o.get("stringData"))
    ]


def config_checksums(objects: list[dict[str, Any]]) -> set[str]:
    """Each ``checksum/config`` annotation that equals the checksum of a ConfigMap it mounts."""
    config_maps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    verified = set()
    for obj in objects:
        template = (obj.get("spec") or {}).get("template")
        if not template:
            continue
        value = (template["metadata"].get("annotations") or {}).get("checksum/config")
        mounted = [
            v["configMap"]["name"]
            for v in template["spec"].get("volumes") or []
            if "configMap" in v
        ]
        if value and any(sha256_of(config_maps[name]["data"]) == value for name in mounted):
            verified.add(value)
    return verified


def unexplained(findings: list[tuple[str, int, str, str]], directory: Path) -> list[str]:
    """Findings in ``directory``'s manifests that no rule explains."""
    checksums = config_checksums(load_manifests(directory))
    left = []
    for filename, line_number, detector, value in findings:
        line = (directory / filename).read_text().splitlines()[line_number - 1].strip()
        is_checksum = line == f"checksum/config: {value}" and value in checksums
        if detector == "Hex High Entropy String" and is_checksum:
            continue  # sha256 of the mounted ConfigMap, recomputed here: not a secret
        if detector == "Secret Keyword" and re.fullmatch(r"secretName: [a-z0-9-]+", line):
            continue  # the name of a Secret (a reference), never its value
        left.append(f"{filename}:{line_number}: {detector}: {line}")
    return left


def test_no_secret_object_in_dist_carries_a_value() -> None:
    objects = load_manifests(DIST)
    assert objects
    assert secret_objects_with_values(objects) == []
    # The only Secrets are the hub's own, rendered empty for the bootstrap Job to fill, and
    # never pruned or deleted by ArgoCD (issue 16).
    secrets = [o for o in objects if o["kind"] == "Secret"]
    assert sorted(o["metadata"]["name"] for o in secrets) == ["hub-secrets", "prometheus-hub-token"]
    for secret in secrets:
        assert set(secret) == {"apiVersion", "kind", "metadata", "type"}, secret
        annotations = secret["metadata"]["annotations"]
        assert annotations["argocd.argoproj.io/sync-options"] == "Prune=false,Delete=false"


def test_structural_check_catches_a_secret_with_data() -> None:
    objects: list[dict[str, Any]] = [
        {"kind": "Secret", "metadata": {"name": "a"}, "stringData": {"k": "v"}},
        {"kind": "Secret", "metadata": {"name": "b"}, "data": {"k": "dg=="}},
        {"kind": "Secret", "metadata": {"name": "c"}, "type": "Opaque"},
    ]
    assert secret_objects_with_values(objects) == ["Secret/a", "Secret/b"]


def test_detect_secrets_finds_nothing_unexplained_in_dist() -> None:
    findings = scan(sorted(DIST.rglob("*.yaml")), DIST)
    assert unexplained(findings, DIST) == []
    # What was explained, exactly: the two config checksums and the TLS Secret's name.
    assert sorted((f, d) for f, _, d, _ in findings) == [
        ("prod/Deployment.hub.k8s.yaml", "Hex High Entropy String"),
        ("prod/Deployment.prod-tunnel-deployment.k8s.yaml", "Hex High Entropy String"),
        ("prod/Ingress.jupyterhub.k8s.yaml", "Secret Keyword"),
    ]


def test_detect_secrets_finds_nothing_in_the_package() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    paths = [ROOT / f for f in tracked if not f.startswith(NOT_SCANNED) and (ROOT / f).is_file()]
    assert any(p.name == "hub.py" for p in paths)
    findings = scan(paths, ROOT)
    left = [(f, line, d, v) for f, line, d, v in findings if (f, v) not in KNOWN_NAMES]
    assert left == [], "read each finding; if it is a name, not a secret, add it to KNOWN_NAMES"
    assert sorted({(f, v) for f, _, _, v in findings}) == sorted(KNOWN_NAMES)


@pytest.mark.parametrize(
    "planted",
    [
        # A value in an env var, a Secret's data, a forged checksum annotation.
        ("Deployment.hub.k8s.yaml", "JPY_COOKIE_SECRET", "AKIAIOSFODNN7EXAMPLE"),
        (
            "Deployment.hub.k8s.yaml",
            "checksum/config",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        ),
    ],
)
def test_scan_catches_a_planted_secret(tmp_path: Path, planted: tuple[str, str, str]) -> None:
    name, anchor, value = planted
    copy = tmp_path / "dist"
    shutil.copytree(DIST, copy)
    path = copy / "prod" / name
    text = path.read_text()
    if anchor == "checksum/config":
        text = re.sub(r"checksum/config: [0-9a-f]+", f"checksum/config: {value}", text)
    else:
        line = re.search(rf"^( *)- name: {anchor}$", text, re.MULTILINE)
        assert line is not None
        indent = line.group(1)
        planted_env = f"{indent}- name: AWS_ACCESS_KEY_ID\n{indent}  value: {value}\n"
        text = text.replace(line.group(0), planted_env + line.group(0), 1)
    assert value in text
    path.write_text(text)
    problems = unexplained(scan(sorted(copy.rglob("*.yaml")), copy), copy)
    assert any(value in p for p in problems), problems
