"""GitHub, Google, Azure AD and LDAP sign-in (issue 14): rendered, loaded into the real
oauthenticator/ldapauthenticator classes, their secrets and egress wired, bad input refused.

No real GitHub, Google or Azure AD is reachable from tests: the session re-check is
exercised with the real ``GitHubOAuthenticator`` code against a loopback server that
answers GitHub's documented REST endpoints (``/user``, ``/orgs/<org>/members/<user>``).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
from ldapauthenticator import LDAPAuthenticator
from oauthenticator.azuread import AzureAdOAuthenticator
from oauthenticator.github import GitHubOAuthenticator
from oauthenticator.google import GoogleOAuthenticator

from jupyter_constructs import (
    AzureAdAuth,
    ConfigurationError,
    GitHubAuth,
    GoogleAuth,
    LdapAuth,
    SecretRef,
)
from tests.helpers import find, make_hub, pod_spec, synth, write_config_dir
from tests.real_hub import load_config, unknown_traits

CLASSES: dict[str, type] = {
    "GitHubOAuthenticator": GitHubOAuthenticator,
    "GoogleOAuthenticator": GoogleOAuthenticator,
    "AzureAdOAuthenticator": AzureAdOAuthenticator,
    "LDAPAuthenticator": LDAPAuthenticator,
}
SECRET = SecretRef("oauth", "client-secret")
TENANT = "6f1c2b9e-0d4a-4a57-9a43-2b8f3c1d7e55"


def github(**overrides: Any) -> GitHubAuth:
    options: dict[str, Any] = {
        "client_id": "gh-client",
        "client_secret": SECRET,
        "allowed_organizations": ["data-org", "data-org:analysts"],
        "admin_users": ["octo-admin"],
    }
    return GitHubAuth(**{**options, **overrides})


def google(**overrides: Any) -> GoogleAuth:
    options: dict[str, Any] = {
        "client_id": "g-client",
        "client_secret": SECRET,
        "hosted_domains": ["example.org"],
        "allowed_groups": {"example.org": ["data@example.org"]},
        "admin_groups": {"example.org": ["hub-admins@example.org"]},
        "gsuite_administrator": {"example.org": "it-admin"},
        "service_account_key": SecretRef("google-sa", "key.json"),
    }
    return GoogleAuth(**{**options, **overrides})


def azure(**overrides: Any) -> AzureAdAuth:
    options: dict[str, Any] = {
        "tenant_id": TENANT,
        "client_id": "az-client",
        "client_secret": SECRET,
        "allowed_groups": ["0d1e2f3a-aaaa-bbbb-cccc-000000000001"],
    }
    return AzureAdAuth(**{**options, **overrides})


def ldap(**overrides: Any) -> LdapAuth:
    options: dict[str, Any] = {
        "server_address": "ldap.example.org",
        "server_cidrs": ["10.20.0.15/32"],
        "user_search_base": "ou=people,dc=example,dc=org",
        "search_user": "cn=hub,ou=services,dc=example,dc=org",
        "search_password": SecretRef("ldap", "search-password"),
        "allowed_groups": ["cn=data,ou=groups,dc=example,dc=org"],
        "ca_certificate": SecretRef("ldap-ca", "ca.crt"),
    }
    return LdapAuth(**{**options, **overrides})


def _render(tmp_path, auth):
    chart, hub = make_hub(auth=auth)
    objects = synth(chart)
    config_dir = write_config_dir(objects, tmp_path)
    env = {"OAUTH_CLIENT_SECRET": "not-a-real-secret", "LDAP_SEARCH_PASSWORD": "not-real"}
    return objects, load_config(config_dir, env), hub


def _real_authenticator(tmp_path, config):
    """The class the hub would load (``JupyterHub.authenticator_class``), from the config dir."""
    module_name, _, class_name = config.JupyterHub.authenticator_class.rpartition(".")
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module(module_name)
        return getattr(module, class_name)(config=config)
    finally:
        sys.path.remove(str(tmp_path))
        if module_name == "oauth_authenticators":
            sys.modules.pop(module_name, None)


def _hub_env(objects) -> dict[str, dict[str, Any]]:
    container = pod_spec(find(objects, "Deployment", "hub"))["containers"][0]
    return {e["name"]: e for e in container["env"]}


def test_github_loads_into_the_real_class_with_orgs_teams_and_session_rechecks(tmp_path):
    objects, config, _ = _render(tmp_path, github())
    assert unknown_traits(config, CLASSES) == []
    authenticator = _real_authenticator(tmp_path, config)
    assert isinstance(authenticator, GitHubOAuthenticator)
    assert authenticator.allowed_organizations == {"data-org", "data-org:analysts"}
    assert "read:org" in authenticator.scope
    assert authenticator.client_secret == "not-a-real-secret"
    assert authenticator.oauth_callback_url == "https://jupyter.example.com/hub/oauth_callback"
    assert authenticator.enable_auth_state is True
    assert authenticator.auth_refresh_age == 300
    assert authenticator.refresh_pre_spawn is True
    assert authenticator.allow_all is False
    assert _hub_env(objects)["OAUTH_CLIENT_SECRET"]["valueFrom"] == {
        "secretKeyRef": {"name": "oauth", "key": "client-secret"}
    }
    assert "not-a-real-secret" not in json.dumps(objects)


def test_google_groups_read_the_service_account_key_from_a_mounted_secret(tmp_path):
    objects, config, _ = _render(tmp_path, google())
    assert unknown_traits(config, CLASSES) == []
    authenticator = _real_authenticator(tmp_path, config)
    assert isinstance(authenticator, GoogleOAuthenticator)
    assert authenticator.hosted_domain == ["example.org"]
    assert authenticator.allowed_google_groups == {"example.org": {"data@example.org"}}
    assert authenticator.admin_google_groups == {"example.org": {"hub-admins@example.org"}}
    key_path = authenticator.google_service_account_keys["example.org"]
    spec = pod_spec(find(objects, "Deployment", "hub"))
    mounts = {m["name"]: m for m in spec["containers"][0]["volumeMounts"]}
    assert key_path.startswith(mounts["auth-files"]["mountPath"] + "/")
    assert mounts["auth-files"]["readOnly"] is True
    volume = next(v for v in spec["volumes"] if v["name"] == "auth-files")
    assert volume["projected"]["sources"] == [
        {
            "secret": {
                "name": "google-sa",
                "items": [{"key": "key.json", "path": key_path.rsplit("/", 1)[1]}],
            }
        }
    ]


def test_azure_ad_is_bound_to_one_tenant_and_reads_groups_from_the_id_token(tmp_path):
    _, config, _ = _render(tmp_path, azure())
    assert unknown_traits(config, CLASSES) == []
    authenticator = _real_authenticator(tmp_path, config)
    assert isinstance(authenticator, AzureAdOAuthenticator)
    assert authenticator.authorize_url.startswith(f"https://login.microsoftonline.com/{TENANT}/")
    assert authenticator.token_url.startswith(f"https://login.microsoftonline.com/{TENANT}/")
    assert authenticator.username_claim == "preferred_username"
    assert authenticator.auth_state_groups_key == "user.groups"
    assert authenticator.allowed_groups == {"0d1e2f3a-aaaa-bbbb-cccc-000000000001"}


def test_azure_ad_group_check_uses_the_id_token_groups_claim(tmp_path):
    """The real path: the ID token (as Azure AD's token endpoint returns it) becomes the
    auth model (``_token_to_auth_model``), whose groups ``check_allowed`` compares."""
    _, config, _ = _render(tmp_path, azure())
    authenticator = _real_authenticator(tmp_path, config)

    def verdict(claims: dict[str, Any]) -> bool:
        id_token = jwt.encode({"aud": "az-client", **claims}, "k" * 32, algorithm="HS256")
        token_info = {"access_token": "at", "token_type": "Bearer", "id_token": id_token}

        async def run() -> bool:
            model = await authenticator._token_to_auth_model(token_info)
            assert model["name"] == claims["preferred_username"]
            return bool(await authenticator.check_allowed(model["name"], model))

        return asyncio.run(run())

    member = ["0d1e2f3a-aaaa-bbbb-cccc-000000000001"]
    assert verdict({"preferred_username": "ada@example.org", "groups": member}) is True
    assert verdict({"preferred_username": "eve@example.org", "groups": ["other"]}) is False
    assert verdict({"preferred_username": "bob@example.org"}) is False


def test_ldap_loads_into_the_real_class_with_verified_tls_lookup_and_groups(tmp_path):
    objects, config, _ = _render(tmp_path, ldap())
    assert unknown_traits(config, CLASSES) == []
    authenticator = _real_authenticator(tmp_path, config)
    assert type(authenticator) is LDAPAuthenticator
    assert authenticator.tls_strategy.name == "before_bind"
    assert authenticator.server_port == 389
    assert authenticator.lookup_dn is True
    assert authenticator.lookup_dn_search_password == "not-real"
    assert authenticator.allowed_groups == ["cn=data,ou=groups,dc=example,dc=org"]
    # ldap3's Tls object as ldapauthenticator builds it: certificates verified against the CA.
    from ldap3 import Tls

    tls = Tls(**{**authenticator.tls_kwargs, "ca_certs_file": None})
    import ssl

    assert tls.validate == ssl.CERT_REQUIRED
    assert authenticator.tls_kwargs["ca_certs_file"].endswith("/ldap-ca.crt")
    env = _hub_env(objects)
    assert env["LDAP_SEARCH_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "ldap",
        "key": "search-password",
    }
    assert "OAUTH_CLIENT_SECRET" not in env


def test_ldaps_with_bind_templates_defaults_to_port_636(tmp_path):
    auth = ldap(
        tls="ldaps",
        user_search_base=None,
        search_user=None,
        search_password=None,
        bind_dn_templates=["uid={username},ou=people,dc=example,dc=org"],
    )
    _, config, _ = _render(tmp_path, auth)
    authenticator = _real_authenticator(tmp_path, config)
    assert authenticator.tls_strategy.name == "on_connect"
    assert authenticator.server_port == 636
    assert authenticator.bind_dn_template == ["uid={username},ou=people,dc=example,dc=org"]
    assert authenticator.lookup_dn is False


def test_ldap_egress_goes_through_allow_traffic_to_the_directory_only(tmp_path):
    objects, _, hub = _render(tmp_path, ldap(tls="ldaps"))
    policy = find(objects, "NetworkPolicy", "hub-to-ldap")
    assert policy["spec"]["podSelector"] == {"matchLabels": hub.selector_labels("hub")}
    assert policy["spec"]["egress"] == [
        {
            "to": [{"ipBlock": {"cidr": "10.20.0.15/32"}}],
            "ports": [{"port": 636, "protocol": "TCP"}],
        }
    ]
    # No identity provider on the internet: the hub keeps no HTTPS egress for sign-in.
    hub_policy = next(
        o
        for o in objects
        if o["kind"] == "NetworkPolicy"
        and o["spec"]["podSelector"] == {"matchLabels": hub.selector_labels("hub")}
        and o["metadata"]["name"] != "hub-to-ldap"
    )
    internet_rules = [
        rule
        for rule in hub_policy["spec"]["egress"]
        if any("except" in peer.get("ipBlock", {}) for peer in rule.get("to", []))
    ]
    assert internet_rules == []
    oidc_objects = synth(make_hub()[0])
    oidc_hub_policy = find(oidc_objects, "NetworkPolicy", hub_policy["metadata"]["name"])
    assert len(oidc_hub_policy["spec"]["egress"]) == len(hub_policy["spec"]["egress"]) + 1


def test_no_network_policies_means_no_ldap_policy_either(tmp_path):
    chart, _ = make_hub(auth=ldap(), network=None)
    assert not [o for o in synth(chart) if o["kind"] == "NetworkPolicy"]


def test_github_enterprise_on_a_private_network_gets_its_own_egress(tmp_path):
    auth = github(github_url="https://github.example.org", provider_cidrs=["10.9.0.0/24"])
    objects, config, _ = _render(tmp_path, auth)
    assert config.GitHubOAuthenticator.github_url == "https://github.example.org"
    policy = find(objects, "NetworkPolicy", "hub-to-github")
    assert policy["spec"]["egress"][0]["to"] == [{"ipBlock": {"cidr": "10.9.0.0/24"}}]


def test_the_hub_module_ships_verbatim_and_imports_only_the_hub_image(tmp_path):
    import ast
    from importlib import resources

    objects, _, _ = _render(tmp_path, github())
    source = (
        resources.files("jupyter_constructs.hub.files")
        .joinpath("oauth_authenticators.py")
        .read_text("utf-8")
    )
    assert find(objects, "ConfigMap", "hub-config")["data"]["oauth_authenticators.py"] == source
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__", "inspect", "typing", "oauthenticator", "tornado"}


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        (lambda: github(allowed_organizations=[]), "invalid GitHubAuth allow rule 'nobody'"),
        (
            lambda: github(allowed_organizations="data-org"),
            "invalid GitHubAuth.allowed_organizations",
        ),
        (
            lambda: github(allowed_organizations=["data-org:Data Team"]),
            "invalid GitHubAuth.allowed_organizations entry 'data-org:Data Team'",
        ),
        (lambda: github(github_url="http://github.example.org"), "invalid GitHubAuth.github_url"),
        (lambda: github(auth_refresh_age=7200), "invalid GitHubAuth.auth_refresh_age 7200"),
        (
            lambda: github(client_secret="s3cr3t-value"),
            "invalid GitHubAuth.client_secret '<plain str, value hidden>'",
        ),
        (lambda: google(hosted_domains=[]), "invalid GoogleAuth.hosted_domains []"),
        (
            lambda: google(allowed_groups={"other.org": ["x@other.org"]}),
            "invalid GoogleAuth.allowed_groups domain 'other.org'",
        ),
        (lambda: google(service_account_key=None), "invalid GoogleAuth groups"),
        (
            lambda: google(allowed_groups={}, admin_groups={}),
            "invalid GoogleAuth allow rule 'nobody'",
        ),
        (lambda: azure(tenant_id="common"), "invalid AzureAdAuth.tenant_id 'common'"),
        (lambda: azure(tenant_id="contoso"), "invalid AzureAdAuth.tenant_id 'contoso'"),
        # A final newline passed the patterns' "$" and reached the provider URLs.
        (lambda: azure(tenant_id=TENANT + "\n"), "invalid AzureAdAuth.tenant_id"),
        (
            lambda: github(github_url="https://github.example.org\n"),
            "invalid GitHubAuth.github_url",
        ),
        (
            lambda: github(github_url="https://github.example.org:\u0664\u0664\u0663"),
            "invalid GitHubAuth.github_url",
        ),
        (lambda: azure(allowed_groups=[]), "invalid AzureAdAuth allow rule 'nobody'"),
        (lambda: ldap(tls="insecure"), "invalid LdapAuth.tls 'insecure'"),
        (lambda: ldap(server_cidrs=[]), "invalid LdapAuth.server_cidrs []"),
        (lambda: ldap(server_cidrs=["ldap.example.org"]), "invalid LdapAuth.server_cidrs"),
        (lambda: ldap(search_password=None), "invalid LdapAuth search account"),
        (
            lambda: ldap(user_search_base=None, bind_dn_templates=["uid=x,dc=example"]),
            "invalid LdapAuth.bind_dn_templates entry 'uid=x,dc=example'",
        ),
        (lambda: ldap(allowed_groups=[]), "invalid LdapAuth allow rule 'nobody'"),
    ],
)
def test_bad_input_is_refused_naming_the_hub_the_field_and_the_fix(auth, expected):
    with pytest.raises(ConfigurationError) as err:
        make_hub(auth=auth())
    message = str(err.value)
    assert message.startswith("test/hub: " + expected), message
    assert "Fix: " in message
    assert "s3cr3t-value" not in message


# -- the session re-check, with the real GitHubOAuthenticator code ---------------------


class _GitHub:
    """Loopback answers to GitHub's REST endpoints the authenticator calls."""

    def __init__(self) -> None:
        self.members: set[tuple[str, str]] = set()
        self.valid_tokens: set[str] = {"token-ada"}


@pytest.fixture
def github_api() -> Iterator[tuple[str, _GitHub]]:
    state = _GitHub()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            token = self.headers.get("Authorization", "").split(" ")[-1]
            if token not in state.valid_tokens:
                self.send_response(401)
                self.end_headers()
                return
            parts = self.path.split("?")[0].strip("/").split("/")
            if parts == ["api", "v3", "user"]:
                body = json.dumps({"login": "ada", "id": 1, "email": "ada@example.org"})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())
                return
            if parts[:3] == ["api", "v3", "orgs"] and parts[4] == "members":
                # https://docs.github.com/en/rest/orgs/members#check-organization-membership-for-a-user
                self.send_response(204 if (parts[3], parts[5]) in state.members else 404)
                self.end_headers()
                return
            self.send_response(404)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()


