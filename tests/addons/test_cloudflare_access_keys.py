"""The Access signing keys under a misbehaving key endpoint, in a real hub behind the proxy.

Issue 16: one bad-but-200 answer from the keys endpoint (``{"keys": []}``, ``[]``, an
error object) emptied the key cache, and every valid sign-in got 403 until the next
refetch window. Now a refetch that yields no usable key keeps the keys loaded before,
and until a key set has loaded once, sign-in answers 503 (cannot verify) instead of 403.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import cdk8s
import pytest
import requests

from jupyter_constructs.addons.signin.cloudflare_access import CloudflareAccessAuth
from jupyter_constructs.core.errors import ConfigurationWarning
from tests.support.cloudflare import AUD, HEADER, TEAM, SigningKey, claims_for, write_hub_files
from tests.support.hub import Hub, hub_process
from tests.support.jwks import Jwks

pytestmark = pytest.mark.integration

INTERVAL = 0.5  # jwks_refetch_interval, seconds
MAX_AGE = 2.0  # jwks_max_age, seconds

# Answers that carry no usable key; each was seen or is plausible from a broken endpoint.
BAD_ANSWERS: dict[str, tuple[int, bytes]] = {
    "empty key set": (200, b'{"keys": []}'),
    "a list": (200, b"[]"),
    "an error object": (200, b'{"success": false, "errors": [{"code": 10000}]}'),
    "not json": (200, b"<html>upstream timed out</html>"),
    "keys not a list": (200, b'{"keys": {"kid": "x"}}'),
    "only unusable keys": (200, b'{"keys": [{"kty": "EC", "kid": "ec-1"}, {"kty": "RSA"}]}'),
    "server error": (500, b"internal error"),
}


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey(f"kid-main-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def jwks() -> Iterator[Jwks]:
    server = Jwks().start()
    yield server
    server.stop()


@pytest.fixture
def hub(tmp_path: Path, jwks: Jwks) -> Iterator[Hub]:
    with pytest.warns(ConfigurationWarning, match="user_servers_on_hub_host"):
        settings = CloudflareAccessAuth(
            team_domain=TEAM,
            audience=AUD,
            allowed_email_domains=["example.org"],
            jwks_url=jwks.url,
            # These tests are about the token checks; the user-server layout is tested in
            # test_cloudflare_access_takeover.py.
            user_servers_on_hub_host=True,
        ).settings(cdk8s.Testing.chart(), domain="jupyter.example.org")
    tuning = {"jwks_refetch_interval": INTERVAL, "jwks_max_age": MAX_AGE}
    write_hub_files(tmp_path, settings, extra_traits={"CloudflareAccessAuthenticator": tuning})
    with hub_process(tmp_path, admin_scopes=["admin:users", "read:users"]) as process:
        yield process


def login(hub: Hub, token: str) -> requests.Response:
    return requests.get(
        f"{hub.public_url}/hub/login", headers={HEADER: token}, allow_redirects=False, timeout=15
    )


def test_sign_in_answers_503_until_a_key_set_has_loaded(
    hub: Hub, jwks: Jwks, key: SigningKey
) -> None:
    token = key.sign(claims_for("early@example.org"))
    for name, (status, body) in BAD_ANSWERS.items():
        jwks.set_answer(status, body)
        time.sleep(INTERVAL + 0.1)
        fetches = jwks.fetch_count()
        response = login(hub, token)
        assert jwks.fetch_count() == fetches + 1, name  # the bad answer was fetched
        assert response.status_code == 503, f"{name}: {response.status_code}\n{hub.log_tail(8)}"
        assert "early@example.org" not in hub.user_names()
    jwks.set_keys([key.jwk()])
    time.sleep(INTERVAL + 0.1)
    assert login(hub, token).status_code == 302, hub.log_tail()
    assert "early@example.org" in hub.user_names()


def test_a_refetch_without_usable_keys_keeps_the_keys_loaded_before(
    hub: Hub, jwks: Jwks, key: SigningKey
) -> None:
    jwks.set_keys([key.jwk()])
    assert login(hub, key.sign(claims_for("first@example.org"))).status_code == 302
    stranger = SigningKey(f"kid-unknown-{uuid.uuid4().hex[:8]}")
    for i, (name, (status, body)) in enumerate(BAD_ANSWERS.items()):
        jwks.set_answer(status, body)
        # An unknown kid makes the hub refetch: it gets the bad answer...
        time.sleep(INTERVAL + 0.1)
        fetches = jwks.fetch_count()
        refused = login(hub, stranger.sign(claims_for(f"stranger{i}@example.org")))
        assert jwks.fetch_count() == fetches + 1, name
        assert refused.status_code == 403, f"{name}: {refused.status_code}"
        # ...and a token signed with the key loaded before still signs in.
        accepted = login(hub, key.sign(claims_for(f"after-{i}@example.org")))
        assert accepted.status_code == 302, f"{name}: {accepted.status_code}\n{hub.log_tail(8)}"
    assert "Cannot refresh the Access signing keys" in hub.log_tail(200)


def test_keys_past_their_max_age_are_kept_when_the_refresh_fails(
    hub: Hub, jwks: Jwks, key: SigningKey
) -> None:
    jwks.set_keys([key.jwk()])
    assert login(hub, key.sign(claims_for("aged@example.org"))).status_code == 302
    jwks.set_answer(*BAD_ANSWERS["empty key set"])
    time.sleep(MAX_AGE + 0.1)  # the cached keys are now stale: the next sign-in refetches
    fetches = jwks.fetch_count()
    response = login(hub, key.sign(claims_for("aged@example.org")))
    assert jwks.fetch_count() == fetches + 1
    assert response.status_code == 302, f"{response.status_code}\n{hub.log_tail(8)}"
    # A good answer replaces the keys: a key that left the set stops working.
    rotated = SigningKey(f"kid-rotated-{uuid.uuid4().hex[:8]}")
    jwks.set_keys([rotated.jwk()])
    time.sleep(MAX_AGE + 0.1)
    assert login(hub, rotated.sign(claims_for("rotated@example.org"))).status_code == 302
    assert login(hub, key.sign(claims_for("retired@example.org"))).status_code == 403
