"""Keycloak, a real OpenID Connect provider, for the sign-in integration tests.

The distribution comes from Maven Central through ``scripts/fetch_keycloak.sh``
(``make keycloak``) and lives in the user's cache; ``.ci/run`` fetches it when missing.
``keycloak_or_skip()`` finds it: missing, it skips the test with the command that
fetches it, except in CI (``CI=true``), where a missing Keycloak fails the test.

``running_keycloak()`` starts one server (a ``Service`` of ``tests/support/process.py``):

- production mode (``start --optimized``: the cache holds a distribution already built
  with ``BUILD_OPTIONS``), from a private copy in a scratch folder (Keycloak writes under
  its home, and parallel test runs must not share one), in-memory database, the realm
  from ``keycloak_realm.json`` imported at start;
- HTTPS only, on a loopback port, with a certificate from a throwaway CA made here:
  the product's ``OidcAuth`` accepts only https endpoints, and Keycloak's cookies are
  ``Secure``, so the whole flow runs as it does in production. Clients trust the CA
  through ``ca_file`` (the hub through ``SSL_CERT_FILE``);
- bounded waits (start, stop) through ``tests/support/process.py``; its log is quoted by
  any start failure; stopped and removed on exit.

The realm (``keycloak_realm.json``, realm ``jupyter``): groups ``data-science`` (the
allowed group of the tests), ``marketing`` and ``hub-admins``; the confidential client
``jupyterhub`` (code flow only, redirect URI ``https://jupyter.example.com/hub/oauth_callback``)
with a group-membership mapper writing short group names to the ``groups`` claim of the
id token, access token and userinfo; access tokens live 10 s so the refresh-token path runs
within a test. Users (password ``<name>-password``, e-mail ``<name>@example.org``): alice
(data-science), bob (marketing only: refused), carol (data-science, hub-admins), and one
user per test that changes a user at the provider (dave, erin, frank, grace, heidi, ivan),
so no test sees another's changes.

``Keycloak`` wraps the admin REST API calls the tests use to change users at the provider
(disable, log out, group membership).
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import re
import secrets
import shutil
import ssl
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.process import free_port, start

KEYCLOAK_VERSION = "26.5.6"
# Build-time options baked into the cached distribution by scripts/fetch_keycloak.sh.
BUILD_OPTIONS = "--db=dev-mem --health-enabled=false --metrics-enabled=false"
FETCH_COMMAND = "make keycloak"
REALM_FILE = Path(__file__).with_name("keycloak_realm.json")
MIN_JAVA = 21  # Keycloak 26.x runs on Java 21 or newer
START_TIMEOUT = 240.0  # seconds, start and stop; 32-84 s seen with other work on the 2 cores


def cache_dir() -> Path:
    """Where ``scripts/fetch_keycloak.sh`` puts the distribution."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jupyter-constructs" / "real-consumers" / "keycloak" / KEYCLOAK_VERSION


def keycloak_home() -> Path | None:
    """The cached distribution, or None when it is missing, incomplete or built otherwise."""
    home = cache_dir()
    stamp = home / ".stamp"
    if stamp.is_file() and stamp.read_text().strip() == f"{KEYCLOAK_VERSION} {BUILD_OPTIONS}":
        return home
    return None


def _java_major(java_home: Path) -> int | None:
    release = java_home / "release"
    if not (java_home / "bin" / "java").exists() or not release.is_file():
        return None
    match = re.search(r'^JAVA_VERSION="(\d+)', release.read_text(), re.MULTILINE)
    return int(match.group(1)) if match else None


def java_home() -> Path | None:
    """A JDK of at least ``MIN_JAVA``: ``JAVA_HOME``, the ``java`` on PATH, or the newest
    JDK in the distribution's standard folder (Debian and Temurin packages install there).
    """
    candidates: list[Path] = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent.parent)
    candidates += sorted(Path("/usr/lib/jvm").glob("*"), reverse=True)
    usable = [(major, c) for c in candidates if (major := _java_major(c) or 0) >= MIN_JAVA]
    return max(usable, key=lambda mc: mc[0])[1] if usable else None