def test_a_user_who_leaves_the_organization_loses_the_session_on_the_next_recheck(
    tmp_path, github_api
):
    """oauthenticator#579: refresh_user alone keeps a user who left the organization."""
    url, state = github_api
    _, config, _ = _render(tmp_path, github(allowed_organizations=["data-org"]))
    config.GitHubOAuthenticator.github_url = url
    config.GitHubOAuthenticator.userdata_url = f"{url}/api/v3/user"
    authenticator = _real_authenticator(tmp_path, config)
    auth_state = {
        "access_token": "token-ada",
        "token_response": {"access_token": "token-ada", "token_type": "bearer"},
        "scope": ["read:user", "read:org"],
    }

    async def get_auth_state() -> dict[str, Any]:
        return auth_state

    user = SimpleNamespace(name="ada", get_auth_state=get_auth_state)
    state.members.add(("data-org", "ada"))
    refreshed = asyncio.run(authenticator.refresh_user(user))
    assert isinstance(refreshed, dict) and refreshed["name"] == "ada"

    state.members.clear()  # removed from the organization, GitHub account still valid
    upstream = asyncio.run(GitHubOAuthenticator.refresh_user(authenticator, user))
    assert isinstance(upstream, dict)  # what oauthenticator alone would do: keep her
    assert asyncio.run(authenticator.refresh_user(user)) is False

    state.members.add(("data-org", "ada"))
    state.valid_tokens.clear()  # app access revoked at GitHub
    assert asyncio.run(authenticator.refresh_user(user)) is False


