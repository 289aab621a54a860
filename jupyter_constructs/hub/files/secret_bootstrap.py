"""Create the hub's Secret in the cluster once; never change a value that exists.

Runs as a Job in the hub image before the hub starts (stdlib only). The Secret holds
random values that must never be in git: the cookie secret, the crypt key, the proxy
auth token and the metrics scrape token. On every run it:

- creates the Secret with every key when it is absent;
- adds only the keys that are missing when it exists (a newer version of the library
  may need a new key), leaving existing values untouched;
- does nothing when every key is there.

Settings come from env: SECRET_NAME, SECRET_KEYS (comma-separated), POD_NAMESPACE, and
KUBERNETES_API_URL (default: the in-cluster API server).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import ssl
import sys
import urllib.error
import urllib.request
from typing import Any

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def random_value() -> str:
    """32 random bytes as hex: accepted by JupyterHub for cookie secret, crypt key and tokens."""
    return secrets.token_hex(32)


class KubernetesApi:
    """The three Secret calls we need, over HTTPS with the pod's service account token."""

    def __init__(self, base_url: str, token: str, context: ssl.SSLContext | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.context = context

    @classmethod
    def in_cluster(cls) -> KubernetesApi:
        base_url = os.environ.get("KUBERNETES_API_URL") or (
            "https://{}:{}".format(
                os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"]
            )
        )
        token_file = os.environ.get("KUBERNETES_TOKEN_FILE", f"{SERVICE_ACCOUNT_DIR}/token")
        with open(token_file, encoding="utf-8") as f:
            token = f.read().strip()
        context = None
        if base_url.startswith("https://"):
            ca_file = os.environ.get("KUBERNETES_CA_FILE", f"{SERVICE_ACCOUNT_DIR}/ca.crt")
            context = ssl.create_default_context(cafile=ca_file)
        return cls(base_url, token, context)

    def request(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json"
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, context=self.context, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")


def ensure_secret(api: KubernetesApi, namespace: str, name: str, keys: list[str]) -> str:
    """Make sure Secret ``name`` has every key; return what was done."""
    base = f"/api/v1/namespaces/{namespace}/secrets"
    status, current = api.request("GET", f"{base}/{name}")
    if status == 404:
        data = {key: base64.b64encode(random_value().encode()).decode() for key in keys}
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": name,
                "labels": {"app.kubernetes.io/managed-by": "jupyter-constructs-secret-bootstrap"},
            },
            "type": "Opaque",
            "data": data,
        }
        status, reply = api.request("POST", base, body)
        if status == 409:  # created by a concurrent run: check it again
            return ensure_secret(api, namespace, name, keys)
        if status not in (200, 201):
            raise RuntimeError(f"creating Secret {namespace}/{name} failed: HTTP {status} {reply}")
        return f"created Secret {namespace}/{name} with keys {', '.join(keys)}"
    if status != 200:
        raise RuntimeError(f"reading Secret {namespace}/{name} failed: HTTP {status} {current}")
    missing = [key for key in keys if key not in (current.get("data") or {})]
    if not missing:
        return f"Secret {namespace}/{name} already has every key; nothing to do"
    patch = {"data": {key: base64.b64encode(random_value().encode()).decode() for key in missing}}
    status, reply = api.request(
        "PATCH", f"{base}/{name}", patch, content_type="application/merge-patch+json"
    )
    if status != 200:
        raise RuntimeError(f"patching Secret {namespace}/{name} failed: HTTP {status} {reply}")
    return f"added missing keys {', '.join(missing)} to Secret {namespace}/{name}"


def main() -> int:
    name = os.environ["SECRET_NAME"]
    namespace = os.environ["POD_NAMESPACE"]
    keys = [key.strip() for key in os.environ["SECRET_KEYS"].split(",") if key.strip()]
    print(ensure_secret(KubernetesApi.in_cluster(), namespace, name, keys), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
