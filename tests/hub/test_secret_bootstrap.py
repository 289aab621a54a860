"""The bootstrap script, run as a real process against a local HTTP server speaking the Secret API.

Kubernetes cannot run here; this server implements exactly the three calls the script
makes (GET, POST, merge PATCH of one Secret) with the API server's status codes, and
checks the bearer token, so the script's real HTTP client code is exercised end to end.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from jupyter_constructs.hub.bootstrap import SECRET_KEYS, bootstrap_script

NAMESPACE = "jupyter"
NAME = "hub-secrets"
TOKEN = "service-account-token"


class SecretApi(BaseHTTPRequestHandler):
    secrets: ClassVar[dict[str, dict]] = {}
    calls: ClassVar[list[str]] = []

    def _reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._reply(401, {"reason": "Unauthorized"})
            return False
        return True

    def do_GET(self) -> None:
        self.calls.append(f"GET {self.path}")
        if not self._authorized():
            return
        name = self.path.rsplit("/", 1)[-1]
        if name in self.secrets:
            self._reply(200, self.secrets[name])
        else:
            self._reply(404, {"reason": "NotFound"})

    def do_POST(self) -> None:
        self.calls.append(f"POST {self.path}")
        if not self._authorized():
            return
        body = self._body()
        assert self.path == f"/api/v1/namespaces/{NAMESPACE}/secrets"
        self.secrets[body["metadata"]["name"]] = body
        self._reply(201, body)

    def do_PATCH(self) -> None:
        self.calls.append(f"PATCH {self.path}")
        if not self._authorized():
            return
        assert self.headers["Content-Type"] == "application/merge-patch+json"
        name = self.path.rsplit("/", 1)[-1]
        self.secrets[name]["data"].update(self._body()["data"])
        self._reply(200, self.secrets[name])

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api(tmp_path):
    SecretApi.secrets = {}
    SecretApi.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), SecretApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def run_script(api_url: str, tmp_path) -> str:
    script = tmp_path / "secret_bootstrap.py"
    script.write_text(bootstrap_script())
    token = tmp_path / "token"
    token.write_text(TOKEN)
    result = subprocess.run(
        [sys.executable, str(script)],
        env={
            "KUBERNETES_API_URL": api_url,
            "KUBERNETES_TOKEN_FILE": str(token),
            "SECRET_NAME": NAME,
            "SECRET_KEYS": ",".join(SECRET_KEYS),
            "POD_NAMESPACE": NAMESPACE,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _values(name: str = NAME) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in SecretApi.secrets[name]["data"].items()}


def test_creates_the_secret_with_random_values_when_absent(api, tmp_path):
    out = run_script(api, tmp_path)
    assert out == f"created Secret {NAMESPACE}/{NAME} with keys {', '.join(SECRET_KEYS)}"
    values = _values()
    assert sorted(values) == sorted(SECRET_KEYS)
    assert all(len(v) == 64 and int(v, 16) >= 0 for v in values.values())
    assert len(set(values.values())) == len(SECRET_KEYS)


def test_second_run_changes_nothing(api, tmp_path):
    run_script(api, tmp_path)
    before = _values()
    out = run_script(api, tmp_path)
    assert out == f"Secret {NAMESPACE}/{NAME} already has every key; nothing to do"
    assert _values() == before
    assert not [c for c in SecretApi.calls[-1:] if not c.startswith("GET")]


def test_adds_only_missing_keys_and_keeps_existing_values(api, tmp_path):
    keep = base64.b64encode(b"existing-cookie-secret").decode()
    SecretApi.secrets[NAME] = {"metadata": {"name": NAME}, "data": {"cookie-secret": keep}}
    out = run_script(api, tmp_path)
    assert out == (
        f"added missing keys crypt-key, proxy-token, metrics-api-token to Secret {NAMESPACE}/{NAME}"
    )
    assert _values()["cookie-secret"] == "existing-cookie-secret"
    assert sorted(_values()) == sorted(SECRET_KEYS)


def test_fails_loudly_when_the_api_refuses(api, tmp_path):
    script = tmp_path / "secret_bootstrap.py"
    script.write_text(bootstrap_script())
    token = tmp_path / "token"
    token.write_text("wrong-token")
    result = subprocess.run(
        [sys.executable, str(script)],
        env={
            "KUBERNETES_API_URL": api,
            "KUBERNETES_TOKEN_FILE": str(token),
            "SECRET_NAME": NAME,
            "SECRET_KEYS": "a",
            "POD_NAMESPACE": NAMESPACE,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "reading Secret jupyter/hub-secrets failed: HTTP 401" in result.stderr
