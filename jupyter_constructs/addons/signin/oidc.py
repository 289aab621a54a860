"""Sign-in through any OpenID Connect provider (oauthenticator's GenericOAuthenticator)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from constructs import Construct

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.rules import (
    check_bool,
    check_sequence,
    check_text,
    check_token,
    check_url,
)
from jupyter_constructs.core.secrets import SecretRef, check_secret
from jupyter_constructs.hub.auth import AuthSettings, HubAuth

_TEAM_DOMAIN = re.compile(r"\A[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?\.cloudflareaccess\.com\Z")
_CLIENT_ID = re.compile(r"\A[A-Za-z0-9._~-]{1,255}\Z")

# The hub-side subclass of GenericOAuthenticator (jupyter_constructs/hub/files), shipped in
# the hub ConfigMap beside jupyterhub_config.py.
OIDC_AUTHENTICATOR_MODULE = "oidc_authenticator.py"
OIDC_AUTHENTICATOR_CLASS = "oidc_authenticator.OidcAuthenticator"

# Bounds of the session settings of OidcAuth.
MAX_AUTH_REFRESH_AGE = 3600  # seconds: longer lets a revoked user work on for over an hour


def _oidc_authenticator_source() -> str:
    return (
        resources.files("jupyter_constructs.hub.files")
        .joinpath(OIDC_AUTHENTICATOR_MODULE)
        .read_text(encoding="utf-8")
    )


def _check_https_url(scope: Construct, what: str, value: str) -> str:
    return check_url(
        scope,
        what,
        value,
        fix="copy the endpoint from your identity provider's OpenID configuration "
        "(/.well-known/openid-configuration)",
    )


@dataclass(frozen=True)
class OidcAuth(HubAuth):
    """Sign-in through any OpenID Connect provider (oauthenticator's GenericOAuthenticator).

    Endpoints come from the provider's ``/.well-known/openid-configuration``. The client
    secret is a ``SecretRef`` and reaches the hub as the ``OAUTH_CLIENT_SECRET`` env var.

    Who may sign in must be said explicitly: ``allowed_users``, ``allowed_groups``
    (read from ``groups_claim``), or ``allow_all=True`` when the provider itself already
    restricts who can authenticate (for example a Cloudflare Access policy).

    Sessions end with the provider's word. The hub keeps the user's tokens encrypted
    (``enable_auth_state``, key ``JUPYTERHUB_CRYPT_KEY`` from the hub Secret) and, on the
    first request after ``auth_refresh_age`` seconds and before every server start, asks
    the provider again (userinfo with the access token, else the refresh token). A user
    disabled, logged out or deleted at the provider, or no longer in an allowed group, is
    sent back to sign in, where the provider or the allow rules refuse them. So a revoked
    user loses hub access at most ``auth_refresh_age`` seconds after the revocation; the
    hub cookie itself expires after ``JupyterHub(cookie_max_age_days=...)`` (a day by
    default) whatever happens.

    For Cloudflare Access for SaaS use ``OidcAuth.cloudflare_access_saas(...)``.
    Reference: https://oauthenticator.readthedocs.io/en/latest/reference/api/gen/oauthenticator.generic.html

    Attributes:
        client_id: The client id registered with the provider.
        client_secret: The client secret (``OAUTH_CLIENT_SECRET`` in the hub).
        authorize_url: The provider's authorization endpoint (https://).
        token_url: The token endpoint (https://).
        userdata_url: The userinfo endpoint (https://).
        username_claim: The claim that names the user; with ``"email"`` an answer
            whose ``email_verified`` is false is refused. Default: ``"email"``.
        scopes: Requested scopes. Default: ``openid email profile``.
        allowed_users: Users who may sign in. Default: none.
        allowed_groups: Groups whose members may sign in. Default: none.
        admin_users: Hub admins. Default: none.
        admin_groups: Groups whose members are hub admins. Default: none.
        groups_claim: The userinfo claim listing groups. Default: ``"groups"``.
        allow_all: Anyone the provider authenticates may sign in. Default: False.
        login_service: The name on the login button. Default: ``"single sign-on"``.
        auth_refresh_age: Seconds after which a signed-in user is checked with the
            provider again, on their next request (1 to 3600). Default: 300, so a revoked
            user keeps hub access for at most 5 minutes. JupyterHub's
            ``Authenticator.auth_refresh_age``,
            https://jupyterhub.readthedocs.io/en/stable/reference/api/auth.html
        user_server_domain: Serve user servers on hosts of their own,
            ``<name>.<user_server_domain>`` (``JupyterHub.subdomain_host``), beside the
            hub's domain and neither under the other (e.g. ``"jupyter-users.example.com"``
            beside ``"jupyter.example.com"``). A user's server then runs its pages in an
            origin of its own, so a page another user opens there cannot call the hub's
            API with that visitor's hub cookie, JupyterHub's advice for users who do not
            trust each other
            (https://jupyterhub.readthedocs.io/en/stable/explanation/websecurity.html).
            Needs DNS and a certificate for ``*.<user_server_domain>``. Default: none
            (user servers under the hub's host, ``/user/<name>/``).

    Raises:
        ConfigurationError: At synth, for a non-https endpoint, an empty client id, no
            allow rule, or a session setting out of its bounds.
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
    auth_refresh_age: int = 300
    user_server_domain: str | None = None

    @classmethod
    def cloudflare_access_saas(
        cls,
        *,
        team_domain: str,
        client_id: str,
        client_secret: SecretRef,
        username_claim: str = "email",
        scopes: Sequence[str] = ("openid", "email", "profile"),
        allowed_users: Sequence[str] = (),
        allowed_groups: Sequence[str] = (),
        admin_users: Sequence[str] = (),
        admin_groups: Sequence[str] = (),
        groups_claim: str = "groups",
        allow_all: bool = False,
        login_service: str = "Cloudflare Access",
    ) -> OidcAuth:
        """Cloudflare Access for SaaS as the OIDC provider.

        Endpoints follow Cloudflare's layout
        ``https://<team_domain>/cdn-cgi/access/sso/oidc/<client_id>/{authorization,token,userinfo}``.

        Args:
            team_domain: ``<team>.cloudflareaccess.com``.
            client_id: The client id of the Access for SaaS application (a URL path
                segment: letters, digits, ``-``, ``.``, ``_``, ``~``).
            client_secret: Its client secret.
            username_claim: As ``OidcAuth``. Default: ``"email"``.
            scopes: As ``OidcAuth``. Default: ``openid email profile``.
            allowed_users: As ``OidcAuth``. Default: none.
            allowed_groups: As ``OidcAuth``. Default: none.
            admin_users: As ``OidcAuth``. Default: none.
            admin_groups: As ``OidcAuth``. Default: none.
            groups_claim: As ``OidcAuth``. Default: ``"groups"``.
            allow_all: As ``OidcAuth``. Default: False.
            login_service: The name on the login button. Default: ``"Cloudflare Access"``.

        Returns:
            The ``OidcAuth``.

        Raises:
            ConfigurationError: ``team_domain`` or ``client_id`` is not usable in the URL.
        """
        where = "OidcAuth.cloudflare_access_saas"
        if not isinstance(team_domain, str) or not _TEAM_DOMAIN.match(team_domain):
            raise invalid(
                where,
                "team_domain",
                team_domain,
                allowed="'<team>.cloudflareaccess.com', lowercase, no scheme or path",
                fix="copy the team domain from Cloudflare Zero Trust > Settings > Custom pages",
            )
        if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
            raise invalid(
                where,
                "client_id",
                client_id,
                allowed="1-255 letters, digits, '-', '.', '_' and '~' (it is part of the URLs)",
                fix="copy the client id from the Access for SaaS application",
            )
        base = f"https://{team_domain}/cdn-cgi/access/sso/oidc/{client_id}"
        return cls(
            client_id=client_id,
            client_secret=client_secret,
            authorize_url=f"{base}/authorization",
            token_url=f"{base}/token",
            userdata_url=f"{base}/userinfo",
            username_claim=username_claim,
            scopes=scopes,
            allowed_users=allowed_users,
            allowed_groups=allowed_groups,
            admin_users=admin_users,
            admin_groups=admin_groups,
            groups_claim=groups_claim,
            allow_all=allow_all,
            login_service=login_service,
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
        check_secret(scope, "OidcAuth.client_secret", self.client_secret)
        for what in ("authorize_url", "token_url", "userdata_url"):
            _check_https_url(scope, f"OidcAuth.{what}", getattr(self, what))
        check_token(scope, "OidcAuth.client_id", self.client_id, example="jupyterhub")
        check_token(scope, "OidcAuth.username_claim", self.username_claim, example="email")
        check_token(scope, "OidcAuth.groups_claim", self.groups_claim, example="groups")
        check_text(scope, "OidcAuth.login_service", self.login_service, max_length=200)
        check_bool(scope, "OidcAuth.allow_all", self.allow_all)
        check_sequence(
            scope,
            "OidcAuth.scopes",
            self.scopes,
            lambda what, v: check_token(scope, what, v, example="openid"),
        )
        for what in ("allowed_users", "allowed_groups", "admin_users", "admin_groups"):
            check_sequence(
                scope,
                f"OidcAuth.{what}",
                getattr(self, what),
                lambda w, v: check_text(scope, w, v),
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
        refresh_age = self.auth_refresh_age
        if (
            isinstance(refresh_age, bool)
            or not isinstance(refresh_age, int)
            or not 1 <= refresh_age <= MAX_AUTH_REFRESH_AGE
        ):
            raise invalid(
                scope,
                "OidcAuth.auth_refresh_age",
                refresh_age,
                allowed=f"whole seconds from 1 to {MAX_AUTH_REFRESH_AGE}",
                fix="keep the default 300 (a revoked user loses access within 5 minutes) or "
                "choose how long a revoked user may keep working",
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
            # Re-check users with the provider (oauthenticator's refresh_user needs the
            # tokens, kept encrypted with JUPYTERHUB_CRYPT_KEY); OidcAuthenticator applies
            # the allow rules again to what the provider answers.
            "enable_auth_state": True,
            "auth_refresh_age": refresh_age,
            "refresh_pre_spawn": True,
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
        # Traits stay under GenericOAuthenticator: the subclass reads its parent's section.
        return AuthSettings(
            authenticator_class=OIDC_AUTHENTICATOR_CLASS,
            traits={"GenericOAuthenticator": traits},
            secret_env={"OAUTH_CLIENT_SECRET": self.client_secret},
            traits_from_env={"GenericOAuthenticator.client_secret": "OAUTH_CLIENT_SECRET"},
            files={OIDC_AUTHENTICATOR_MODULE: _oidc_authenticator_source()},
            user_server_domain=self.user_server_domain,
        )
