"""GitHub, Google and Azure AD sign-in whose hub sessions end when the provider says so.

oauthenticator (17.x) with ``enable_auth_state`` re-reads a signed-in user from the
provider every ``auth_refresh_age`` seconds and before every server start
(``refresh_user``): a user whose token the provider no longer accepts (app access
revoked, account disabled) must sign in again. But a user still valid at the provider
who merely *left the organization, team, domain or group* that let them in gets a fresh
user model and keeps the session: oauthenticator does not put the refreshed model through
its allow rules again (oauthenticator#579).

``RecheckOnRefresh`` closes that gap for each provider class: the refreshed model goes
through the sign-in checks again (blocked users, which for Google includes
``hosted_domain``; then ``check_allowed``, which asks GitHub for organization/team
membership, Google for group membership, and compares Azure AD's group claim), and a
model that now names another user ends the session too.

Traits stay in the sections of the parent classes (``GitHubOAuthenticator`` ...): a
subclass reads its parents' configuration.

This module is copied into the hub image's config directory by jupyter-constructs and
imports only what that image ships (oauthenticator, tornado).
"""

from __future__ import annotations

from inspect import isawaitable
from typing import Any

from oauthenticator.azuread import AzureAdOAuthenticator
from oauthenticator.github import GitHubOAuthenticator
from oauthenticator.google import GoogleOAuthenticator
from tornado import web


class RecheckOnRefresh:
    """Mixin for an ``OAuthenticator``: a refreshed user must pass the sign-in checks."""

    log: Any

    async def refresh_user(self, user: Any, handler: Any = None, **kwargs: Any) -> Any:
        """Refresh as oauthenticator does, then end the session if it is no longer allowed.

        Returns ``False`` (sign in again) when the provider refuses the stored tokens,
        names someone else, or the refreshed model fails ``check_blocked_users`` or
        ``check_allowed``; otherwise what oauthenticator returned.
        """
        refreshed = await super().refresh_user(user, handler, **kwargs)  # type: ignore[misc]
        if not isinstance(refreshed, dict):
            return refreshed
        name = refreshed.get("name")
        if name != user.name:
            self.log.warning(
                "Ending the session of %s: the provider now names the user %r", user.name, name
            )
            return False
        for check in (self.check_blocked_users, self.check_allowed):  # type: ignore[attr-defined]
            try:
                verdict = check(user.name, refreshed)
                if isawaitable(verdict):
                    verdict = await verdict
            except web.HTTPError as err:
                # Google raises 403 for an e-mail address that is no longer verified.
                self.log.warning("Ending the session of %s: %s", user.name, err.log_message)
                return False
            if not verdict:
                self.log.warning(
                    "Ending the session of %s: no longer allowed by the provider's answer (%s)",
                    user.name,
                    check.__name__,
                )
                return False
        return refreshed


class GitHubAuthenticator(RecheckOnRefresh, GitHubOAuthenticator):  # type: ignore[misc]
    """``GitHubOAuthenticator`` whose sessions end when organization/team membership ends.

    With ``allowed_organizations``, ``admin_users`` must be members too. oauthenticator
    lets every admin login in whatever GitHub answers (``auth_model["admin"]`` comes
    first in ``check_allowed``), but a GitHub login is not a stable identity: an admin
    who left the organization would keep admin access, and whoever registers a login an
    admin renamed away from would become a hub admin.
    """

    async def check_allowed(self, username: str, auth_model: Any) -> bool:
        """oauthenticator's answer; for an admin login, also membership of an allowed org."""
        if not await super().check_allowed(username, auth_model):
            return False
        if auth_model is None or not self.allowed_organizations:
            return True
        if username not in self.admin_users:
            return True
        token = auth_model["auth_state"]["token_response"]
        for org_team in sorted(self.allowed_organizations):
            if await self._check_membership_allowed_organizations(
                org_team, username, token["access_token"], token["token_type"]
            ):
                return True
        self.log.warning(
            "Refusing admin %s: not a member of allowed_organizations (admins must be)",
            username,
        )
        return False


class GoogleAuthenticator(RecheckOnRefresh, GoogleOAuthenticator):  # type: ignore[misc]
    """``GoogleOAuthenticator`` whose sessions end when domain/group membership ends."""


class AzureAdAuthenticator(RecheckOnRefresh, AzureAdOAuthenticator):  # type: ignore[misc]
    """``AzureAdOAuthenticator`` whose sessions end when group membership ends."""
