"""Sign-in through a real OpenID Connect provider: the product's generated OIDC config,
the real hub and configurable-http-proxy, and Keycloak (issues 16 and 22).

The hub runs from the hub ConfigMap the product renders for an ``OidcAuth`` pointed at
the Keycloak realm (``tests/support/keycloak_realm.json``); only the test overrides of
``tests/support/hub.py`` (loopback addresses, SQLite) and an observer service are added. The
test's browser (``Browser``) follows every redirect itself: Keycloak's real login form,
the callback to ``https://jupyter.example.com/hub/oauth_callback`` delivered to the
proxy's loopback port (what the Ingress or tunnel does in production), the hub's cookies.

What happens at the provider is done through Keycloak's admin REST API: disabling a user,
ending their sessions, removing them from a group.
"""

from __future__ import annotations

import contextlib
import html
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from jupyter_constructs import OidcAuth, SecretRef
from tests.helpers import DOMAIN, make_hub, synth, write_config_dir
from tests.support.hub import Hub as HubProcess
from tests.support.hub import hub_process
from tests.support.keycloak import Keycloak, keycloak_or_skip, running_keycloak

pytestmark = pytest.mark.consumers

# The interval the tests give the product (OidcAuth.auth_refresh_age, seconds): short, so
# that "within the interval" is measurable; the default (300) is checked by the unit tests.
REFRESH_AGE = 4
# Slack on top of the interval for one request through proxy, hub and Keycloak on a
# loaded 2-core machine.
SLACK = 1.5
PUBLIC_ORIGIN = f"https://{DOMAIN}"


@pytest.fixture(scope="session")
def keycloak() -> Iterator[Keycloak]:
    home, java = keycloak_or_skip()
    with running_keycloak(home, java) as server:
        yield server


def oidc_auth(keycloak: Keycloak, **overrides: Any) -> OidcAuth:
    """The product's OidcAuth for the Keycloak realm, as a user would write it."""
    endpoints = keycloak.openid_configuration()
    options: dict[str, Any] = {
        "client_id": keycloak.client_id,
        "client_secret": SecretRef("jupyterhub-oidc", "client-secret"),
        "authorize_url": endpoints["authorization_endpoint"],
        "token_url": endpoints["token_endpoint"],
        "userdata_url": endpoints["userinfo_endpoint"],
        "allowed_groups": ["data-science"],
        "admin_groups": ["hub-admins"],
        "auth_refresh_age": REFRESH_AGE,
    }
    options.update(overrides)
    return OidcAuth(**options)