def test_the_custom_authenticator_example_loads_into_the_real_gitlab_class(tmp_path):
    """examples/custom_authenticator.py: a HubAuth subclass of the user's own, as rendered."""

    from oauthenticator.gitlab import GitLabOAuthenticator

    from tests.delivery.test_examples import ROOT, run_example

    objects = run_example(ROOT / "examples" / "custom_authenticator.py", tmp_path / "out")
    config = load_config(write_config_dir(objects, tmp_path), {"GITLAB_CLIENT_SECRET": "not-real"})
    assert unknown_traits(config, {"GitLabOAuthenticator": GitLabOAuthenticator}) == []
    authenticator = GitLabOAuthenticator(config=config)
    assert authenticator.client_secret == "not-real"
    assert authenticator.allowed_gitlab_groups == {"data-science"}
    assert authenticator.gitlab_url == "https://gitlab.internal.example.com"
    policy = find(objects, "NetworkPolicy", "hub-to-gitlab")
    assert policy["spec"]["egress"][0]["to"] == [{"ipBlock": {"cidr": "10.30.0.10/32"}}]


def test_an_admin_by_login_must_still_be_a_member_of_the_allowed_organizations(
    tmp_path, github_api
):
    """oauthenticator lets every ``admin_users`` login in, whatever GitHub says of its
    organizations (``OAuthenticator.check_allowed``: ``auth_model["admin"]`` first). A
    GitHub login is reusable: an admin who leaves the organization kept admin access, and
    whoever registers a login its admin renamed away from became a hub admin. With
    ``allowed_organizations`` the hub-side class asks GitHub for admins too."""
    url, state = github_api
    _, config, _ = _render(
        tmp_path, github(allowed_organizations=["data-org"], admin_users=["ada"])
    )
    config.GitHubOAuthenticator.github_url = url
    config.GitHubOAuthenticator.userdata_url = f"{url}/api/v3/user"
    authenticator = _real_authenticator(tmp_path, config)
    token_info = {"access_token": "token-ada", "token_type": "bearer", "scope": "read:org"}

    async def sign_in() -> bool:
        # What oauthenticator's authenticate and the hub's get_authenticated_user do.
        model = await authenticator._token_to_auth_model(token_info)
        assert model["name"] == "ada" and model["admin"] is True
        return bool(await authenticator.check_allowed(model["name"], model))

    auth_state = {
        "access_token": "token-ada",
        "token_response": {"access_token": "token-ada", "token_type": "bearer"},
        "scope": ["read:user", "read:org"],
    }

    async def get_auth_state() -> dict[str, Any]:
        return auth_state

    user = SimpleNamespace(name="ada", get_auth_state=get_auth_state)

    # Not a member (left the organization, or a squatter of the admin's old login).
    assert asyncio.run(sign_in()) is False
    assert asyncio.run(authenticator.refresh_user(user)) is False
    # A member admin signs in and keeps the session.
    state.members.add(("data-org", "ada"))
    assert asyncio.run(sign_in()) is True
    refreshed = asyncio.run(authenticator.refresh_user(user))
    assert isinstance(refreshed, dict) and refreshed["admin"] is True


