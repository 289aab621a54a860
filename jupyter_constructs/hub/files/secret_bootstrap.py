"""Fill the hub's Secret(s) with random values in the cluster, once; never change a good value.

Runs as a Job in the hub image before the hub starts (stdlib only). The Secret holds
random values that must never be in git: the cookie secret, the crypt key, the proxy
auth token and the metrics scrape token. For each Secret, on every run, it:

- fills the keys that are missing, and replaces values too short to be secrets (below),
  leaving every other value untouched;
- does nothing when every key holds a long enough value;
- creates the Secret with every key when it is absent, if ``CREATE_SECRET`` allows it.
  When the product renders the (empty) Secret object itself, ``CREATE_SECRET`` is ``false`` and
  the Job's Role needs only ``get`` and ``patch`` on that one name.

Concurrency: every write is conditional on the ``resourceVersion`` just read (a JSON merge
patch carrying ``metadata.resourceVersion``, which the API server turns into a precondition
and answers 409 Conflict when the object changed). On a conflict the run reads the Secret
again and decides again, so two runs racing on a new Secret agree on one value: the loser
finds the winner's value and keeps it. Retries (409, 429, 5xx, connection errors) are
bounded: ``BOOTSTRAP_MAX_ATTEMPTS`` reads (default 8), with exponential backoff between
them starting at ``BOOTSTRAP_BACKOFF_SECONDS`` (default 0.5 s, doubling, at most 8 s, with
jitter): about 32 s in the worst case. Any other answer (401, 403, 422, ...) fails at once.

Minimum length of a value, in bytes of the stored value (a shorter one is replaced, which
logs everybody out for the cookie secret and is harmless for the others: the hub cannot run
with a crypt key that short, and the proxy token and metrics token are read at start):

- ``cookie-secret``: 64 (JupyterHub decodes it as hex and wants 32 bytes);
- ``crypt-key``: 44 (a 32-byte key in URL-safe base64, the shortest form JupyterHub accepts;
  64 in hex);
- ``proxy-token``, ``metrics-api-token`` and any other key: 32.

New values are 32 random bytes as 64 hex characters (``secrets.token_hex(32)``).

Settings come from env: ``POD_NAMESPACE``; either ``SECRETS`` (JSON object: Secret name to
list of keys, for several Secrets) or ``SECRET_NAME`` with ``SECRET_KEYS`` (comma-separated);
``CREATE_SECRET`` (``true`` default, or ``false``); ``BOOTSTRAP_MAX_ATTEMPTS``;
``BOOTSTRAP_BACKOFF_SECONDS``; ``KUBERNETES_API_URL`` (default: the in-cluster API server),
``KUBERNETES_TOKEN_FILE`` and ``KUBERNETES_CA_FILE`` (default: the pod's service account).
No secret value is ever printed.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import random
import secrets
import ssl
import sys
import time
import urllib.error
import urllib.request
from typing import Any

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
MANAGED_BY = "jupyter-constructs-secret-bootstrap"

#: Shortest acceptable value per key, in bytes; other keys need DEFAULT_MIN_LENGTH.
MIN_LENGTH = {"cookie-secret": 64, "crypt-key": 44, "proxy-token": 32, "metrics-api-token": 32}
DEFAULT_MIN_LENGTH = 32

#: Answers worth another read after a pause: conflicts, throttling, a busy or restarting
#: API server (0 is a connection error or timeout).
RETRYABLE = {0, 409, 429, 500, 502, 503, 504}
MAX_BACKOFF_SECONDS = 8.0


class BootstrapError(Exception):
    """A failure this run cannot fix by trying again; the message says what to do."""


def random_value() -> str:
    """32 random bytes as hex: accepted by JupyterHub for cookie secret, crypt key and tokens."""
    return secrets.token_hex(32)


def min_length(key: str) -> int:
    return MIN_LENGTH.get(key, DEFAULT_MIN_LENGTH)


def stored_length(encoded: object) -> int:
    """Length in bytes of a Secret ``data`` value (base64); -1 when it is not base64."""
    if not isinstance(encoded, str):
        return -1
    try:
        return len(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        return -1


class KubernetesApi:
    """The Secret calls we need, over HTTPS with the pod's service account token."""

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
        """``(status, decoded JSON answer)``; status 0 when the server could not be reached."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, context=self.context, timeout=30) as resp:
                return resp.status, _json(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, _json(err.read())
        except (urllib.error.URLError, OSError) as err:
            return 0, {"message": f"cannot reach the API server: {err}"}


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return {"message": raw[:200].decode("utf-8", "replace")}


def _why(reply: Any) -> str:
    """The API server's reason for an answer, without echoing any request body."""
    if isinstance(reply, dict):
        return str(reply.get("message") or reply.get("reason") or "")[:300]
    return ""


