"""CloudflareAccessAuth (settings rendered for the hub) and CloudflareTunnel (manifests)."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import cdk8s
import kubernetes_validate
import pytest
import yaml
from syrupy.assertion import SnapshotAssertion

from jupyter_constructs import IngressOptions, JupyterHub, NetworkOptions
from jupyter_constructs.addons.signin.cloudflare_access import CloudflareAccessAuth
from jupyter_constructs.addons.tunnel import CLOUDFLARED_IMAGE, CloudflareTunnel
from jupyter_constructs.core.errors import ConfigurationError, ConfigurationWarning
from jupyter_constructs.core.secrets import SecretRef
from tests.helpers import oidc_auth
from tests.support.cloudflare import load_authenticator

TEAM = "acme.cloudflareaccess.com"
AUD = "4714c1358e65fe4b408ad6d432a5f878f08194bdb6752f58df2b6ff7cc6b7c7e"
KUBERNETES_VERSIONS = ["1.27", kubernetes_validate.latest_version()]


USERS_DOMAIN = "jupyter-users.example.com"
USERS_AUD = "9a0c3e5d7f1b" * 5 + "2468"
#: The layout CloudflareAccessAuth requires: user servers on hosts of their own.
LAYOUT = {"user_server_domain": USERS_DOMAIN, "user_server_audience": USERS_AUD}


def access_auth(**options: Any) -> CloudflareAccessAuth:
    """CloudflareAccessAuth with the user-server layout unless the test gives its own."""
    if "user_servers_on_hub_host" not in options:
        options = {**LAYOUT, **options}
    return CloudflareAccessAuth(**options)


def render(auth: CloudflareAccessAuth) -> Any:
    return auth.settings(cdk8s.Testing.chart(), domain="jupyter.example.com")


def _hub_file(name: str) -> str:
    return resources.files("jupyter_constructs.hub.files").joinpath(name).read_text("utf-8")


def _hub_module(directory: Path) -> Any:
    """The shipped hub module, imported from ``directory`` as the hub imports it."""
    settings = render(access_auth(team_domain=TEAM, audience=AUD, allow_all=True))
    return load_authenticator(settings, directory)


# --- CloudflareAccessAuth ---------------------------------------------------------------


def test_settings_render_the_authenticator_traits_and_module() -> None:
    settings = render(
        access_auth(
            team_domain=TEAM,
            audience=AUD,
            allowed_emails=[" Bob@Example.com", "alice@example.com"],
            allowed_email_domains=["Example.ORG", "@corp.example"],
            allowed_groups=["data-science"],
            admin_users=["Admin@Example.com"],
        )
    )
    assert settings.authenticator_class == "cloudflare_access.CloudflareAccessAuthenticator"
    assert settings.traits == {
        "CloudflareAccessAuthenticator": {
            "team_domain": TEAM,
            "audience": AUD,
            "allow_all": False,
            "allow_existing_users": False,
            "allow_service_tokens": False,
            "allowed_users": ["alice@example.com", "bob@example.com"],
            "allowed_email_domains": ["corp.example", "example.org"],
            "allowed_groups": ["data-science"],
            "admin_users": ["admin@example.com"],
            "user_server_audience": USERS_AUD,
        }
    }
    assert settings.secret_env == {}
    assert settings.needs_internet_egress is True
    assert settings.user_server_domain == USERS_DOMAIN
    assert settings.front_door == "Cloudflare"
    assert settings.other_entry_points_accepted is False


def test_settings_ship_the_hub_module_verbatim_and_it_defines_the_class() -> None:
    settings = render(access_auth(team_domain=TEAM, audience=AUD, allow_all=True))
    assert settings.files == {
        "cloudflare_access.py": _hub_file("cloudflare_access.py"),
        "cloudflare_access_names.py": _hub_file("cloudflare_access_names.py"),
    }
    module_name, class_name = settings.authenticator_class.split(".")
    assert f"{module_name}.py" in settings.files
    tree = ast.parse(settings.files[f"{module_name}.py"])
    assert class_name in {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    # The module runs inside the hub image, which does not have this library.
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert "jupyter_constructs" not in imported
    assert imported <= {
        "__future__", "asyncio", "json", "re", "time", "typing", "urllib", "jwt", "jupyterhub",
        "tornado", "traitlets", "cloudflare_access_names",
    }  # fmt: skip
    # The username rules it imports: the standard library only (the construct imports them).
    names = ast.parse(settings.files["cloudflare_access_names.py"])
    assert {
        node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
        for node in ast.walk(names)
        if isinstance(node, ast.Import | ast.ImportFrom)
    } <= {"__future__", "re"}


def test_settings_load_into_the_real_authenticator_class(tmp_path: Path) -> None:
    settings = render(
        access_auth(
            team_domain=TEAM,
            audience=AUD,
            allowed_email_domains=["example.org"],
            allow_service_tokens=True,
            jwks_url="http://127.0.0.1:9/certs",
        )
    )
    cls = load_authenticator(settings, tmp_path).CloudflareAccessAuthenticator
    traits = settings.traits["CloudflareAccessAuthenticator"]
    assert set(traits) <= set(cls.class_trait_names(config=True))
    from traitlets.config import Config

    config = Config({"CloudflareAccessAuthenticator": traits})
    authenticator = cls(config=config)
    assert authenticator.jwks_url == "http://127.0.0.1:9/certs"
    assert authenticator.allowed_email_domains == {"example.org"}
    assert authenticator.allow_service_tokens is True
    assert authenticator.auto_login is True
    assert authenticator.issuer == f"https://{TEAM}"
    assert authenticator.user_server_audience == USERS_AUD


def test_hub_module_defaults(tmp_path: Path) -> None:
    cls = _hub_module(tmp_path).CloudflareAccessAuthenticator
    authenticator = cls(team_domain=TEAM, audience=AUD)
    assert authenticator.jwks_url == f"https://{TEAM}/cdn-cgi/access/certs"
    assert authenticator.leeway == 30.0
    assert authenticator.allow_service_tokens is False
    assert authenticator.allow_all is False
    assert authenticator.jwks_refetch_interval == 60.0
    assert authenticator.jwks_max_age == 3600.0
    assert authenticator.auth_refresh_age == 1
    assert authenticator.auto_login is True
    assert authenticator.user_server_audience == ""
    assert all(
        cls.class_traits()[name].metadata.get("config")
        for name in (
            "team_domain", "audience", "user_server_audience", "jwks_url", "leeway",
            "jwks_refetch_interval",
            "jwks_max_age", "jwks_timeout", "allowed_email_domains", "allowed_groups",
            "allow_service_tokens", "auto_login",
        )
    )  # fmt: skip


def test_hub_module_refuses_to_start_without_team_domain_or_audience(tmp_path: Path) -> None:
    cls = _hub_module(tmp_path).CloudflareAccessAuthenticator
    message = (
        "CloudflareAccessAuthenticator needs team_domain (<team>.cloudflareaccess.com) "
        "and audience (the Access application's AUD tag)"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        cls(team_domain=TEAM)
    with pytest.raises(ValueError, match=re.escape(message)):
        cls(audience=AUD)


def test_jwks_url_and_service_tokens_are_passed_through() -> None:
    traits = render(
        access_auth(
            team_domain=TEAM,
            audience=AUD,
            allowed_emails=["svc-1234.access"],
            allow_service_tokens=True,
            jwks_url="http://127.0.0.1:8080/certs",
        )
    ).traits["CloudflareAccessAuthenticator"]
    assert traits["jwks_url"] == "http://127.0.0.1:8080/certs"
    assert traits["allow_service_tokens"] is True
    assert traits["allowed_users"] == ["svc-1234.access"]


def test_allow_all_alone_is_an_allow_rule() -> None:
    traits = render(access_auth(team_domain=TEAM, audience=AUD, allow_all=True)).traits
    assert traits["CloudflareAccessAuthenticator"]["allow_all"] is True
    assert "jwks_url" not in traits["CloudflareAccessAuthenticator"]


def test_fails_when_no_allow_rule_is_given() -> None:
    with pytest.raises(ConfigurationError) as error:
        render(access_auth(team_domain=TEAM, audience=AUD))
    assert str(error.value) == (
        "test: invalid CloudflareAccessAuth allow rule 'nobody'. Allowed: allowed_emails, "
        "allowed_email_domains, allowed_groups, admin_users, or allow_all=True. Fix: say who "
        "may sign in; allow_all=True only when the Cloudflare Access policy alone should decide"
    )


@pytest.mark.parametrize(
    "team_domain",
    [
        "https://acme.cloudflareaccess.com",
        "acme.example.com",
        "Acme.cloudflareaccess.com",
        "cloudflareaccess.com",
        "acme.cloudflareaccess.com/",
        "",
    ],
)
def test_fails_when_team_domain_is_not_a_cloudflareaccess_host(team_domain: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        render(access_auth(team_domain=team_domain, audience=AUD, allow_all=True))
    assert str(error.value) == (
        f"test: invalid CloudflareAccessAuth.team_domain {team_domain!r}. Allowed: "
        "'<team>.cloudflareaccess.com', lowercase, no scheme or path. Fix: copy the team "
        "domain from Cloudflare Zero Trust > Settings > Custom pages"
    )


@pytest.mark.parametrize("audience", ["", "   "])
def test_fails_when_audience_is_empty(audience: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        render(access_auth(team_domain=TEAM, audience=audience, allow_all=True))
    assert str(error.value) == (
        f"test: invalid CloudflareAccessAuth.audience {audience!r}. Allowed: the non-empty "
        "Application Audience (AUD) tag of the Access application. Fix: copy the AUD tag from "
        "Zero Trust > Access > Applications > (your application) > Overview"
    )


def test_fails_when_jwks_url_is_not_absolute() -> None:
    with pytest.raises(
        ConfigurationError, match=re.escape("invalid CloudflareAccessAuth.jwks_url")
    ):
        render(
            access_auth(
                team_domain=TEAM, audience=AUD, allow_all=True, jwks_url="/cdn-cgi/access/certs"
            )
        )


def test_fails_when_an_allowed_email_is_not_an_address() -> None:
    with pytest.raises(ConfigurationError) as error:
        render(access_auth(team_domain=TEAM, audience=AUD, allowed_emails=["bob"]))
    assert str(error.value) == (
        "test: invalid CloudflareAccessAuth.allowed_emails entry 'bob'. Allowed: one plain "
        "e-mail address (ASCII, nothing around it; docs/authentication.md, 'The e-mail rule') "
        "or a service token's client id. Fix: list the addresses exactly as Cloudflare Access "
        "reports them"
    )


def test_fails_when_an_email_domain_has_a_wildcard() -> None:
    with pytest.raises(ConfigurationError) as error:
        render(access_auth(team_domain=TEAM, audience=AUD, allowed_email_domains=["*.a.com"]))
    assert str(error.value) == (
        "test: invalid CloudflareAccessAuth.allowed_email_domains entry '*.a.com'. Allowed: a "
        "domain name such as 'example.com' (exact match, no wildcards). Fix: list each e-mail "
        "domain separately, subdomains included"
    )


# --- the user-server layout (issue 16) ----------------------------------------------------


def test_user_servers_need_their_own_hosts_or_a_loud_opt_out() -> None:
    """Without user_server_domain a user's server sees tokens the hub accepts."""
    with pytest.raises(ConfigurationError) as error:
        render(CloudflareAccessAuth(team_domain=TEAM, audience=AUD, allow_all=True))
    message = str(error.value)
    assert message.startswith(
        "test: invalid CloudflareAccessAuth user-server layout \"user servers under the hub's "
        'host". Allowed: user_server_domain and user_server_audience'
    )
    assert "its owner can sign in as any visitor" in message
    assert "user_servers_on_hub_host=True" in message