def keycloak_or_skip() -> tuple[Path, Path]:
    """(Keycloak home, JAVA_HOME); skip locally or fail in CI when either is missing."""
    home, java = keycloak_home(), java_home()
    problem = None
    if home is None:
        problem = (
            f"Keycloak {KEYCLOAK_VERSION} is not in {cache_dir()}: run `{FETCH_COMMAND}` "
            "(downloads it from Maven Central, ~165 MB)"
        )
    elif java is None:
        problem = f"Keycloak needs a JDK {MIN_JAVA} or newer: set JAVA_HOME"
    if problem is None:
        assert home is not None and java is not None
        return home, java
    if os.environ.get("CI") == "true":
        pytest.fail(f"{problem} (CI must run the sign-in tests)", pytrace=False)
    pytest.skip(problem)


# -- TLS ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tls:
    ca_file: Path
    cert_file: Path
    key_file: Path


def make_tls(directory: Path) -> Tls:
    """A throwaway CA and a server certificate for 127.0.0.1 and localhost."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA for Keycloak")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    tls = Tls(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    tls.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    tls.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return tls


# -- the server --------------------------------------------------------------------------


def _answers(url: str, ca_file: Path) -> Callable[[], bool]:
    """Readiness: the realm's OpenID configuration answers 200 over HTTPS."""
    context = ssl.create_default_context(cafile=str(ca_file))

    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as resp:
                return int(resp.status) == 200
        except (OSError, urllib.error.HTTPError):
            return False

    return check


@dataclass
class Keycloak:
    """A running Keycloak: its realm's URLs and an admin REST client."""

    base_url: str
    realm: str
    ca_file: Path
    admin_user: str
    admin_password: str
    log: Path
    client_id: str
    client_secret: str

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/{self.realm}"

    def openid_configuration(self) -> dict[str, Any]:
        url = f"{self.issuer}/.well-known/openid-configuration"
        response = requests.get(url, verify=str(self.ca_file), timeout=10)
        response.raise_for_status()
        return dict(response.json())

    # admin REST API (https://www.keycloak.org/docs-api/latest/rest-api/)

    _token: tuple[float, str] | None = None

    def _admin_token(self) -> str:
        # master realm admin tokens live 60 s; reuse one for 30 s
        if self._token is not None and time.monotonic() - self._token[0] < 30:
            return self._token[1]
        response = requests.post(
            f"{self.base_url}/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": self.admin_user,
                "password": self.admin_password,
            },
            verify=str(self.ca_file),
            timeout=30,
        )
        response.raise_for_status()
        self._token = (time.monotonic(), str(response.json()["access_token"]))
        return self._token[1]

    def admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Call ``/admin/realms/<realm><path>``; raises on an error status."""
        response = requests.request(
            method,
            f"{self.base_url}/admin/realms/{self.realm}{path}",
            headers={"Authorization": f"Bearer {self._admin_token()}"},
            verify=str(self.ca_file),
            timeout=60,
            **kwargs,
        )
        response.raise_for_status()
        return response

    def user_id(self, username: str) -> str:
        found = self.admin("GET", "/users", params={"username": username, "exact": "true"})
        users = found.json()
        assert len(users) == 1, f"expected one Keycloak user {username!r}, found {users}"
        return str(users[0]["id"])

    def group_id(self, name: str) -> str:
        found = self.admin("GET", "/groups", params={"search": name, "exact": "true"}).json()
        matches = [g for g in found if g["name"] == name]
        assert len(matches) == 1, f"expected one Keycloak group {name!r}, found {found}"
        return str(matches[0]["id"])

    def disable_user(self, username: str) -> None:
        user_id = self.user_id(username)
        user = self.admin("GET", f"/users/{user_id}").json()
        user["enabled"] = False
        self.admin("PUT", f"/users/{user_id}", json=user)

    def logout_user(self, username: str) -> None:
        """End every session of the user at the provider (what "sign out everywhere" does)."""
        self.admin("POST", f"/users/{self.user_id(username)}/logout")

    def sessions(self, username: str) -> list[dict[str, Any]]:
        return list(self.admin("GET", f"/users/{self.user_id(username)}/sessions").json())

    def remove_from_group(self, username: str, group: str) -> None:
        self.admin("DELETE", f"/users/{self.user_id(username)}/groups/{self.group_id(group)}")

    def create_user(self, username: str, password: str, groups: list[str]) -> None:
        """A new enabled user with a verified e-mail ``<username>@example.org``."""
        self.admin(
            "POST",
            "/users",
            json={
                "username": username,
                "enabled": True,
                "email": f"{username}@example.org",
                "emailVerified": True,
                "firstName": username.capitalize(),
                "lastName": "Tester",
                "credentials": [{"type": "password", "value": password, "temporary": False}],
                "groups": [f"/{g}" for g in groups],
            },
        )

    def group_mapper(self) -> dict[str, Any]:
        """The client's group-membership mapper (as in the realm file)."""
        client = self.admin("GET", "/clients", params={"clientId": self.client_id}).json()[0]
        mappers = self.admin("GET", f"/clients/{client['id']}/protocol-mappers/models").json()
        (mapper,) = [m for m in mappers if m["protocolMapper"] == "oidc-group-membership-mapper"]
        return {"client": client["id"], **mapper}

    def set_group_mapper(self, mapper: dict[str, Any], *, access_token: bool) -> None:
        """Put the groups claim into access tokens, or leave it to id token and userinfo."""
        body = {k: v for k, v in mapper.items() if k != "client"}
        body["config"] = {**mapper["config"], "access.token.claim": str(access_token).lower()}
        self.admin(
            "PUT",
            f"/clients/{mapper['client']}/protocol-mappers/models/{mapper['id']}",
            json=body,
        )

    def create_groups(self, names: list[str]) -> None:
        for name in names:
            self.admin("POST", "/groups", json={"name": name})