def test_google_users_with_one_hosted_domain_are_written_as_the_real_class_names_them(tmp_path):
    """With one hosted domain the real ``GoogleOAuthenticator`` names ``ada@example.org``
    ``ada`` (``strip_domain``), so ``admin_users=["boss@example.org"]`` made nobody admin and
    ``allowed_users=["ada@example.org"]`` let nobody in, silently. Such entries are refused
    at synth, naming the form that works; that form is the one the real class allows."""
    with pytest.raises(ConfigurationError) as err:
        make_hub(auth=google(admin_users=["boss@example.org"]))
    assert "invalid GoogleAuth.admin_users entry 'boss@example.org'" in str(err.value)
    assert "write 'boss'" in str(err.value)
    with pytest.raises(ConfigurationError, match=r"allowed_users entry 'ada@Example\.org'"):
        make_hub(auth=google(allowed_users=["ada@Example.org"]))

    _, config, _ = _render(tmp_path, google(allowed_users=["ada"], admin_users=["boss"]))
    authenticator = _real_authenticator(tmp_path, config)

    def sign_in(email: str) -> tuple[str, bool | None, bool]:
        user_info = {"email": email, "hd": "example.org", "verified_email": True}
        name = authenticator.normalize_username(authenticator.user_info_to_username(user_info))
        model = {
            "name": name,
            "admin": True if name in authenticator.admin_users else None,
            "auth_state": {authenticator.user_auth_state_key: {**user_info, "google_groups": []}},
        }
        return name, model["admin"], bool(asyncio.run(authenticator.check_allowed(name, model)))

    assert sign_in("ada@example.org") == ("ada", None, True)
    assert sign_in("boss@example.org") == ("boss", True, True)
    assert sign_in("eve@example.org") == ("eve", None, False)
    # With two domains usernames keep theirs, and addresses are the form that works.
    make_hub(
        auth=google(hosted_domains=["example.org", "example.net"], admin_users=["b@example.org"])
    )


