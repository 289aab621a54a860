"""Sign-in against an LDAP directory (Active Directory, OpenLDAP, FreeIPA): ldapauthenticator.

Reference: https://github.com/jupyterhub/ldapauthenticator (2.0, in the hub image).
"""

from __future__ import annotations

import re
import ssl
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from constructs import Construct

from jupyter_constructs.addons.signin._common import check_cidrs, check_names
from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.network_policy import cidrs, egress, tcp
from jupyter_constructs.core.rules import check_bool, check_domain, check_token, is_clean_text
from jupyter_constructs.core.secrets import SecretRef, check_secret
from jupyter_constructs.hub.auth import AUTH_FILES_DIR, AuthSettings, HubAuth

if TYPE_CHECKING:
    from jupyter_constructs.hub.hub import JupyterHub

LDAP_AUTHENTICATOR_CLASS = "ldapauthenticator.LDAPAuthenticator"
SEARCH_PASSWORD_ENV = "LDAP_SEARCH_PASSWORD"
CA_FILE = "ldap-ca.crt"
LdapTls = Literal["starttls", "ldaps"]
_TLS_STRATEGY = {"starttls": "before_bind", "ldaps": "on_connect"}
_DEFAULT_PORT = {"starttls": 389, "ldaps": 636}
# One RDN: an attribute type (descriptor or OID), '=', a value (RFC 4514 section 3).
_RDN = re.compile(r"\s*(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)\s*=.+", re.DOTALL)


def _format_fields(template: str) -> list[str] | None:
    """The ``{field}`` names of a ``str.format`` template, or None when it does not parse."""
    try:
        return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError:
        return None


def _is_dn(value: object, *, fields: frozenset[str] = frozenset()) -> bool:
    """A distinguished name such as ``ou=people,dc=example,dc=org`` (RFC 4514).

    Clean text, every RDN ``attribute=value`` (escaped commas kept), ``str.format``
    fields only from ``fields``.
    """
    if not isinstance(value, str) or not value or not is_clean_text(value):
        return False
    names = _format_fields(value)
    if names is None or not set(names) <= fields:
        return False
    return all(_RDN.fullmatch(rdn) for rdn in re.split(r"(?<!\\),", value))


def _check_dn(scope: Construct, what: str, value: object, *, example: str) -> str:
    if not _is_dn(value):
        raise invalid(
            scope,
            what,
            value,
            allowed="a distinguished name: attribute=value parts separated by commas, "
            "without line breaks, control characters or surrounding blanks",
            fix=f"e.g. {what.split('.')[-1]}={example!r}",
        )
    return str(value)


def _is_filter(value: object) -> bool:
    """An LDAP filter in balanced parentheses (RFC 4515).

    Its ``str.format`` fields are ``{userdn}`` and ``{uid}`` only (ldapauthenticator
    fills them).
    """
    if not isinstance(value, str) or not is_clean_text(value):
        return False
    if not (value.startswith("(") and value.endswith(")")):
        return False
    depth = 0
    for char in value:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    names = _format_fields(value)
    return depth == 0 and names is not None and set(names) <= {"userdn", "uid"}


def _template_fields(template: str) -> list[str] | None:
    """The replacement fields of a DN template as ``str.format`` reads it, or None.

    ldapauthenticator calls ``template.format(username=...)``; None means it cannot.

    Only a plain ``{username}`` works: any other field (``{0}``, ``{uid}``), a conversion or a
    format spec (``{username!r}``, ``{username.upper}``) fails or changes every sign-in.
    """
    fields = []
    try:
        for _, name, spec, conversion in string.Formatter().parse(template):
            if name is None:
                continue
            if spec or conversion:
                return None
            fields.append(name)
    except ValueError:  # an unmatched brace
        return None
    return fields


