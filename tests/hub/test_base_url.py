"""A hub served under a path (``base_url``, issue 14): every rendered URL follows it.

Rendered side: the probes, the proxy's error target, the Ingress path, the culler's API
URL, the metrics path, the OAuth callback. Real side: the generated config runs in a
real JupyterHub behind the real configurable-http-proxy started with the rendered error
target, and each of those URLs is requested for real.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from jupyter_constructs import ConfigurationError, ObservabilityBundle
from tests.helpers import find, make_hub, pod_spec, proxy_options, synth, write_config_dir
from tests.support.hub import hub_process

BASE = "/jupyter/"


def _rendered(**options):
    chart, hub = make_hub(base_url=BASE, **options)
    return synth(chart), hub


def test_every_rendered_url_is_under_the_base_url():
    chart, hub = make_hub(base_url=BASE)
    ObservabilityBundle(chart, "obs", hub=hub)
    objects = synth(chart)
    container = pod_spec(find(objects, "Deployment", "hub"))["containers"][0]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] == "/jupyter/hub/health"
    proxy = pod_spec(find(objects, "Deployment", "proxy"))["containers"][0]
    assert "--error-target=http://hub:8081/jupyter/hub/error" in proxy["command"]
    paths = find(objects, "Ingress", "jupyterhub")["spec"]["rules"][0]["http"]["paths"]
    assert [(p["path"], p["pathType"]) for p in paths] == [("/jupyter", "Prefix")]
    settings = json.loads(find(objects, "ConfigMap", "hub-config")["data"]["hub_config.json"])
    traits = settings["traits"]
    assert traits["JupyterHub"]["base_url"] == BASE
    culler = next(s for s in traits["JupyterHub"]["services"] if s["name"] == "idle-culler")
    assert "--url=http://localhost:8081/jupyter/hub/api" in culler["command"]
    assert culler["environment"]["JUPYTERHUB_API_URL"] == "http://localhost:8081/jupyter/hub/api"
    assert (
        traits["GenericOAuthenticator"]["oauth_callback_url"]
        == "https://jupyter.example.com/jupyter/hub/oauth_callback"
    )
    [monitor] = [o for o in objects if o["kind"] == "ServiceMonitor"]
    assert monitor["spec"]["endpoints"][0]["path"] == "/jupyter/hub/metrics"


def test_the_default_stays_at_the_root():
    chart, hub = make_hub()
    objects = synth(chart)
    assert hub.base_url == "/"
    paths = find(objects, "Ingress", "jupyterhub")["spec"]["rules"][0]["http"]["paths"]
    assert paths[0]["path"] == "/"
    container = pod_spec(find(objects, "Deployment", "hub"))["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/hub/health"


@pytest.mark.parametrize(
    "value", ["jupyter/", "/jupyter", "/a b/", "/../", "", "/ju?p/", 5, "/jupyter/\n"]
)
def test_a_malformed_base_url_is_refused(value):
    with pytest.raises(ConfigurationError) as err:
        make_hub(base_url=value)
    assert str(err.value).startswith(f"test/hub: invalid base_url {value!r}.")
    assert "Fix: " in str(err.value)


@pytest.mark.integration
def test_a_real_hub_and_proxy_serve_everything_under_the_base_url(tmp_path):
    objects, hub_construct = _rendered()
    write_config_dir(objects, tmp_path)
    proxy_command = pod_spec(find(objects, "Deployment", "proxy"))["containers"][0]["command"]
    rendered_error_target = next(a for a in proxy_command if a.startswith("--error-target="))
    # The local proxy gets the same error path (start_hub: <base_url>hub/error).
    error_path = urlparse(rendered_error_target.split("=", 1)[1]).path
    assert error_path == f"{BASE}hub/error"
    container = pod_spec(find(objects, "Deployment", "hub"))["containers"][0]
    probe_path = container["readinessProbe"]["httpGet"]["path"]
    with hub_process(
        tmp_path,
        base_url=BASE,
        admin_scopes=["admin:users", "read:metrics", "proxy"],
        **proxy_options(objects),
    ) as hub:
        public = hub.public_url
        # The API and the login page through the proxy, under the path.
        assert requests.get(f"{public}/jupyter/hub/api", timeout=10).status_code == 200
        login = requests.get(f"{public}/jupyter/hub/login", timeout=10)
        assert login.status_code == 200 and "single sign-on" in login.text
        # The OAuth redirect names the callback under the path.
        start = requests.get(f"{public}/jupyter/hub/oauth_login", allow_redirects=False, timeout=10)
        assert start.status_code == 302
        redirect_uri = parse_qs(urlparse(start.headers["Location"]).query)["redirect_uri"][0]
        assert redirect_uri == "https://jupyter.example.com/jupyter/hub/oauth_callback"
        # The kubelet's probe, straight at the hub's port.
        assert requests.get(f"{hub.hub_url}{probe_path}", timeout=10).status_code == 200
        # The culler's and hub services' URL (the pod's loopback = the hub's port here).
        loopback = hub_construct.loopback_api_url.replace("http://localhost:8081", hub.hub_url)
        assert requests.get(loopback, timeout=10).status_code == 200
        # The metrics path the ServiceMonitor scrapes, with a read:metrics token.
        metrics = requests.get(
            f"{hub.hub_url}{hub_construct.metrics_path}",
            headers={"Authorization": f"token {hub.admin_token}"},
            timeout=10,
        )
        assert metrics.status_code == 200 and "jupyterhub_" in metrics.text
        # The proxy's error target: a route whose server is gone gets the hub's error
        # page (served at the rendered error path), not the proxy's bare 503.
        route = "/jupyter/user/ghost"
        added = requests.post(
            f"{hub.proxy.api_url}/api/routes{route}",
            headers={"Authorization": f"token {hub.proxy.auth_token}"},
            json={"target": "http://127.0.0.1:9"},
            timeout=10,
        )
        assert added.status_code == 201
        gone = requests.get(f"{public}{route}/lab", timeout=10)
        assert gone.status_code == 503
        assert "JupyterHub" in gone.text
        log = (tmp_path / "jupyterhub.log").read_text()
        assert f"{error_path}/503" in log
        # Outside the path the hub serves nothing of its own.
        assert requests.get(f"{public}/hub/api", timeout=10).status_code == 404
