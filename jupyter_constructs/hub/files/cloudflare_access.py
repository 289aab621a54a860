"""JupyterHub authenticator for a hub behind Cloudflare Access (runs inside the hub image).

Cloudflare Access signs every request it lets through with a JWT in the
``Cf-Access-Jwt-Assertion`` header. This authenticator trusts that header only after
checking it completely:

- algorithm RS256 only (``alg: none`` and HS256 signed with the public key are refused);
- signature against the team's JWKS (``https://<team_domain>/cdn-cgi/access/certs``),
  keys cached by ``kid``; an unknown ``kid`` triggers one refetch, at most once per
  ``jwks_refetch_interval`` seconds so a flood of bogus kids cannot hammer Cloudflare. A
  refetch that yields no usable key (an error, ``{"keys": []}``, ``[]``, not JSON) keeps
  the keys loaded before; until a key set has loaded once, sign-in answers 503;
- ``aud`` contains ``audience`` (the hub's Access application) and not
  ``user_server_audience`` (the application in front of user servers), ``iss`` equals
  ``https://<team_domain>``, ``exp``/``nbf`` hold within ``leeway`` seconds;
- the username is the ``email`` claim, which must be exactly one plain address
  (``parse_email``), lowercased. Service tokens (a ``common_name`` and no ``email``) are
  refused unless ``allow_service_tokens``.

Who may sign in: ``allow_all``, ``allowed_users`` (e-mail addresses), ``admin_users``,
``allowed_email_domains`` or ``allowed_groups`` (from a ``groups`` claim, when Access
includes one). There is no login form: ``GET /hub/login`` authenticates from the header
(``auto_login``), and a refusal is a 403 that creates no user.

A hub session lives only as long as Access vouches for it: every browser (cookie) request
to the hub is checked again (``refresh_user``) and needs a valid header for the same user,
so a session ends when the Access token expires, when the header is missing, or when Access
reports someone else. Requests made with a hub API token are not browser requests and are
left to the token's own scopes and expiry.

Why two audiences: Cloudflare adds the visitor's token to every request it forwards, user
server paths included, so a user's server sees the tokens of everyone who visits it. With
user servers on their own hosts (``JupyterHub.subdomain_host``) behind a second Access
application, those tokens carry that application's AUD tag, which this hub refuses. See
docs/authentication.md ("Threat: one user's server signs in as another").

This module is copied into the hub image's config directory by jupyter-constructs, beside
``cloudflare_access_names.py`` (the username rules, which the construct applies to
``allowed_emails`` and ``admin_users`` too), and imports only what that image ships
(jupyterhub, tornado, traitlets, pyjwt, cryptography and the standard library).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlparse

import jwt

# Beside this file in the hub's config folder (mypy checks it as a package module).
from cloudflare_access_names import parse_client_id, parse_email  # type: ignore[import-not-found]
from jupyterhub.auth import Authenticator
from jupyterhub.handlers.login import LoginHandler
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from traitlets import Bool, Float, Set, Unicode, default

HEADER = "Cf-Access-Jwt-Assertion"
ALGORITHM = "RS256"


def _shown(value: object) -> str:
    """A claim as it may appear in a log line: quoted, escaped, at most 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


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
        help="Application Audience (AUD) tag of the Access application in front of the hub; "
        "the token's 'aud' claim must contain it.",
    ).tag(config=True)

    user_server_audience = Unicode(
        "",
        help="AUD tag of the separate Access application in front of the user-server hosts "
        "(JupyterHub.subdomain_host). Tokens carrying it are refused and logged as a possible "
        "replay. When set, the hub refuses to start unless user servers have their own hosts "
        "(subdomain_host set) and this tag differs from 'audience'. Default: empty, user "
        "servers share the hub's application and see tokens the hub accepts (a warning is "
        "logged at start).",
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
        help="Minimum seconds between two JWKS fetches (for an unknown 'kid', after a failed "
        "fetch, or when the keys are older than jwks_max_age). Tokens with an unknown kid "
        "inside this window are refused without a fetch.",
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
        # with a cached key, and ends a hub session as soon as the Access token expires or
        # the Access identity changes. (1 s is the shortest: 0 would switch refreshing off.)
        return 1

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Without these every sign-in would fail with a confusing token error: stop the hub.
        if not self.team_domain or not self.audience:
            raise ValueError(
                "CloudflareAccessAuthenticator needs team_domain (<team>.cloudflareaccess.com) "
                "and audience (the Access application's AUD tag)"
            )
        self._check_user_server_layout()
        self._keys: dict[str, Any] = {}
        self._loaded_at = float("-inf")  # when a usable key set last arrived (monotonic)
        self._attempted_at = float("-inf")  # when the keys were last fetched, or tried
        self._lock = asyncio.Lock()

    def _check_user_server_layout(self) -> None:
        """Refuse to start when user servers would see tokens this hub accepts."""
        # The JupyterHub application, when the hub builds us (tests may build us alone).
        hub = self.parent if hasattr(self.parent, "subdomain_host") else None
        if not self.user_server_audience:
            if hub is not None:
                self.log.warning(
                    "CloudflareAccessAuthenticator: user servers share the hub's Access "
                    "application (user_server_audience is not set), so a user's server "
                    "receives the Access tokens of everyone who visits it, tokens this hub "
                    "accepts. Put user servers on their own hosts behind a second Access "
                    "application (docs/authentication.md)."
                )
            return
        if self.user_server_audience.strip() == self.audience.strip():
            raise ValueError(
                "CloudflareAccessAuthenticator.user_server_audience equals audience: user "
                "servers need their own Access application, with its own AUD tag"
            )
        if hub is None:
            return
        subdomain_host = hub.subdomain_host
        if not subdomain_host:
            raise ValueError(
                "CloudflareAccessAuthenticator.user_server_audience is set but "
                "JupyterHub.subdomain_host is not: user servers must be served on their own "
                "hosts, behind the Access application with that AUD tag"
            )
        hub_host = urlparse(hub.public_url or subdomain_host).hostname or ""
        probe = str(hub.subdomain_hook("probe@example.org", hub.domain, "user"))
        users_parent = probe.split(".", 1)[-1]
        if users_parent == hub_host or users_parent.endswith("." + hub_host):
            # Works, but any cookie of the hub's host set with a Domain attribute (whoever
            # sets it) then reaches user servers too.
            self.log.warning(
                "CloudflareAccessAuthenticator: user servers (*.%s) are served under the "
                "hub's host %s; serve them from a sibling domain (hub_config.json "
                "user_server_domain) so no cookie of the hub's host can reach them",
                users_parent,
                hub_host,
            )

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
        if email not in (None, ""):  # service tokens have no (or an empty) email
            name = parse_email(email)
            if name is None:
                self.log.warning(
                    "Refused sign-in: the email claim is not exactly one plain address: %s",
                    _shown(email),
                )
                return None
        elif self.allow_service_tokens and "common_name" in claims:
            name = parse_client_id(claims["common_name"])
            if name is None:
                self.log.warning(
                    "Refused sign-in: malformed service token client id: %s",
                    _shown(claims["common_name"]),
                )
                return None
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
        """Keep a browser session only while Access vouches for the same, allowed user.

        Every request that reaches the hub through Cloudflare carries the header. A browser
        (cookie) request without it, with an expired or otherwise invalid token, or with the
        token of someone else ends the session: a session never outlives its Access token
        (by more than ``leeway`` plus ``auth_refresh_age``). Requests authenticated with a hub
        API token are checked by the token's scopes and expiry; a header on them must still
        name the same user.
        """
        if handler is None:
            return True
        token_authenticated = getattr(handler, "_token_authenticated", False)
        if token_authenticated and HEADER not in handler.request.headers:
            return True
        authenticated = await self.get_authenticated_user(handler, None)
        if not authenticated:
            self.log.warning("Ending the hub session of %s: no valid Access token", user.name)
            return False
        if authenticated["name"] != user.name:
            self.log.warning(
                "Ending the hub session of %s: Access now reports %s",
                user.name,
                authenticated["name"],
            )
            return False
        return True

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
        # Accept either tag in the signature check so a user-server token can be named in
        # the log (it is then refused below); any other audience fails here.
        accepted = [self.audience, self.user_server_audience] if self.user_server_audience else []
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=[ALGORITHM],
            audience=accepted or self.audience,
            issuer=self.issuer,
            leeway=self.leeway,
            options={"require": ["exp", "iss", "aud"]},
        )
        if self.user_server_audience:
            audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
            if self.user_server_audience in audiences:
                # Only user servers (and their visitors) see these: someone replays one.
                raise jwt.InvalidAudienceError(
                    "token of the user-server Access application presented to the hub "
                    "(possible replay by a user server)"
                )
            if self.audience not in audiences:
                raise jwt.InvalidAudienceError("Audience doesn't match")
        return claims

    async def _key(self, kid: str) -> Any:
        stale = time.monotonic() - self._loaded_at > self.jwks_max_age
        if stale or kid not in self._keys:
            await self._refetch()
        if not self._keys:
            # Never loaded: we cannot tell a valid token from a forged one. Not the user's fault.
            raise web.HTTPError(503, "Cannot verify Cloudflare Access sign-in now.")
        if kid not in self._keys:
            raise jwt.InvalidKeyError(f"unknown signing key id {kid!r}")
        return self._keys[kid]

    async def _refetch(self) -> None:
        # One fetch at a time, at most one per interval: whoever waited finds the attempt
        # recent and returns, so a burst of unknown kids costs Cloudflare one request.
        async with self._lock:
            if time.monotonic() - self._attempted_at < self.jwks_refetch_interval:
                return
            self._attempted_at = time.monotonic()
            try:
                keys = await self._fetch_keys()
            except (HTTPClientError, OSError, ValueError) as e:
                problem = str(e)
            else:
                if keys:
                    self._keys = keys
                    self._loaded_at = time.monotonic()
                    self.log.info(
                        "Loaded %d Access signing key(s) from %s", len(keys), self.jwks_url
                    )
                    return
                problem = "no usable RS256 signing key in the answer"
            # A bad answer must not empty a good cache: keep the keys we have.
            self.log.error(
                "Cannot refresh the Access signing keys from %s: %s; keeping the %d key(s) "
                "loaded earlier",
                self.jwks_url,
                problem,
                len(self._keys),
            )

    async def _fetch_keys(self) -> dict[str, Any]:
        """The usable keys of one JWKS answer, by kid (empty when none is usable)."""
        response = await AsyncHTTPClient().fetch(
            HTTPRequest(
                self.jwks_url,
                connect_timeout=self.jwks_timeout,
                request_timeout=self.jwks_timeout,
            )
        )
        document = json.loads(response.body)
        found = document.get("keys") if isinstance(document, dict) else None
        keys: dict[str, Any] = {}
        for jwk in found if isinstance(found, list) else []:
            if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
                continue
            if jwk.get("alg", ALGORITHM) != ALGORITHM or jwk.get("use", "sig") != "sig":
                continue
            kid = jwk.get("kid")
            if not isinstance(kid, str) or not kid:
                continue
            try:
                keys[kid] = jwt.PyJWK(jwk, algorithm=ALGORITHM).key
            except jwt.PyJWTError as e:
                self.log.warning("Skipping unusable Access signing key %s: %s", _shown(kid), e)
        return keys
