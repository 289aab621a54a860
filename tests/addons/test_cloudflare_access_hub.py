"""CloudflareAccessAuthenticator inside a real JupyterHub, behind a real proxy.

The hub is configured from the ``AuthSettings`` that ``CloudflareAccessAuth`` renders
(files on sys.path, traits applied); the signing keys come from a JWKS served on
loopback; tokens are signed here with keys generated here. Every refusal must be a 403
that leaves the hub's user list unchanged.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import types
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cdk8s
import jwt
import pytest
import requests

from jupyter_constructs.addons.signin.cloudflare_access import CloudflareAccessAuth
from jupyter_constructs.core.errors import ConfigurationWarning
from tests.support.cloudflare import (
    AUD,
    HEADER,
    TEAM,
    SigningKey,
    claims_for,
    load_authenticator,
    write_hub_files,
)
from tests.support.hub import Hub, start_hub
from tests.support.jwks import Jwks

pytestmark = pytest.mark.integration

REFETCH_INTERVAL = 2.0


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(header: dict[str, Any], claims: dict[str, Any], secret: bytes | None) -> str:
    """A JWT built by hand: ``alg: none`` (no signature) or HS256 with ``secret``."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if secret is None:
        return signing_input + "."
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKey]:
    return {name: SigningKey(f"kid-{name}-{uuid.uuid4().hex[:8]}") for name in ("main", "unknown")}


@pytest.fixture(scope="module")
def jwks(keys: dict[str, SigningKey]) -> Iterator[Jwks]:
    server = Jwks().start()
    server.set_keys([keys["main"].jwk()])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, jwks: Jwks) -> Iterator[Hub]:
    auth = CloudflareAccessAuth(
        team_domain=TEAM,
        audience=AUD,
        allowed_email_domains=["example.org"],
        allowed_groups=["jupyter-users"],
        admin_users=["boss@example.org"],
        jwks_url=jwks.url,
        # These tests are about the token checks; the user-server layout is tested in
        # test_cloudflare_access_takeover.py.
        user_servers_on_hub_host=True,
    )
    # settings() only needs a construct to name in errors.
    with pytest.warns(ConfigurationWarning, match="user_servers_on_hub_host"):
        settings = auth.settings(cdk8s.Testing.chart(), domain="jupyter.example.org")
    workdir: Path = tmp_path_factory.mktemp("cloudflare-hub")
    # The product's jupyterhub_config.py on a hub_config.json holding exactly what the auth
    # settings configure. Test-only tuning: a short refetch window so key rotation is
    # testable quickly.
    write_hub_files(
        workdir,
        settings,
        extra_traits={"CloudflareAccessAuthenticator": {"jwks_refetch_interval": REFETCH_INTERVAL}},
    )
    hub = start_hub(workdir, admin_scopes=["admin:users", "read:users"])
    yield hub
    hub.stop()


def login(hub: Hub, token: str | None) -> requests.Response:
    headers = {HEADER: token} if token is not None else {}
    return requests.get(
        f"{hub.public_url}/hub/login", headers=headers, allow_redirects=False, timeout=15
    )


def test_valid_token_signs_in_the_normalised_email(hub: Hub, keys: dict[str, SigningKey]) -> None:
    token = keys["main"].sign(claims_for("Alice.Smith@Example.ORG"))
    response = login(hub, token)
    assert response.status_code == 302, hub.log_tail()
    assert "jupyterhub-hub-login" in response.cookies, response.headers

    # The session cookie the hub set identifies the user on the REST API (Cloudflare adds
    # the header to every request, and the hub needs it on every browser request).
    me = requests.get(
        f"{hub.public_url}/hub/api/user",
        cookies=response.cookies,
        headers={HEADER: token},
        timeout=10,
    )
    assert me.status_code == 200, me.text
    assert me.json()["name"] == "alice.smith@example.org"

    user = hub.api("GET", "/users/alice.smith@example.org")
    assert user.status_code == 200
    assert user.json()["admin"] is False


def test_admin_user_signs_in_as_admin(hub: Hub, keys: dict[str, SigningKey]) -> None:
    response = login(hub, keys["main"].sign(claims_for("Boss@example.org")))
    assert response.status_code == 302, hub.log_tail()
    assert hub.api("GET", "/users/boss@example.org").json()["admin"] is True


def test_allowed_group_signs_in_from_any_domain(hub: Hub, keys: dict[str, SigningKey]) -> None:
    token = keys["main"].sign(claims_for("carol@partner.test", groups=["jupyter-users"]))
    assert login(hub, token).status_code == 302, hub.log_tail()
    assert "carol@partner.test" in hub.user_names()


def _expired(k: dict[str, SigningKey]) -> str | None:
    now = int(time.time())
    claims = claims_for("expired@example.org", iat=now - 900, nbf=now - 900, exp=now - 120)
    return k["main"].sign(claims)


