"""A local stand-in for the Kubernetes Secret API that records every request.

It speaks the part of the API the secret bootstrap script uses, with the API server's
semantics: ``resourceVersion`` bumped on every write, ``GET`` 404 for an absent Secret,
``POST`` 409 ``AlreadyExists``, JSON merge ``PATCH`` honouring ``metadata.resourceVersion``
as a precondition (409 ``Conflict`` when it is stale, as controller-runtime's
``MergeFromWithOptimisticLock`` relies on), ``null`` deleting a key, answers as ``Status``
objects. RBAC is modelled as a set of allowed ``(verb, name)`` pairs, ``name`` None meaning
any Secret (as Kubernetes cannot limit ``create`` by name), checked after the bearer token.

Test levers: ``hold_gets(n)`` holds the answers of the next ``n`` GETs until all of them
are answered (so concurrent runs read the same version before either writes), and
``force(method, status)`` makes every request of a method answer that status (to replay
a broken server).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NAMESPACE = "jupyter"
TOKEN = "service-account-token"
BASE = f"/api/v1/namespaces/{NAMESPACE}/secrets"


@dataclass
class Call:
    """One request as the server saw it, and its answer."""

    at: float
    method: str
    path: str
    status: int
    body: Any = None
    content_type: str | None = None


@dataclass
class FakeSecretApi:
    """State of the fake API: Secrets by name, the RBAC rules, and the recorded calls."""

    allowed: set[tuple[str, str | None]] = field(default_factory=set)
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    version: int = 100
    forced: dict[str, int] = field(default_factory=dict)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _barrier: threading.Barrier | None = None
    _held: int = 0

    # -- set-up ------------------------------------------------------------------------

    def put(self, name: str, data: dict[str, str] | None) -> None:
        """Store a Secret as if it were applied from manifests (``data`` None: no data)."""
        with self._lock:
            self.version += 1
            obj: dict[str, Any] = {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {
                    "name": name,
                    "namespace": NAMESPACE,
                    "resourceVersion": str(self.version),
                },
            }
            if data is not None:
                obj["data"] = dict(data)
            self.secrets[name] = obj

    def hold_gets(self, parties: int) -> None:
        """The next ``parties`` GETs are answered, then held (at most 60 s) until all are."""
        self._barrier = threading.Barrier(parties, timeout=60)
        self._held = parties

    def force(self, method: str, status: int) -> None:
        self.forced[method] = status

    # -- reading the record -------------------------------------------------------------

    def writes(self, status: int | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method in ("POST", "PATCH", "PUT") and (status is None or c.status == status)
        ]

    def data(self, name: str) -> dict[str, str]:
        return dict(self.secrets[name].get("data") or {})

    # -- the API ------------------------------------------------------------------------

    def _status(self, code: int, reason: str, message: str) -> dict[str, Any]:
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }

    def handle(self, method: str, path: str, headers: Any, body: Any) -> tuple[int, dict[str, Any]]:
        with self._lock:
            status, answer = self._handle(method, path, headers, body)
            self.calls.append(
                Call(time.monotonic(), method, path, status, body, headers.get("Content-Type"))
            )
            hold = method == "GET" and self._barrier is not None and self._held > 0
            if hold:
                self._held -= 1
        if hold and self._barrier is not None:
            # Answered, but not sent until every held GET has been answered too: all of
            # them then carry the same version, whatever order the clients write in.
            self._barrier.wait()
        return status, answer

    def _handle(
        self, method: str, path: str, headers: Any, body: Any
    ) -> tuple[int, dict[str, Any]]:
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, self._status(401, "Unauthorized", "Unauthorized")
        if method in self.forced:
            code = self.forced[method]
            reason = {409: "AlreadyExists" if method == "POST" else "Conflict"}.get(code, "Forced")
            return code, self._status(code, reason, f"forced {code} for {method}")
        if not path.startswith(BASE):
            return 404, self._status(404, "NotFound", "the server could not find the resource")
        name = path[len(BASE) :].lstrip("/") or None
        verb = {"GET": "get", "POST": "create", "PATCH": "patch", "PUT": "update"}[method]
        target = body.get("metadata", {}).get("name") if method == "POST" else name
        if (verb, target) not in self.allowed and (verb, None) not in self.allowed:
            return 403, self._status(
                403,
                "Forbidden",
                f'secrets "{target}" is forbidden: cannot {verb} resource "secrets"',
            )
        if method == "GET":
            if name not in self.secrets:
                return 404, self._status(404, "NotFound", f'secrets "{name}" not found')
            return 200, json.loads(json.dumps(self.secrets[name]))
        if method == "POST":
            new = body["metadata"]["name"]
            if new in self.secrets:
                return 409, self._status(409, "AlreadyExists", f'secrets "{new}" already exists')
            self.version += 1
            obj = json.loads(json.dumps(body))
            obj["metadata"].update(namespace=NAMESPACE, resourceVersion=str(self.version))
            self.secrets[new] = obj
            return 201, json.loads(json.dumps(obj))
        if method == "PATCH":
            if headers.get("Content-Type") != "application/merge-patch+json":
                return 415, self._status(415, "UnsupportedMediaType", "unsupported patch type")
            if name not in self.secrets:
                return 404, self._status(404, "NotFound", f'secrets "{name}" not found')
            obj = self.secrets[name]
            wanted = (body.get("metadata") or {}).get("resourceVersion")
            if wanted is not None and wanted != obj["metadata"]["resourceVersion"]:
                return 409, self._status(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on secrets "{name}": the object has been '
                    "modified; please apply your changes to the latest version and try again",
                )
            data = obj.setdefault("data", {})
            for key, value in (body.get("data") or {}).items():
                if value is None:
                    data.pop(key, None)
                else:
                    data[key] = value
            self.version += 1
            obj["metadata"]["resourceVersion"] = str(self.version)
            return 200, json.loads(json.dumps(obj))
        return 405, self._status(405, "MethodNotAllowed", method)


@contextmanager
def serve(api: FakeSecretApi) -> Iterator[FakeSecretApi]:
    """Run ``api`` on a loopback port for the block; ``api.url`` is its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            status, answer = api.handle(self.command, self.path, self.headers, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