def test_the_opt_out_warns_at_every_synth() -> None:
    auth = CloudflareAccessAuth(
        team_domain=TEAM, audience=AUD, allow_all=True, user_servers_on_hub_host=True
    )
    for _ in range(2):
        with pytest.warns(ConfigurationWarning) as caught:
            settings = render(auth)
        (warning,) = caught
        assert str(warning.message).startswith(
            "test: questionable CloudflareAccessAuth.user_servers_on_hub_host True: user "
            "servers share the hub's host and Access application"
        )
    assert settings.user_server_domain is None
    assert "user_server_audience" not in settings.traits["CloudflareAccessAuthenticator"]


@pytest.mark.parametrize(
    ("options", "what"),
    [
        ({"user_server_domain": "jupyter.example.com"}, "user_server_domain"),
        ({"user_server_domain": "users.jupyter.example.com"}, "user_server_domain"),
        ({"user_server_domain": "example.com"}, "user_server_domain"),
        ({"user_server_domain": "https://users.example.com"}, "user_server_domain"),
        ({"user_server_audience": None}, "user_server_audience"),
        ({"user_server_audience": "  "}, "user_server_audience"),
        ({"user_server_audience": AUD}, "user_server_audience"),
        ({"user_servers_on_hub_host": True}, "user_servers_on_hub_host"),
    ],
)
def test_fails_on_a_layout_that_leaves_the_hole_open(options: dict[str, Any], what: str) -> None:
    auth = CloudflareAccessAuth(team_domain=TEAM, audience=AUD, allow_all=True, **LAYOUT)
    with pytest.raises(ConfigurationError) as error:
        render(dataclasses.replace(auth, **options))
    assert f"invalid CloudflareAccessAuth.{what} " in str(error.value)
    assert AUD not in str(error.value).split("Fix:")[0] or what != "user_server_audience"