def _not_yet_valid(k: dict[str, SigningKey]) -> str | None:
    now = int(time.time())
    return k["main"].sign(claims_for("early@example.org", nbf=now + 120, exp=now + 900))


def _wrong_audience(k: dict[str, SigningKey]) -> str | None:
    return k["main"].sign(claims_for("aud@example.org", aud=["some-other-application"]))


def _wrong_issuer(k: dict[str, SigningKey]) -> str | None:
    return k["main"].sign(claims_for("iss@example.org", iss="https://evil.cloudflareaccess.com"))


def _unknown_key(k: dict[str, SigningKey]) -> str | None:
    return k["unknown"].sign(claims_for("unknown-key@example.org"))


def _alg_none(k: dict[str, SigningKey]) -> str | None:
    header = {"alg": "none", "typ": "JWT", "kid": k["main"].kid}
    return unsigned_token(header, claims_for("none@example.org"), None)


def _hs256_with_public_key(k: dict[str, SigningKey]) -> str | None:
    header = {"alg": "HS256", "typ": "JWT", "kid": k["main"].kid}
    return unsigned_token(header, claims_for("hs256@example.org"), k["main"].public_pem())


def _tampered(k: dict[str, SigningKey]) -> str | None:
    head, _, signature = k["main"].sign(claims_for("honest@example.org")).split(".")
    forged = b64(json.dumps(claims_for("tampered@example.org")).encode())
    return f"{head}.{forged}.{signature}"


def _missing_header(k: dict[str, SigningKey]) -> str | None:
    return None


def _service_token(k: dict[str, SigningKey]) -> str | None:
    # In an allowed group, so only the missing email can be the reason for the refusal.
    claims = claims_for(None, common_name="svc-1234.access", groups=["jupyter-users"])
    return k["main"].sign(claims)


def _outside_allowed_domains(k: dict[str, SigningKey]) -> str | None:
    return k["main"].sign(claims_for("mallory@evil.test", groups=["other-group"]))


def _email_form(email: object) -> Callable[[dict[str, SigningKey]], str | None]:
    # In an allowed group, so only the form of the address can be the reason for a refusal.
    return lambda k: k["main"].sign({**claims_for(None, groups=["jupyter-users"]), "email": email})


# Issue 16: each of these was accepted as a user, the padded one as the admin itself.
MALFORMED_EMAILS: dict[str, object] = {
    "two-at-signs": "mallory@evil.test@example.org",
    "two-addresses": "a@evil,bob@example.org",
    "inner-space": "bo ss@example.org",
    "empty-local-part": "@example.org",
    "padded-with-unicode-spaces": "\u3000BOSS@Example.ORG\u00a0",
    "padded-with-ascii-spaces": "  boss@example.org ",
    "inner-newline": "boss@example.org\nadmin: true",
    "quoted-local-part": '"boss"@example.org',
    "comment": "boss(admin)@example.org",
    "display-name": "Boss <boss@example.org>",
    "full-width": "\uff42\uff4f\uff53\uff53@example.org",
    "domain-literal": "boss@[127.0.0.1]",
    "not-a-string": ["boss@example.org"],
}


