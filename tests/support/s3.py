"""An S3 API server on loopback: moto's ``ThreadedMotoServer``, one per test session.

It runs in a thread of the test process (no interpreter to start); clients reach it
over HTTP like any S3 endpoint. Any key pair is accepted; the fixture hands out random
ones. ``reset()`` empties every bucket between tests.
"""

from __future__ import annotations

import secrets
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.support.process import LOOPBACK, require_distribution

#: moto, as pinned in requirements-dev.txt.
VERSION = "5.2.5"


@dataclass(frozen=True)
class S3:
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def env(self, bucket: str | None = None) -> dict[str, str]:
        """The variables an s3 binding sets."""
        env = {
            "S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "S3_VERIFY_TLS": "false",
        }
        if bucket:
            env["S3_BUCKET"] = bucket
        return env

    def reset(self) -> None:
        """Forget every bucket and object (moto's reset API)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200


@contextmanager
def moto_s3_server() -> Iterator[S3]:
    """Start moto's server on a free loopback port; stop it afterwards."""
    require_distribution("moto", VERSION)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3(f"http://{host}:{port}", secrets.token_hex(8), secrets.token_hex(16))
    finally:
        server.stop()