def test_a_user_server_audience_alone_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"user_server_audience .* set only together"):
        render(
            CloudflareAccessAuth(
                team_domain=TEAM, audience=AUD, allow_all=True, user_server_audience=USERS_AUD
            )
        )


@pytest.mark.parametrize(
    "entry",
    [
        "\u3000BOSS@Example.ORG\u00a0",
        "mallory@evil.test@example.org",
        "a@evil,bob@example.org",
        "bo ss@example.org",
        "@example.org",
        '"boss"@example.org',
        "Boss <boss@example.org>",
        "\uff42\uff4f\uff53\uff53@example.org",
        "boss@example.org\nadmin",
    ],
)
def test_allowed_emails_follow_the_hubs_own_rule(entry: str) -> None:
    """Issue 16: the construct accepted entries the hub could never match (or worse)."""
    with pytest.raises(
        ConfigurationError, match=r"invalid CloudflareAccessAuth\.admin_users entry"
    ):
        render(access_auth(team_domain=TEAM, audience=AUD, admin_users=[entry]))


def cloudflare_hub(**options: Any) -> tuple[cdk8s.Chart, JupyterHub]:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace="jupyter")
    auth_options = options.pop("auth", {})
    auth = access_auth(team_domain=TEAM, audience=AUD, allow_all=True, **auth_options)
    options.setdefault("network", None)
    hub = JupyterHub(chart, "hub", domain="jupyter.example.com", auth=auth, **options)
    hub.add_profile("small", display_name="Small", default=True)
    return chart, hub