@dataclass
class Hub:
    """A running hub behind the proxy, with an observer token (admin:users, auth state)."""

    process: HubProcess
    observer_token: str
    workdir: Path

    def user_model(self, name: str) -> dict[str, Any] | None:
        """The hub's model of ``name`` (with auth_state), or None if the hub has no such user.

        Asked by a service, so it does not refresh the user's own authentication.
        """
        response = requests.get(
            f"{self.process.public_url}/hub/api/users/{name}",
            headers={"Authorization": f"token {self.observer_token}"},
            timeout=30,
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return dict(response.json())

    def log(self) -> str:
        return self.process.log_path.read_text(errors="replace")


OBSERVER = """
# Test observer: reads users and their auth state through the hub API.
c.JupyterHub.services.append({{"name": "test-observer", "api_token": {token!r}}})
c.JupyterHub.load_roles.append({{
    "name": "test-observer",
    "scopes": ["admin:users", "admin:auth_state", "read:groups"],
    "services": ["test-observer"],
}})
"""


@contextlib.contextmanager
def oidc_hub(workdir: Path, keycloak: Keycloak, **auth_overrides: Any) -> Iterator[Hub]:
    """The real hub from the product's generated config for ``oidc_auth(**overrides)``."""
    chart, _ = make_hub(auth=oidc_auth(keycloak, **auth_overrides))
    write_config_dir(synth(chart), workdir)
    token = secrets.token_hex(32)
    env = {
        # The client secret the hub Deployment reads from the Secret named in OidcAuth.
        "OAUTH_CLIENT_SECRET": keycloak.client_secret,
        # The hub trusts Keycloak's test CA as it trusts public CAs in production.
        "SSL_CERT_FILE": str(keycloak.ca_file),
    }
    db_url = f"sqlite:///{workdir / 'jupyterhub.sqlite'}"
    try:
        with hub_process(
            workdir, db_url=db_url, env=env, settings=OBSERVER.format(token=token)
        ) as process:
            yield Hub(process, token, workdir)
    except BaseException:
        print(f"--- keycloak.log ---\n{keycloak.log.read_text(errors='replace')[-4000:]}")
        raise


@pytest.fixture(scope="module")
def hub(keycloak: Keycloak, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """One hub for the module: users differ per test, so no test sees another's changes."""
    with oidc_hub(tmp_path_factory.mktemp("oidc-hub"), keycloak) as running:
        yield running


@pytest.fixture(autouse=True)
def logs_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print the hub's and Keycloak's logs under a failed test's report."""
    failed_before = request.session.testsfailed
    yield
    if request.session.testsfailed == failed_before:
        return
    for name in ("hub", "keycloak"):
        if name in request.fixturenames:
            server = request.getfixturevalue(name)
            log = server.process.log_path if name == "hub" else server.log
            print(f"--- {name} log (tail) ---\n{log.read_text(errors='replace')[-8000:]}")


# -- a browser ---------------------------------------------------------------------------


@dataclass
class Step:
    method: str
    url: str
    status: int
    request_header_bytes: int


@dataclass
class Browser:
    """A cookie jar that follows redirects itself, like a browser would.

    ``https://jupyter.example.com`` is delivered to the proxy's public loopback port;
    Keycloak is reached over HTTPS with its test CA (its cookies are ``Secure``).
    """

    hub: Hub
    keycloak: Keycloak
    session: requests.Session = field(default_factory=requests.Session)
    steps: list[Step] = field(default_factory=list)

    def _local(self, url: str) -> str:
        if url.startswith("/"):
            return self.hub.process.public_url + url
        if url.startswith(PUBLIC_ORIGIN):
            return self.hub.process.public_url + url[len(PUBLIC_ORIGIN) :]
        host = urlsplit(url).hostname
        assert host == "127.0.0.1", f"the flow left loopback: {url}"
        return url

    def request(
        self, method: str, url: str, *, follow: bool = True, **kwargs: Any
    ) -> requests.Response:
        for _ in range(20):
            target = self._local(url)
            response = self.session.request(
                method,
                target,
                allow_redirects=False,
                verify=str(self.keycloak.ca_file),
                timeout=60,
                **kwargs,
            )
            prepared = response.request
            header_bytes = sum(len(k) + len(v) + 4 for k, v in prepared.headers.items())
            header_bytes += len(prepared.path_url) + len(method) + 12
            self.steps.append(Step(method, target, response.status_code, header_bytes))
            location = response.headers.get("Location")
            if not follow or not location or response.status_code not in (301, 302, 303, 307):
                return response
            if location.startswith("/") and target.startswith(self.keycloak.base_url):
                location = self.keycloak.base_url + location
            elif location.startswith("/"):
                location = self.hub.process.public_url + location
            url, method, kwargs = location, "GET", {}
        raise AssertionError(f"more than 20 redirects: {[s.url for s in self.steps[-20:]]}")

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def start_sign_in(self) -> requests.Response:
        """Click "Sign in with single sign-on": ends on Keycloak's login form, or wherever
        the flow ends without one (an existing provider session)."""
        # Lands on the user's own model: /hub/home would build the user's KubeSpawner,
        # which needs a cluster.
        next_url = urlencode({"next": "/hub/api/user"})
        return self.get(f"/hub/oauth_login?{next_url}")

    def submit_login(self, page: requests.Response, username: str) -> requests.Response:
        """Fill Keycloak's login form with the realm's password for ``username``."""
        match = re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', page.text)
        assert match, f"no Keycloak login form at {page.url} ({page.status_code})"
        return self.request(
            "POST",
            html.unescape(match.group(1)),
            data={"username": username, "password": f"{username}-password", "credentialId": ""},
        )

    def sign_in(self, username: str) -> requests.Response:
        page = self.start_sign_in()
        return self.submit_login(page, username)

    def whoami(self) -> dict[str, Any] | None:
        """The hub's answer to this browser's cookies at ``/hub/api/user`` (a navigation,
        as a browser sends it): the user's model, or None when the hub has no signed-in
        user for them (403)."""
        response = self.get("/hub/api/user", follow=False, headers={"Sec-Fetch-Mode": "navigate"})
        if response.status_code == 200:
            return dict(response.json())
        assert response.status_code == 403, (response.status_code, response.text[:300])
        return None

    def hub_session_works(self) -> bool:
        return self.whoami() is not None


def is_login_form(response: requests.Response) -> bool:
    return response.status_code == 200 and 'id="kc-form-login"' in response.text


# -- the authorization-code flow ------------------------------------------------------------


def test_member_of_an_allowed_group_signs_in_through_the_code_flow(hub, keycloak):
    browser = Browser(hub, keycloak)
    page = browser.start_sign_in()
    assert is_login_form(page), "the hub sends the browser to Keycloak's login form"
    assert page.url.startswith(f"{keycloak.issuer}/")
    final = browser.submit_login(page, "alice")
    assert final.status_code == 200, final.text[:500]
    assert urlsplit(final.url).path == "/hub/api/user"
    assert final.json()["name"] == "alice@example.org"
    callback = [s for s in browser.steps if "/hub/oauth_callback" in s.url]
    assert callback and callback[0].url.startswith(hub.process.public_url), "through the proxy"
    assert browser.hub_session_works()

    model = hub.user_model("alice@example.org")
    assert model is not None
    assert model["admin"] is False
    assert "data-science" in model["groups"]
    # auth state is on and encrypted with JUPYTERHUB_CRYPT_KEY: the tokens are kept
    auth_state = model["auth_state"]
    assert auth_state["access_token"] and auth_state["refresh_token"]
    assert auth_state["oauth_user"]["groups"] == ["data-science"]


def test_member_of_an_admin_group_is_a_hub_admin(hub, keycloak):
    browser = Browser(hub, keycloak)
    assert browser.sign_in("carol").status_code == 200
    model = hub.user_model("carol@example.org")
    assert model is not None and model["admin"] is True


def test_user_outside_the_allowed_groups_is_refused_with_403(hub, keycloak):
    browser = Browser(hub, keycloak)
    final = browser.sign_in("bob")
    assert final.status_code == 403
    assert urlsplit(final.url).path == "/hub/oauth_callback"
    assert not browser.hub_session_works()
    assert hub.user_model("bob@example.org") is None, "a refusal creates no hub user"


def test_username_claim_picks_the_hub_username(keycloak, tmp_path):
    with oidc_hub(tmp_path, keycloak, username_claim="preferred_username") as other:
        browser = Browser(other, keycloak)
        assert browser.sign_in("alice").status_code == 200
        assert other.user_model("alice") is not None
        assert other.user_model("alice@example.org") is None


# -- revocation at the provider ----------------------------------------------------------


def signed_in(hub: Hub, keycloak: Keycloak, username: str) -> Browser:
    browser = Browser(hub, keycloak)
    final = browser.sign_in(username)
    assert final.status_code == 200, final.text[:500]
    assert browser.hub_session_works()
    return browser


def refused_within_the_interval(browser: Browser, revoked_at: float) -> None:
    """A request made once the product's interval has passed since the revocation must be
    refused: the hub sends the browser back to sign in."""
    time.sleep(max(0.0, revoked_at + REFRESH_AGE + SLACK - time.monotonic()))
    assert not browser.hub_session_works(), (
        f"hub session still works {time.monotonic() - revoked_at:.1f} s after the "
        f"revocation (auth_refresh_age={REFRESH_AGE})"
    )


def test_disabled_user_loses_the_hub_session_within_the_interval(hub, keycloak):
    """Issue 16: with oauthenticator's defaults (no auth state) this session lived 14 days."""
    browser = signed_in(hub, keycloak, "dave")
    keycloak.disable_user("dave")
    refused_within_the_interval(browser, time.monotonic())
    again = browser.start_sign_in()
    assert again.status_code == 200 and "disabled" in again.text.lower(), (
        "signing in again: Keycloak refuses the disabled account"
    )


def test_user_logged_out_at_the_provider_loses_the_hub_session(hub, keycloak):
    browser = signed_in(hub, keycloak, "erin")
    assert len(keycloak.sessions("erin")) == 1
    keycloak.logout_user("erin")
    refused_within_the_interval(browser, time.monotonic())
    assert is_login_form(browser.start_sign_in()), "the provider asks for the password again"


def test_user_removed_from_the_allowed_group_loses_the_hub_session(hub, keycloak):
    """The user is still valid at the provider, so oauthenticator 17.4's refresh_user alone
    returns a fresh model (new groups) and the session goes on; the product's
    OidcAuthenticator applies the allow rules to it (compare ldapauthenticator#218)."""
    browser = signed_in(hub, keycloak, "frank")
    keycloak.remove_from_group("frank", "data-science")
    refused_within_the_interval(browser, time.monotonic())
    assert "Ending the session of frank@example.org" in hub.log()
    # Keycloak's session is intact, so signing in again needs no password: the hub refuses.
    again = browser.start_sign_in()
    assert again.status_code == 403


def test_user_removed_from_the_admin_group_stops_being_admin(hub, keycloak):
    browser = signed_in(hub, keycloak, "ivan")
    assert hub.user_model("ivan@example.org")["admin"] is True
    keycloak.remove_from_group("ivan", "hub-admins")
    time.sleep(REFRESH_AGE + SLACK)
    assert browser.hub_session_works(), "still in data-science: still signed in"
    model = hub.user_model("ivan@example.org")
    assert model["admin"] is False
    assert model["groups"] == ["data-science"]


# -- tokens --------------------------------------------------------------------------------


def test_expired_access_token_is_renewed_with_the_refresh_token(hub, keycloak):
    browser = signed_in(hub, keycloak, "grace")
    first = hub.user_model("grace@example.org")["auth_state"]
    lifespan = first["token_response"]["expires_in"]
    assert lifespan <= 60, "the realm gives short access tokens"
    time.sleep(lifespan + 1)
    assert browser.hub_session_works(), "a valid provider session keeps the hub session"
    renewed = hub.user_model("grace@example.org")["auth_state"]
    assert renewed["access_token"] != first["access_token"]
    assert renewed["refresh_token"], "the refresh token is kept for the next renewal"
    assert "Refreshing oauth access token for grace@example.org" in hub.log()


def test_logout_from_the_hub_ends_the_hub_session_only(hub, keycloak):
    """Hub logout clears the hub's cookies; the provider's session (single sign-on) stays,
    so the next sign-in goes through without a password (docs/authentication.md)."""
    browser = signed_in(hub, keycloak, "heidi")
    browser.get("/hub/logout")
    assert not browser.hub_session_works()
    assert len(keycloak.sessions("heidi")) == 1
    final = browser.start_sign_in()
    assert final.status_code == 200 and final.json()["name"] == "heidi@example.org"


# -- a user in 200 groups ------------------------------------------------------------------

# Keycloak's header limit for the userinfo call (measured with 26.5.6): a 63,781-byte
# access token (1,200 groups of 36 characters) passes, a 69 KB one gets 431.
PROVIDER_HEADER_LIMIT = 64 * 1024


def user_in_groups(keycloak: Keycloak, username: str, names: list[str]) -> None:
    keycloak.create_groups(names)
    keycloak.create_user(username, f"{username}-password", ["data-science", *names])


def test_user_in_200_groups_signs_in_and_no_token_crosses_the_proxy(hub, keycloak):
    """Issue 16 saw 431 at the proxy for ~10 KB Cloudflare Access tokens, which arrive with
    every request. In the code flow the tokens travel between hub and provider only: what
    the browser sends through the proxy does not grow with the groups."""
    names = [f"research-project-{i:04d}-energy-markets" for i in range(200)]  # 36 chars
    user_in_groups(keycloak, "many", names)
    reference, browser = Browser(hub, keycloak), Browser(hub, keycloak)
    assert reference.sign_in("alice").status_code == 200
    final = browser.sign_in("many")
    assert final.status_code == 200, final.text[:300]
    assert set(final.json()["groups"]) == {"data-science", *names}

    auth_state = hub.user_model("many@example.org")["auth_state"]
    assert len(auth_state["access_token"]) > 10_000  # ~11.8 KB: the groups are in it
    assert len(auth_state["id_token"]) > 10_000

    def through_proxy(b: Browser) -> int:
        return max(
            s.request_header_bytes for s in b.steps if s.url.startswith(hub.process.public_url)
        )

    assert through_proxy(browser) < 2048
    assert abs(through_proxy(browser) - through_proxy(reference)) < 64


def test_token_over_the_provider_header_limit_gets_a_clear_error(hub, keycloak):
    """200 groups with 250-character names make a ~70 KB access token: Keycloak answers
    the hub's userinfo call with 431. The user gets a 502 naming the cause and the fix
    (oauthenticator alone gives a bare 500); with the groups claim left out of the access
    token, as the message says, the same user signs in."""
    names = [f"g{i:03d}-" + "x" * 246 for i in range(200)]  # 250 characters each
    user_in_groups(keycloak, "longnames", names)
    browser = Browser(hub, keycloak)
    final = browser.sign_in("longnames")
    assert final.status_code == 502, final.text[:300]
    assert "HTTP 431" in final.text and "access token" in final.text
    size = int(re.search(r"the access token is (\d+) bytes", final.text).group(1))
    assert size > PROVIDER_HEADER_LIMIT
    assert hub.user_model("longnames@example.org") is None

    mapper = keycloak.group_mapper()
    try:
        keycloak.set_group_mapper(mapper, access_token=False)
        again = Browser(hub, keycloak)
        final = again.sign_in("longnames")
        assert final.status_code == 200, final.text[:300]
        assert len(final.json()["groups"]) == 201
        assert len(hub.user_model("longnames@example.org")["auth_state"]["access_token"]) < 4096
    finally:
        keycloak.set_group_mapper(mapper, access_token=True)


# -- e-mail addresses the provider has not verified --------------------------------------


def test_an_unverified_email_does_not_sign_in_as_the_hub_user_of_that_address(hub, keycloak):
    """The username is the ``email`` claim by default. Keycloak lets an account hold an
    address nobody verified (realm "Verify email" off, its default; users edit their own
    profile), so when a colleague leaves and their account is deleted at the provider, anyone
    in an allowed group could take their address and become their hub user: their server,
    their home volume. An ``email_verified: false`` answer is refused (403)."""
    keycloak.create_user("trent", "trent-password", ["data-science"])
    assert signed_in(hub, keycloak, "trent").whoami()["name"] == "trent@example.org"
    keycloak.admin("DELETE", f"/users/{keycloak.user_id('trent')}")
    keycloak.admin(
        "POST",
        "/users",
        json={
            "username": "mallory",
            "enabled": True,
            "email": "trent@example.org",
            "emailVerified": False,
            "firstName": "Mallory",
            "lastName": "Tester",
            "credentials": [{"type": "password", "value": "mallory-password", "temporary": False}],
            "groups": ["/data-science"],
        },
    )
    browser = Browser(hub, keycloak)
    final = browser.sign_in("mallory")
    assert final.status_code == 403, (final.status_code, browser.whoami())
    assert not browser.hub_session_works()
