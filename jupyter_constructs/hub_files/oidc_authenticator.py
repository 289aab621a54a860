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

This module is copied into the hub image's config directory by jupyter-constructs and
imports only what that image ships (jupyterhub, oauthenticator).
"""

from __future__ import annotations

from inspect import isawaitable
from typing import Any

from oauthenticator.generic import GenericOAuthenticator


class OidcAuthenticator(GenericOAuthenticator):  # type: ignore[misc]
    """``GenericOAuthenticator`` that re-applies the allow rules on every refresh."""

    async def refresh_user(self, user: Any, handler: Any = None, **kwargs: Any) -> Any:
        """Refresh as oauthenticator does, then end the session if it is no longer allowed.

        Returns ``False`` (sign in again) when the provider refuses the stored tokens, when
        the provider now names someone else, when the user is blocked, or when the allow
        rules refuse the refreshed user model; otherwise what oauthenticator returned.
        """
        refreshed = await super().refresh_user(user, handler, **kwargs)
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