def test_an_ingress_beside_the_access_header_is_refused_at_synth() -> None:
    """Issue 16: an Ingress beside header auth lets a captured token in without Access."""
    chart, _ = cloudflare_hub()  # the default IngressOptions() renders an Ingress
    with pytest.raises(RuntimeError) as error:
        cdk8s.Testing.synth(chart)
    message = str(error.value)
    assert (
        "test/hub: invalid entry points ['the Ingress of test/hub']. Allowed: only ways in "
        "that pass through Cloudflare" in message
    )
    assert "CloudflareAccessAuth(allow_ingress=True)" in message
    assert "ingress=IngressOptions(enabled=False)" in message


def test_an_ingress_accepted_on_the_sign_in_option_warns() -> None:
    chart, hub = cloudflare_hub(auth={"allow_ingress": True})
    CloudflareTunnel(
        chart, "tunnel", hub=hub, tunnel_token=SecretRef("cloudflared", "token"), exclusive=False
    )
    with pytest.warns(ConfigurationWarning) as caught:
        manifests = cdk8s.Testing.synth(chart)
    (warning,) = caught
    assert str(warning.message).startswith(
        "test/hub: questionable entry points ['the Ingress of test/hub']: sign-in trusts what "
        "Cloudflare adds to every request"
    )
    (ingress,) = [m for m in manifests if m["kind"] == "Ingress"]
    hosts = [rule["host"] for rule in ingress["spec"]["rules"]]
    assert hosts == ["jupyter.example.com", f"*.{USERS_DOMAIN}"]
    assert ingress["spec"]["tls"][0]["hosts"] == hosts