class Attempts:
    """At most ``limit`` tries, sleeping with exponential backoff and jitter between them."""

    def __init__(self, limit: int, backoff: float) -> None:
        self.limit = max(1, limit)
        self.backoff = max(0.0, backoff)
        self.done = 0

    def next(self) -> bool:
        """Pause before the next try (none before the first); False when none is left."""
        if self.done >= self.limit:
            return False
        if self.done:
            delay = min(MAX_BACKOFF_SECONDS, self.backoff * 2 ** (self.done - 1))
            time.sleep(delay * random.uniform(0.8, 1.0))
        self.done += 1
        return True


def ensure_secret(
    api: KubernetesApi,
    namespace: str,
    name: str,
    keys: list[str],
    *,
    create: bool = True,
    attempts: Attempts | None = None,
) -> str:
    """Make sure Secret ``name`` holds a long enough value for every key; return what was done.

    Raises:
        BootstrapError: the API refused in a way another try cannot fix, or every try failed.
    """
    attempts = attempts or Attempts(8, 0.5)
    where = f"Secret {namespace}/{name}"
    base = f"/api/v1/namespaces/{namespace}/secrets"
    last = "no attempt made"
    while attempts.next():
        status, current = api.request("GET", f"{base}/{name}")
        if status == 404:
            if not create:
                raise BootstrapError(
                    f"{where} does not exist and CREATE_SECRET is false: it is rendered "
                    "with the hub's manifests; sync them (the Job's Role cannot create it)"
                )
            body = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": MANAGED_BY}},
                "type": "Opaque",
                "data": {key: _encoded(random_value()) for key in keys},
            }
            status, reply = api.request("POST", base, body)
            if status in (200, 201):
                version = (reply or {}).get("metadata", {}).get("resourceVersion", "?")
                return f"created {where} with keys {', '.join(keys)} (resourceVersion {version})"
            what = "creating"
        elif status == 200:
            data = current.get("data") or {}
            version = current.get("metadata", {}).get("resourceVersion")
            missing = [key for key in keys if key not in data]
            short = [k for k in keys if k in data and stored_length(data[k]) < min_length(k)]
            if not missing and not short:
                return f"{where} already has every key; nothing to do (resourceVersion {version})"
            if not version:
                raise BootstrapError(f"{where} has no resourceVersion; cannot update it safely")
            patch = {
                # The precondition: the API server refuses the patch (409) if the Secret
                # changed since we read it, e.g. because another run filled it first.
                "metadata": {"resourceVersion": version},
                "data": {key: _encoded(random_value()) for key in missing + short},
            }
            status, reply = api.request(
                "PATCH", f"{base}/{name}", patch, content_type="application/merge-patch+json"
            )
            if status == 200:
                done = []
                if missing:
                    done.append(f"added missing keys {', '.join(missing)}")
                if short:
                    done.append(f"replaced too-short values of {', '.join(short)}")
                version = (reply or {}).get("metadata", {}).get("resourceVersion", "?")
                return f"{' and '.join(done)} in {where} (resourceVersion {version})"
            if status == 404:  # deleted since we read it: start over
                status = 409
            what = "updating"
        else:
            what, reply = "reading", current
        last = f"{what} {where} failed: HTTP {status} {_why(reply)}"
        if status not in RETRYABLE:
            raise BootstrapError(last + _hint(status))
        print(f"{last}; trying again", file=sys.stderr, flush=True)
    raise BootstrapError(f"gave up on {where} after {attempts.done} attempts; last: {last}")


def _encoded(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _hint(status: int) -> str:
    if status in (401, 403):
        return " (check the Job's ServiceAccount and its Role: get and patch on this Secret)"
    return ""


def secrets_to_ensure(env: dict[str, str]) -> dict[str, list[str]]:
    """Secret name to keys, from ``SECRETS`` (JSON) or ``SECRET_NAME`` and ``SECRET_KEYS``."""
    if env.get("SECRETS"):
        wanted = json.loads(env["SECRETS"])
        if not isinstance(wanted, dict) or not all(
            isinstance(keys, list) and all(isinstance(k, str) and k for k in keys)
            for keys in wanted.values()
        ):
            raise BootstrapError('SECRETS must be a JSON object {"secret-name": ["key", ...]}')
        return {str(name): list(keys) for name, keys in wanted.items()}
    keys = [key.strip() for key in env["SECRET_KEYS"].split(",") if key.strip()]
    return {env["SECRET_NAME"]: keys}


def main() -> int:
    env = dict(os.environ)
    create = env.get("CREATE_SECRET", "true").strip().lower() != "false"
    try:
        wanted = secrets_to_ensure(env)
        api = KubernetesApi.in_cluster()
        for name, keys in wanted.items():
            attempts = Attempts(
                int(env.get("BOOTSTRAP_MAX_ATTEMPTS", "8")),
                float(env.get("BOOTSTRAP_BACKOFF_SECONDS", "0.5")),
            )
            done = ensure_secret(
                api, env["POD_NAMESPACE"], name, keys, create=create, attempts=attempts
            )
            print(done, flush=True)
    except BootstrapError as e:
        print(f"secret bootstrap failed: {e}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
