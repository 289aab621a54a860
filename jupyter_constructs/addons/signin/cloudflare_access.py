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
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from constructs import Construct

from jupyter_constructs.core.errors import invalid, questionable
from jupyter_constructs.core.rules import (
    DNS_NAME,
    check_bool,
    check_domain,
    check_sequence,
    check_text,
    check_url,
    is_clean_text,
)
from jupyter_constructs.hub.auth import AuthSettings, HubAuth
from jupyter_constructs.hub.files.cloudflare_access_names import parse_client_id, parse_email

_TEAM_DOMAIN = re.compile(r"\A[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?\.cloudflareaccess\.com\Z")

#: Module (in ``jupyter_constructs/hub/files``) holding the hub-side authenticator.
AUTHENTICATOR_MODULE = "cloudflare_access.py"
#: The username rules it imports (and this construct applies at synth).
NAMES_MODULE = "cloudflare_access_names.py"
#: The edge whose Access header the hub trusts: every entry point must pass it.
FRONT_DOOR = "Cloudflare"


def _hub_file(name: str) -> str:
    return resources.files("jupyter_constructs.hub.files").joinpath(name).read_text("utf-8")


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

    **User servers on their own hosts.** Cloudflare adds the visitor's Access token to
    every request it forwards, so a user's server receives the token of everyone who opens
    one of its pages; under the hub's host that token is one the hub accepts, and the
    server's owner can sign in as the visitor (docs/authentication.md, "Threat: one user's
    server signs in as another"). So user servers are served at
    ``<name>.<user_server_domain>`` (``JupyterHub.subdomain_host``) behind a second Access
    application whose AUD tag (``user_server_audience``) the hub refuses. Both are
    required; ``user_servers_on_hub_host=True`` keeps the old layout and says so at every
    synth (a ``ConfigurationWarning``).

    **Every way in passes through Cloudflare.** The hub trusts a header Cloudflare adds,
    so a hub also reachable through an Ingress (which Access does not guard) is refused at
    synth, unless ``allow_ingress=True`` says the Ingress only takes Cloudflare's traffic
    (a ``ConfigurationWarning`` then). Reach the hub through a ``CloudflareTunnel``.

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
        user_server_domain: The domain under which user servers get their own hosts,
            ``<name>.<user_server_domain>`` (e.g. ``"jupyter-users.example.com"`` beside the
            hub's ``"jupyter.example.com"``); neither may be under the other. Required
            unless ``user_servers_on_hub_host``.
        user_server_audience: The AUD tag of the second Access application, the one in
            front of ``*.<user_server_domain>``; it must differ from ``audience``.
            Required with ``user_server_domain``.
        user_servers_on_hub_host: Keep user servers under the hub's host
            (``/user/<name>/``), accepting that any user can sign in as whoever opens a
            page of their server while that visitor's Access token lives. Only for hubs
            whose users all trust each other. Default: False.
        allow_ingress: The hub may also have an Ingress (``JupyterHub(ingress=...)``):
            you state that it accepts only Cloudflare's traffic (authenticated origin
            pulls, or a firewall allowing only Cloudflare's addresses); otherwise anyone
            reaching it skips the Access policy and a captured Access token works there.
            Default: False (a hub with an Ingress fails at synth).
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
    user_server_domain: str | None = None
    user_server_audience: str | None = None
    user_servers_on_hub_host: bool = False
    allow_ingress: bool = False

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
        check_bool(scope, "CloudflareAccessAuth.allow_ingress", self.allow_ingress)
        check_bool(
            scope, "CloudflareAccessAuth.user_servers_on_hub_host", self.user_servers_on_hub_host
        )
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
        user_server_audience = self._user_server_layout(scope, domain)
        traits: dict[str, Any] = {
            "team_domain": self.team_domain,
            "audience": self.audience,
            "allow_all": self.allow_all,
            "allow_existing_users": False,
            "allow_service_tokens": self.allow_service_tokens,
        }
        if self.jwks_url is not None:
            traits["jwks_url"] = self.jwks_url
        if user_server_audience is not None:
            traits["user_server_audience"] = user_server_audience
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
            files={
                AUTHENTICATOR_MODULE: _hub_file(AUTHENTICATOR_MODULE),
                NAMES_MODULE: _hub_file(NAMES_MODULE),
            },
            needs_internet_egress=True,
            user_server_domain=self.user_server_domain,
            front_door=FRONT_DOOR,
            other_entry_points_accepted=bool(self.allow_ingress),
            front_door_fix="or, if the Ingress accepts only Cloudflare's traffic (authenticated "
            "origin pulls, a firewall allowing only Cloudflare's addresses), say so with "
            "CloudflareAccessAuth(allow_ingress=True)",
        )

    def _user_server_layout(self, scope: Construct, domain: str) -> str | None:
        """Check the user-server layout; the AUD tag the hub must refuse, if any."""
        if self.user_server_domain is None:
            if self.user_server_audience is not None:
                raise invalid(
                    scope,
                    "CloudflareAccessAuth.user_server_audience",
                    self.user_server_audience,
                    allowed="set only together with user_server_domain",
                    fix="add user_server_domain (the domain of the user-server hosts the "
                    "second Access application guards)",
                )
            if not self.user_servers_on_hub_host:
                raise invalid(
                    scope,
                    "CloudflareAccessAuth user-server layout",
                    "user servers under the hub's host",
                    allowed="user_server_domain and user_server_audience (user servers on "
                    "hosts of their own, behind a second Access application), or "
                    "user_servers_on_hub_host=True. Cloudflare adds the visitor's Access "
                    "token to every request, so under the hub's host a user's server "
                    "receives tokens the hub accepts and its owner can sign in as any "
                    "visitor",
                    fix='pass user_server_domain="jupyter-users.example.com" and '
                    "user_server_audience=<AUD tag of an Access application for "
                    "*.jupyter-users.example.com> (docs/authentication.md)",
                )
            warnings.warn(
                questionable(
                    scope,
                    "CloudflareAccessAuth.user_servers_on_hub_host",
                    True,
                    why="user servers share the hub's host and Access application, so a "
                    "user's server receives the Access tokens of everyone who opens one of "
                    "its pages, tokens the hub accepts: any user can sign in as any visitor "
                    "while that visitor's token lives",
                    fix="serve user servers on hosts of their own (user_server_domain, "
                    "user_server_audience; docs/authentication.md)",
                ),
                stacklevel=4,
            )
            return None
        if self.user_servers_on_hub_host:
            raise invalid(
                scope,
                "CloudflareAccessAuth.user_servers_on_hub_host",
                True,
                allowed="False when user_server_domain is set",
                fix="drop user_servers_on_hub_host: user_server_domain puts user servers on "
                "hosts of their own",
            )
        users = check_domain(
            scope, self.user_server_domain, what="CloudflareAccessAuth.user_server_domain"
        )
        if users == domain or users.endswith("." + domain) or domain.endswith("." + users):
            raise invalid(
                scope,
                "CloudflareAccessAuth.user_server_domain",
                users,
                allowed=f"a domain beside the hub's {domain!r}, neither under the other (a "
                "user host under the hub's host receives the hub's Domain cookies; the hub's "
                "host under the user domain could be a user's host)",
                fix=f"e.g. {'jupyter-users.' + domain.split('.', 1)[-1]!r} for the hub at "
                f"{domain!r}",
            )
        aud = self.user_server_audience
        if not isinstance(aud, str) or not aud.strip():
            raise invalid(
                scope,
                "CloudflareAccessAuth.user_server_audience",
                aud,
                allowed="the AUD tag of the Access application in front of "
                f"*.{users} (required with user_server_domain)",
                fix="create a self-hosted Access application for *.<user_server_domain> "
                "and copy its Application Audience (AUD) tag",
            )
        if aud.strip() == self.audience.strip():
            raise invalid(
                scope,
                "CloudflareAccessAuth.user_server_audience",
                "<the hub application's AUD tag>",
                allowed="the AUD tag of a second Access application, different from "
                "audience: the hub must refuse the tokens user servers see",
                fix=f"create a separate Access application for *.{users} and use its AUD tag",
            )
        return aud.strip()


def _email(scope: Construct, what: str, value: str) -> str:
    # The hub's own rule (cloudflare_access_names), so a listed name is one a token can
    # carry. A configuration entry may have ASCII spaces around it and any case (the rule
    # lowercases what tokens carry); anything else the rule refuses is refused here too.
    normalised = value.strip(" \t\r\n").lower() if isinstance(value, str) else None
    name = parse_email(normalised)
    if name is None and isinstance(normalised, str) and normalised.endswith(".access"):
        name = parse_client_id(normalised)  # a service token's client id, "<id>.access"
    if name is None:
        raise invalid(
            scope,
            f"CloudflareAccessAuth.{what} entry",
            value,
            allowed="one plain e-mail address (ASCII, nothing around it; "
            "docs/authentication.md, 'The e-mail rule') or a service token's client id",
            fix="list the addresses exactly as Cloudflare Access reports them",
        )
    return name


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
