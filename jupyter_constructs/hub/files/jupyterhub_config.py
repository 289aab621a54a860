"""JupyterHub configuration for hubs built with jupyter-constructs.

This file is static: everything specific to one hub was rendered at synth time into
``hub_config.json`` beside it (same ConfigMap), as trait settings by class name.
Secrets never appear in that JSON; they arrive as environment variables of the hub
container (from Kubernetes Secrets) and are wired in below by name.

hub_config.json keys:
- ``traits``: ``{"ClassName": {"trait_name": value}}``, applied as-is.
- ``traits_from_env``: ``{"ClassName.trait_name": "ENV_VAR"}``, values read from env.
- in ``JupyterHub.services``, an entry's ``api_token_env`` names the env var that
  holds its token.
- ``profile_access`` (only when a profile is restricted): profile slug ->
  ``{"groups": [...], "users": [...]}``, enforced by ``profile_access.ProfileFilter``.
- ``templates`` (only with custom page templates): they are in ``templates/`` beside us.
- ``python_files`` (only with custom hub code): files beside us, run last, in order, with
  ``c`` in scope (as z2jh's ``hub.extraConfig``).
"""

import json
import os
import sys
from pathlib import Path

c = get_config()  # type: ignore[name-defined]  # noqa: F821 -- injected by traitlets

CONFIG_DIR = Path(__file__).resolve().parent
# Authenticator modules shipped in the same ConfigMap are importable by name.
sys.path.insert(0, str(CONFIG_DIR))


def require_env(name: str) -> str:
    """The value of env var ``name``; a clear error instead of a half-configured hub."""
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(
            f"jupyterhub_config.py: environment variable {name} is empty or missing; "
            "it is set from a Kubernetes Secret by the hub Deployment"
        )
    return value


settings = json.loads((CONFIG_DIR / "hub_config.json").read_text(encoding="utf-8"))

for class_name, traits in settings["traits"].items():
    for trait_name, value in traits.items():
        c[class_name][trait_name] = value

for target, env_name in settings.get("traits_from_env", {}).items():
    class_name, trait_name = target.split(".", 1)
    c[class_name][trait_name] = require_env(env_name)

for service in settings["traits"].get("JupyterHub", {}).get("services", []):
    token_env = service.pop("api_token_env", None)
    if token_env:
        service["api_token"] = require_env(token_env)

profile_access = settings.get("profile_access") or {}
if profile_access:
    from profile_access import ProfileFilter  # type: ignore[import-not-found]  # beside us

    c.KubeSpawner.profile_list = ProfileFilter(c.KubeSpawner.profile_list, profile_access)

if settings.get("templates"):
    c.JupyterHub.template_paths = [str(CONFIG_DIR / "templates")]

for file_name in settings.get("python_files", []):
    path = CONFIG_DIR / file_name
    print(f"jupyterhub_config.py: running custom hub code {file_name}")
    code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
    exec(code, {"c": c, "get_config": lambda: c, "__file__": str(path), "__name__": path.stem})
