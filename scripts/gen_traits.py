"""Write jupyter_constructs/hub/traits.py from the real JupyterHub, KubeSpawner and
authenticator classes (the versions pinned in requirements-dev.txt, those of the hub image).

Usage: .venv/bin/python scripts/gen_traits.py [--check]

The library does not import these classes at run time (they live in the hub image), so it
keeps their configurable traits and each trait's value type as data. tests/hub/test_traits.py
regenerates the table and fails when it differs from the committed one.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
from pathlib import Path
from typing import Any

import traitlets

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "jupyter_constructs" / "hub" / "traits.py"


def _hub_file_module(name: str) -> Any:
    """A module of ``jupyter_constructs/hub/files``, imported as the hub imports it.

    The hub's ConfigMap puts these files in one directory on ``sys.path``, so they import
    each other by bare name; the same directory is put on the path here while loading.
    """
    files = ROOT / "jupyter_constructs" / "hub" / "files"
    sys.path.insert(0, str(files))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(files))


def configurable_classes() -> dict[str, type]:
    """Every class name a ``hub.config`` section may name, and the real class."""
    from jupyterhub.app import JupyterHub
    from jupyterhub.auth import Authenticator
    from jupyterhub.proxy import ConfigurableHTTPProxy, Proxy
    from jupyterhub.spawner import Spawner
    from kubespawner import KubeSpawner
    from ldapauthenticator import LDAPAuthenticator
    from oauthenticator.azuread import AzureAdOAuthenticator
    from oauthenticator.generic import GenericOAuthenticator
    from oauthenticator.github import GitHubOAuthenticator
    from oauthenticator.google import GoogleOAuthenticator
    from oauthenticator.oauth2 import OAuthenticator

    cloudflare = _hub_file_module("cloudflare_access")
    oidc = _hub_file_module("oidc_authenticator")
    oauth = _hub_file_module("oauth_authenticators")
    return {
        "JupyterHub": JupyterHub,
        "Spawner": Spawner,
        "KubeSpawner": KubeSpawner,
        "Authenticator": Authenticator,
        "OAuthenticator": OAuthenticator,
        "GenericOAuthenticator": GenericOAuthenticator,
        "GitHubOAuthenticator": GitHubOAuthenticator,
        "GoogleOAuthenticator": GoogleOAuthenticator,
        "AzureAdOAuthenticator": AzureAdOAuthenticator,
        "LDAPAuthenticator": LDAPAuthenticator,
        "CloudflareAccessAuthenticator": cloudflare.CloudflareAccessAuthenticator,
        "OidcAuthenticator": oidc.OidcAuthenticator,
        "GitHubAuthenticator": oauth.GitHubAuthenticator,
        "GoogleAuthenticator": oauth.GoogleAuthenticator,
        "AzureAdAuthenticator": oauth.AzureAdAuthenticator,
        "Proxy": Proxy,
        "ConfigurableHTTPProxy": ConfigurableHTTPProxy,
    }


def kind_of(trait: traitlets.TraitType[Any, Any]) -> str:
    """The value kind of ``trait`` as ``hub.traits.check_trait_value`` understands it."""
    none = "?" if trait.allow_none else ""
    if type(trait) is traitlets.Any and (trait.name or "").endswith("_hook"):
        return "python" + none  # hooks are functions, which JSON cannot carry
    if isinstance(trait, traitlets.Union):
        kinds = sorted({kind_of(t).removesuffix("?") for t in trait.trait_types})
        return "|".join(kinds) + none
    if isinstance(trait, traitlets.Bool):
        return "bool" + none
    if isinstance(trait, traitlets.Integer | traitlets.Float):
        kind = "int" if isinstance(trait, traitlets.Integer) else "float"
        low, high = (
            None if v is None or math.isinf(v) else v
            for v in (getattr(trait, "min", None), getattr(trait, "max", None))
        )
        if low is not None or high is not None:
            kind += f"[{'' if low is None else low},{'' if high is None else high}]"
        return kind + none
    if isinstance(trait, traitlets.UseEnum):  # a Python Enum, set by member name from JSON
        return f"enum({','.join(trait.enum_class.__members__)})" + none
    if isinstance(trait, traitlets.CaselessStrEnum | traitlets.Enum):
        values = ",".join(str(v) for v in trait.values or ())
        return f"enum({values})" + none
    if isinstance(trait, traitlets.Unicode | traitlets.CUnicode | traitlets.ObjectName):
        return "str" + none
    if isinstance(trait, traitlets.Dict):
        inner = trait._value_trait
        return (f"dict<{kind_of(inner)}>" if inner is not None else "dict") + none
    if isinstance(trait, traitlets.List | traitlets.Set | traitlets.Tuple):
        inner = getattr(trait, "_trait", None)
        kind = f"list<{kind_of(inner)}>" if inner is not None else "list"
        if type(trait).__name__ == "Command":
            kind = "command"  # jupyterhub's Command: one string, or a non-empty list of them
        return kind + none
    if isinstance(trait, traitlets.Bytes):
        return "str" + none  # traitlets casts a str from config to bytes
    if isinstance(trait, traitlets.Type):
        return "str" + none  # an import string or entry point name ("generic-oauth")
    # jupyterhub.traitlets.Callable is its own class, not traitlets.Callable.
    if type(trait).__name__ == "Callable" or isinstance(
        trait, traitlets.Callable | traitlets.Instance
    ):
        return "python" + none
    return "any"


def table() -> dict[str, dict[str, str]]:
    """Class name -> trait name -> kind, for every configurable trait."""
    result: dict[str, dict[str, str]] = {}
    for name, cls in configurable_classes().items():
        traits = cls.class_traits(config=True)
        result[name] = {t: kind_of(traits[t]) for t in sorted(traits)}
    return result


def render() -> str:
    import jupyterhub
    import kubespawner
    import ldapauthenticator
    import oauthenticator

    lines = [
        '"""Configurable traits of the hub-side classes, and the kind of value each takes.',
        "",
        "Generated by scripts/gen_traits.py from jupyterhub "
        f"{jupyterhub.__version__}, jupyterhub-kubespawner {kubespawner.__version__},",
        f"oauthenticator {oauthenticator.__version__}, jupyterhub-ldapauthenticator "
        f"{ldapauthenticator.__version__}",
        "and the authenticators of hub/files; do not edit. Kinds: ``str``,",
        "``int``, ``float``, ``bool``, ``list``, ``dict``, ``enum(a,b)``, ``python`` (a Python "
        "object: not",
        "settable from JSON), ``any``, unions with ``|``, ``?`` when ``None`` is allowed.",
        '"""',
        "",
        "TRAITS: dict[str, dict[str, str]] = {",
    ]
    for cls, traits in table().items():
        lines.append(f"    {json.dumps(cls)}: {{")
        lines += [f"        {json.dumps(t)}: {json.dumps(k)}," for t, k in traits.items()]
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if TARGET.read_text() != text:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run scripts/gen_traits.py")
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
