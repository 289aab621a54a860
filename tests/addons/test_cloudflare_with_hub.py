"""CloudflareAccessAuth and CloudflareTunnel composed with the real JupyterHub construct."""

from __future__ import annotations

import importlib
import sys

import yaml

from jupyter_constructs import CloudflareAccessAuth, CloudflareTunnel, IngressOptions, SecretRef
from tests.helpers import find, make_hub, synth, write_config_dir
from tests.real_hub import load_config, unknown_traits

AUD = "4714c1358e65fe4b408ad6d432a5f878f08194bdb6752f58df2b6ff7cc6b7c7e"


USERS_AUD = "0f1e2d3c4b5a" * 5 + "6978"


def _hub():
    return make_hub(
        auth=CloudflareAccessAuth(
            team_domain="acme.cloudflareaccess.com",
            audience=AUD,
            allowed_email_domains=["example.com"],
            admin_users=["admin@example.com"],
            user_server_domain="jupyter-users.example.com",
            user_server_audience=USERS_AUD,
        ),
        # Header sign-in: the hub is reached through Cloudflare only (a tunnel).
        ingress=IngressOptions(enabled=False),
    )


def test_hub_config_loads_the_shipped_authenticator_into_the_real_classes(tmp_path):
    chart, _ = _hub()
    objects = synth(chart)
    config_map = find(objects, "ConfigMap", "hub-config")
    assert "cloudflare_access.py" in config_map["data"]
    config_file = write_config_dir(objects, tmp_path)
    config = load_config(config_file)
    assert config.JupyterHub.authenticator_class == (
        "cloudflare_access.CloudflareAccessAuthenticator"
    )
    # The config puts its own folder on sys.path, so the hub imports the module from the
    # ConfigMap (not from this package).
    sys.modules.pop("cloudflare_access", None)
    sys.modules.pop("cloudflare_access_names", None)
    module = importlib.import_module("cloudflare_access")
    try:
        assert module.__file__ == str(tmp_path / "cloudflare_access.py")
        classes = {"CloudflareAccessAuthenticator": module.CloudflareAccessAuthenticator}
        assert unknown_traits(config, classes) == []
        authenticator = module.CloudflareAccessAuthenticator(config=config)
        assert authenticator.audience == AUD
        assert authenticator.team_domain == "acme.cloudflareaccess.com"
        assert authenticator.user_server_audience == USERS_AUD
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("cloudflare_access", None)
        sys.modules.pop("cloudflare_access_names", None)


def test_tunnel_routes_the_real_hubs_domain_to_its_proxy_public_service():
    chart, hub = _hub()
    CloudflareTunnel(chart, "tunnel", hub=hub, tunnel_token=SecretRef("cloudflared", "token"))
    objects = synth(chart)
    config_maps = [o for o in objects if o["kind"] == "ConfigMap" and "config.yaml" in o["data"]]
    (config_map,) = config_maps
    config = yaml.safe_load(config_map["data"]["config.yaml"])
    assert config["ingress"][0] == {
        "hostname": hub.domain,
        "service": "http://proxy-public.jupyter.svc.cluster.local:80",
    }
    assert config["ingress"][-1] == {"service": "http_status:404"}
    # The Service the tunnel points at exists, on that port.
    service = find(objects, "Service", "proxy-public")
    assert [p["port"] for p in service["spec"]["ports"]] == [80]
