"""OpenID Connect sign-in whose hub sessions end when the provider revokes the user.

oauthenticator's ``GenericOAuthenticator`` (17.x) with ``enable_auth_state`` re-reads the
user from the provider every ``auth_refresh_age`` seconds (``refresh_user``): with the
stored access token it calls the userinfo endpoint, and when that fails it tries the
refresh token. A user disabled or logged out at the provider fails both, and the hub asks
them to sign in again. But a user who is still valid at the provider and only *lost the
group* that let them in gets a fresh user model with the new groups, and oauthenticator
does not ask whether that model is still allowed: the session goes on.

``OidcAuthenticator.refresh_user`` closes that gap: a refreshed model is put through the
same checks as a sign-in (blocked users, then ``check_allowed``: allowed users, allowed
groups, admins), and a model whose username is no longer the session's user ends the
session too. Upstream context: oauthenticator#579 (refresh_user), ldapauthenticator#218
(the same re-check asked of LDAP).

Tokens too large for the provider: oauthenticator sends the access token in a header to
the userinfo endpoint. A provider that copies many groups into the access token can make
it larger than its own header limit (Keycloak 26: 64 KiB, about 1,200 groups with
36-character names), and the provider then answers 431; oauthenticator lets that surface
as a bare 500. Sign-in answers 502 with the token size and the fix instead.

This module is copied into the hub image's config directory by jupyter-constructs and
imports only what that image ships (oauthenticator, tornado).
"""

from __future__ import annotations

from inspect import isawaitable
from typing import Any

from oauthenticator.generic import GenericOAuthenticator
from tornado import web
from tornado.httpclient import HTTPClientError

TOKEN_TOO_LARGE = (
    "The identity provider refused the hub's user-info request (HTTP 431): the access "
    "token is %d bytes, more than the provider accepts in a request header. Ask the "
    "provider's administrator to leave the groups claim out of the access token and keep "
    "it in the userinfo response (Keycloak: the group mapper's 'Add to access token' off)."
)


UNVERIFIED_EMAIL = (
    "The identity provider has not verified your e-mail address, which is your username "
    "here. Verify it at the provider, then sign in again."
)


class TokenTooLarge(HTTPClientError):
    """The provider answered 431 to a request carrying an access token of ``size`` bytes."""

    def __init__(self, size: int) -> None:
        super().__init__(431, "Request Header Fields Too Large")
        self.size = size


class OidcAuthenticator(GenericOAuthenticator):  # type: ignore[misc]
    """``GenericOAuthenticator`` that re-applies the allow rules on every refresh."""

    async def authenticate(self, handler: Any, data: Any = None, **kwargs: Any) -> Any:
        """Sign in as oauthenticator does; a 431 from the provider becomes a clear 502."""
        try:
            return await super().authenticate(handler, data, **kwargs)
        except TokenTooLarge as err:
            self.log.error(TOKEN_TOO_LARGE, err.size)
            raise web.HTTPError(502, TOKEN_TOO_LARGE, err.size) from err

    async def token_to_user(self, token_info: dict[str, Any]) -> Any:
        """The provider's userinfo answer; a 431 is raised as ``TokenTooLarge`` (still an
        ``HTTPClientError``, so ``refresh_user`` treats it as before)."""
        try:
            return await super().token_to_user(token_info)
        except HTTPClientError as err:
            if err.code == 431:
                raise TokenTooLarge(len(token_info.get("access_token") or "")) from err
            raise

    def user_info_to_username(self, user_info: dict[str, Any]) -> Any:
        """The username claim's value; refused (403) when it is an address the provider says
        it has not verified.

        With ``username_claim="email"`` the address is the hub identity: a provider that
        lets an account hold an unverified address (Keycloak with "Verify email" off, its
        default) would let that account sign in as the hub user of the address, such as a
        departed colleague whose hub account and home volume are still there. Refused when
        ``email_verified`` is present and false (``false`` or ``"false"``, as some providers
        send it); providers that never send the claim are unaffected.
        """
        username = super().user_info_to_username(user_info)
        verified = user_info.get("email_verified", True)
        if self.username_claim == "email" and (
            verified is False or (isinstance(verified, str) and verified.lower() == "false")
        ):
            self.log.warning(
                "Refused sign-in as %r: the provider has not verified that e-mail address",
                username,
            )
            raise web.HTTPError(403, UNVERIFIED_EMAIL)
        return username

    async def refresh_user(self, user: Any, handler: Any = None, **kwargs: Any) -> Any:
        """Refresh as oauthenticator does, then end the session if it is no longer allowed.

        Returns ``False`` (sign in again) when the provider refuses the stored tokens, when
        the provider now names someone else, when the user is blocked, or when the allow
        rules refuse the refreshed user model; otherwise what oauthenticator returned.
        """
        try:
            refreshed = await super().refresh_user(user, handler, **kwargs)
        except web.HTTPError as err:
            if err.status_code != 403:
                raise
            self.log.warning("Ending the session of %s: %s", user.name, err.log_message)
            return False
        if not isinstance(refreshed, dict):
            return refreshed
        name = refreshed.get("name")
        if name != user.name:
            self.log.warning(
                "Ending the session of %s: the provider now names the user %r",
                user.name,
                name,
            )
            return False
        for check in (self.check_blocked_users, self.check_allowed):
            verdict = check(user.name, refreshed)
            if isawaitable(verdict):
                verdict = await verdict
            if not verdict:
                self.log.warning(
                    "Ending the session of %s: no longer allowed by the provider's answer (%s)",
                    user.name,
                    check.__name__,
                )
                return False
        return refreshed
