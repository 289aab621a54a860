"""The generated half of the hub configuration: trait settings rendered to JSON.

The static ``hub/files/jupyterhub_config.py`` loads the JSON in the hub. Keeping data
(JSON) apart from code (one reviewed Python file) makes the rendered config
deterministic and lets the tests compare every key with the real trait names.
"""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

from jupyter_constructs.core.objects import stable_json

CONFIG_FILE = "jupyterhub_config.py"
SETTINGS_FILE = "hub_config.json"
PROFILE_ACCESS_FILE = "profile_access.py"


def static_config_source() -> str:
    """The text of the static ``jupyterhub_config.py`` shipped in this package."""
    return resources.files("jupyter_constructs.hub.files").joinpath(CONFIG_FILE).read_text("utf-8")


def profile_access_source() -> str:
    """The text of ``profile_access.py`` (restricted profiles, enforced in the hub)."""
    return (
        resources.files("jupyter_constructs.hub.files")
        .joinpath(PROFILE_ACCESS_FILE)
        .read_text("utf-8")
    )


class HubConfig:
    """Trait settings by class name, plus the traits and tokens read from env in the hub.

    ``set`` refuses to change a value already set, so two parts of the library cannot
    silently fight over one trait.
    """

    def __init__(self) -> None:
        self._traits: dict[str, dict[str, Any]] = {}
        self._from_env: dict[str, str] = {}
        self._services: list[dict[str, Any]] = []
        self._roles: list[dict[str, Any]] = []
        self._profile_access: dict[str, dict[str, list[str]]] = {}
        self._custom: dict[str, Any] = {}

    def set(self, class_name: str, trait: str, value: Any) -> None:
        """Set ``class_name.trait``; raises if another value was set before."""
        section = self._traits.setdefault(class_name, {})
        if trait in section and section[trait] != value:
            raise ValueError(
                f"hub config: {class_name}.{trait} is already {section[trait]!r}; "
                f"refusing to overwrite it with {value!r}"
            )
        section[trait] = value

    def update(self, class_name: str, traits: dict[str, Any]) -> None:
        """``set`` every item of ``traits``."""
        for trait, value in traits.items():
            self.set(class_name, trait, value)

    def replace(self, class_name: str, trait: str, value: Any) -> None:
        """Set ``class_name.trait`` even if set before (for values re-rendered at synth)."""
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
        self._from_env[f"{class_name}.{trait}"] = env_var

    def add_service(self, service: dict[str, Any]) -> None:
        """Add a ``JupyterHub.services`` entry; ``api_token_env`` names its token's env var."""
        if any(s["name"] == service["name"] for s in self._services):
            raise ValueError(f"hub config: a service named {service['name']!r} already exists")
        self._services.append(service)

    def add_role(self, role: dict[str, Any]) -> None:
        """Add a ``JupyterHub.load_roles`` entry."""
        if any(r["name"] == role["name"] for r in self._roles):
            raise ValueError(f"hub config: a role named {role['name']!r} already exists")
        self._roles.append(role)

    def set_profile_access(self, access: dict[str, dict[str, list[str]]]) -> None:
        """Who may use each restricted profile: slug -> ``{"groups": [...], "users": [...]}``."""
        self._profile_access = copy.deepcopy(access)

    def set_custom_code(self, python_files: list[str], templates: bool) -> None:
        """Custom Python files to run after the config (in order), and whether templates exist."""
        self._custom = {}
        if python_files:
            self._custom["python_files"] = list(python_files)
        if templates:
            self._custom["templates"] = True

    def to_dict(self) -> dict[str, Any]:
        """The JSON document the static config file reads."""
        traits = copy.deepcopy(self._traits)
        if self._services:
            traits.setdefault("JupyterHub", {})["services"] = copy.deepcopy(self._services)
        if self._roles:
            traits.setdefault("JupyterHub", {})["load_roles"] = copy.deepcopy(self._roles)
        document = {"traits": traits, "traits_from_env": dict(self._from_env)}
        if self._profile_access:
            document["profile_access"] = copy.deepcopy(self._profile_access)
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
        document: dict[str, Any] = {"traits": traits, "traits_from_env": self._from_env}
        if self._profile_access:
            document["profile_access"] = self._profile_access
        document.update(self._custom)
        return stable_json(document)
