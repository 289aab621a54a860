"""Sign-in with GitHub, Google or Azure AD (Entra ID), typed and hardened like ``OidcAuth``.

These are the oauthenticator classes the hub image ships.

Each option:

- renders its traits under the oauthenticator class's own section and loads the hub-side
  subclass from ``oauth_authenticators.py`` (shipped in the hub ConfigMap), which puts a
  refreshed user through the allow rules again (``RecheckOnRefresh``);
- keeps tokens encrypted in the hub (``enable_auth_state``), re-checks users with the
  provider every ``auth_refresh_age`` seconds (default 300, at most 3600) and before every
  server start, so a user removed from the organization, team, domain or group loses hub
  access within that time; the hub cookie lasts ``JupyterHub(cookie_max_age_days=...)``;
- takes its client secret as a ``SecretRef`` (env var ``OAUTH_CLIENT_SECRET`` of the hub
  container) and any key file as a ``SecretRef`` mounted read-only;
- lets the hub reach the provider over HTTPS (the hub's ``identity provider`` egress rule,
  public addresses on 443); a provider on a private network (GitHub Enterprise Server)
  gets its own egress rule from ``provider_cidrs`` through ``hub.allow_traffic``;
- refuses, at synth, a hub that anybody with an account at the provider could enter.

References: https://oauthenticator.readthedocs.io/en/latest/reference/api/gen/oauthenticator.github.html,
https://oauthenticator.readthedocs.io/en/latest/reference/api/gen/oauthenticator.google.html,
https://oauthenticator.readthedocs.io/en/latest/reference/api/gen/oauthenticator.azuread.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from constructs import Construct

from jupyter_constructs.addons.signin._common import (
    DEFAULT_AUTH_REFRESH_AGE,
    check_cidrs,
    check_names,
    check_refresh_age,
    hub_file,
    session_traits,
)
from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.network_policy import cidrs, egress, tcp
from jupyter_constructs.core.rules import (
    HOST_NAME_RULE,
    check_bool,
    check_domain,
    check_mapping,
    check_token,
)
from jupyter_constructs.core.secrets import SecretRef, check_secret
from jupyter_constructs.hub.auth import AUTH_FILES_DIR, AuthSettings, HubAuth

if TYPE_CHECKING:
    from jupyter_constructs.hub.hub import JupyterHub

OAUTH_MODULE = "oauth_authenticators.py"
CLIENT_SECRET_ENV = "OAUTH_CLIENT_SECRET"

# \Z, not $: "$" also matches before a final newline.
_GITHUB_NAME = re.compile(r"\A[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\Z")
_GITHUB_TEAM = re.compile(r"\A[A-Za-z0-9._-]{1,100}\Z")
_TENANT_GUID = re.compile(
    r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
)
# ID-token claims Entra ID does not verify: a username from them is someone else's name.
_UNVERIFIED_AZURE_CLAIMS = frozenset({"email", "emails", "unique_name"})
# Azure AD tenants that are not one organization: anybody with a Microsoft account.
_MULTI_TENANT = frozenset({"common", "organizations", "consumers"})


def _check_client(scope: Construct, cls: str, client_id: str, client_secret: object) -> None:
    check_token(scope, f"{cls}.client_id", client_id, example=f"{cls.lower()}-client")
    check_secret(scope, f"{cls}.client_secret", client_secret)


def _oauth_settings(
    *,
    authenticator_class: str,
    section: str,
    client_id: str,
    client_secret: SecretRef,
    domain: str,
    refresh_age: int,
    traits: dict[str, Any],
    secret_files: dict[str, SecretRef] | None = None,
) -> AuthSettings:
    rendered: dict[str, Any] = {
        "client_id": client_id,
        "oauth_callback_url": f"https://{domain}/hub/oauth_callback",
        **session_traits(refresh_age),
        **traits,
    }
    return AuthSettings(
        authenticator_class=f"oauth_authenticators.{authenticator_class}",
        traits={section: dict(sorted(rendered.items()))},
        secret_env={CLIENT_SECRET_ENV: client_secret},
        traits_from_env={f"{section}.client_secret": CLIENT_SECRET_ENV},
        files={OAUTH_MODULE: hub_file(OAUTH_MODULE)},
        secret_files=dict(secret_files or {}),
    )


@dataclass(frozen=True)
class GitHubAuth(HubAuth):
    """Sign-in with GitHub (or GitHub Enterprise Server): members of organizations or teams.

    Usernames are GitHub logins (lower-cased by the hub). Who may sign in must be said:
    ``allowed_organizations`` (``"my-org"`` or a team, ``"my-org:my-team"``, by team
    slug) and/or ``allowed_users``. There is no ``allow_all``: every GitHub account
    could sign in. Membership is asked of GitHub at sign-in and again on every re-check,
    so the OAuth app needs the ``read:org`` scope (requested automatically when
    organizations are given) and each organization must have granted the app access
    (GitHub: organization settings, "Third-party access").

    Args:
        client_id: The OAuth app's client id.
        client_secret: Its client secret (``SecretRef``).
        allowed_organizations: Organizations (``"org"``) and teams (``"org:team-slug"``)
            whose members may sign in. Default: none.
        allowed_users: GitHub logins that may sign in. Default: none.
        admin_users: Logins that are hub admins. With ``allowed_organizations`` they
            must be members of one of them too (a login is reusable: a renamed
            admin's old login can be registered by anyone). Default: none.
        teams_in_auth_state: Keep the user's team list in the auth state
            (``populate_teams_in_auth_state``, for spawn hooks). Default: False.
        github_url: GitHub Enterprise Server, e.g. ``"https://github.example.com"``.
            Default: none (github.com).
        provider_cidrs: Where GitHub Enterprise Server answers when that is a private
            network (CIDR blocks, host bits zero); the hub gets an egress rule to them on
            443.
            Default: none (the provider is on the public internet).
        auth_refresh_age: Seconds between re-checks with GitHub (1 to 3600). Default: 300.

    Raises:
        ConfigurationError: At synth: no allow rule, a malformed organization or team,
            a non-https ``github_url``, or a session setting out of bounds.
    """

    client_id: str
    client_secret: SecretRef
    allowed_organizations: Sequence[str] = ()
    allowed_users: Sequence[str] = ()
    admin_users: Sequence[str] = ()
    teams_in_auth_state: bool = False
    github_url: str | None = None
    provider_cidrs: Sequence[str] = ()
    auth_refresh_age: int = DEFAULT_AUTH_REFRESH_AGE

    def settings(self, scope: Construct, *, domain: str) -> AuthSettings:
        """Render this option for the hub at ``https://<domain>`` (``HubAuth.settings``).

        Raises:
            ConfigurationError: A field is invalid (class docstring).
        """
        _check_client(scope, "GitHubAuth", self.client_id, self.client_secret)
        orgs = check_names(
            scope, "GitHubAuth.allowed_organizations", self.allowed_organizations, example="my-org"
        )
        for entry in orgs:
            org, _, team = entry.partition(":")
            if not _GITHUB_NAME.fullmatch(org) or (
                ":" in entry and not _GITHUB_TEAM.fullmatch(team)
            ):
                raise invalid(
                    scope,
                    "GitHubAuth.allowed_organizations entry",
                    entry,
                    allowed="an organization login ('my-org') or 'org:team-slug' (the team's "
                    "slug from its URL, not its display name)",
                    fix="copy the names from https://github.com/orgs/<org>/teams/<team-slug>",
                )
        users = check_names(
            scope, "GitHubAuth.allowed_users", self.allowed_users, example="octocat"
        )
        if not (orgs or users):
            raise invalid(
                scope,
                "GitHubAuth allow rule",
                "nobody",
                allowed="allowed_organizations and/or allowed_users",
                fix="say which organizations or teams may sign in; GitHub has no allow-all "
                "because every GitHub account could then use the hub",
            )
        refresh_age = check_refresh_age(scope, "GitHubAuth.auth_refresh_age", self.auth_refresh_age)
        traits: dict[str, Any] = {
            "allow_all": False,
            # read:user for the profile, read:org to see private org and team membership.
            "scope": ["read:user", "read:org"]
            if (orgs or self.teams_in_auth_state)
            else ["read:user"],
        }
        if orgs:
            traits["allowed_organizations"] = orgs
        if users:
            traits["allowed_users"] = users
        admins = check_names(scope, "GitHubAuth.admin_users", self.admin_users, example="octocat")
        if admins:
            traits["admin_users"] = admins
        if check_bool(scope, "GitHubAuth.teams_in_auth_state", self.teams_in_auth_state):
            traits["populate_teams_in_auth_state"] = True
        if self.github_url is not None:
            traits["github_url"] = _https_base(scope, "GitHubAuth.github_url", self.github_url)
        check_cidrs(scope, "GitHubAuth.provider_cidrs", self.provider_cidrs)
        return _oauth_settings(
            authenticator_class="GitHubAuthenticator",
            section="GitHubOAuthenticator",
            client_id=self.client_id,
            client_secret=self.client_secret,
            domain=domain,
            refresh_age=refresh_age,
            traits=traits,
        )

    def bind(self, scope: Construct, hub: JupyterHub) -> None:
        """Egress to GitHub Enterprise Server on a private network (``provider_cidrs``)."""
        if self.provider_cidrs:
            hub.allow_traffic(
                scope,
                "ProviderEgress",
                name="hub-to-github",
                pod_selector={"matchLabels": hub.selector_labels("hub")},
                egress_rules=[egress(cidrs(list(self.provider_cidrs)), [tcp(443)])],
                labels=hub.labels("network-policy"),
            )


def _https_base(scope: Construct, what: str, value: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(
        r"https://[a-z0-9.-]+(:[0-9]{1,5})?/?", value
    ):
        raise invalid(
            scope,
            what,
            value,
            allowed="https://<host> without a path",
            fix="give the server's address, e.g. 'https://github.example.com'",
        )
    return value.rstrip("/")


@dataclass(frozen=True)
class GoogleAuth(HubAuth):
    """Sign-in with Google: accounts of your Google Workspace domains, optionally of groups.

    Usernames are e-mail addresses (with one domain, the part before ``@``, as
    oauthenticator does by default). ``hosted_domains`` is required: without it every
    Gmail account could authenticate. Who may sign in among those: everyone in the
    domains (``allow_all_in_domains=True``), ``allowed_users``, or members of
    ``allowed_groups`` (Google groups, ``{"example.com": ["data-team@example.com"]}``).
    Groups are read with the Admin SDK Directory API as ``gsuite_administrator``,
    through a service account with domain-wide delegation: its JSON key is
    ``service_account_key`` (a ``SecretRef``), mounted read-only in the hub.

    Args:
        client_id: The OAuth client id (Google Cloud console, "Credentials").
        client_secret: Its secret (``SecretRef``).
        hosted_domains: Workspace domains whose accounts may authenticate (the ``hd``
            claim Google signs).
        allow_all_in_domains: Every account of ``hosted_domains`` may sign in. Default:
            False.
        allowed_users: Usernames that may sign in: with one hosted domain the part
            before ``@`` (``"ada"``), with several the e-mail address. Default: none.
        admin_users: Hub admins, written as ``allowed_users``. Default: none.
        allowed_groups: Google groups by domain whose members may sign in. Default: none.
        admin_groups: Google groups by domain whose members are hub admins. Default: none.
        gsuite_administrator: By domain, the administrator the service account acts as
            (required with groups).
        service_account_key: The service account's JSON key (required with groups).
        auth_refresh_age: Seconds between re-checks with Google (1 to 3600). Default: 300.

    Raises:
        ConfigurationError: At synth: no domain, no allow rule, groups without the
            service account, a group of a domain not in ``hosted_domains``.
    """

    client_id: str
    client_secret: SecretRef
    hosted_domains: Sequence[str]
    allow_all_in_domains: bool = False
    allowed_users: Sequence[str] = ()
    admin_users: Sequence[str] = ()
    allowed_groups: Mapping[str, Sequence[str]] = field(default_factory=dict)
    admin_groups: Mapping[str, Sequence[str]] = field(default_factory=dict)
    gsuite_administrator: Mapping[str, str] = field(default_factory=dict)
    service_account_key: SecretRef | None = None
    auth_refresh_age: int = DEFAULT_AUTH_REFRESH_AGE

    def settings(self, scope: Construct, *, domain: str) -> AuthSettings:
        """Render this option for the hub at ``https://<domain>`` (``HubAuth.settings``).

        Raises:
            ConfigurationError: A field is invalid (class docstring).
        """
        _check_client(scope, "GoogleAuth", self.client_id, self.client_secret)
        domains = check_names(
            scope, "GoogleAuth.hosted_domains", self.hosted_domains, example="example.com"
        )
        if not domains:
            raise invalid(
                scope,
                "GoogleAuth.hosted_domains",
                [],
                allowed="your Google Workspace domains",
                fix="pass hosted_domains=['example.com']: without it any Google account "
                "(gmail.com included) can authenticate",
            )
        for entry in domains:
            check_domain(scope, entry, what="GoogleAuth.hosted_domains entry")
        users = check_names(
            scope, "GoogleAuth.allowed_users", self.allowed_users, example="ada@example.com"
        )
        admins = check_names(scope, "GoogleAuth.admin_users", self.admin_users, example="a@b.org")
        if len(domains) == 1:
            # oauthenticator strips "@<domain>" from usernames when there is one hosted
            # domain (GoogleOAuthenticator.strip_domain): an address would never match.
            for what, names in (("allowed_users", users), ("admin_users", admins)):
                for name in names:
                    if name.lower().endswith("@" + domains[0].lower()):
                        raise invalid(
                            scope,
                            f"GoogleAuth.{what} entry",
                            name,
                            allowed=f"usernames without '@{domains[0]}': with one hosted "
                            "domain the hub names users by the part before '@' "
                            "(oauthenticator's strip_domain), so this entry would match "
                            "nobody",
                            fix=f"write {name.rsplit('@', 1)[0]!r}",
                        )
        groups = self._groups(scope, "allowed_groups", self.allowed_groups, domains)
        admin_groups = self._groups(scope, "admin_groups", self.admin_groups, domains)
        check_bool(scope, "GoogleAuth.allow_all_in_domains", self.allow_all_in_domains)
        if not (self.allow_all_in_domains or users or groups):
            raise invalid(
                scope,
                "GoogleAuth allow rule",
                "nobody",
                allowed="allow_all_in_domains=True, allowed_users or allowed_groups",
                fix="say who of your domains may sign in",
            )
        refresh_age = check_refresh_age(scope, "GoogleAuth.auth_refresh_age", self.auth_refresh_age)
        traits: dict[str, Any] = {
            "hosted_domain": domains,
            "allow_all": self.allow_all_in_domains,
        }
        if users:
            traits["allowed_users"] = users
        if admins:
            traits["admin_users"] = admins
        administrators = check_mapping(
            scope,
            "GoogleAuth.gsuite_administrator",
            self.gsuite_administrator,
            key=HOST_NAME_RULE,
            fix="pass gsuite_administrator={'example.com': 'admin'}",
        )
        for admin_domain, admin in administrators.items():
            check_token(
                scope, f"GoogleAuth.gsuite_administrator[{admin_domain!r}]", admin, example="admin"
            )
        check_secret(
            scope, "GoogleAuth.service_account_key", self.service_account_key, optional=True
        )
        secret_files: dict[str, SecretRef] = {}
        if groups or admin_groups:
            group_domains = sorted(set(groups) | set(admin_groups))
            missing = [d for d in group_domains if d not in administrators]
            if missing or self.service_account_key is None:
                raise invalid(
                    scope,
                    "GoogleAuth groups",
                    group_domains,
                    allowed="groups with service_account_key and a gsuite_administrator for "
                    "each of their domains",
                    fix="create a service account with domain-wide delegation (scope "
                    "admin.directory.group.readonly), store its JSON key in a Secret, pass "
                    "service_account_key=SecretRef(...) and gsuite_administrator="
                    "{'example.com': 'admin'}",
                )
            secret_files["google-service-account.json"] = self.service_account_key
            key_path = f"{AUTH_FILES_DIR}/google-service-account.json"
            traits["google_service_account_keys"] = {d: key_path for d in group_domains}
            traits["gsuite_administrator"] = {d: administrators[d] for d in group_domains}
            if groups:
                traits["allowed_google_groups"] = groups
            if admin_groups:
                traits["admin_google_groups"] = admin_groups
        return _oauth_settings(
            authenticator_class="GoogleAuthenticator",
            section="GoogleOAuthenticator",
            client_id=self.client_id,
            client_secret=self.client_secret,
            domain=domain,
            refresh_age=refresh_age,
            traits=traits,
            secret_files=secret_files,
        )

    @staticmethod
    def _groups(
        scope: Construct, what: str, value: Mapping[str, Sequence[str]], domains: list[str]
    ) -> dict[str, list[str]]:
        if not isinstance(value, Mapping):
            raise invalid(
                scope,
                f"GoogleAuth.{what}",
                value,
                allowed="a mapping of domain to group addresses",
                fix="pass e.g. {'example.com': ['data-team@example.com']}",
            )
        groups: dict[str, list[str]] = {}
        for group_domain, names in sorted(value.items()):
            if group_domain not in domains:
                raise invalid(
                    scope,
                    f"GoogleAuth.{what} domain",
                    group_domain,
                    allowed=f"one of hosted_domains {domains}",
                    fix="add the domain to hosted_domains or move the groups to one of them",
                )
            groups[group_domain] = check_names(
                scope, f"GoogleAuth.{what}[{group_domain!r}]", names, example=f"team@{group_domain}"
            )
        return groups


@dataclass(frozen=True)
class AzureAdAuth(HubAuth):
    """Sign-in with Azure AD (Microsoft Entra ID): accounts of one tenant, optionally of groups.

    ``tenant_id`` is your directory's id (a GUID) or its verified domain: the multi-tenant
    endpoints (``common``, ``organizations``, ``consumers``) are refused because any
    Microsoft account could then authenticate. Usernames come from ``username_claim``
    (default ``preferred_username``, the user principal name; oauthenticator's own
    default, the display ``name``, is neither unique nor stable). Group membership comes
    from the ID token's ``groups`` claim (object ids, or names for groups synced from
    on-premises): add the claim in the app registration ("Token configuration").

    Args:
        tenant_id: The directory (tenant) id or verified domain.
        client_id: The app registration's application (client) id.
        client_secret: Its client secret (``SecretRef``).
        allow_all_in_tenant: Every account of the tenant may sign in (user assignment
            on the enterprise application then decides). Default: False.
        allowed_users: Usernames that may sign in. Default: none.
        admin_users: Hub admins. Default: none.
        allowed_groups: Group ids whose members may sign in. Default: none.
        admin_groups: Group ids whose members are hub admins. Default: none.
        username_claim: The ID-token claim naming the user (not ``email``, which Entra ID
            does not verify). Default: ``preferred_username``.
        auth_refresh_age: Seconds between re-checks with Azure AD (1 to 3600). Default: 300.

    Raises:
        ConfigurationError: At synth: a multi-tenant or malformed tenant, no allow rule,
            a session setting out of bounds.
    """

    tenant_id: str
    client_id: str
    client_secret: SecretRef
    allow_all_in_tenant: bool = False
    allowed_users: Sequence[str] = ()
    admin_users: Sequence[str] = ()
    allowed_groups: Sequence[str] = ()
    admin_groups: Sequence[str] = ()
    username_claim: str = "preferred_username"
    auth_refresh_age: int = DEFAULT_AUTH_REFRESH_AGE

    def settings(self, scope: Construct, *, domain: str) -> AuthSettings:
        """Render this option for the hub at ``https://<domain>`` (``HubAuth.settings``).

        Raises:
            ConfigurationError: A field is invalid (class docstring).
        """
        _check_client(scope, "AzureAdAuth", self.client_id, self.client_secret)
        tenant = self.tenant_id
        if (
            not isinstance(tenant, str)
            or tenant.lower() in _MULTI_TENANT
            or not (_TENANT_GUID.fullmatch(tenant) or "." in tenant)
        ):
            raise invalid(
                scope,
                "AzureAdAuth.tenant_id",
                tenant,
                allowed="your directory's id (a GUID) or verified domain; not common, "
                "organizations or consumers, through which any Microsoft account could sign in",
                fix="copy the 'Directory (tenant) ID' from the app registration's overview",
            )
        if not _TENANT_GUID.fullmatch(tenant):
            check_domain(scope, tenant, what="AzureAdAuth.tenant_id")
        users = check_names(scope, "AzureAdAuth.allowed_users", self.allowed_users, example="ada")
        groups = check_names(
            scope, "AzureAdAuth.allowed_groups", self.allowed_groups, example="<group-object-id>"
        )
        admin_groups = check_names(
            scope, "AzureAdAuth.admin_groups", self.admin_groups, example="<group-object-id>"
        )
        check_bool(scope, "AzureAdAuth.allow_all_in_tenant", self.allow_all_in_tenant)
        if not (self.allow_all_in_tenant or users or groups):
            raise invalid(
                scope,
                "AzureAdAuth allow rule",
                "nobody",
                allowed="allow_all_in_tenant=True, allowed_users or allowed_groups",
                fix="say who of your tenant may sign in",
            )
        check_token(
            scope, "AzureAdAuth.username_claim", self.username_claim, example="preferred_username"
        )
        if (
            not isinstance(self.username_claim, str)
            or not self.username_claim
            or self.username_claim in _UNVERIFIED_AZURE_CLAIMS
        ):
            # https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference
            # ("email": not verified, mutable; never use it for authorization).
            raise invalid(
                scope,
                "AzureAdAuth.username_claim",
                self.username_claim,
                allowed="an ID-token claim that names one account of the tenant: "
                "preferred_username, upn or oid; not email, which Entra ID does not verify "
                "(an account whose mail attribute holds someone else's address would sign "
                "in as them)",
                fix="keep the default preferred_username, or use oid for an id that never changes",
            )
        refresh_age = check_refresh_age(
            scope, "AzureAdAuth.auth_refresh_age", self.auth_refresh_age
        )
        traits: dict[str, Any] = {
            "tenant_id": tenant,
            "username_claim": self.username_claim,
            "allow_all": self.allow_all_in_tenant,
            "scope": ["openid", "email", "profile", "offline_access"],
        }
        if users:
            traits["allowed_users"] = users
        admins = check_names(scope, "AzureAdAuth.admin_users", self.admin_users, example="ada")
        if admins:
            traits["admin_users"] = admins
        if groups or admin_groups:
            # The decoded ID token is kept in the auth state under "user".
            traits["auth_state_groups_key"] = "user.groups"
            traits["manage_groups"] = True
        if groups:
            traits["allowed_groups"] = groups
        if admin_groups:
            traits["admin_groups"] = admin_groups
        return _oauth_settings(
            authenticator_class="AzureAdAuthenticator",
            section="AzureAdOAuthenticator",
            client_id=self.client_id,
            client_secret=self.client_secret,
            domain=domain,
            refresh_age=refresh_age,
            traits=traits,
        )
