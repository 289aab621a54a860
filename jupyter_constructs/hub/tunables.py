"""Hub tunables, typed, and the checked escape hatch for every other trait.

``HubTunables`` holds the JupyterHub settings teams change most (z2jh sets them through
``hub.config``); ``check_trait`` tells whether ``Class.trait`` is a configurable trait of
the real class, from the table generated from the classes themselves (``hub.traits``,
scripts/gen_traits.py). References:
https://jupyterhub.readthedocs.io/en/stable/reference/api/app.html and
https://jupyterhub.readthedocs.io/en/stable/reference/api/spawner.html
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from constructs import Construct

from jupyter_constructs.core.errors import Where, invalid
from jupyter_constructs.hub.config import trait_kind
from jupyter_constructs.hub.singleuser import HUB_OVERRIDE_KEYS
from jupyter_constructs.hub.traits import TRAITS

LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR", "CRITICAL")

#: Config section -> configurable trait names of the real class.
KNOWN_TRAITS: dict[str, frozenset[str]] = {name: frozenset(t) for name, t in TRAITS.items()}


def check_trait(where: Where, class_name: str, trait: str) -> None:
    """Raise unless ``class_name.trait`` is a configurable trait of a class the hub knows.

    The one trait table (``hub.traits``, generated from the real classes) decides, as for
    ``hub.config``.

    Args:
        where: What errors name.
        class_name: The config section (``"JupyterHub"``, ``"KubeSpawner"``...).
        trait: The trait name.

    Raises:
        ConfigurationError: The class is not one the hub configures, or it has no such
            configurable trait (the message suggests the nearest name).
    """
    if not isinstance(trait, str):
        raise invalid(
            where,
            f"{class_name} trait",
            trait,
            allowed=f"the name of a configurable trait of {class_name}",
            fix="give the trait's name as text",
        )
    trait_kind(where, class_name, trait)


#: Traits ``set_trait`` refuses, whatever their value, and why: secrets would land in the
#: hub ConfigMap (in git), and the others bypass the checks of the typed API. KubeSpawner
#: traits the hub decides for every profile (``singleuser.HUB_OVERRIDE_KEYS``: its
#: ServiceAccount, nested overrides, user-set options...) are refused the same way.
GUARDED_TRAITS: dict[str, str] = {
    "cookie_secret": "a secret: the hub reads it from hub-secrets",
    "cookie_secret_file": "a secret: the hub reads it from hub-secrets",
    "client_secret": "a secret: give the sign-in option's SecretRef",
    "auth_token": "a secret: the hub reads it from hub-secrets",
    "proxy_auth_token": "a secret: the hub reads it from hub-secrets",
    "api_tokens": "secrets: register a service with hub.add_hub_service",
    "service_tokens": "secrets: register a service with hub.add_hub_service",
    "keys": "secrets: the crypt key comes from hub-secrets",
    "environment": "user servers' env: give SingleUser(env=...) or a profile's env, where "
    "secrets are SecretRefs",
    "load_roles": "roles: hub.add_hub_service(...) with its scopes",
    "allow_all": "who may sign in is the sign-in option's allow rule",
    "admin_users": "JupyterHub(admin_users=...)",
}


def check_guarded_trait(where: Where, class_name: str, trait: str) -> None:
    """Raise when ``trait`` is one ``set_trait`` never sets (``GUARDED_TRAITS``).

    Raises:
        ConfigurationError: The trait carries a secret, or bypasses a typed check.
    """
    lowered = trait.lower()
    why = GUARDED_TRAITS.get(trait)
    if why is None and class_name in ("KubeSpawner", "Spawner"):
        why = HUB_OVERRIDE_KEYS.get(trait)
    if why is None and any(w in lowered for w in ("secret", "password")):
        why = "a secret: it would be written into the hub ConfigMap, in git"
    if why is not None:
        raise invalid(
            where,
            f"{class_name} trait for set_trait",
            trait,
            allowed=f"a trait without secrets that no typed parameter decides ({why})",
            fix="use the typed parameter named here; a secret is a SecretRef, never a value",
        )


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class HubTunables:
    """The JupyterHub settings teams change most. ``None``: JupyterHub's default.

    Attributes:
        concurrent_spawn_limit: Most servers starting at once; more are refused with 429
            until one finishes (``JupyterHub.concurrent_spawn_limit``; JupyterHub: 100;
            0: no limit).
        active_server_limit: Most servers running or starting at once
            (``JupyterHub.active_server_limit``; JupyterHub: 0, no limit).
        consecutive_failure_limit: After this many failed starts in a row the hub exits,
            and Kubernetes restarts it (``Spawner.consecutive_failure_limit``;
            JupyterHub: 0, never).
        redirect_to_server: Send users to their server after sign-in instead of the hub
            home page (``JupyterHub.redirect_to_server``; JupyterHub: True).
        shutdown_on_logout: Stop a user's servers when they log out
            (``JupyterHub.shutdown_on_logout``; JupyterHub: False).
        template_vars: Variables for the hub's page templates, e.g. ``{"announcement":
            "Maintenance on Friday"}`` (``JupyterHub.template_vars``). Default: none.
        log_level: ``DEBUG``, ``INFO``, ``WARN``, ``ERROR`` or ``CRITICAL``
            (``JupyterHub.log_level``; JupyterHub: ``INFO``).
    """

    concurrent_spawn_limit: int | None = None
    active_server_limit: int | None = None
    consecutive_failure_limit: int | None = None
    redirect_to_server: bool | None = None
    shutdown_on_logout: bool | None = None
    template_vars: Mapping[str, str] = field(default_factory=dict)
    log_level: str | None = None

    def check(self, scope: Construct) -> HubTunables:
        """Return self if every field is valid.

        Raises:
            ConfigurationError: A field is invalid.
        """
        for what in ("concurrent_spawn_limit", "active_server_limit", "consecutive_failure_limit"):
            value = getattr(self, what)
            if value is not None and (not _whole(value) or value < 0):
                raise invalid(
                    scope,
                    f"HubTunables.{what}",
                    value,
                    allowed="a whole number >= 0 (0: no limit), or None for JupyterHub's default",
                    fix=f"e.g. HubTunables({what}=20)",
                )
        for what in ("redirect_to_server", "shutdown_on_logout"):
            value = getattr(self, what)
            if value is not None and not isinstance(value, bool):
                raise invalid(
                    scope, f"HubTunables.{what}", value, allowed="True or False", fix="use a bool"
                )
        if self.log_level is not None and self.log_level not in LOG_LEVELS:
            raise invalid(
                scope,
                "HubTunables.log_level",
                self.log_level,
                allowed=", ".join(LOG_LEVELS),
                fix="e.g. 'DEBUG' while investigating, then back to 'INFO'",
            )
        if not isinstance(self.template_vars, Mapping) or not all(
            isinstance(k, str) and k.isidentifier() and isinstance(v, str)
            for k, v in self.template_vars.items()
        ):
            raise invalid(
                scope,
                "HubTunables.template_vars",
                self.template_vars,
                allowed="a mapping of identifier names to text (Jinja2 variables)",
                fix='e.g. template_vars={"announcement": "Maintenance on Friday"}',
            )
        return self

    def traits(self) -> dict[str, dict[str, Any]]:
        """The trait settings by class name (only those set)."""
        hub: dict[str, Any] = {}
        for what in (
            "concurrent_spawn_limit",
            "active_server_limit",
            "redirect_to_server",
            "shutdown_on_logout",
            "log_level",
        ):
            value = getattr(self, what)
            if value is not None:
                hub[what] = value
        if self.template_vars:
            hub["template_vars"] = dict(sorted(self.template_vars.items()))
        traits: dict[str, dict[str, Any]] = {}
        if hub:
            traits["JupyterHub"] = hub
        if self.consecutive_failure_limit is not None:
            traits["KubeSpawner"] = {"consecutive_failure_limit": self.consecutive_failure_limit}
        return traits
