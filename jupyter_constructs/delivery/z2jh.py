"""From Zero to JupyterHub: turn a z2jh ``values.yaml`` into a typed app of this library.

``python -m jupyter_constructs from-z2jh values.yaml -o app.py`` writes a Python app (the
same shape as ``examples/minimal.py``) and prints a report:

- every key of ``values.yaml`` it could not map, with the reason and what to do;
- the continuity steps that keep users signed in, their homes and the hub database
  when the z2jh release is replaced (docs/migrating-from-z2jh.md walks through them).

What continuity rests on (each is tested against the real classes):

- **Homes.** The app keeps z2jh's home claim names: ``claim-{username}`` with
  KubeSpawner 7's ``safe`` user names for z2jh 4 (``--z2jh-version 4``, the default), and
  z2jh 3.x's ``claim-{username}{servername}`` with the ``escape`` scheme for 3.x.
- **The database.** sqlite stays on the claim ``hub-db-dir`` (z2jh's name, same size and
  StorageClass); PostgreSQL keeps its URL, with the password from a Secret.
- **Sessions.** The cookie secret, crypt key and proxy token are copied from z2jh's
  Secret ``hub`` into ``hub-secrets`` before the first sync: the hub reads the same
  hex values through ``JPY_COOKIE_SECRET`` that z2jh gave ``JupyterHub.cookie_secret``.
- **Profiles.** Slugs are made exactly as KubeSpawner makes them from a
  ``display_name`` (python-slugify), so a user's last choice still names a profile.

Secret values found in ``values.yaml`` (``hub.config.*.client_secret``,
``proxy.secretToken``, ``hub.db.password``, ...) are never written into the app nor the
report: the app reads them from Secrets, and the report says which to create.

Upstream: https://z2jh.jupyter.org/en/stable/resources/reference.html (the values),
https://jupyterhub-kubespawner.readthedocs.io/en/latest/spawner.html (the traits).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml
from slugify import slugify

from jupyter_constructs.core.rules import is_extended_resource_name, is_whole_number
from jupyter_constructs.hub.gpus import GpuIsolation
from jupyter_constructs.hub.hub import DEFAULT_HUB_RESOURCES
from jupyter_constructs.hub.quota import DEFAULT_GPUS
from jupyter_constructs.hub.singleuser import (
    BEFORE_PROFILE_KEYS,
    HUB_OVERRIDE_KEYS,
    TYPED_OVERRIDE_KEYS,
)

__all__ = ["Conversion", "Unmapped", "convert", "main"]


#: The Secret the app's OAuth client secret is read from (created in continuity step 2).
OAUTH_SECRET = "jupyterhub-oauth"
#: The Secret the Google service account key is read from (GoogleAuth with groups).
GOOGLE_SA_SECRET = "jupyterhub-google-service-account"
#: The Secret the LDAP lookup account's password is read from.
LDAP_SECRET = "jupyterhub-ldap"
#: The Secret the PostgreSQL password is read from.
DB_PASSWORD_SECRET = "hub-db-password"

# z2jh ``authenticator_class`` values that mean GenericOAuthenticator.
_GENERIC_OAUTH = {
    "generic-oauth",
    "generic",
    "oauthenticator.generic.GenericOAuthenticator",
    "oauthenticator.GenericOAuthenticator",
}

# z2jh ``authenticator_class`` values of the typed providers: (API, hub.config section).
_PROVIDERS = {
    **dict.fromkeys(
        (
            "github",
            "oauthenticator.github.GitHubOAuthenticator",
            "oauthenticator.GitHubOAuthenticator",
        ),
        ("GitHubAuth", "GitHubOAuthenticator"),
    ),
    **dict.fromkeys(
        (
            "google",
            "oauthenticator.google.GoogleOAuthenticator",
            "oauthenticator.GoogleOAuthenticator",
        ),
        ("GoogleAuth", "GoogleOAuthenticator"),
    ),
    **dict.fromkeys(
        (
            "azuread",
            "azure-ad",
            "oauthenticator.azuread.AzureAdOAuthenticator",
            "oauthenticator.AzureAdOAuthenticator",
        ),
        ("AzureAdAuth", "AzureAdOAuthenticator"),
    ),
    **dict.fromkeys(
        ("ldap", "ldapauthenticator", "ldapauthenticator.LDAPAuthenticator"),
        ("LdapAuth", "LDAPAuthenticator"),
    ),
}

# Keys of each provider's hub.config section and their parameter.
_PROVIDER_FIELDS: dict[str, dict[str, str]] = {
    "GitHubAuth": {
        "client_id": "client_id",
        "allowed_organizations": "allowed_organizations",
        "allowed_users": "allowed_users",
        "github_url": "github_url",
        "populate_teams_in_auth_state": "teams_in_auth_state",
        "auth_refresh_age": "auth_refresh_age",
    },
    "GoogleAuth": {
        "client_id": "client_id",
        "hosted_domain": "hosted_domains",
        "allow_all": "allow_all_in_domains",
        "allowed_users": "allowed_users",
        "allowed_google_groups": "allowed_groups",
        "admin_google_groups": "admin_groups",
        "gsuite_administrator": "gsuite_administrator",
        "auth_refresh_age": "auth_refresh_age",
    },
    "AzureAdAuth": {
        "tenant_id": "tenant_id",
        "client_id": "client_id",
        "allow_all": "allow_all_in_tenant",
        "allowed_users": "allowed_users",
        "allowed_groups": "allowed_groups",
        "admin_groups": "admin_groups",
        "username_claim": "username_claim",
        "auth_refresh_age": "auth_refresh_age",
    },
    "LdapAuth": {
        "server_address": "server_address",
        "server_port": "server_port",
        "bind_dn_template": "bind_dn_templates",
        "user_search_base": "user_search_base",
        "user_attribute": "user_attribute",
        "lookup_dn_search_user": "search_user",
        "allowed_groups": "allowed_groups",
        "group_search_filter": "group_search_filter",
        "allowed_users": "allowed_users",
        "allow_all": "allow_all",
    },
}

# Keys under hub.config.GenericOAuthenticator and their OidcAuth parameter.
_OAUTH_FIELDS = {
    "client_id": "client_id",
    "authorize_url": "authorize_url",
    "token_url": "token_url",
    "userdata_url": "userdata_url",
    "username_claim": "username_claim",
    "username_key": "username_claim",
    "scope": "scopes",
    "allowed_groups": "allowed_groups",
    "admin_groups": "admin_groups",
    "claim_groups_key": "groups_claim",
    "allow_all": "allow_all",
    "login_service": "login_service",
}

# Keys of a value file whose values are secrets: never echoed.
_SECRET_KEY = re.compile(r"(secret|password|token|keys)$", re.IGNORECASE)

# KubeSpawner's ByteSpecification suffixes are powers of 1024 (kubespawner/traitlets.py):
# z2jh's "1G" is one GiB.
_BYTES = re.compile(r"^(?P<num>[0-9]+(?:\.[0-9]+)?)(?P<unit>[KMGT])$")

# kubespawner_override keys mapped to NotebookProfile parameters.
_OVERRIDE_FIELDS = {
    "image": "image",
    "image_pull_policy": "image_pull_policy",
    "node_selector": "node_selector",
    "default_url": "default_url",
    "start_timeout": "start_timeout",
    "cmd": "cmd",
    "uid": "uid",
    "fs_gid": "fs_gid",
}


@dataclass(frozen=True)
class Unmapped:
    """A key of ``values.yaml`` the converter did not turn into code.

    Attributes:
        path: The key, dotted (``hub.extraConfig.myConfig``).
        reason: Why, and what to do instead.
    """

    path: str
    reason: str


@dataclass
class Conversion:
    """What ``convert`` gives back.

    Attributes:
        source: The Python app (runnable: ``python app.py`` writes its manifests).
        unmapped: The keys not mapped, in the order found.
        continuity: The steps to run before the first sync, in order.
    """

    source: str
    unmapped: list[Unmapped] = field(default_factory=list)
    continuity: list[str] = field(default_factory=list)

    def report(self) -> str:
        """The report printed by the command line: unmapped keys, then continuity steps."""
        lines = []
        if self.unmapped:
            lines.append(f"{len(self.unmapped)} key(s) of values.yaml not mapped:")
            lines += [f"  - {u.path}: {u.reason}" for u in self.unmapped]
        else:
            lines.append("every key of values.yaml was mapped")
        lines.append("")
        lines.append("before the first sync (docs/migrating-from-z2jh.md):")
        lines += [f"  {n}. {step}" for n, step in enumerate(self.continuity, 1)]
        return "\n".join(lines) + "\n"


class _Code:
    """A Python expression, written as is (``repr`` gives the code)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _call(name: str, kwargs: Mapping[str, Any], indent: int, *args: Any) -> _Code:
    """``name(a, k=v, ...)``, one argument per line when it does not fit on one."""
    items = [_literal(a, indent) for a in args] + [
        f"{k}={_literal(v, indent)}" for k, v in kwargs.items()
    ]
    inline = f"{name}({', '.join(items)})"
    if len(inline) + indent <= 90 and "\n" not in inline:
        return _Code(inline)
    pad = " " * (indent + 4)
    lines = [f"{pad}{_literal(a, indent + 4)},\n" for a in args] + [
        f"{pad}{k}={_literal(v, indent + 4)},\n" for k, v in kwargs.items()
    ]
    return _Code(f"{name}(\n{''.join(lines)}{' ' * indent})")


