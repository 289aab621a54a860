"""Sign-in through Cloudflare Access: the hub checks the JWT Access adds to every request.

- ``CloudflareAccessAuth``: users sign in through Cloudflare Access; the hub verifies the
  ``Cf-Access-Jwt-Assertion`` JWT Access adds to every request it lets through.
  (The other route, Access for SaaS as an OIDC provider, is
  ``OidcAuth.cloudflare_access_saas``.)
- ``CloudflareTunnel``: a cloudflared Deployment that carries traffic from Cloudflare to
  the hub's ``proxy-public`` Service without any public load balancer or Ingress.

See docs/authentication.md and docs/cloudflare-tunnel-config.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from constructs import Construct

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.rules import (
    DNS_NAME,
    check_bool,
    check_sequence,
    check_text,
    check_url,
    is_clean_text,
)
from jupyter_constructs.hub.auth import AuthSettings, HubAuth

_TEAM_DOMAIN = re.compile(r"\A[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?\.cloudflareaccess\.com\Z")
_EMAIL = re.compile(r"\A[^@\s]+@[^@\s]+\Z")

#: Module (in ``jupyter_constructs/hub/files``) holding the hub-side authenticator.
AUTHENTICATOR_MODULE = "cloudflare_access.py"


def _authenticator_source() -> str:
    return (
        resources.files("jupyter_constructs.hub.files")
        .joinpath(AUTHENTICATOR_MODULE)
        .read_text(encoding="utf-8")
    )


@dataclass(frozen=True)
class CloudflareAccessAuth(HubAuth):
    """Sign-in through Cloudflare Access (self-hosted application in front of the hub).

    Cloudflare Access authenticates the user, then adds a signed JWT to every request in
    the ``Cf-Access-Jwt-Assertion`` header. The hub runs ``CloudflareAccessAuthenticator``
    (shipped with this library) that accepts a request only when that JWT is valid:
    RS256 signature by the team's keys, ``aud`` containing ``audience``, ``iss`` equal to
    ``https://<team_domain>``, not expired. The username is the ``email`` claim,
    lowercased.

    Who may sign in must be said explicitly (``allowed_emails``,
    ``allowed_email_domains``, ``allowed_groups``, or ``allow_all=True`` when the Access
    policy alone decides). Users present in the hub database but no longer allowed by
    this configuration are refused (``allow_existing_users`` is off), so the
    configuration stays the one source of truth. The hub fetches the signing keys from
    Cloudflare, so it needs egress to the internet.

    Attributes:
        team_domain: ``<team>.cloudflareaccess.com`` (Zero Trust > Settings > Custom
            pages shows it).
        audience: The Application Audience (AUD) tag of the Access application (Access >
            Applications > your app > Overview).
        allowed_emails: Addresses that may sign in (surrounding whitespace is stripped and
            the address lower-cased, as Cloudflare reports it). Default: none.
        allowed_email_domains: E-mail domains that may sign in (exact domains, no
            subdomains). Default: none.
        allowed_groups: Groups from the token's ``groups`` claim (present when the
            identity provider sends groups). Default: none.
        admin_users: Addresses that can always sign in and are hub admins. Default: none.
        allow_service_tokens: Accept Access service tokens (no ``email``); their
            username is the token's client id (``common_name``) and allow rules still
            apply (list it in ``allowed_emails``). Default: False.
        allow_all: Anyone Access lets through may sign in. Default: False.
        jwks_url: Where the signing keys are. Default:
            ``https://<team_domain>/cdn-cgi/access/certs``; override only for tests.
    """

    team_domain: str
    audience: str
    allowed_emails: Sequence[str] = ()
    allowed_email_domains: Sequence[str] = ()
    allowed_groups: Sequence[str] = ()
    admin_users: Sequence[str] = ()
    allow_service_tokens: bool = False
    allow_all: bool = False
    jwks_url: str | None = None

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
        if not isinstance(self.team_domain, str) or not _TEAM_DOMAIN.match(self.team_domain):
            raise invalid(
                scope,
                "CloudflareAccessAuth.team_domain",
                self.team_domain,
                allowed="'<team>.cloudflareaccess.com', lowercase, no scheme or path",
                fix="copy the team domain from Cloudflare Zero Trust > Settings > Custom pages",
            )
        if not is_clean_text(self.audience) or not self.audience:
            raise invalid(
                scope,
                "CloudflareAccessAuth.audience",
                self.audience,
                allowed="the non-empty Application Audience (AUD) tag of the Access application",
                fix="copy the AUD tag from Zero Trust > Access > Applications > "
                "(your application) > Overview",
            )
        if self.jwks_url is not None:
            check_url(
                scope,
                "CloudflareAccessAuth.jwks_url",
                self.jwks_url,
                schemes=("https", "http"),
                fix="leave jwks_url unset outside tests (default: "
                "https://<team_domain>/cdn-cgi/access/certs)",
            )
        check_bool(scope, "CloudflareAccessAuth.allow_all", self.allow_all)
        check_bool(scope, "CloudflareAccessAuth.allow_service_tokens", self.allow_service_tokens)
        emails = check_sequence(
            scope, "CloudflareAccessAuth.allowed_emails", self.allowed_emails, lambda w, e: e
        )
        emails = [_email(scope, "allowed_emails", e) for e in emails]
        admins = check_sequence(
            scope, "CloudflareAccessAuth.admin_users", self.admin_users, lambda w, e: e
        )
        admins = [_email(scope, "admin_users", e) for e in admins]
        domains = check_sequence(
            scope,
            "CloudflareAccessAuth.allowed_email_domains",
            self.allowed_email_domains,
            lambda w, d: d,
        )
        domains = [_email_domain(scope, d) for d in domains]
        groups = check_sequence(
            scope,
            "CloudflareAccessAuth.allowed_groups",
            self.allowed_groups,
            lambda w, g: check_text(scope, w, g),
        )
        if not (emails or domains or groups or admins or self.allow_all):
            raise invalid(
                scope,
                "CloudflareAccessAuth allow rule",
                "nobody",
                allowed="allowed_emails, allowed_email_domains, allowed_groups, "
                "admin_users, or allow_all=True",
                fix="say who may sign in; allow_all=True only when the Cloudflare Access "
                "policy alone should decide",
            )
        traits: dict[str, Any] = {
            "team_domain": self.team_domain,
            "audience": self.audience,
            "allow_all": self.allow_all,
            "allow_existing_users": False,
            "allow_service_tokens": self.allow_service_tokens,
        }
        if self.jwks_url is not None:
            traits["jwks_url"] = self.jwks_url
        if emails:
            traits["allowed_users"] = sorted(set(emails))
        if domains:
            traits["allowed_email_domains"] = sorted(set(domains))
        if groups:
            traits["allowed_groups"] = sorted(set(groups))
        if admins:
            traits["admin_users"] = sorted(set(admins))
        return AuthSettings(
            authenticator_class="cloudflare_access.CloudflareAccessAuthenticator",
            traits={"CloudflareAccessAuthenticator": traits},
            files={AUTHENTICATOR_MODULE: _authenticator_source()},
            needs_internet_egress=True,
        )


def _email(scope: Construct, what: str, value: str) -> str:
    # Surrounding whitespace is stripped and case folded: Cloudflare reports addresses in
    # lower case (documented on the class).
    normalised = value.strip().lower() if isinstance(value, str) else ""
    if not is_clean_text(normalised):
        normalised = ""
    # Service-token client ids ("<id>.access") are also valid usernames.
    if not (_EMAIL.match(normalised) or DNS_NAME.match(normalised)):
        raise invalid(
            scope,
            f"CloudflareAccessAuth.{what} entry",
            value,
            allowed="an e-mail address (or a service token's client id)",
            fix="list the addresses exactly as Cloudflare Access reports them",
        )
    return normalised


def _email_domain(scope: Construct, value: str) -> str:
    normalised = value.strip().lower().lstrip("@") if isinstance(value, str) else ""
    if not is_clean_text(normalised):
        normalised = ""
    if not DNS_NAME.match(normalised):
        raise invalid(
            scope,
            "CloudflareAccessAuth.allowed_email_domains entry",
            value,
            allowed="a domain name such as 'example.com' (exact match, no wildcards)",
            fix="list each e-mail domain separately, subdomains included",
        )
    return normalised