@pytest.mark.parametrize(
    "template",
    [
        "uid={username},ou={0},dc=example,dc=org",
        "uid={username},ou={ou},dc=example,dc=org",
        "uid={username.upper},dc=example,dc=org",
        "uid={username!r},dc=example,dc=org",
        "uid={username},ou=a}b,dc=example,dc=org",
    ],
)
def test_a_dn_template_the_real_class_cannot_fill_is_refused_at_synth(tmp_path, template):
    """ldapauthenticator fills a template with ``template.format(username=...)``: any other
    replacement field passed the old check (``{username}`` once) and then broke or changed
    every sign-in. The real class, given the template, fails or binds to another DN."""
    with pytest.raises(ConfigurationError, match=r"LdapAuth\.bind_dn_templates entry"):
        make_hub(auth=ldap(user_search_base=None, bind_dn_templates=[template]))

    authenticator = LDAPAuthenticator(
        server_address="127.0.0.1", bind_dn_template=[template], allow_all=True
    )
    try:
        dns = [t.format(username="ada") for t in authenticator.bind_dn_template]
    except (IndexError, KeyError, ValueError):
        return  # every sign-in fails with a 500
    assert dns != [template.replace("{username}", "ada")]  # or binds as someone else's DN


@pytest.mark.parametrize("claim", ["email", "unique_name"])
def test_azure_ad_refuses_a_username_claim_entra_id_does_not_verify(tmp_path, claim):
    """Entra ID does not verify ``email`` (an account's mail attribute, set by whoever can
    edit the account) and ``unique_name`` is for display only; as the username, the real
    class names the account after whatever the claim says, an admin's address included."""
    with pytest.raises(ConfigurationError, match=r"invalid AzureAdAuth\.username_claim"):
        make_hub(auth=azure(username_claim=claim, admin_users=["boss@example.org"]))

    _, config, _ = _render(tmp_path, azure(admin_users=["boss@example.org"]))
    config.AzureAdOAuthenticator.username_claim = claim  # what the construct now refuses
    authenticator = _real_authenticator(tmp_path, config)
    id_token = jwt.encode(
        {
            "aud": "az-client",
            "preferred_username": "mallory@example.org",
            claim: "boss@example.org",
        },
        "k" * 32,
        algorithm="HS256",
    )
    token_info = {"access_token": "at", "token_type": "Bearer", "id_token": id_token}
    model = asyncio.run(authenticator._token_to_auth_model(token_info))
    assert model["name"] == "boss@example.org" and model["admin"] is True
