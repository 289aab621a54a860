"""Sign-in through any OpenID Connect provider (oauthenticator's GenericOAuthenticator)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from constructs import Construct

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.secrets import SecretRef
from jupyter_constructs.hub.auth import AuthSettings, HubAuth


def _check_https_url(scope: Construct, what: str, value: str) -> str:
    parsed = urlparse(value) if isinstance(value, str) else None
    if parsed is None or parsed.scheme != "https" or not parsed.netloc:
        raise invalid(
            scope,
            what,
            value,
            allowed="an absolute https:// URL",
            fix="copy the endpoint from your identity provider's OpenID configuration "
            "(/.well-known/openid-configuration)",
        )
    return value


@dataclass(frozen=True)
class OidcAuth(HubAuth):
    """Sign-in through any OpenID Connect provider (oauthenticator's GenericOAuthenticator).

    Endpoints come from the provider's ``/.well-known/openid-configuration``. The client
    secret is a ``SecretRef`` and reaches the hub as the ``OAUTH_CLIENT_SECRET`` env var.

    Who may sign in must be said explicitly: ``allowed_users``, ``allowed_groups``
    (read from ``groups_claim``), or ``allow_all=True`` when the provider itself already
    restricts who can authenticate (for example a Cloudflare Access policy).

    For Cloudflare Access for SaaS use ``OidcAuth.cloudflare_access_saas(...)``.
    Reference: https://oauthenticator.readthedocs.io/en/latest/reference/api/gen/oauthenticator.generic.html

    Attributes:
        client_id: The client id registered with the provider.
        client_secret: The client secret (``OAUTH_CLIENT_SECRET`` in the hub).
        authorize_url: The provider's authorization endpoint (https://).
        token_url: The token endpoint (https://).
        userdata_url: The userinfo endpoint (https://).
        username_claim: The claim that names the user. Default: ``"email"``.
        scopes: Requested scopes. Default: ``openid email profile``.
        allowed_users: Users who may sign in. Default: none.
        allowed_groups: Groups whose members may sign in. Default: none.
        admin_users: Hub admins. Default: none.
        admin_groups: Groups whose members are hub admins. Default: none.
        groups_claim: The userinfo claim listing groups. Default: ``"groups"``.
        allow_all: Anyone the provider authenticates may sign in. Default: False.
        login_service: The name on the login button. Default: ``"single sign-on"``.
    """

    client_id: str
    client_secret: SecretRef
    authorize_url: str
    token_url: str
    userdata_url: str
    username_claim: str = "email"
    scopes: Sequence[str] = ("openid", "email", "profile")
    allowed_users: Sequence[str] = ()
    allowed_groups: Sequence[str] = ()
    admin_users: Sequence[str] = ()
    admin_groups: Sequence[str] = ()
    groups_claim: str = "groups"
    allow_all: bool = False
    login_service: str = "single sign-on"

    @classmethod
    def cloudflare_access_saas(
        cls,
        *,
        team_domain: str,
        client_id: str,
        client_secret: SecretRef,
        **options: Any,
    ) -> OidcAuth:
        """Cloudflare Access for SaaS as the OIDC provider.

        ``team_domain`` is ``<team>.cloudflareaccess.com``; endpoints follow Cloudflare's
        layout ``https://<team>/cdn-cgi/access/sso/oidc/<client-id>/{authorization,token,userinfo}``.
        Other keyword options are those of ``OidcAuth``.
        """
        base = f"https://{team_domain}/cdn-cgi/access/sso/oidc/{client_id}"
        return cls(
            client_id=client_id,
            client_secret=client_secret,
            authorize_url=f"{base}/authorization",
            token_url=f"{base}/token",
            userdata_url=f"{base}/userinfo",
            login_service=options.pop("login_service", "Cloudflare Access"),
            **options,
        )

    def settings(self, scope: Construct, *, domain: str) -> AuthSettings:
        """Render this option for the hub served at ``https://<domain>``.

        Args:
            scope: The hub (errors name its path).
            domain: The hub's host name.

        Returns:
            What the hub needs: authenticator class, traits, secret env vars, files.

        Raises:
            ConfigurationError: A field is invalid.
        """
        for what in ("authorize_url", "token_url", "userdata_url"):
            _check_https_url(scope, f"OidcAuth.{what}", getattr(self, what))
        if not self.client_id:
            raise invalid(
                scope,
                "OidcAuth.client_id",
                self.client_id,
                allowed="the non-empty client id registered with the provider",
                fix="copy the client id from the provider's application page",
            )
        if not (self.allowed_users or self.allowed_groups or self.allow_all):
            raise invalid(
                scope,
                "OidcAuth allow rule",
                "nobody",
                allowed="allowed_users, allowed_groups, or allow_all=True",
                fix="say who may sign in; allow_all=True only when the identity provider "
                "already restricts who can authenticate",
            )
        traits: dict[str, Any] = {
            "client_id": self.client_id,
            "authorize_url": self.authorize_url,
            "token_url": self.token_url,
            "userdata_url": self.userdata_url,
            "oauth_callback_url": f"https://{domain}/hub/oauth_callback",
            "scope": list(self.scopes),
            "username_claim": self.username_claim,
            "login_service": self.login_service,
            "allow_all": self.allow_all,
        }
        if self.allowed_users:
            traits["allowed_users"] = sorted(self.allowed_users)
        if self.admin_users:
            traits["admin_users"] = sorted(self.admin_users)
        if self.allowed_groups or self.admin_groups:
            # oauthenticator 17 reads groups from the auth state; the userinfo response
            # is stored under "oauth_user".
            traits["auth_state_groups_key"] = f"oauth_user.{self.groups_claim}"
            traits["manage_groups"] = True
        if self.allowed_groups:
            traits["allowed_groups"] = sorted(self.allowed_groups)
        if self.admin_groups:
            traits["admin_groups"] = sorted(self.admin_groups)
        return AuthSettings(
            authenticator_class="generic-oauth",
            traits={"GenericOAuthenticator": traits},
            secret_env={"OAUTH_CLIENT_SECRET": self.client_secret},
            traits_from_env={"GenericOAuthenticator.client_secret": "OAUTH_CLIENT_SECRET"},
        )