def _literal(value: Any, indent: int) -> str:
    """``value`` as Python source: double quotes, one item per line when it is too long."""
    if isinstance(value, _Code):
        return value.text
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Mapping):
        items = [f"{_literal(k, 0)}: {_literal(v, indent + 4)}" for k, v in value.items()]
        brackets = "{}"
    elif isinstance(value, list | tuple):
        items = [_literal(v, indent + 4) for v in value]
        brackets = "[]"
    else:
        return repr(value)
    inline = f"{brackets[0]}{', '.join(items)}{brackets[1]}"
    if len(inline) + indent <= 88 and "\n" not in inline:
        return inline
    pad = " " * (indent + 4)
    body = "".join(f"{pad}{item},\n" for item in items)
    return f"{brackets[0]}\n{body}{' ' * indent}{brackets[1]}"


def _leaves(value: Any, prefix: str) -> Iterator[str]:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix


class _Values:
    """``values.yaml`` with a record of which keys were read."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values
        self.used: set[str] = set()

    def get(self, path: str, default: Any = None) -> Any:
        node: Any = self.values
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        self.used.add(path)
        return node

    def is_used(self, path: str) -> bool:
        return any(path == u or path.startswith(u + ".") for u in self.used)


def _memory(value: Any) -> str:
    """A KubeSpawner byte value (``"1G"``, ``2147483648``) as a Kubernetes quantity."""
    if isinstance(value, int | float):
        return str(int(value))
    match = _BYTES.match(str(value).strip())
    if match is None:
        return str(value)
    number = match["num"]
    if "." in number:  # "1.5G": KubeSpawner rounds down to bytes; keep the exact amount
        factor = {"K": 1, "M": 2, "G": 3, "T": 4}[match["unit"]]
        return str(int(float(number) * 1024**factor))
    return f"{number}{match['unit']}i"


def _cpu(value: Any) -> str:
    """A KubeSpawner CPU value (a float of cores) as a Kubernetes quantity."""
    number = float(value)
    if number.is_integer():
        return str(int(number))
    return f"{round(number * 1000)}m"


def _exec_hooks(value: Any) -> dict[str, list[str]] | None:
    """``lifecycle_hooks`` with only exec commands, as post_start_command/pre_stop_command."""
    if not isinstance(value, Mapping) or not value:
        return None
    result = {}
    for hook, target in (("postStart", "post_start_command"), ("preStop", "pre_stop_command")):
        if hook in value:
            command = (value[hook] or {}).get("exec", {}).get("command")
            if set(value[hook]) != {"exec"} or not command:
                return None
            result[target] = [str(c) for c in command]
    return result if set(value) <= {"postStart", "preStop"} else None


def _toleration(raw: Mapping[str, Any]) -> _Code:
    kwargs = {k: raw[k] for k in ("key", "operator", "value", "effect") if raw.get(k) is not None}
    return _call("Toleration", kwargs, 12)


class _Converter:
    def __init__(self, values: Mapping[str, Any], namespace: str, z2jh_version: int) -> None:
        self.v = _Values(values)
        self.namespace = namespace
        self.z2jh_version = z2jh_version
        self.imports: set[str] = {"JupyterHub", "synthesize"}
        self.unmapped: list[Unmapped] = []
        self.continuity: list[str] = []
        self.hub_kwargs: dict[str, Any] = {}
        self.profiles: list[tuple[str, dict[str, Any]]] = []
        self.addons: list[str] = []
        # Extended resources the profiles ask for: name -> the most one server asks for;
        # and the slugs of profiles that ask for a GPU.
        self.devices: dict[str, int] = {}
        self.gpu_profiles: set[str] = set()

    def skip(self, path: str, reason: str) -> None:
        if self.v.get(path) is not None:
            self.unmapped.append(Unmapped(path, reason))

    # -- the hub ---------------------------------------------------------------------------

    def domain(self) -> str:
        hosts = self.v.get("ingress.hosts") or []
        if self.v.get("ingress.enabled") and hosts:
            for extra in hosts[1:]:
                self.unmapped.append(
                    Unmapped(
                        "ingress.hosts",
                        f"only the first host is served ({hosts[0]}); {extra} is not: "
                        "point it at the first with a redirect",
                    )
                )
            return str(hosts[0])
        https_hosts = self.v.get("proxy.https.hosts") or []
        if https_hosts:
            self.unmapped.append(
                Unmapped(
                    "proxy.https",
                    "the proxy does not terminate TLS here: the app serves the host through "
                    "an Ingress with TLS from cert-manager (IngressOptions)",
                )
            )
            return str(https_hosts[0])
        for section, settings in (self.v.values.get("hub", {}).get("config") or {}).items():
            callback = settings.get("oauth_callback_url") if isinstance(settings, dict) else None
            host = urlsplit(callback).hostname if isinstance(callback, str) else None
            if host:
                self.v.get(f"hub.config.{section}.oauth_callback_url")
                return host
        self.unmapped.append(
            Unmapped(
                "ingress.hosts",
                "no host found (ingress.hosts, proxy.https.hosts or an oauth_callback_url): "
                "the app uses "
                "jupyter.example.com, replace it with the hub's public host name",
            )
        )
        return "jupyter.example.com"

    def ingress(self) -> None:
        options: dict[str, Any] = {}
        tls = self.v.get("ingress.tls") or []
        if tls and tls[0].get("secretName"):
            options["tls_secret_name"] = tls[0]["secretName"]
        annotations = self.v.get("ingress.annotations") or {}
        issuer = annotations.get("cert-manager.io/cluster-issuer")
        if issuer:
            options["cert_manager_cluster_issuer"] = issuer
        rest = {k: v for k, v in annotations.items() if k != "cert-manager.io/cluster-issuer"}
        if rest:
            options["annotations"] = rest
        class_name = self.v.get("ingress.ingressClassName")
        if class_name and class_name != "nginx":
            self.unmapped.append(
                Unmapped(
                    "ingress.ingressClassName",
                    f"{class_name!r}: the app assumes ingress-nginx; give "
                    "IngressOptions(controller=IngressController.traefik() or "
                    "IngressController(...)) so the proxy's NetworkPolicy admits it",
                )
            )
        self.v.get("ingress.enabled")
        self.v.get("ingress.hosts")
        self.v.get("ingress.pathType")
        self.v.get("ingress.pathSuffix")
        if options:
            self.imports.add("IngressOptions")
            self.hub_kwargs["ingress"] = _call("IngressOptions", options, 8)

    def auth(self) -> _Code:
        authenticator = self.v.get("hub.config.JupyterHub.authenticator_class")
        if authenticator in _PROVIDERS:
            api, section = _PROVIDERS[authenticator]
            code = self.provider_auth(api, section)
            self._auth_leftovers({"JupyterHub", "Authenticator", section})
            return code
        self.imports |= {"OidcAuth", "SecretRef"}
        oauth = self.v.get("hub.config.GenericOAuthenticator") or {}
        kwargs: dict[str, Any] = {}
        if authenticator in _GENERIC_OAUTH:
            for key, value in oauth.items():
                path = f"hub.config.GenericOAuthenticator.{key}"
                if key in _OAUTH_FIELDS:
                    self.v.get(path)
                    kwargs[_OAUTH_FIELDS[key]] = value
                elif key in ("client_secret", "oauth_callback_url"):
                    self.v.get(path)
                else:
                    self.unmapped.append(
                        Unmapped(path, "no OidcAuth parameter: set it with hub.set_trait(...)")
                    )
            if isinstance(kwargs.get("scopes"), str):
                kwargs["scopes"] = kwargs["scopes"].split()
        else:
            what = authenticator or "the default (dummy) authenticator"
            self.unmapped.append(
                Unmapped(
                    "hub.config.JupyterHub.authenticator_class",
                    f"{what}: only OpenID Connect / generic OAuth (OidcAuth), GitHub, Google, "
                    "Azure AD, LDAP and Cloudflare Access are typed here; the app has an "
                    "OidcAuth with "
                    "example URLs to replace (docs/authentication.md)",
                )
            )
            kwargs = {
                "client_id": "jupyterhub",
                "authorize_url": "https://idp.example.com/authorize",
                "token_url": "https://idp.example.com/token",
                "userdata_url": "https://idp.example.com/userinfo",
            }
        kwargs["client_secret"] = _Code(f'SecretRef("{OAUTH_SECRET}", "client-secret")')
        allowed_users = self.v.get("hub.config.Authenticator.allowed_users")
        if allowed_users:
            kwargs["allowed_users"] = list(allowed_users)
        if not any(kwargs.get(k) for k in ("allowed_users", "allowed_groups", "allow_all")):
            # oauthenticator 16+ (z2jh 3+) lets no one in without an allow rule but admins;
            # OidcAuth asks for one: a group nobody is in keeps that until it is replaced.
            kwargs["allowed_groups"] = ["CHANGE-ME-jupyterhub-users"]
            why = (
                "no allow rule this app could map ("
                + (
                    "the authenticator's own ones are not converted"
                    if authenticator not in _GENERIC_OAUTH
                    else "z2jh then lets only admins in"
                )
                + "): the app allows the group CHANGE-ME-jupyterhub-users (nobody) until "
                "you name who may sign in"
            )
            self.unmapped.append(Unmapped("hub.config.Authenticator.allowed_users", why))
        self._auth_leftovers({"JupyterHub", "GenericOAuthenticator", "Authenticator"})
        self.continuity.append(
            f"create the Secret {OAUTH_SECRET} (key client-secret) with the OAuth client "
            f"secret in namespace {self.namespace}; keep the provider's callback URL "
            "https://<host>/hub/oauth_callback"
        )
        return _call("OidcAuth", kwargs, 8)

    def _auth_leftovers(self, handled: set[str]) -> None:
        """Admins, then every hub.config key the sign-in conversion did not take."""
        admins = self.v.get("hub.config.Authenticator.admin_users")
        if admins:
            self.hub_kwargs["admin_users"] = list(admins)
        for key in self.v.values.get("hub", {}).get("config") or {}:
            if key not in handled:
                self.v.get(f"hub.config.{key}")
                if key == "CryptKeeper" or _SECRET_KEY.search(key):
                    continue
                self.unmapped.append(
                    Unmapped(f"hub.config.{key}", "set it with hub.set_trait(...)")
                )
        for key in (self.v.values.get("hub", {}).get("config") or {}).get("JupyterHub") or {}:
            if key not in ("authenticator_class", "cookie_secret", "admin_access"):
                self.skip(f"hub.config.JupyterHub.{key}", "set it with hub.set_trait(...)")
        for key in (self.v.values.get("hub", {}).get("config") or {}).get("Authenticator") or {}:
            if key not in ("allowed_users", "admin_users"):
                self.skip(f"hub.config.Authenticator.{key}", "set it with hub.set_trait(...)")

    # -- typed sign-in providers (GitHub, Google, Azure AD, LDAP) ---------------------------

    def provider_auth(self, api: str, section: str) -> _Code:
        """``hub.config.<section>`` as a typed provider (``GitHubAuth``, ``LdapAuth``...)."""
        self.imports.add(api)
        raw = dict(self.v.get(f"hub.config.{section}") or {})
        fields = _PROVIDER_FIELDS[api]
        kwargs: dict[str, Any] = {}
        for key, value in raw.items():
            path = f"hub.config.{section}.{key}"
            self.v.get(path)
            if key in fields:
                kwargs[fields[key]] = value
            elif key in ("client_secret", "oauth_callback_url", "lookup_dn_search_password"):
                continue
            elif key == "google_service_account_keys":
                self.imports.add("SecretRef")
                kwargs["service_account_key"] = _Code(
                    f'SecretRef("{GOOGLE_SA_SECRET}", "service-account.json")'
                )
                self.continuity.append(
                    f"create the Secret {GOOGLE_SA_SECRET} (key service-account.json) with the "
                    f"service account's JSON key in namespace {self.namespace}"
                )
            elif key == "tls_strategy" and api == "LdapAuth":
                tls = {"before_bind": "starttls", "on_connect": "ldaps"}.get(str(value))
                if tls is None:
                    self.unmapped.append(
                        Unmapped(
                            path,
                            f"{value!r}: the password always travels encrypted here "
                            "(starttls, the default, or ldaps)",
                        )
                    )
                else:
                    kwargs["tls"] = tls
            elif key == "lookup_dn":
                continue  # user_search_base says it
            else:
                self.unmapped.append(
                    Unmapped(path, f"no {api} parameter: set it with hub.set_trait(...)")
                )
        for key in ("allowed_users",):
            extra = self.v.get(f"hub.config.Authenticator.{key}")
            if extra:
                kwargs[key] = sorted({*kwargs.get(key, []), *extra})
        if isinstance(kwargs.get("bind_dn_templates"), str):
            kwargs["bind_dn_templates"] = [kwargs["bind_dn_templates"]]
        if isinstance(kwargs.get("hosted_domains"), str):
            kwargs["hosted_domains"] = [kwargs["hosted_domains"]]
        if api != "LdapAuth":
            self.imports.add("SecretRef")
            kwargs["client_secret"] = _Code(f'SecretRef("{OAUTH_SECRET}", "client-secret")')
            self.continuity.append(
                f"create the Secret {OAUTH_SECRET} (key client-secret) with the OAuth client "
                f"secret in namespace {self.namespace}; keep the provider's callback URL "
                "https://<host>/hub/oauth_callback"
            )
        getattr(self, f"_complete_{api}")(kwargs, section)
        return _call(api, {k: kwargs[k] for k in sorted(kwargs)}, 8)

    def _placeholder(
        self, kwargs: dict[str, Any], name: str, value: Any, path: str, why: str
    ) -> None:
        kwargs[name] = value
        self.unmapped.append(Unmapped(path, why))

    def _complete_GitHubAuth(self, kwargs: dict[str, Any], section: str) -> None:
        if not (kwargs.get("allowed_organizations") or kwargs.get("allowed_users")):
            self._placeholder(
                kwargs,
                "allowed_organizations",
                ["CHANGE-ME-org"],
                f"hub.config.{section}.allowed_organizations",
                "no allow rule (z2jh then lets only admins in): the app allows the "
                "organization CHANGE-ME-org (nobody) until you name who may sign in",
            )

    def _complete_GoogleAuth(self, kwargs: dict[str, Any], section: str) -> None:
        if not kwargs.get("hosted_domains"):
            self._placeholder(
                kwargs,
                "hosted_domains",
                ["change-me.example.com"],
                f"hub.config.{section}.hosted_domain",
                "not set: any Google account could authenticate; the app names "
                "change-me.example.com until you give your Workspace domain",
            )
        groups = {**kwargs.get("allowed_groups", {}), **kwargs.get("admin_groups", {})}
        if groups and (
            "service_account_key" not in kwargs or not kwargs.get("gsuite_administrator")
        ):
            for name in ("allowed_groups", "admin_groups"):
                kwargs.pop(name, None)
            self.unmapped.append(
                Unmapped(
                    f"hub.config.{section}.allowed_google_groups",
                    "groups need google_service_account_keys and gsuite_administrator: "
                    "give GoogleAuth(service_account_key=..., gsuite_administrator=...)",
                )
            )
        if not (
            kwargs.get("allow_all_in_domains")
            or kwargs.get("allowed_users")
            or kwargs.get("allowed_groups")
        ):
            self._placeholder(
                kwargs,
                "allowed_users",
                ["change-me-user"],
                "hub.config.Authenticator.allowed_users",
                "no allow rule (z2jh then lets only admins in): the app allows "
                "the user change-me-user (nobody) until you name who may sign in",
            )

    def _complete_AzureAdAuth(self, kwargs: dict[str, Any], section: str) -> None:
        if not kwargs.get("tenant_id"):
            self._placeholder(
                kwargs,
                "tenant_id",
                "00000000-0000-0000-0000-000000000000",
                f"hub.config.{section}.tenant_id",
                "not set: the app names tenant 00000000-... until you give your directory id",
            )
        kwargs.setdefault("username_claim", "preferred_username")
        if not (
            kwargs.get("allow_all_in_tenant")
            or kwargs.get("allowed_users")
            or kwargs.get("allowed_groups")
        ):
            self._placeholder(
                kwargs,
                "allowed_groups",
                ["CHANGE-ME-group-object-id"],
                "hub.config.Authenticator.allowed_users",
                "no allow rule (z2jh then lets only admins in): the app allows the group "
                "CHANGE-ME-group-object-id (nobody) until you name who may sign in",
            )

    def _complete_LdapAuth(self, kwargs: dict[str, Any], section: str) -> None:
        if not kwargs.get("server_address"):
            self._placeholder(
                kwargs,
                "server_address",
                "ldap.change-me.example.com",
                f"hub.config.{section}.server_address",
                "not set: give the directory's host name",
            )
        self._placeholder(
            kwargs,
            "server_cidrs",
            ["192.0.2.1/32"],
            f"hub.config.{section}.server_address",
            "the hub reaches the directory through a NetworkPolicy egress rule: replace "
            "server_cidrs=['192.0.2.1/32'] (a documentation address) with the directory "
            "servers' addresses",
        )
        if kwargs.get("user_search_base"):
            self.imports.add("SecretRef")
            kwargs["search_password"] = _Code(f'SecretRef("{LDAP_SECRET}", "search-password")')
            self.continuity.append(
                f"create the Secret {LDAP_SECRET} (key search-password) with the lookup "
                f"account's password in namespace {self.namespace}"
            )
        if not (
            kwargs.get("allowed_groups") or kwargs.get("allowed_users") or kwargs.get("allow_all")
        ):
            self._placeholder(
                kwargs,
                "allowed_groups",
                ["cn=CHANGE-ME,dc=example,dc=org"],
                "hub.config.Authenticator.allowed_users",
                "no allow rule: the app allows the group cn=CHANGE-ME (nobody) until you "
                "name who may sign in",
            )

    def database(self) -> None:
        db_type = self.v.get("hub.db.type", "sqlite-pvc")
        if db_type == "sqlite-pvc":
            size = self.v.get("hub.db.pvc.storage")
            storage_class = self.v.get("hub.db.pvc.storageClassName")
            pvc = {k: v for k, v in (("size", size), ("storage_class", storage_class)) if v}
            if pvc:
                self.imports.add("HubDatabase")
                self.hub_kwargs["database"] = _call("HubDatabase.sqlite_pvc", pvc, 8)
            self.continuity.append(
                "keep the hub database: annotate the claim hub-db-dir through z2jh "
                "(hub.db.pvc.annotations, helm.sh/resource-policy: keep) with a helm upgrade "
                "before uninstalling, so helm leaves it for the app (guide, step 3)"
            )
        elif db_type in ("postgres", "mysql"):
            url = str(self.v.get("hub.db.url") or "")
            parts = urlsplit(url)
            if db_type == "mysql" or not parts.scheme.startswith("postgres"):
                self.unmapped.append(
                    Unmapped("hub.db.url", "only PostgreSQL and sqlite are supported")
                )
                return
            self.imports |= {"HubDatabase", "SecretRef"}
            kwargs: dict[str, Any] = {
                "host": parts.hostname or "",
                "database": parts.path.lstrip("/"),
                "user": parts.username or "",
                "password": _Code(f'SecretRef("{DB_PASSWORD_SECRET}", "password")'),
            }
            if parts.port and parts.port != 5432:
                kwargs["port"] = parts.port
            query = parse_qs(parts.query)
            if query.get("sslmode"):
                kwargs["ssl_mode"] = query.pop("sslmode")[-1]
            for key in sorted(query):
                self.unmapped.append(
                    Unmapped(
                        "hub.db.url",
                        f"the URL parameter {key!r} has no HubDatabase setting: the hub "
                        "connects without it",
                    )
                )
            self.hub_kwargs["database"] = _call("HubDatabase.postgres", kwargs, 8)
            if self.v.get("hub.db.password") is not None or parts.password:
                self.continuity.append(
                    f"copy the database password (key hub.db.password of z2jh's Secret hub) "
                    f"into the Secret {DB_PASSWORD_SECRET}, key password (guide, step 3)"
                )
        else:
            self.unmapped.append(
                Unmapped("hub.db.type", f"{db_type!r}: only sqlite-pvc and postgres are offered")
            )

    def hub(self) -> None:
        image = self.v.get("hub.image")
        if image and image.get("name"):
            self.hub_kwargs["hub_image"] = f"{image['name']}:{image.get('tag', 'latest')}"
        resources = self.v.get("hub.resources")
        if resources:
            self.imports.add("Resources")
            self.hub_kwargs["hub_resources"] = self.resources(resources, 8)
        chp = self.v.get("proxy.chp.image")
        if chp and chp.get("name"):
            self.hub_kwargs["proxy_image"] = f"{chp['name']}:{chp.get('tag', 'latest')}"
        if self.v.get("hub.existingSecret"):
            self.unmapped.append(
                Unmapped(
                    "hub.existingSecret",
                    "its keys have z2jh's names; copy them into hub-secrets (continuity step)",
                )
            )
        base_url = self.v.get("hub.baseUrl")
        if isinstance(base_url, str) and base_url.strip("/"):
            self.hub_kwargs["base_url"] = "/" + base_url.strip("/") + "/"
        self.public_service()
        for path, reason in (
            (
                "httpRoute",
                "JupyterHub(gateway=GatewayRoute.envoy_gateway(...) or "
                "GatewayRoute.per_gateway_deployment(...)): say where the Gateway's proxies "
                "run, so the proxy's NetworkPolicy admits them",
            ),
            ("hub.extraConfig", "custom hub code: hub.add_python_file(name, source)"),
            ("hub.extraFiles", "ship the files with a profile's extra_files or an image"),
            ("hub.extraEnv", "set it with hub.set_trait(...) or an add-on"),
            ("hub.services", "register services with hub.add_hub_service(...)"),
            ("hub.loadRoles", "roles: hub.add_hub_service(...) or an add-on"),
            (
                "hub.allowNamedServers",
                "NamedServers(...): check the home claim names of named servers first",
            ),
            ("hub.namedServerLimitPerUser", "NamedServers(limit_per_user=...)"),
            ("hub.concurrentSpawnLimit", "HubTunables(concurrent_spawn_limit=...)"),
            ("hub.activeServerLimit", "HubTunables(active_server_limit=...)"),
            ("hub.consecutiveFailureLimit", "HubTunables(consecutive_failure_limit=...)"),
            ("hub.nodeSelector", "core pod placement: JupyterHub(core_pods=NodePool({...}))"),
            ("hub.tolerations", "core pod placement: NodePool(..., tolerations=[...])"),
            ("hub.networkPolicy", "NetworkPolicies are built from NetworkOptions and add-ons"),
            ("proxy.https", None),
            ("proxy.traefik", "no autohttps proxy: TLS is the Ingress's"),
            ("proxy.networkPolicy", "NetworkPolicies are built from NetworkOptions"),
            ("debug", "HubTunables(log_level='DEBUG')"),
            ("custom", "read by custom hub code only"),
            ("global", "no global settings here"),
            ("imagePullSecret", "create the pull Secret and give SingleUser(image_pull_secrets)"),
            ("imagePullSecrets", "give SingleUser(image_pull_secrets=[...])"),
            ("rbac", "RBAC is always rendered, least privilege"),
        ):
            if reason is not None:
                self.skip(path, reason)
            else:
                self.v.get(path)
        for key in ("hub.db.password", "proxy.secretToken", "hub.cookieSecret"):
            self.v.get(key)
        self.continuity.append(
            "keep users signed in: copy the keys of z2jh's Secret hub into hub-secrets "
            "(cookie-secret, crypt-key, proxy-token) before the first sync (guide, step 3); "
            "the bootstrap Job only adds the keys still missing"
        )

    def public_service(self) -> None:
        """``proxy.service``: a LoadBalancer or NodePort ``proxy-public`` (``PublicService``)."""
        kind = self.v.get("proxy.service.type", "LoadBalancer")
        if self.v.get("proxy.service") is None or kind == "ClusterIP":
            self.v.get("proxy.service.type")
            return
        if self.v.get("proxy.https.enabled") or kind not in ("LoadBalancer", "NodePort"):
            self.skip(
                "proxy.service",
                "the proxy does not terminate TLS here: users come in through the Ingress "
                "(TLS from cert-manager); PublicService.load_balancer(...) serves plain HTTP",
            )
            return
        self.imports.add("PublicService")
        ranges = self.v.get("proxy.service.loadBalancerSourceRanges") or []
        kwargs: dict[str, Any] = {"source_ranges": list(ranges)}
        if not ranges:
            kwargs["source_ranges"] = ["0.0.0.0/0"]
            self.unmapped.append(
                Unmapped(
                    "proxy.service.type",
                    f"{kind} without loadBalancerSourceRanges admits every address: the app "
                    "keeps that (source_ranges=['0.0.0.0/0']); narrow it to your clients",
                )
            )
        if kind == "LoadBalancer":
            annotations = self.v.get("proxy.service.annotations")
            if annotations:
                kwargs["annotations"] = dict(annotations)
            self.hub_kwargs["public_service"] = _call("PublicService.load_balancer", kwargs, 8)
        else:
            node_port = self.v.get("proxy.service.nodePorts.http")
            if node_port:
                kwargs["node_port"] = node_port
            self.skip("proxy.service.annotations", "a NodePort Service has no annotations here")
            self.hub_kwargs["public_service"] = _call("PublicService.node_port_service", kwargs, 8)
        self.skip("proxy.service.nodePorts.https", "the proxy serves HTTP only (no autohttps)")
        for key in ("loadBalancerIP", "extraPorts", "labels", "disableHttpPort", "ipFamilies"):
            self.skip(f"proxy.service.{key}", "set it with hub.proxy_service (add_json_patch)")
        if not self.v.get("ingress.enabled"):
            self.imports.add("IngressOptions")
            self.hub_kwargs["ingress"] = _call("IngressOptions", {"enabled": False}, 8)

    def resources(self, raw: Mapping[str, Any], indent: int) -> _Code:
        """``Resources`` of z2jh's ``resources``, unset values filled and reported."""
        requests = raw.get("requests") or {}
        limits = raw.get("limits") or {}
        defaults = dataclasses.asdict(DEFAULT_HUB_RESOURCES)
        given = {
            "cpu_request": requests.get("cpu"),
            "cpu_limit": limits.get("cpu"),
            "memory_request": requests.get("memory"),
            "memory_limit": limits.get("memory"),
        }
        missing = [k for k, v in given.items() if v is None]
        if missing:
            self.unmapped.append(
                Unmapped(
                    "hub.resources",
                    "z2jh set no "
                    + ", ".join(missing)
                    + "; the app gives the hub's defaults ("
                    + ", ".join(f"{k}={defaults[k]}" for k in missing)
                    + "): change them in hub_resources if they do not suit",
                )
            )
        kwargs = {k: str(v if v is not None else defaults[k]) for k, v in given.items()}
        return _call("Resources", kwargs, indent)

    # -- user servers ----------------------------------------------------------------------

    def storage(self) -> None:
        kind = self.v.get("singleuser.storage.type", "dynamic")
        mount = self.v.get("singleuser.storage.homeMountPath")
        common: dict[str, Any] = {}
        if mount and mount != "/home/jovyan":
            common["mount_path"] = mount
        if kind == "none":
            self.imports.add("UserStorage")
            self.hub_kwargs["user_storage"] = _Code("UserStorage.none()")
            return
        if kind == "static":
            claim = self.v.get("singleuser.storage.static.pvcName")
            sub_path = self.v.get("singleuser.storage.static.subPath")
            kwargs = {"claim_name": claim}
            if sub_path and sub_path != "{username}":
                kwargs["sub_path"] = sub_path
            if self.z2jh_version < 4:
                # Folders are not remembered in the hub database, as claim names are.
                self.imports.add("SlugScheme")
                kwargs["slug_scheme"] = _Code("SlugScheme.ESCAPE")
            self.imports.add("UserStorage")
            self.hub_kwargs["user_storage"] = _call("UserStorage.shared", {**kwargs, **common}, 8)
            self._extra_volumes()
            self.continuity.append(
                "homes: every user's folder on the claim keeps its name ("
                + ("escape scheme, as z2jh 3.x" if self.z2jh_version < 4 else "safe names")
                + "); check one user's folder after the cut-over"
            )
            return
        kwargs = {}
        capacity = self.v.get("singleuser.storage.capacity")
        if capacity and capacity != "10Gi":
            kwargs["size"] = str(capacity)
        storage_class = self.v.get("singleuser.storage.dynamic.storageClass")
        if storage_class:
            kwargs["storage_class"] = storage_class
        modes = self.v.get("singleuser.storage.dynamic.storageAccessModes") or []
        if modes and modes[0] != "ReadWriteOnce":
            kwargs["access_mode"] = modes[0]
        template = self.v.get("singleuser.storage.dynamic.pvcNameTemplate")
        self.v.get("singleuser.storage.dynamic.volumeNameTemplate")
        if self.z2jh_version < 4:
            self.imports.add("SlugScheme")
            kwargs["slug_scheme"] = _Code("SlugScheme.ESCAPE")
            template = template or "claim-{username}{servername}"
        if template and template not in ("claim-{username}", "claim-{user_server}"):
            kwargs["pvc_name_template"] = template
        kwargs.update(common)
        if kwargs:
            self.imports.add("UserStorage")
            self.hub_kwargs["user_storage"] = _call("UserStorage.dynamic", kwargs, 8)
        self._extra_volumes()
        self.skip("singleuser.storage.extraLabels", "labels of home claims are not mapped")
        self.continuity.append(
            "homes: user claims are made by KubeSpawner, not helm, so helm uninstall keeps "
            "them; the app names them as z2jh did ("
            + (
                "claim-{username}{servername}, escape scheme"
                if self.z2jh_version < 4
                else "claim-{username}, KubeSpawner 7's safe names"
            )
            + "), and the kept hub database remembers each user's claim"
        )

    def _extra_volumes(self) -> None:
        self.skip(
            "singleuser.storage.extraVolumes",
            "give each as UserVolume (existing_claim, nfs_export, config_map, secret, "
            "empty_dir, dev_shm) in SingleUser(volumes=[...]); docs/user-servers.md",
        )
        self.skip("singleuser.storage.extraVolumeMounts", "mount paths go with each UserVolume")

    def singleuser(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Hub-wide SingleUser settings and the settings of the default profile."""
        settings: dict[str, Any] = {}
        profile: dict[str, Any] = {}
        image = self.v.get("singleuser.image")
        if image and image.get("name"):
            self.hub_kwargs["notebook_image"] = f"{image['name']}:{image.get('tag', 'latest')}"
            if image.get("pullPolicy"):
                profile["image_pull_policy"] = image["pullPolicy"]
            if image.get("pullSecrets"):
                settings["image_pull_secrets"] = list(image["pullSecrets"])
        for key, target, convert in (
            ("cpu.guarantee", "cpu_request", _cpu),
            ("cpu.limit", "cpu_limit", _cpu),
            ("memory.guarantee", "memory_request", _memory),
            ("memory.limit", "memory_limit", _memory),
        ):
            value = self.v.get(f"singleuser.{key}")
            if value is not None:
                profile[target] = convert(value)
        unlimited = [
            k for k in ("cpu.limit", "memory.limit") if self.v.get(f"singleuser.{k}") is None
        ]
        if unlimited:
            self.unmapped.append(
                Unmapped(
                    "singleuser." + unlimited[0],
                    "z2jh set no " + " and no ".join(unlimited) + " for user servers; every "
                    "profile here has limits (the quota needs them), by default 2 CPU and 4Gi: "
                    "give cpu_limit/memory_limit to each profile if users need more",
                )
            )
        env = self.v.get("singleuser.extraEnv") or {}
        plain = {k: str(v) for k, v in env.items() if not isinstance(v, Mapping)}
        for key in env:
            if key not in plain:
                self.unmapped.append(
                    Unmapped(
                        f"singleuser.extraEnv.{key}",
                        "valueFrom: give SecretRef(secret, key) as the value in env",
                    )
                )
        if plain:
            settings["env"] = plain
        for key, target in (
            ("defaultUrl", "default_url"),
            ("cmd", "cmd"),
            ("uid", "uid"),
            ("fsGid", "fs_gid"),
            ("extraLabels", "extra_labels"),
            ("extraAnnotations", "extra_annotations"),
        ):
            value = self.v.get(f"singleuser.{key}")
            if value is not None:
                settings[target] = value if not isinstance(value, str) or key != "cmd" else [value]
        if node_selector := self.v.get("singleuser.nodeSelector"):
            profile["node_selector"] = dict(node_selector)
        if tolerations := self.v.get("singleuser.extraTolerations"):
            self.imports.add("Toleration")
            profile["tolerations"] = [_toleration(t) for t in tolerations]
        if (timeout := self.v.get("singleuser.startTimeout")) is not None:
            self.hub_kwargs["start_timeout"] = int(timeout)
        post_start = self.v.get("singleuser.lifecycleHooks.postStart.exec.command")
        if post_start:
            settings["post_start_command"] = list(post_start)
        internet = self.v.get("singleuser.networkPolicy.egressAllowRules.nonPrivateIPs")
        if internet is False:
            self.imports.add("NetworkOptions")
            self.hub_kwargs["network"] = _Code("NetworkOptions(user_internet_access=False)")
        self.v.get("singleuser.networkPolicy.enabled")
        self.v.get("singleuser.cloudMetadata")  # blocked by NetworkPolicy here, always
        for path, reason in (
            ("singleuser.extraResource", "give profile extra_resources={...}"),
            ("singleuser.extraContainers", "give UserContainer(...) in SingleUser"),
            ("singleuser.initContainers", "give UserContainer(...) in SingleUser"),
            ("singleuser.extraFiles", "give ExtraFile(...) in SingleUser(extra_files)"),
            ("singleuser.extraPodConfig", "use a profile's extra_overrides"),
            ("singleuser.extraNodeAffinity", "use a profile's node_selector or extra_overrides"),
            ("singleuser.networkPolicy.egress", "allow it with hub.allow_traffic(...)"),
            ("singleuser.networkPolicy.egressAllowRules", None),
            ("singleuser.serviceAccountName", "user pods have no service account token"),
            ("singleuser.networkTools", "not needed: metadata is blocked by NetworkPolicy"),
            ("singleuser.events", "user pod events are shown by KubeSpawner's default"),
        ):
            if reason is not None:
                self.skip(path, reason)
        for key in self.v.get("singleuser.networkPolicy.egressAllowRules") or {}:
            if key != "nonPrivateIPs":
                self.unmapped.append(
                    Unmapped(
                        f"singleuser.networkPolicy.egressAllowRules.{key}",
                        "egress is narrow by design: allow a destination with "
                        "hub.allow_traffic(...) or a binding",
                    )
                )
        return settings, profile

    def profile_list(self, defaults: dict[str, Any]) -> None:
        profiles = self.v.get("singleuser.profileList") or []
        if not profiles:
            self.profiles.append(
                ("default", {"display_name": "Default", "default": True, **defaults})
            )
            return
        for index, raw in enumerate(profiles):
            where = f"singleuser.profileList[{index}]"
            display_name = str(raw.get("display_name", f"Profile {index + 1}"))
            slug = str(raw.get("slug") or slugify(display_name))
            kwargs: dict[str, Any] = {"display_name": display_name}
            if raw.get("description"):
                kwargs["description"] = raw["description"]
            if raw.get("default"):
                kwargs["default"] = True
            kwargs.update(defaults)
            overrides = dict(raw.get("kubespawner_override") or {})
            extra: dict[str, Any] = {}
            for key, value in overrides.items():
                if key == "node_selector" and isinstance(value, Mapping):
                    # KubeSpawner merges a dict override into the hub-wide value.
                    kwargs["node_selector"] = {**(kwargs.get("node_selector") or {}), **value}
                elif key in _OVERRIDE_FIELDS:
                    kwargs[_OVERRIDE_FIELDS[key]] = value
                elif key in ("cpu_guarantee", "cpu_limit"):
                    kwargs["cpu_request" if key == "cpu_guarantee" else "cpu_limit"] = _cpu(value)
                elif key in ("mem_guarantee", "mem_limit"):
                    target = "memory_request" if key == "mem_guarantee" else "memory_limit"
                    kwargs[target] = _memory(value)
                elif key == "environment":
                    kwargs["env"] = {k: str(v) for k, v in value.items()}
                elif key == "tolerations":
                    self.imports.add("Toleration")
                    kwargs["tolerations"] = [_toleration(t) for t in value]
                elif key == "lifecycle_hooks" and _exec_hooks(value) is not None:
                    kwargs.update(_exec_hooks(value) or {})
                elif key == "extra_resource_limits" and isinstance(value, Mapping):
                    for name, count in value.items():
                        if is_extended_resource_name(name) and is_whole_number(str(count)):
                            self.devices[name] = max(self.devices.get(name, 0), int(count))
                    if GpuIsolation().gpu_resources(value) or any("gpu" in k for k in value):
                        self.gpu_profiles.add(slug)
                    gpus = {k: v for k, v in value.items() if "gpu" in k}
                    if len(gpus) == 1:
                        self.imports.add("Gpu")
                        ((name, count),) = gpus.items()
                        gpu: dict[str, Any] = {"count": int(count)}
                        if name != "nvidia.com/gpu":
                            gpu["resource_name"] = name
                        # Gpu's own placement (the GPU operator's node label and taint)
                        # is not z2jh's: the profile keeps exactly z2jh's.
                        gpu["node_selector"] = {}
                        gpu["tolerations"] = []
                        kwargs["gpu"] = _call("Gpu", gpu, 12)
                    others = {k: str(v) for k, v in value.items() if k not in gpus}
                    if others:
                        kwargs["extra_resources"] = others
                elif key in TYPED_OVERRIDE_KEYS or key in HUB_OVERRIDE_KEYS:
                    why = (
                        f"use the typed parameter {TYPED_OVERRIDE_KEYS[key]}"
                        if key in TYPED_OVERRIDE_KEYS
                        else f"decided by the hub: {HUB_OVERRIDE_KEYS[key]}"
                    )
                    self.unmapped.append(Unmapped(f"{where}.kubespawner_override.{key}", why))
                elif key in BEFORE_PROFILE_KEYS:
                    why = (
                        f"never applied per profile ({BEFORE_PROFILE_KEYS[key]}): set it for "
                        f"every profile with hub.set_trait('KubeSpawner', {key!r}, ...)"
                    )
                    self.unmapped.append(Unmapped(f"{where}.kubespawner_override.{key}", why))
                else:
                    extra[key] = value
            if extra:
                kwargs["extra_overrides"] = extra
                self.unmapped.append(
                    Unmapped(
                        f"{where}.kubespawner_override",
                        f"kept as extra_overrides ({', '.join(sorted(extra))}), checked "
                        "against KubeSpawner's traits at synth: prefer typed parameters",
                    )
                )
            if raw.get("profile_options"):
                self.unmapped.append(
                    Unmapped(
                        f"{where}.profile_options",
                        "port them to add_profile(..., options={...: ProfileOption(...)})",
                    )
                )
            self.profiles.append((slug, kwargs))

    def culler(self) -> None:
        if self.v.get("cull.enabled") is False:
            self.hub_kwargs["idle_culler"] = None
            return
        kwargs = {
            target: self.v.get(f"cull.{key}")
            for key, target in (
                ("timeout", "timeout"),
                ("every", "interval"),
                ("maxAge", "max_age"),
                ("users", "cull_users"),
                ("concurrency", "concurrency"),
            )
            if self.v.get(f"cull.{key}") is not None
        }
        self.skip("cull.removeNamedServers", "IdleCuller(remove_named_servers=...)")
        self.skip("cull.adminUsers", "admins' servers are culled like every server")
        if kwargs:
            self.imports.add("IdleCuller")
            self.hub_kwargs["idle_culler"] = _call("IdleCuller", kwargs, 8)

    def prepuller(self) -> None:
        continuous = self.v.get("prePuller.continuous.enabled")
        hook = self.v.get("prePuller.hook.enabled")
        if continuous is False and hook is False:
            self.hub_kwargs["image_puller"] = False
        if hook and continuous is not False:
            self.unmapped.append(
                Unmapped(
                    "prePuller.hook.enabled",
                    "no hook puller (it delays every sync): the continuous puller pulls the "
                    "images on every node instead",
                )
            )
        extra = self.v.get("prePuller.extraImages") or {}
        images = [f"{i['name']}:{i['tag']}" for i in extra.values() if "name" in i and "tag" in i]
        options: dict[str, Any] = {}
        if images:
            options["extra_images"] = images
        tolerations = self.v.get("prePuller.extraTolerations") or []
        if tolerations:
            self.imports.add("Toleration")
            options["extra_tolerations"] = [_toleration(t) for t in tolerations]
        resources = self.v.get("prePuller.resources")
        if resources:
            self.unmapped.append(
                Unmapped(
                    "prePuller.resources",
                    "give ImagePullerOptions(resources=Resources(...)): the puller's "
                    "defaults are 10m CPU and 16Mi limits",
                )
            )
        if options and self.hub_kwargs.get("image_puller") is not False:
            self.imports.add("ImagePullerOptions")
            self.hub_kwargs["image_puller"] = _call("ImagePullerOptions", options, 8)
        for key in ("pause", "pullProfileListImages", "containerSecurityContext"):
            self.skip(f"prePuller.{key}", "not offered: every profile's image is pre-pulled")

    def scheduling(self) -> None:
        """``scheduling.*``: node pools, the user scheduler, placeholders (docs/scheduling.md)."""
        affinities = {"prefer": "PREFERRED", "require": "REQUIRED"}
        for pods, target, pool in (
            ("corePods", "core_pods", "core"),
            ("userPods", "user_pods", "user"),
        ):
            match = self.v.get(f"scheduling.{pods}.nodeAffinity.matchNodePurpose")
            if match in affinities:
                self.imports.update({"NodeAffinity", "NodePool"})
                self.hub_kwargs[target] = _Code(
                    f"NodePool.{pool}(affinity=NodeAffinity.{affinities[match]})"
                )
            self.skip(
                f"scheduling.{pods}.tolerations",
                f"NodePool.{pool}() tolerates z2jh's dedicated taints; other taints: "
                f"NodePool({{label: value}}, tolerations=[...])",
            )
        if self.v.get("scheduling.userScheduler.enabled"):
            self.imports.add("UserScheduler")
            self.addons.append('UserScheduler(chart, "user-scheduler", hub=hub)')
            self.continuity.append(
                "give UserScheduler(kubernetes_version=...) your control plane's version "
                "(kubectl version): the scheduler image is pinned to it"
            )
            for key in ("replicas", "logLevel", "resources"):
                self.v.get(f"scheduling.userScheduler.{key}")
            self.skip(
                "scheduling.userScheduler.plugins",
                "the packing profile is z2jh's default one (docs/scheduling.md)",
            )
            self.skip(
                "scheduling.userScheduler.pluginConfig",
                "the packing profile is z2jh's default one (docs/scheduling.md)",
            )
        replicas = self.v.get("scheduling.userPlaceholder.replicas")
        if self.v.get("scheduling.userPlaceholder.enabled") is not False and replicas:
            self.imports.add("UserPlaceholders")
            default = next(
                (i for i, (_, kwargs) in enumerate(self.profiles) if kwargs.get("default")), 0
            )
            self.addons.append(
                f'UserPlaceholders(chart, "user-placeholders", hub=hub, '
                f"profile=hub.profiles[{default}], count={int(replicas)})"
            )
            self.v.get("scheduling.podPriority.enabled")
            self.skip(
                "scheduling.userPlaceholder.resources",
                "placeholders are sized from the default profile (each holds one server's room)",
            )
        self.skip(
            "scheduling.podPriority.globalDefault",
            "the PriorityClasses are fixed: users 0, placeholders -10 (docs/scheduling.md)",
        )
        for key in ("defaultPriority", "userPlaceholderPriority"):
            self.skip(
                f"scheduling.podPriority.{key}",
                "the PriorityClasses are fixed: users 0, placeholders -10 (docs/scheduling.md)",
            )
        placeholders = any(line.startswith("UserPlaceholders") for line in self.addons)
        if self.v.get("scheduling.podPriority.enabled") and not placeholders:
            self.unmapped.append(
                Unmapped(
                    "scheduling.podPriority.enabled",
                    "PriorityClasses come with UserPlaceholders (none were asked for)",
                )
            )

    def gpu_resources(self) -> None:
        """Quota items for the devices the profiles ask for, GPU isolation as z2jh had it.

        z2jh renders no ResourceQuota; the app's quota bounds each extended resource by
        its own ``requests.<name>`` item and refuses a profile whose resource has none,
        so every resource other than ``nvidia.com/gpu`` (``gpus=8`` by default) gets one.
        """
        others = {n: c for n, c in sorted(self.devices.items()) if n != "nvidia.com/gpu"}
        if others:
            self.imports.add("NamespaceQuota")
            totals = {name: max(DEFAULT_GPUS, count) for name, count in others.items()}
            self.hub_kwargs["quota"] = _call("NamespaceQuota", {"extended_resources": totals}, 8)
            self.continuity.append(
                "devices: z2jh bounded none; the app's namespace quota has one item per "
                "device the profiles ask for ("
                + ", ".join(f"requests.{n}: {c}" for n, c in totals.items())
                + "): set each to what your node pools have (NamespaceQuota)"
            )
        if not self.gpu_profiles:
            return
        isolation = GpuIsolation()
        on_gpu_nodes = [
            slug
            for slug, kwargs in self.profiles
            if slug not in self.gpu_profiles
            and isolation.gpu_selector(kwargs.get("node_selector") or {}) is not None
        ]
        if on_gpu_nodes:
            self.imports.add("GpuIsolation")
            self.hub_kwargs["gpu_isolation"] = _Code("GpuIsolation(keep_off_gpu_nodes=False)")
            self.continuity.append(
                f"GPU nodes: profiles without a GPU ({', '.join(on_gpu_nodes)}) select GPU "
                "nodes, so CPU servers may run there as under z2jh "
                "(GpuIsolation(keep_off_gpu_nodes=False)); they still see no GPU "
                "(NVIDIA_VISIBLE_DEVICES=void)"
            )
        else:
            self.continuity.append(
                "GPU nodes: servers of profiles without a GPU now stay off nodes labelled as "
                "GPU nodes and see no GPU (NVIDIA_VISIBLE_DEVICES=void); z2jh did neither. "
                "To let CPU servers use GPU nodes: "
                "JupyterHub(gpu_isolation=GpuIsolation(keep_off_gpu_nodes=False))"
            )

    # -- the app ---------------------------------------------------------------------------

    def run(self) -> Conversion:
        domain = self.domain()
        self.ingress()
        auth = self.auth()
        self.database()
        self.hub()
        self.storage()
        settings, defaults = self.singleuser()
        if settings:
            self.imports.add("SingleUser")
            self.hub_kwargs["singleuser"] = _call("SingleUser", settings, 8)
        self.culler()
        self.prepuller()
        self.profile_list(defaults)
        self.gpu_resources()
        self.scheduling()
        for leaf in _leaves(self.v.values, ""):
            if (
                leaf
                and not self.v.is_used(leaf)
                and not any(leaf == u.path or leaf.startswith(u.path + ".") for u in self.unmapped)
            ):
                self.unmapped.append(Unmapped(leaf, "not known to the converter"))
        self.continuity.append(
            "stop every user server (hub admin page, 'Stop All') so no pod runs under "
            "z2jh's NetworkPolicies and labels, then helm uninstall the release"
        )
        self.continuity.append(
            "sync the Application (guide, step 4); healthy when kubectl -n "
            f"{self.namespace} get pods -l app.kubernetes.io/component=hub shows it Ready"
        )
        return Conversion(self.source(domain, auth), self.unmapped, self.continuity)

    def source(self, domain: str, auth: _Code) -> str:
        hub_args = {"domain": domain, "auth": auth, **self.hub_kwargs}
        args = "".join(f"        {k}={_literal(v, 8)},\n" for k, v in hub_args.items())
        profile_lines = []
        for slug, kwargs in self.profiles:
            profile_lines.append(f"    {_call('hub.add_profile', kwargs, 4, slug).text}\n")
        names = ", ".join(sorted(self.imports))
        if len(names) > 60:
            names = "(\n" + "".join(f"    {n},\n" for n in sorted(self.imports)) + ")"
        return _APP.format(
            imports=names,
            namespace=_literal(self.namespace, 0),
            hub_args=args,
            profiles="".join(profile_lines),
            addons="".join(f"    {line}\n" for line in self.addons),
        )


_APP = '''"""JupyterHub converted from a Zero to JupyterHub values.yaml.

Made by ``python -m jupyter_constructs from-z2jh``; read its report and
docs/migrating-from-z2jh.md before the first sync.

Run: ``python app.py`` (writes ``dist/``, or ``$CDK8S_OUTDIR`` when set).
"""

from __future__ import annotations

import os

import cdk8s

from jupyter_constructs import {imports}

OUTDIR = os.environ.get("CDK8S_OUTDIR") or "dist"


def build(app: cdk8s.App) -> None:
    chart = cdk8s.Chart(app, "jupyterhub", namespace={namespace})
    hub = JupyterHub(
        chart,
        "hub",
{hub_args}    )
{profiles}{addons}

if __name__ == "__main__":
    print(synthesize(build, outdir=OUTDIR))
'''


def convert(values: Mapping[str, Any], *, namespace: str, z2jh_version: int = 4) -> Conversion:
    """Turn z2jh values into a typed app, a list of unmapped keys and continuity steps.

    Args:
        values: The parsed ``values.yaml`` (only the keys a team set; defaults need not
            be there).
        namespace: The namespace of the z2jh release: the app deploys into the same one,
            where the homes and the database are.
        z2jh_version: The chart's major version (3 or 4). It decides the home claim
            names: 3.x escaped user names (``SlugScheme.ESCAPE``). Default: 4.

    Returns:
        The ``Conversion``: the app's source, the unmapped keys and the steps.

    Raises:
        ValueError: ``values`` is not a mapping, or ``z2jh_version`` is not 3 or 4.
    """
    if not isinstance(values, Mapping):
        raise ValueError("values.yaml must hold a mapping at its top level")
    if z2jh_version not in (3, 4):
        raise ValueError(f"z2jh_version must be 3 or 4, not {z2jh_version!r}")
    return _Converter(values, namespace, z2jh_version).run()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m jupyter_constructs from-z2jh VALUES [-o APP] [--namespace NS]``.

    Writes the app (default ``app.py``) and prints the report. Exit status: 0, or 1 when
    the values file cannot be read, or 3 with ``--strict`` when a key was not mapped.
    """
    parser = argparse.ArgumentParser(
        prog="python -m jupyter_constructs from-z2jh",
        description="Turn a Zero to JupyterHub values.yaml into a typed app.",
    )
    parser.add_argument("values", type=Path, help="the z2jh values.yaml")
    parser.add_argument("-o", "--output", type=Path, default=Path("app.py"))
    parser.add_argument("--namespace", default="jupyterhub", help="the release's namespace")
    parser.add_argument("--z2jh-version", type=int, choices=(3, 4), default=4)
    parser.add_argument("--strict", action="store_true", help="exit 3 if a key is not mapped")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        values = yaml.safe_load(args.values.read_text(encoding="utf-8")) or {}
        conversion = convert(values, namespace=args.namespace, z2jh_version=args.z2jh_version)
    except yaml.MarkedYAMLError as error:
        # Not str(error): it quotes the line, which may hold a secret.
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        print(
            f"from-z2jh: cannot convert {args.values}: not valid YAML at {where} "
            f"({error.problem}); fix the file and run again",
            file=sys.stderr,
        )
        return 1
    except (OSError, yaml.YAMLError, ValueError) as error:
        print(f"from-z2jh: cannot convert {args.values}: {error}", file=sys.stderr)
        return 1
    args.output.write_text(conversion.source, encoding="utf-8")
    print(f"wrote {args.output}")
    print(conversion.report(), end="")
    return 3 if args.strict and conversion.unmapped else 0