@dataclass(frozen=True)
class LdapAuth(HubAuth):
    """Sign-in with a username and password checked against an LDAP directory.

    The hub binds as the user: either to a DN made from ``bind_dn_templates``
    (``"uid={username},ou=people,dc=example,dc=org"``), or, with ``user_search_base``,
    to the DN it looks up by ``user_attribute`` as ``search_user`` (``lookup_dn``, for
    directories whose DNs do not contain the login name, such as Active Directory).

    Always encrypted and verified: ``tls="starttls"`` (port 389, upgraded before the
    password is sent) or ``"ldaps"`` (636); plaintext is refused. The server certificate
    is verified (ldap3's own default verifies nothing) against ``ca_certificate`` (a
    ``SecretRef`` to a PEM file, mounted read-only) or the hub image's CA store.

    The directory is usually on a private network that default-deny NetworkPolicies
    block: ``server_cidrs`` gives the hub an egress rule to it (through
    ``hub.allow_traffic``, rendered only when the hub renders NetworkPolicies).

    Sessions: ldapauthenticator checks the password and groups only at sign-in (no
    token to re-check later, ldapauthenticator#218), so a removed user keeps hub access
    until the hub cookie expires: ``JupyterHub(cookie_max_age_days=...)``, a day by
    default. Shorten it for directories where that matters.

    Args:
        server_address: The directory's host name (it must match its certificate).
        server_cidrs: CIDR blocks of the directory servers (host bits zero), for the
            egress rule.
        tls: ``"starttls"`` or ``"ldaps"``. Default: ``"starttls"``.
        server_port: Default: 389 for starttls, 636 for ldaps.
        ca_certificate: PEM CA bundle that signed the server's certificate. Default:
            none (the hub image's CA store).
        bind_dn_templates: DN templates with ``{username}``. Default: none.
        user_search_base: Where to look users up (``lookup_dn``). Default: none.
        user_attribute: The attribute holding the login name. Default: ``"uid"``
            (``"sAMAccountName"`` on Active Directory).
        search_user: DN of the account that looks users up. Default: none.
        search_password: Its password (``SecretRef``, env var ``LDAP_SEARCH_PASSWORD``).
        allowed_groups: Group DNs whose members may sign in. Default: none.
        group_search_filter: Finds the user in a group. Default: ldapauthenticator's,
            ``(|(member={userdn})(uniqueMember={userdn})(memberUid={uid}))``.
        allowed_users: Usernames that may sign in. Default: none.
        allow_all: Everyone who can bind may sign in. Default: False.
        admin_users: Hub admins. Default: none.

    Raises:
        ConfigurationError: At synth: no way to find the user's DN, a template without
            ``{username}``, plaintext, no allow rule, no ``server_cidrs``, a search
            account without its password.
    """

    server_address: str
    server_cidrs: Sequence[str]
    tls: LdapTls = "starttls"
    server_port: int | None = None
    ca_certificate: SecretRef | None = None
    bind_dn_templates: Sequence[str] = ()
    user_search_base: str | None = None
    user_attribute: str = "uid"
    search_user: str | None = None
    search_password: SecretRef | None = None
    allowed_groups: Sequence[str] = ()
    group_search_filter: str | None = None
    allowed_users: Sequence[str] = ()
    allow_all: bool = False
    admin_users: Sequence[str] = ()

    def _port(self) -> int:
        return self.server_port if self.server_port is not None else _DEFAULT_PORT[self.tls]

    def settings(self, scope: Construct, *, domain: str) -> AuthSettings:
        """Render this option (``HubAuth.settings``); ``domain`` is not used.

        Raises:
            ConfigurationError: A field is invalid (class docstring).
        """
        check_domain(scope, self.server_address, what="LdapAuth.server_address")
        if self.tls not in _TLS_STRATEGY:
            raise invalid(
                scope,
                "LdapAuth.tls",
                self.tls,
                allowed="'starttls' or 'ldaps'",
                fix="use 'starttls' (port 389) or 'ldaps' (636): the password must never "
                "cross the network in clear text",
            )
        port = self._port()
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise invalid(scope, "LdapAuth.server_port", port, allowed="1 to 65535", fix="e.g. 636")
        if not self.server_cidrs:
            raise invalid(
                scope,
                "LdapAuth.server_cidrs",
                [],
                allowed="the CIDR blocks of the directory servers",
                fix="give e.g. server_cidrs=['10.20.0.15/32']: the hub's NetworkPolicy "
                "allows only what is listed",
            )
        check_cidrs(scope, "LdapAuth.server_cidrs", self.server_cidrs)
        check_secret(scope, "LdapAuth.ca_certificate", self.ca_certificate, optional=True)
        check_secret(scope, "LdapAuth.search_password", self.search_password, optional=True)
        check_bool(scope, "LdapAuth.allow_all", self.allow_all)
        check_token(scope, "LdapAuth.user_attribute", self.user_attribute, example="uid")
        for what in ("user_search_base", "search_user"):
            if getattr(self, what) is not None:
                _check_dn(
                    scope,
                    f"LdapAuth.{what}",
                    getattr(self, what),
                    example="ou=people,dc=example,dc=org",
                )
        if self.group_search_filter is not None and not _is_filter(self.group_search_filter):
            raise invalid(
                scope,
                "LdapAuth.group_search_filter",
                self.group_search_filter,
                allowed="an LDAP filter in balanced parentheses (RFC 4515) using only the "
                "fields {userdn} and {uid}",
                fix="e.g. '(member={userdn})', or leave it out for ldapauthenticator's default",
            )
        templates = check_names(
            scope,
            "LdapAuth.bind_dn_templates",
            self.bind_dn_templates,
            example="uid={username},ou=people,dc=example,dc=org",
        )
        for template in templates:
            if _template_fields(template) != ["username"] or not _is_dn(
                template, fields=frozenset({"username"})
            ):
                raise invalid(
                    scope,
                    "LdapAuth.bind_dn_templates entry",
                    template,
                    allowed="a DN containing {username} once and no other '{' or '}' "
                    "(ldapauthenticator fills it with str.format)",
                    fix="e.g. 'uid={username},ou=people,dc=example,dc=org'",
                )
        if not templates and self.user_search_base is None:
            raise invalid(
                scope,
                "LdapAuth user DN",
                "neither bind_dn_templates nor user_search_base",
                allowed="bind_dn_templates, or user_search_base with search_user",
                fix="give the DN template of your users, or where to look them up",
            )
        traits: dict[str, Any] = {
            "server_address": self.server_address,
            "server_port": port,
            "tls_strategy": _TLS_STRATEGY[self.tls],
            # ldap3's Tls() verifies nothing by default.
            "tls_kwargs": {"validate": int(ssl.CERT_REQUIRED)},
            "allow_all": self.allow_all,
        }
        secret_env: dict[str, SecretRef] = {}
        traits_from_env: dict[str, str] = {}
        secret_files: dict[str, SecretRef] = {}
        if templates:
            traits["bind_dn_template"] = templates
        if self.ca_certificate is not None:
            secret_files[CA_FILE] = self.ca_certificate
            traits["tls_kwargs"]["ca_certs_file"] = f"{AUTH_FILES_DIR}/{CA_FILE}"
        if self.user_search_base is not None:
            if self.search_user is None or self.search_password is None:
                raise invalid(
                    scope,
                    "LdapAuth search account",
                    self.search_user,
                    allowed="search_user (a DN) and search_password (a SecretRef) with "
                    "user_search_base",
                    fix="create a read-only directory account for the hub and pass its DN "
                    "and a SecretRef to its password",
                )
            traits.update(
                {
                    "lookup_dn": True,
                    "user_search_base": self.user_search_base,
                    "user_attribute": self.user_attribute,
                    "lookup_dn_search_user": self.search_user,
                    # The username is that attribute's value in the user's entry.
                    "lookup_dn_user_dn_attribute": self.user_attribute,
                }
            )
            secret_env[SEARCH_PASSWORD_ENV] = self.search_password
            traits_from_env["LDAPAuthenticator.lookup_dn_search_password"] = SEARCH_PASSWORD_ENV
        groups = check_names(
            scope, "LdapAuth.allowed_groups", self.allowed_groups, example="cn=team,ou=groups,dc=x"
        )
        users = check_names(scope, "LdapAuth.allowed_users", self.allowed_users, example="ada")
        if not (groups or users or self.allow_all):
            raise invalid(
                scope,
                "LdapAuth allow rule",
                "nobody",
                allowed="allowed_groups, allowed_users or allow_all=True",
                fix="say who may sign in; allow_all=True lets every account that can bind in",
            )
        if groups:
            traits["allowed_groups"] = groups
            if self.group_search_filter is not None:
                traits["group_search_filter"] = self.group_search_filter
        if users:
            traits["allowed_users"] = users
        admins = check_names(scope, "LdapAuth.admin_users", self.admin_users, example="ada")
        if admins:
            traits["admin_users"] = admins
        return AuthSettings(
            authenticator_class=LDAP_AUTHENTICATOR_CLASS,
            traits={"LDAPAuthenticator": dict(sorted(traits.items()))},
            secret_env=secret_env,
            traits_from_env=traits_from_env,
            secret_files=secret_files,
            needs_internet_egress=False,
        )

    def bind(self, scope: Construct, hub: JupyterHub) -> None:
        """The hub's egress to the directory servers (``server_cidrs``, the LDAP port)."""
        hub.allow_traffic(
            scope,
            "DirectoryEgress",
            name="hub-to-ldap",
            pod_selector={"matchLabels": hub.selector_labels("hub")},
            egress_rules=[egress(cidrs(list(self.server_cidrs)), [tcp(self._port())])],
            labels=hub.labels("network-policy"),
        )
