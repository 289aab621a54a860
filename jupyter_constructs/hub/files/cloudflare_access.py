"""JupyterHub authenticator for a hub behind Cloudflare Access (runs inside the hub image).

Cloudflare Access signs every request it lets through with a JWT in the
``Cf-Access-Jwt-Assertion`` header. This authenticator trusts that header only after
checking it completely:

- algorithm RS256 only (``alg: none`` and HS256 signed with the public key are refused);
- signature against the team's JWKS (``https://<team_domain>/cdn-cgi/access/certs``),
  keys cached by ``kid``; an unknown ``kid`` triggers one refetch, at most once per
  ``jwks_refetch_interval`` seconds so a flood of bogus kids cannot hammer Cloudflare;
- ``aud`` contains ``audience`` (the Access application's AUD tag), ``iss`` equals
  ``https://<team_domain>``, ``exp``/``nbf`` hold within ``leeway`` seconds;
- the username is the ``email`` claim, lowercased and stripped. Service tokens (a
  ``common_name`` and no ``email``) are refused unless ``allow_service_tokens``.

Who may sign in: ``allow_all``, ``allowed_users`` (e-mail addresses), ``admin_users``,
``allowed_email_domains`` or ``allowed_groups`` (from a ``groups`` claim, when Access
includes one). There is no login form: ``GET /hub/login`` authenticates from the header
(``auto_login``), and a refusal is a 403 that creates no user. While signed in, each hub
request carrying the header is checked again (``refresh_user``): a different or no longer
valid Access identity ends the hub session.

This module is copied into the hub image's config directory by jupyter-constructs and
imports only what that image ships (jupyterhub, tornado, traitlets, pyjwt, cryptography).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import jwt
from jupyterhub.auth import Authenticator
from jupyterhub.handlers.login import LoginHandler
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from traitlets import Bool, Float, Set, Unicode, default

HEADER = "Cf-Access-Jwt-Assertion"
ALGORITHM = "RS256"


class CloudflareAccessLoginHandler(LoginHandler):  # type: ignore[misc]
    """``/hub/login``: GET signs in from the Access header; there is no form to POST."""

    async def post(self) -> None:
        raise web.HTTPError(405, "Sign-in goes through Cloudflare Access; there is no form.")


class CloudflareAccessAuthenticator(Authenticator):  # type: ignore[misc]
    """Sign users in from the Cloudflare Access JWT (``Cf-Access-Jwt-Assertion`` header)."""

    team_domain = Unicode(
        help="Cloudflare Zero Trust team domain, e.g. 'example.cloudflareaccess.com'. "
        "Tokens must be issued by https://<team_domain>.",
    ).tag(config=True)

    audience = Unicode(
        help="Application Audience (AUD) tag of the Access application; "
        "the token's 'aud' claim must contain it.",
    ).tag(config=True)

    jwks_url = Unicode(
        help="Where the signing keys are fetched. "
        "Default: https://<team_domain>/cdn-cgi/access/certs.",
    ).tag(config=True)

    @default("jwks_url")
    def _default_jwks_url(self) -> str:
        return f"https://{self.team_domain}/cdn-cgi/access/certs"

    leeway = Float(
        30.0,
        help="Clock skew tolerated on 'exp' and 'nbf', in seconds.",
    ).tag(config=True)

    jwks_refetch_interval = Float(
        60.0,
        help="Minimum seconds between two JWKS fetches triggered by an unknown 'kid'. "
        "Tokens with an unknown kid inside this window are refused without a fetch.",
    ).tag(config=True)

    jwks_max_age = Float(
        3600.0,
        help="Seconds after which the cached JWKS is refetched on the next sign-in, so "
        "keys Cloudflare has retired stop being accepted.",
    ).tag(config=True)

    jwks_timeout = Float(10.0, help="Timeout of one JWKS request, in seconds.").tag(config=True)

    allowed_email_domains = Set(
        Unicode(),
        help="E-mail domains (exact, lowercase, no subdomains) whose users may sign in.",
    ).tag(config=True, allow_config=True)

    allowed_groups = Set(
        Unicode(),
        help="Users whose 'groups' claim contains one of these groups may sign in.",
    ).tag(config=True, allow_config=True)

    allow_service_tokens = Bool(
        False,
        help="Accept Access service tokens (no 'email', a 'common_name'); their username "
        "is the common_name (the service token's client id). Allow rules still apply.",
    ).tag(config=True)

    # Access sits in front of the hub: there is nothing for the user to type.
    auto_login = Bool(True).tag(config=True)

    @default("auth_refresh_age")
    def _default_auth_refresh_age(self) -> int:
        # Re-check the header on (almost) every hub request: it costs one signature check
        # with a cached key, and ends a hub session as soon as the Access identity changes.
        return 1

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Without these every sign-in would fail with a confusing token error: stop the hub.
        if not self.team_domain or not self.audience:
            raise ValueError(
                "CloudflareAccessAuthenticator needs team_domain (<team>.cloudflareaccess.com) "
                "and audience (the Access application's AUD tag)"
            )
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    @property
    def issuer(self) -> str:
        return f"https://{self.team_domain}"

    def get_handlers(self, app: Any) -> list[tuple[str, type]]:
        return [("/login", CloudflareAccessLoginHandler)]

    async def authenticate(self, handler: web.RequestHandler, data: Any = None) -> Any:
        token = handler.request.headers.get(HEADER, "").strip()
        if not token:
            self.log.warning("Refused sign-in: no %s header", HEADER)
            return None
        try:
            claims = await self.verify(token)
        except jwt.PyJWTError as e:
            self.log.warning("Refused sign-in: invalid Access token: %s", e)
            return None
        email = claims.get("email")
        if isinstance(email, str) and email.strip():
            name = email.strip().lower()
        elif self.allow_service_tokens and isinstance(claims.get("common_name"), str):
            name = claims["common_name"].strip().lower()
        else:
            self.log.warning("Refused sign-in: token has no email (service token?)")
            return None
        groups = claims.get("groups")
        return {
            "name": name,
            "auth_state": None,
            # Used by check_allowed, and synced to hub groups when manage_groups is on.
            "groups": [str(g) for g in groups] if isinstance(groups, list) else [],
        }

    async def refresh_user(self, user: Any, handler: web.RequestHandler | None = None) -> bool:
        """Keep a hub session only while Access vouches for the same, still allowed, user.

        Someone who signs out of Access and back in as another person in the same
        browser must not inherit the previous hub session. Requests without the header
        (API tokens from inside the cluster) are left alone.
        """
        if handler is None or HEADER not in handler.request.headers:
            return True
        authenticated = await self.get_authenticated_user(handler, None)
        return bool(authenticated) and authenticated["name"] == user.name

    def check_allowed(self, username: str, authentication: Any = None) -> bool:
        if self.allow_all or username in self.allowed_users or username in self.admin_users:
            return True
        _, at, domain = username.rpartition("@")
        if at and domain in {d.strip().lower() for d in self.allowed_email_domains}:
            return True
        groups = set((authentication or {}).get("groups") or ())
        return bool(groups & self.allowed_groups)

    async def verify(self, token: str) -> dict[str, Any]:
        """Return the claims of a valid Access token; raise ``jwt.PyJWTError`` otherwise."""
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise jwt.InvalidAlgorithmError(f"algorithm {header.get('alg')!r} is not RS256")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise jwt.InvalidTokenError("token header has no 'kid'")
        key = await self._key(kid)
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=[ALGORITHM],
            audience=self.audience,
            issuer=self.issuer,
            leeway=self.leeway,
            options={"require": ["exp", "iss", "aud"]},
        )
        return claims

    async def _key(self, kid: str) -> Any:
        now = time.monotonic()
        if now - self._fetched_at > self.jwks_max_age:
            await self._refetch(stale_after=self.jwks_max_age)
        elif kid not in self._keys:
            await self._refetch(stale_after=self.jwks_refetch_interval)
        if kid not in self._keys:
            raise jwt.InvalidKeyError(f"unknown signing key id {kid!r}")
        return self._keys[kid]

    async def _refetch(self, *, stale_after: float) -> None:
        # One fetch at a time; whoever waited re-checks the age so a burst of requests
        # with unknown kids costs Cloudflare one request per interval at most.
        async with self._lock:
            if time.monotonic() - self._fetched_at <= stale_after:
                return
            self._fetched_at = time.monotonic()
            try:
                response = await AsyncHTTPClient().fetch(
                    HTTPRequest(
                        self.jwks_url,
                        connect_timeout=self.jwks_timeout,
                        request_timeout=self.jwks_timeout,
                    )
                )
                document = json.loads(response.body)
            except (HTTPClientError, OSError, ValueError) as e:
                self.log.error("Cannot fetch the Access signing keys from %s: %s", self.jwks_url, e)
                raise web.HTTPError(503, "Cannot verify Cloudflare Access sign-in now.") from e
            keys: dict[str, Any] = {}
            for jwk in document.get("keys", []) if isinstance(document, dict) else []:
                if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
                    continue
                if jwk.get("alg", ALGORITHM) != ALGORITHM or jwk.get("use", "sig") != "sig":
                    continue
                try:
                    keys[str(jwk["kid"])] = jwt.PyJWK(jwk, algorithm=ALGORITHM).key
                except (KeyError, jwt.PyJWTError) as e:
                    self.log.warning("Skipping unusable Access signing key: %s", e)
            self._keys = keys
            self.log.info("Loaded %d Access signing key(s) from %s", len(keys), self.jwks_url)