def test_the_tunnel_routes_the_user_server_hosts_and_the_proxy_routes_by_host() -> None:
    import warnings

    chart, hub = cloudflare_hub(ingress=IngressOptions(enabled=False))
    CloudflareTunnel(chart, "tunnel", hub=hub, tunnel_token=SecretRef("cloudflared", "token"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the separate layout through a tunnel: no warning
        manifests = cdk8s.Testing.synth(chart)
    config_map = next(m for m in manifests if "config.yaml" in m.get("data", {}))
    rules = yaml.safe_load(config_map["data"]["config.yaml"])["ingress"]
    origin = "http://proxy-public.jupyter.svc.cluster.local:80"
    assert rules == [
        {"hostname": "jupyter.example.com", "service": origin},
        {"hostname": f"*.{USERS_DOMAIN}", "service": origin},
        {"service": "http_status:404"},
    ]
    proxy = next(
        m for m in manifests if m["kind"] == "Deployment" and m["metadata"]["name"] == "proxy"
    )
    assert "--host-routing" in proxy["spec"]["template"]["spec"]["containers"][0]["command"]
    config = next(m for m in manifests if m["metadata"]["name"] == "hub-config")
    settings = json.loads(config["data"]["hub_config.json"])
    assert settings["user_server_domain"] == USERS_DOMAIN
    assert settings["traits"]["JupyterHub"]["public_url"] == "https://jupyter.example.com/"
    assert settings["traits"]["JupyterHub"]["subdomain_host"] == f"https://{USERS_DOMAIN}"


def test_a_hub_without_user_server_hosts_keeps_path_routing() -> None:
    manifests = cdk8s.Testing.synth(tunnel_hub()[0])
    proxy = next(
        m for m in manifests if m["kind"] == "Deployment" and m["metadata"]["name"] == "proxy"
    )
    assert "--host-routing" not in proxy["spec"]["template"]["spec"]["containers"][0]["command"]
    config = next(m for m in manifests if m["metadata"]["name"] == "hub-config")
    settings = json.loads(config["data"]["hub_config.json"])
    assert "user_server_domain" not in settings
    assert "subdomain_host" not in settings["traits"]["JupyterHub"]


# --- CloudflareTunnel -------------------------------------------------------------------


def tunnel_hub(
    *, namespace: str = "jupyter", domain: str = "jupyter.example.com", **options: Any
) -> tuple[cdk8s.Chart, JupyterHub]:
    """A real hub the tunnel publishes; no Ingress (the tunnel is the way in) and, unless
    asked, no NetworkPolicies (those are tested in test_network.py)."""
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace=namespace)
    options.setdefault("network", None)
    options.setdefault("ingress", IngressOptions(enabled=False))
    hub = JupyterHub(chart, "hub", domain=domain, auth=oidc_auth(), **options)
    hub.add_profile("small", display_name="Small", default=True)
    return chart, hub


def synth_tunnel(hub: tuple[cdk8s.Chart, JupyterHub] | None = None, **options: Any) -> list[Any]:
    """The tunnel's own objects (those labelled cloudflared), synthesized."""
    chart, the_hub = hub or tunnel_hub()
    CloudflareTunnel(
        chart, "tunnel", hub=the_hub, tunnel_token=SecretRef("cloudflared", "token"), **options
    )
    manifests: list[dict[str, Any]] = cdk8s.Testing.synth(chart)
    return [
        m
        for m in manifests
        if m["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "cloudflared"
    ]


def by_kind(manifests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    kinds = [m["kind"] for m in manifests]
    assert len(kinds) == len(set(kinds)), kinds
    return {m["kind"]: m for m in manifests}


def test_tunnel_snapshot(snapshot: SnapshotAssertion) -> None:
    assert synth_tunnel() == snapshot


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_tunnel_manifests_are_valid_kubernetes(version: str) -> None:
    manifests = synth_tunnel()
    assert {m["kind"] for m in manifests} == {"ConfigMap", "Deployment", "PodDisruptionBudget"}
    for manifest in manifests:
        kubernetes_validate.validate(manifest, version, strict=True)


def test_tunnel_defaults() -> None:
    objects = by_kind(synth_tunnel())
    deployment = objects["Deployment"]
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    labels = {
        "app.kubernetes.io/name": "cloudflared",
        "app.kubernetes.io/component": "tunnel",
        "app.kubernetes.io/part-of": "jupyterhub",
    }
    for obj in objects.values():
        assert labels.items() <= obj["metadata"]["labels"].items()
    assert labels.items() <= spec["selector"]["matchLabels"].items()
    assert spec["selector"]["matchLabels"] == spec["template"]["metadata"]["labels"]

    assert spec["replicas"] == 2
    assert spec["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    spread = {c["topologyKey"]: c for c in pod["topologySpreadConstraints"]}
    assert set(spread) == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
    for constraint in spread.values():
        assert constraint["maxSkew"] == 1
        assert constraint["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]

    assert container["image"] == CLOUDFLARED_IMAGE == "cloudflare/cloudflared:2025.8.0"
    assert container["args"] == [
        "tunnel",
        "--no-autoupdate",
        "--metrics",
        "0.0.0.0:2000",
        "--config",
        "/etc/cloudflared/config.yaml",
        "run",
    ]
    assert container["env"] == [
        {
            "name": "TUNNEL_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": "cloudflared", "key": "token"}},
        }
    ]
    assert container["livenessProbe"]["httpGet"] == {"path": "/ready", "port": 2000}
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": 2000}
    assert container["resources"] == {
        "requests": {"cpu": "50m", "memory": "64Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }

    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }

    # maxUnavailable, not minAvailable 1: one replica would block a node drain forever.
    pdb = objects["PodDisruptionBudget"]["spec"]
    assert pdb == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": spec["selector"]["matchLabels"]},
    }


def test_tunnel_config_routes_the_hub_domain_to_proxy_public_then_404() -> None:
    objects = by_kind(synth_tunnel())
    config_map = objects["ConfigMap"]
    config = yaml.safe_load(config_map["data"]["config.yaml"])
    assert config == {
        "ingress": [
            {
                "hostname": "jupyter.example.com",
                "service": "http://proxy-public.jupyter.svc.cluster.local:80",
            },
            {"service": "http_status:404"},
        ]
    }
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    (volume,) = pod["volumes"]
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]
    (mount,) = pod["containers"][0]["volumeMounts"]
    assert mount == {"name": volume["name"], "mountPath": "/etc/cloudflared", "readOnly": True}


def test_tunnel_follows_the_hub() -> None:
    hub = tunnel_hub(domain="notebooks.corp.example", namespace="team-a")
    objects = by_kind(synth_tunnel(hub=hub, replicas=3))
    config = yaml.safe_load(objects["ConfigMap"]["data"]["config.yaml"])
    assert config["ingress"][0] == {
        "hostname": "notebooks.corp.example",
        "service": "http://proxy-public.team-a.svc.cluster.local:80",
    }
    assert objects["Deployment"]["spec"]["replicas"] == 3
    assert {o["metadata"]["namespace"] for o in objects.values()} == {"team-a"}


def test_tunnel_pods_roll_when_the_config_changes() -> None:
    def checksum(domain: str) -> str:
        deployment = by_kind(synth_tunnel(hub=tunnel_hub(domain=domain)))["Deployment"]
        return str(deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"])

    assert checksum("a.example.com") == checksum("a.example.com")
    assert checksum("a.example.com") != checksum("b.example.com")


def test_tunnel_resources_and_image_are_options() -> None:
    deployment = by_kind(
        synth_tunnel(
            image="cloudflare/cloudflared:2025.7.0",
            cpu_request="100m",
            memory_request="128Mi",
            cpu_limit="1",
            memory_limit="512Mi",
        )
    )["Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "cloudflare/cloudflared:2025.7.0"
    assert container["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "1", "memory": "512Mi"},
    }


def test_fails_when_replicas_is_zero() -> None:
    with pytest.raises(ConfigurationError) as error:
        synth_tunnel(replicas=0)
    assert str(error.value) == (
        "test/tunnel: invalid replicas 0. Allowed: an integer at least 1 and at most 100 (not "
        "a bool or a string). Fix: use the default of 2 (2 or more for availability) unless you "
        "know why not"
    )


def test_fails_when_the_image_is_not_pinned() -> None:
    with pytest.raises(
        ConfigurationError, match=re.escape("test/tunnel: invalid cloudflared image")
    ):
        synth_tunnel(image="cloudflare/cloudflared:latest")


def test_tunnel_is_an_add_on_of_its_hub() -> None:
    chart, hub = tunnel_hub()
    tunnel = CloudflareTunnel(
        chart, "tunnel", hub=hub, tunnel_token=SecretRef("cloudflared", "token")
    )
    # The hub's own sign-in option is attached first, the same way (HubAuth.bind).
    assert hub.addons == [hub.sign_in, tunnel]
    with pytest.raises(ConfigurationError) as error:
        hub.attach_addon(tunnel)
    assert str(error.value) == (
        "test/hub: invalid add-on 'test/tunnel'. Allowed: each add-on once. Fix: attach it "
        "once (constructs given hub= attach themselves)"
    )


def test_tunnel_renders_no_network_policy_when_the_hub_renders_none() -> None:
    """network=None switches NetworkPolicies off everywhere, the add-ons' included."""
    assert {m["kind"] for m in synth_tunnel()} == {"ConfigMap", "Deployment", "PodDisruptionBudget"}
    with_policies = synth_tunnel(hub=tunnel_hub(network=NetworkOptions()))
    assert sorted(m["kind"] for m in with_policies).count("NetworkPolicy") == 2


def test_warns_when_the_tunnel_is_beside_a_public_ingress() -> None:
    """A tunnel meant to be the only way in is bypassed by the hub's Ingress."""
    hub = tunnel_hub(ingress=IngressOptions())
    with pytest.warns(ConfigurationWarning) as caught:
        synth_tunnel(hub=hub)
    (warning,) = caught
    assert str(warning.message) == (
        "test/hub: questionable entry points ['the Ingress of test/hub', 'the Cloudflare "
        "Tunnel test/tunnel']: users reach the hub more than one way, so access rules that "
        "only one of them enforces (a Cloudflare Access policy in front of a tunnel) can be "
        "bypassed through the other. Fix: pass ingress=IngressOptions(enabled=False) when the "
        "Cloudflare Tunnel test/tunnel is meant to be the only way in; if both are intended "
        "(the hub's own sign-in is the access control you rely on), say so where it is "
        "created (CloudflareTunnel(..., exclusive=False))"
    )


def test_no_warning_when_both_ways_in_are_intended() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        synth_tunnel(hub=tunnel_hub(ingress=IngressOptions()), exclusive=False)
        synth_tunnel()


# --- Docs -------------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_docs_describe_every_option() -> None:
    authentication = (DOCS / "authentication.md").read_text(encoding="utf-8")
    for field in dataclasses.fields(CloudflareAccessAuth):
        assert f"| `{field.name}` |" in authentication, field.name
    tunnel = (DOCS / "cloudflare-tunnel-config.md").read_text(encoding="utf-8")
    parameters = inspect.signature(CloudflareTunnel.__init__).parameters
    for name, parameter in parameters.items():
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            default = parameter.default
            documented = "required" if default is inspect.Parameter.empty else f"`{default}`"
            assert f"| `{name}` | {documented} |" in tunnel, name
    assert CLOUDFLARED_IMAGE in tunnel