@contextlib.contextmanager
def running_keycloak(home: Path, java: Path) -> Iterator[Keycloak]:
    """Keycloak from the cached ``home`` on a loopback HTTPS port until the block ends."""
    workdir = Path(tempfile.mkdtemp(prefix="keycloak-"))
    try:
        instance = workdir / "keycloak"
        shutil.copytree(home, instance, symlinks=True)
        realm = json.loads(REALM_FILE.read_text())
        (instance / "data" / "import").mkdir(parents=True)
        (instance / "data" / "import" / "realm.json").write_text(json.dumps(realm))
        client = realm["clients"][0]
        tls = make_tls(workdir)
        port, management_port = free_port(), free_port()
        admin_password = secrets.token_urlsafe(16)
        log = workdir / "keycloak.log"
        command = [
            str(instance / "bin" / "kc.sh"),
            "start",
            "--optimized",
            "--import-realm",
            "--http-enabled=false",
            "--http-host=127.0.0.1",
            f"--https-port={port}",
            f"--https-certificate-file={tls.cert_file}",
            f"--https-certificate-key-file={tls.key_file}",
            f"--http-management-port={management_port}",
            "--hostname-strict=false",
        ]
        base_url = f"https://127.0.0.1:{port}"
        service = start(
            f"Keycloak {KEYCLOAK_VERSION}",
            command,
            ready=_answers(
                f"{base_url}/realms/{realm['realm']}/.well-known/openid-configuration",
                tls.ca_file,
            ),
            log_path=log,
            timeout=START_TIMEOUT,
            env={
                "JAVA_HOME": str(java),
                "KC_BOOTSTRAP_ADMIN_USERNAME": "admin",
                "KC_BOOTSTRAP_ADMIN_PASSWORD": admin_password,
            },
            stop_timeout=60,
        )
        try:
            yield Keycloak(
                base_url=base_url,
                realm=realm["realm"],
                ca_file=tls.ca_file,
                admin_user="admin",
                admin_password=admin_password,
                log=log,
                client_id=client["clientId"],
                client_secret=client["secret"],
            )
        finally:
            service.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
