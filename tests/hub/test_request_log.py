"""The hub's request log keeps Cloudflare Access credentials out (issue 16, secrets).

For a failed request (5xx) JupyterHub logs every request header, masking only
``Authorization`` and cookie values (``jupyterhub/log.py``, ``log_request``). Behind
Cloudflare Access every request carries the visitor's signed token in
``Cf-Access-Jwt-Assertion`` (service tokens: ``Cf-Access-Client-Id``/``-Secret``), so one
failing request would put a working bearer credential in the hub's log, readable by whoever
reads logs. The rendered ``jupyterhub_config.py`` sets tornado's ``log_function`` to
JupyterHub's own log function with those headers masked.

The log function is taken from the real ``JupyterHub`` app loaded from the rendered config,
then runs in a real tornado server on loopback that fails a request with a 500.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest
from jupyterhub.app import JupyterHub as JupyterHubApp
from jupyterhub.log import log_request
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.web import Application, RequestHandler

from jupyter_constructs import CloudflareAccessAuth, IngressOptions
from tests.helpers import make_hub, synth, write_config_dir
from tests.real_hub import load_config

pytestmark = pytest.mark.unit

ACCESS_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJlbWFpbCI6ImJvc3NAZXhhbXBsZS5vcmcifQ.c2lnbmF0dXJl"
CLIENT_SECRET = "f00dfacecafe" * 5  # a service token's secret
HEADERS = {
    "Cf-Access-Jwt-Assertion": ACCESS_TOKEN,
    "Cf-Access-Client-Id": "0123456789abcdef.access",
    "Cf-Access-Client-Secret": CLIENT_SECRET,
    "Authorization": "token hub-api-token-value",
    "Cookie": f"CF_Authorization={ACCESS_TOKEN}; jupyterhub-session-id=abc",
    "X-Request-Marker": "kept-as-is",
}


class Fails(RequestHandler):
    def get(self) -> None:
        raise RuntimeError("a bug in a handler")


def _log_of_a_failed_request(
    log_function: Callable[[RequestHandler], Any], caplog: pytest.LogCaptureFixture
) -> str:
    async def run() -> int:
        sock, port = bind_unused_port()  # 127.0.0.1
        server = HTTPServer(Application([(r"/hub/fails", Fails)], log_function=log_function))
        server.add_sockets([sock])
        try:
            await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}/hub/fails", headers=HEADERS)
        except HTTPClientError as error:
            return error.code
        finally:
            server.stop()
        return 200

    # tornado logs the handler's traceback on tornado.application; only the access log counts.
    with caplog.at_level(logging.DEBUG, logger="tornado.access"):
        assert asyncio.run(run()) == 500
    return "\n".join(r.getMessage() for r in caplog.records if r.name == "tornado.access")


def _rendered_log_function(tmp_path: Any, **hub_options: Any) -> Callable[..., Any]:
    chart, _ = make_hub(**hub_options)
    app = JupyterHubApp(config=load_config(write_config_dir(synth(chart), tmp_path)))
    function: Callable[..., Any] = app.tornado_settings["log_function"]
    return function


def test_jupyterhubs_own_log_writes_the_access_token(caplog: pytest.LogCaptureFixture) -> None:
    """The control: without the rendered log function the token is in the log."""
    text = _log_of_a_failed_request(log_request, caplog)
    assert ACCESS_TOKEN in text and CLIENT_SECRET in text
    assert "hub-api-token-value" not in text  # what JupyterHub masks itself


def test_the_rendered_hub_masks_access_credentials_in_its_log(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    auth = CloudflareAccessAuth(
        team_domain="example.cloudflareaccess.com",
        audience="a" * 64,
        allowed_email_domains=["example.org"],
        user_servers_on_hub_host=True,
    )
    with pytest.warns(Warning):
        log_function = _rendered_log_function(
            tmp_path, auth=auth, ingress=IngressOptions(enabled=False)
        )
    text = _log_of_a_failed_request(log_function, caplog)
    assert "500 GET /hub/fails" in text
    assert ACCESS_TOKEN not in text
    assert CLIENT_SECRET not in text
    assert '"Cf-Access-Jwt-Assertion": "[secret]"' in text
    assert '"Cf-Access-Client-Secret": "[secret]"' in text
    assert '"X-Request-Marker": "kept-as-is"' in text  # every other header as before
    assert "hub-api-token-value" not in text


def test_every_rendered_hub_uses_it(tmp_path: Any) -> None:
    """OIDC hubs too: a Cloudflare Tunnel or Access in front adds the headers all the same."""
    log_function = _rendered_log_function(tmp_path)
    assert log_function is not log_request
    assert log_function.__name__ == "log_request_without_credentials"
