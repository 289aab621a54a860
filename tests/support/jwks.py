"""A JSON Web Key Set on loopback, as Cloudflare Access serves it (pytest-httpserver).

``GET /cdn-cgi/access/certs`` answers ``{"keys": [...]}`` with the keys set last; the
server records every request, so a test can count the fetches. ``set_answer(status,
body)`` replaces that answer by any status and bytes (a broken or misbehaving key
endpoint) until the next ``set_keys``.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support.process import LOOPBACK

PATH = "/cdn-cgi/access/certs"


class Jwks:
    def __init__(self) -> None:
        self._keys: list[dict[str, Any]] = []
        self._answer: tuple[int, bytes] | None = None
        self._fetches = 0
        self._lock = threading.Lock()
        self._server = HTTPServer(host=LOOPBACK, port=0, threaded=True)
        self._server.expect_request(PATH, method="GET").respond_with_handler(self._serve)

    def _serve(self, request: Request) -> Response:
        with self._lock:
            self._fetches += 1
            if self._answer is not None:
                status, body = self._answer
                return Response(body, status=status, content_type="application/json")
            return Response(json.dumps({"keys": self._keys}), content_type="application/json")

    @property
    def url(self) -> str:
        return str(self._server.url_for(PATH))

    def set_keys(self, keys: list[dict[str, Any]]) -> None:
        with self._lock:
            self._keys = list(keys)
            self._answer = None

    def set_answer(self, status: int, body: bytes) -> None:
        with self._lock:
            self._answer = (status, body)

    def fetch_count(self) -> int:
        with self._lock:
            return self._fetches

    def start(self) -> Jwks:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.clear()
        self._server.stop()
