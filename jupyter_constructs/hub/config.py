"""The generated half of the hub configuration: trait settings rendered to JSON.

The static ``hub/files/jupyterhub_config.py`` loads the JSON in the hub. Keeping data
(JSON) apart from code (one reviewed Python file) makes the rendered config
deterministic and lets the tests compare every key with the real trait names.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
from collections.abc import Mapping
from importlib import resources
from typing import Any

from jupyter_constructs.core.errors import Where, invalid
from jupyter_constructs.core.objects import stable_json
from jupyter_constructs.hub.traits import TRAITS

CONFIG_FILE = "jupyterhub_config.py"
SETTINGS_FILE = "hub_config.json"
PROFILE_ACCESS_FILE = "profile_access.py"
HOME_EXPANSION_FILE = "home_expansion.py"


def static_config_source() -> str:
    """The text of the static ``jupyterhub_config.py`` shipped in this package."""
    return resources.files("jupyter_constructs.hub.files").joinpath(CONFIG_FILE).read_text("utf-8")


def _split(kind: str) -> list[str]:
    """``a|list<b|c>|d`` -> ``["a", "list<b|c>", "d"]`` (bars inside ``<>`` kept)."""
    parts, depth, current = [], 0, ""
    for char in kind:
        if char == "|" and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"<": 1, ">": -1}.get(char, 0)
        current += char
    return [*parts, current]


def _matches(kind: str, value: Any) -> bool:
    if kind.endswith("?"):
        if value is None:
            return True
        kind = kind[:-1]
    parts = _split(kind)
    if len(parts) > 1:
        return any(_matches(k, value) for k in parts)
    if kind.startswith("enum("):
        return isinstance(value, str | int) and str(value) in kind[5:-1].split(",")
    if isinstance(value, bool):
        return kind in ("bool", "any")
    if "[" in kind:  # int[min,max], float[min,max]
        base, bounds = kind[:-1].split("[")
        low, high = bounds.split(",")
        return (
            _matches(base, value)
            and (low == "" or value >= float(low))
            and (high == "" or value <= float(high))
        )
    if kind == "str":
        return isinstance(value, str) and "\0" not in value
    if kind == "int":
        return isinstance(value, int)
    if kind == "command":
        return (isinstance(value, str) and value != "") or (
            isinstance(value, list | tuple)
            and bool(value)
            and all(_matches("str", v) for v in value)
        )
    if kind == "float":
        return isinstance(value, int | float) and math.isfinite(value)
    if kind.startswith("list"):
        inner = kind[5:-1] if kind.startswith("list<") else "any"
        return isinstance(value, list | tuple) and all(_matches(inner, v) for v in value)
    if kind.startswith("dict"):
        inner = kind[5:-1] if kind.startswith("dict<") else "any"
        return isinstance(value, Mapping) and all(
            isinstance(k, str) and _matches(inner, v) for k, v in value.items()
        )
    return kind == "any"


_KIND_WORDS = {
    "str": "a string",
    "int": "an integer (not a bool or a string)",
    "float": "a number (not a bool or a string)",
    "bool": "True or False",
    "command": "a command: one string or a non-empty list of strings",
    "list": "a list",
    "dict": "a dict with string keys",
    "python": "a Python object (a function or class), which cannot be written into the "
    "generated JSON config",
    "any": "any JSON value",
}


def _describe(kind: str) -> str:
    optional = kind.endswith("?")
    parts = []
    for part in _split(kind.removesuffix("?")):
        if part.startswith("enum("):
            parts.append("one of " + ", ".join(part[5:-1].split(",")))
        elif "[" in part:
            base, bounds = part[:-1].split("[")
            low, high = bounds.split(",")
            limits = [f"at least {low}"] * bool(low) + [f"at most {high}"] * bool(high)
            parts.append(f"{_KIND_WORDS[base]}, {' and '.join(limits)}")
        elif part.startswith(("list<", "dict<")):
            container = _KIND_WORDS[part[:4]]
            parts.append(f"{container} of {_describe(part[5:-1])}")
        else:
            parts.append(_KIND_WORDS[part])
    return " or ".join(parts) + (" or None" if optional else "")


def trait_kind(where: Where, class_name: str, trait: str) -> str:
    """The kind of value ``class_name.trait`` takes (``hub.traits``); raise if it is unknown.

    Raises:
        ConfigurationError: ``class_name`` is not a class the hub configures, or
            ``trait`` is not one of its configurable traits (the message suggests the
            closest name).
    """
    traits = TRAITS.get(class_name)
    if traits is None:
        raise invalid(
            where,
            "hub config class",
            class_name,
            allowed=", ".join(TRAITS),
            fix="configure one of the classes the hub runs",
        )
    kind = traits.get(trait)
    if kind is None:
        close = difflib.get_close_matches(trait, traits, n=1)
        raise invalid(
            where,
            f"{class_name} trait",
            trait,
            allowed=f"a configurable trait of {class_name} (the pinned hub image's version)",
            fix=f"did you mean {close[0]!r}?"
            if close
            else "check the spelling against the class's configuration reference",
        )
    return kind


def check_trait_value(where: Where, class_name: str, trait: str, value: Any) -> Any:
    """Return ``value`` if ``class_name.trait`` accepts it and it can be written as JSON.

    The kinds come from the real classes (``hub.traits``, generated); the tests also
    give accepted values to the real traits' ``validate``.

    Raises:
        ConfigurationError: The class or trait is unknown, or the value has the wrong type.
    """
    kind = trait_kind(where, class_name, trait)
    if not _is_json(value) or not _matches(kind, value):
        raise invalid(
            where,
            f"{class_name}.{trait}",
            value,
            allowed=_describe(kind),
            fix=f"give {class_name}.{trait} a value of that type",
        )
    return value


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def profile_access_source() -> str:
    """The text of ``profile_access.py`` (restricted profiles, enforced in the hub)."""
    return (
        resources.files("jupyter_constructs.hub.files")
        .joinpath(PROFILE_ACCESS_FILE)
        .read_text("utf-8")
    )


def home_expansion_source() -> str:
    """The text of ``home_expansion.py`` (existing home claims grown on spawn, in the hub)."""
    return (
        resources.files("jupyter_constructs.hub.files")
        .joinpath(HOME_EXPANSION_FILE)
        .read_text("utf-8")
    )


class HubConfig:
    """Trait settings by class name, plus the traits and tokens read from env in the hub.

    Every ``Class.trait`` is checked against the real classes' configurable traits and the
    kind of value each takes (``hub.traits``). ``set`` refuses to change a value already
    set, so two parts of the library cannot silently fight over one trait.

    Args:
        owner: What errors name: the hub construct. Default: ``"hub.config"``.
    """

    def __init__(self, owner: Where = "hub.config") -> None:
        self._owner = owner
        self._traits: dict[str, dict[str, Any]] = {}
        self._from_env: dict[str, str] = {}
        self._services: list[dict[str, Any]] = []
        self._roles: list[dict[str, Any]] = []
        self._settings: dict[str, Any] = {}
        self._profile_access: dict[str, dict[str, list[str]]] = {}
        self._profile_renames: dict[str, str] = {}
        self._custom: dict[str, Any] = {}
        self._custom_classes: set[str] = set()

    def snapshot(self) -> tuple[Any, ...]:
        """Everything set so far, for ``restore`` (a failed add-on leaves no trace)."""
        return copy.deepcopy(
            (
                self._traits,
                self._from_env,
                self._services,
                self._roles,
                self._settings,
                self._profile_access,
                self._profile_renames,
                self._custom,
                self._custom_classes,
            )
        )

    def restore(self, snapshot: tuple[Any, ...]) -> None:
        """Go back to a ``snapshot``."""
        (
            self._traits,
            self._from_env,
            self._services,
            self._roles,
            self._settings,
            self._profile_access,
            self._profile_renames,
            self._custom,
            self._custom_classes,
        ) = copy.deepcopy(snapshot)

    def add_custom_class(self, class_name: str) -> None:
        """Accept traits of ``class_name``, a class the trait table does not know.

        For a custom authenticator shipped by its ``HubAuth`` (docs/authentication.md): its
        traits are checked as JSON only, since the library cannot know the class. A class
        of the table keeps its full check.
        """
        if class_name not in TRAITS:
            self._custom_classes.add(class_name)

    def _check(self, class_name: str, trait: str, value: Any) -> None:
        if class_name not in self._custom_classes:
            check_trait_value(self._owner, class_name, trait, value)
        elif not _is_json(value):
            raise invalid(
                self._owner,
                f"{class_name}.{trait}",
                type(value).__name__,
                allowed="a JSON value: text, number, bool, None, list or dict of those",
                fix="give plain data; code belongs in a hub Python file",
            )

    def set(self, class_name: str, trait: str, value: Any) -> None:
        """Set ``class_name.trait``.

        Raises:
            ConfigurationError: The class or trait is unknown, the value has the wrong
                type, or another value was set before.
        """
        self._check(class_name, trait, value)
        section = self._traits.setdefault(class_name, {})
        if trait in section and section[trait] != value:
            raise invalid(
                self._owner,
                f"hub config {class_name}.{trait}",
                value,
                allowed=f"the value already set, {section[trait]!r} (one owner per trait)",
                fix="set each trait once; use the typed parameter that owns it",
            )
        section[trait] = value

    def update(self, class_name: str, traits: dict[str, Any]) -> None:
        """``set`` every item of ``traits``."""
        for trait, value in traits.items():
            self.set(class_name, trait, value)

    def replace(self, class_name: str, trait: str, value: Any) -> None:
        """Set ``class_name.trait`` even if set before (for values re-rendered at synth)."""
        self._check(class_name, trait, value)
        self._traits.setdefault(class_name, {})[trait] = value

    def trait_names(self) -> dict[str, list[str]]:
        """The traits set so far, by class name (those read from env included)."""
        names = {c: sorted(t) for c, t in self._traits.items()}
        for target in self._from_env:
            class_name, trait = target.split(".", 1)
            names.setdefault(class_name, []).append(trait)
        return names

    def set_from_env(self, class_name: str, trait: str, env_var: str) -> None:
        """In the hub, ``class_name.trait`` takes the value of env var ``env_var``."""
        if class_name not in self._custom_classes:
            trait_kind(self._owner, class_name, trait)
        self._from_env[f"{class_name}.{trait}"] = env_var

    def set_setting(self, key: str, value: Any) -> None:
        """Set a top-level key of ``hub_config.json`` (read by the static config file).

        Such keys are read by the static file itself, e.g. ``user_server_domain``; raises
        if another value was set before.
        """
        if key in (
            "traits",
            "traits_from_env",
            "profile_access",
            "profile_renames",
            "python_files",
            "templates",
        ):
            raise ValueError(f"hub config: {key!r} is not a setting")
        if key in self._settings and self._settings[key] != value:
            raise invalid(
                self._owner,
                f"hub setting {key}",
                value,
                allowed=f"the value set before ({self._settings[key]!r})",
                fix="configure this setting in one place only",
            )
        self._settings[key] = value

    def add_service(self, service: dict[str, Any], *, role: dict[str, Any] | None = None) -> None:
        """Add a ``JupyterHub.services`` entry (and its ``load_roles`` entry), or neither.

        ``api_token_env`` names the env var holding the service's token.

        Raises:
            ConfigurationError: A service or role of that name exists.
        """
        if any(s["name"] == service["name"] for s in self._services):
            raise invalid(
                self._owner,
                "hub service",
                service["name"],
                allowed="a name not used yet",
                fix="give each hub service its own name",
            )
        if role is not None:
            self._check_new_role(role)
        self._services.append(service)
        if role is not None:
            self._roles.append(role)

    def add_role(self, role: dict[str, Any]) -> None:
        """Add a ``JupyterHub.load_roles`` entry.

        Raises:
            ConfigurationError: A role of that name exists.
        """
        self._check_new_role(role)
        self._roles.append(role)

    def _check_new_role(self, role: dict[str, Any]) -> None:
        if any(r["name"] == role["name"] for r in self._roles):
            raise invalid(
                self._owner,
                "hub role",
                role["name"],
                allowed="a role name not used yet",
                fix="give each role its own name",
            )

    def set_profile_access(self, access: dict[str, dict[str, list[str]]]) -> None:
        """Who may use each restricted profile: slug -> ``{"groups": [...], "users": [...]}``."""
        self._profile_access = copy.deepcopy(access)

    def set_profile_renames(self, renames: dict[str, str]) -> None:
        """Former profile slugs the hub maps to the current ones: old slug -> new slug."""
        self._profile_renames = dict(renames)

    def set_custom_code(
        self, python_files: list[str], templates: bool, *, grow_homes: bool = False
    ) -> None:
        """Custom code and templates, and whether the hub grows existing home claims.

        Args:
            python_files: Custom Python files to run after the config, in order.
            templates: Whether custom page templates exist.
            grow_homes: Install ``home_expansion.py``'s pre-spawn hook. Default: False.
        """
        self._custom = {}
        if python_files:
            self._custom["python_files"] = list(python_files)
        if templates:
            self._custom["templates"] = True
        if grow_homes:
            self._custom["grow_homes"] = True

    def to_dict(self) -> dict[str, Any]:
        """The JSON document the static config file reads."""
        traits = copy.deepcopy(self._traits)
        if self._services:
            traits.setdefault("JupyterHub", {})["services"] = copy.deepcopy(self._services)
        if self._roles:
            traits.setdefault("JupyterHub", {})["load_roles"] = copy.deepcopy(self._roles)
        document = {
            "traits": traits,
            "traits_from_env": dict(self._from_env),
            **copy.deepcopy(self._settings),
        }
        if self._profile_access:
            document["profile_access"] = copy.deepcopy(self._profile_access)
        if self._profile_renames:
            document["profile_renames"] = dict(self._profile_renames)
        document.update(copy.deepcopy(self._custom))
        return document

    def render(self) -> str:
        """``to_dict`` as deterministic JSON text."""
        traits = dict(self._traits)
        if self._services or self._roles:
            # Serialized at once, so no copy of the values is needed (``to_dict`` copies).
            hub = dict(traits.get("JupyterHub", {}))
            if self._services:
                hub["services"] = self._services
            if self._roles:
                hub["load_roles"] = self._roles
            traits["JupyterHub"] = hub
        document: dict[str, Any] = {
            "traits": traits,
            "traits_from_env": self._from_env,
            **self._settings,
        }
        if self._profile_access:
            document["profile_access"] = self._profile_access
        if self._profile_renames:
            document["profile_renames"] = self._profile_renames
        document.update(self._custom)
        return stable_json(document)
