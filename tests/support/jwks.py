"""A JSON Web Key Set on loopback, as Cloudflare Access serves it (pytest-httpserver).

``GET /cdn-cgi/access/certs`` answers ``{"keys": [...]}`` with the keys set last; the
server records every request, so a test can count the fetches.
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
        self._fetches = 0
        self._lock = threading.Lock()
        self._server = HTTPServer(host=LOOPBACK, port=0, threaded=True)
        self._server.expect_request(PATH, method="GET").respond_with_handler(self._serve)

    def _serve(self, request: Request) -> Response:
        with self._lock:
            self._fetches += 1
            return Response(json.dumps({"keys": self._keys}), content_type="application/json")

    @property
    def url(self) -> str:
        return str(self._server.url_for(PATH))

    def set_keys(self, keys: list[dict[str, Any]]) -> None:
        with self._lock:
            self._keys = list(keys)

    def fetch_count(self) -> int:
        with self._lock:
            return self._fetches

    def start(self) -> Jwks:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.clear()
        self._server.stop()