REFUSED: dict[str, Callable[[dict[str, SigningKey]], str | None]] = {
    "expired": _expired,
    "not-yet-valid": _not_yet_valid,
    "wrong-audience": _wrong_audience,
    "wrong-issuer": _wrong_issuer,
    "unknown-key": _unknown_key,
    "alg-none": _alg_none,
    "hs256-with-public-key": _hs256_with_public_key,
    "tampered-payload": _tampered,
    "missing-header": _missing_header,
    "service-token-without-email": _service_token,
    "email-outside-allowed-domains": _outside_allowed_domains,
    **{f"email-{name}": _email_form(email) for name, email in MALFORMED_EMAILS.items()},
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_with_403_and_no_user(hub: Hub, keys: dict[str, SigningKey], case: str) -> None:
    before = hub.user_names()
    response = login(hub, REFUSED[case](keys))
    assert response.status_code == 403, f"{case}: {response.status_code}\n{hub.log_tail(20)}"
    assert "jupyterhub-hub-login" not in response.cookies
    assert hub.user_names() == before


def test_the_refused_cases_differ_from_a_valid_token_in_one_defect_only(
    hub: Hub, keys: dict[str, SigningKey]
) -> None:
    # Guards the refusal tests: the same shape of token with no defect is accepted.
    token = keys["main"].sign(claims_for("control@example.org"))
    assert login(hub, token).status_code == 302, hub.log_tail()
    assert "control@example.org" in hub.user_names()
    # The same for the e-mail forms: a well-formed address in the same claims signs in.
    token = _email_form("Control.Two+Tag@Partner.Example")(keys)
    assert token is not None and login(hub, token).status_code == 302, hub.log_tail()
    assert "control.two+tag@partner.example" in hub.user_names()


def test_key_rotation_is_picked_up_by_refetching_on_an_unknown_kid(
    hub: Hub, jwks: Jwks, keys: dict[str, SigningKey]
) -> None:
    rotated = SigningKey(f"kid-rotated-{uuid.uuid4().hex[:8]}")
    token = rotated.sign(claims_for("rotation@example.org"))
    jwks.set_keys([keys["main"].jwk(), rotated.jwk()])
    time.sleep(REFETCH_INTERVAL + 0.2)  # past the refetch window of earlier tests
    fetches = jwks.fetch_count()
    assert login(hub, token).status_code == 302, hub.log_tail()
    assert jwks.fetch_count() == fetches + 1
    assert "rotation@example.org" in hub.user_names()
    # The old key still works after the refetch (Cloudflare keeps it valid for a while).
    assert login(hub, keys["main"].sign(claims_for("old-key@example.org"))).status_code == 302


def test_a_flood_of_unknown_kids_fetches_the_jwks_once_per_interval(hub: Hub, jwks: Jwks) -> None:
    flood = SigningKey("bogus")
    time.sleep(REFETCH_INTERVAL + 0.2)
    fetches = jwks.fetch_count()
    started = time.monotonic()
    for i in range(15):
        token = jwt.encode(
            claims_for(f"flood{i}@example.org"),
            flood.private,
            algorithm="RS256",
            headers={"kid": f"bogus-{i}"},
        )
        assert login(hub, token).status_code == 403
    elapsed = time.monotonic() - started
    assert elapsed < REFETCH_INTERVAL, f"flood took {elapsed:.1f} s; the check needs it shorter"
    assert jwks.fetch_count() == fetches + 1


def test_a_hub_session_ends_when_the_access_identity_changes(
    hub: Hub, keys: dict[str, SigningKey]
) -> None:
    first = login(hub, keys["main"].sign(claims_for("first@example.org")))
    assert first.status_code == 302, hub.log_tail()
    cookies = first.cookies
    time.sleep(1.1)  # past auth_refresh_age, so the hub re-checks the header

    def whoami(token: str | None) -> requests.Response:
        headers = {HEADER: token} if token is not None else {}
        return requests.get(
            f"{hub.public_url}/hub/api/user", cookies=cookies, headers=headers, timeout=10
        )

    same = whoami(keys["main"].sign(claims_for("first@example.org")))
    assert same.status_code == 200 and same.json()["name"] == "first@example.org"
    # Someone else signed in to Access in the same browser: the old session is not theirs.
    time.sleep(1.1)
    other = whoami(keys["main"].sign(claims_for("second@example.org")))
    assert other.status_code == 403, other.text
    # The next sign-in with the cookie still present follows the header, not the cookie.
    relogin = requests.get(
        f"{hub.public_url}/hub/login",
        cookies=cookies,
        headers={HEADER: keys["main"].sign(claims_for("second@example.org"))},
        allow_redirects=False,
        timeout=15,
    )
    assert relogin.status_code == 302
    me = requests.get(f"{hub.public_url}/hub/api/user", cookies=relogin.cookies, timeout=10)
    assert me.json()["name"] == "second@example.org"


def test_service_tokens_sign_in_by_client_id_when_allowed(
    jwks: Jwks, keys: dict[str, SigningKey], tmp_path: Path
) -> None:
    # The same module the hub loads, driven directly with a real tornado request object.
    from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

    with pytest.warns(ConfigurationWarning, match="user_servers_on_hub_host"):
        settings = CloudflareAccessAuth(
            team_domain=TEAM,
            audience=AUD,
            allowed_emails=["svc-1234.access"],
            allow_service_tokens=True,
            jwks_url=jwks.url,
            # These tests are about the token checks; the user-server layout is tested in
            # test_cloudflare_access_takeover.py.
            user_servers_on_hub_host=True,
        ).settings(cdk8s.Testing.chart(), domain="jupyter.example.org")
    module = load_authenticator(settings, tmp_path)
    from traitlets.config import Config

    authenticator = module.CloudflareAccessAuthenticator(config=Config(settings.traits))

    def attempt(claims: dict[str, Any]) -> Any:
        request = HTTPServerRequest(
            start_line=RequestStartLine("GET", "/hub/login", "HTTP/1.1"),
            headers=HTTPHeaders({"Host": "jupyter.example.org", HEADER: keys["main"].sign(claims)}),
        )
        handler = types.SimpleNamespace(request=request)
        return asyncio.run(authenticator.get_authenticated_user(handler, None))

    accepted = attempt(claims_for(None, common_name="SVC-1234.access"))
    assert accepted is not None and accepted["name"] == "svc-1234.access"
    # An empty email claim beside the client id is still a service token.
    accepted = attempt(claims_for("", common_name="SVC-1234.access"))
    assert accepted is not None and accepted["name"] == "svc-1234.access"
    # A malformed client id is refused, not repaired.
    assert attempt(claims_for(None, common_name=" svc-1234.access")) is None
    # Allow rules still apply to service tokens.
    assert attempt(claims_for(None, common_name="other.access")) is None
