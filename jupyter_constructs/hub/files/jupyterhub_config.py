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
- ``user_server_domain`` (optional): user and service servers are served at
  ``<name>.<user_server_domain>`` (with ``JupyterHub.subdomain_host`` set to that domain
  and ``JupyterHub.public_url`` to the hub's own host), instead of under the hub's host.
- ``profile_access`` (only when a profile is restricted): profile slug ->
  ``{"groups": [...], "users": [...]}``, enforced by ``profile_access.ProfileFilter``.
- ``profile_renames`` (only when a profile has ``former_slugs``): former slug -> current
  slug; the spawner class maps a user's stored or requested former slug to the current one
  (``profile_access.renaming_spawner``).
- ``templates`` (only with custom page templates): they are in ``templates/`` beside us.
- ``python_files`` (only with custom hub code): files beside us, run last, in order, with
  ``c`` in scope (as z2jh's ``hub.extraConfig``).
- ``grow_homes`` (only with a home claim per user): ``home_expansion.py`` beside us
  grows an existing home claim to ``KubeSpawner.storage_capacity`` before each spawn,
  after any ``pre_spawn_hook`` the custom hub code set.
"""

import hashlib
import json
import os
import re
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

# User servers on hosts of their own (docs/authentication.md). JupyterHub 5 names user
# hosts after the public_url host (services after subdomain_host); this puts both under
# user_server_domain, a sibling of the hub's host, so no cookie of the hub's host reaches
# a user's server, whatever its Domain attribute.
# Names that are not DNS labels (any e-mail address) get JupyterHub's fallback label
# "u-<8 characters>--<7 hex digits of SHA-256>": 28 bits, so two users can share a host,
# one origin, where each one's pages can read the other's server. A pair turns up after
# about 2**14 names, and an address landing on a chosen user's host after about 2**28
# hashes, for anyone who can pick the address they sign in with. The same form is kept,
# with 32 hex digits (128 bits).
_HASHED_LABEL = re.compile(r"\A(?P<stub>u-[a-z0-9]{1,8})--[0-9a-f]{7}(?P<kind>--[a-z0-9-]+)?\Z")

if settings.get("user_server_domain"):
    from jupyterhub.utils import subdomain_hook_idna

    def user_server_subdomain(name: str, domain: str, kind: str) -> str:
        host = str(subdomain_hook_idna(name, settings["user_server_domain"], kind))
        label, _, rest = host.partition(".")
        hashed = _HASHED_LABEL.match(label)
        if hashed:
            digest = hashlib.sha256(name.encode("utf8")).hexdigest()[:32]
            label = f"{hashed['stub']}--{digest}{hashed['kind'] or ''}"
        return f"{label}.{rest}"

    c.JupyterHub.subdomain_hook = user_server_subdomain

# Request logs. For a failed request (5xx) JupyterHub writes every request header to its
# log, masking only Authorization and cookie values (jupyterhub/log.py). Cloudflare Access
# adds the visitor's signed token to every request it forwards (Cf-Access-Jwt-Assertion),
# and service tokens arrive in the Cf-Access-Client-Id and Cf-Access-Client-Secret headers,
# bearer credentials that would sign their holder in for as long as they live. Mask every
# Cf-Access-* header too, then log exactly as JupyterHub does.
from jupyterhub.log import log_request as _jupyterhub_log_request  # noqa: E402
from tornado.httputil import HTTPHeaders  # noqa: E402

CREDENTIAL_HEADER_PREFIXES = ("cf-access-",)


def log_request_without_credentials(handler):  # type: ignore[no-untyped-def]
    """JupyterHub's request log, with the Cloudflare Access credentials masked."""
    headers = handler.request.headers
    if not any(name.lower().startswith(CREDENTIAL_HEADER_PREFIXES) for name in headers):
        return _jupyterhub_log_request(handler)
    masked = HTTPHeaders()
    for name, value in headers.get_all():
        credential = name.lower().startswith(CREDENTIAL_HEADER_PREFIXES)
        masked.add(name, "[secret]" if credential else value)
    handler.request.headers = masked  # the request has finished: only the log reads it
    try:
        return _jupyterhub_log_request(handler)
    finally:
        handler.request.headers = headers


c.JupyterHub.tornado_settings.update({"log_function": log_request_without_credentials})

profile_access = settings.get("profile_access") or {}
if profile_access:
    from profile_access import ProfileFilter  # type: ignore[import-not-found]  # beside us

    c.KubeSpawner.profile_list = ProfileFilter(c.KubeSpawner.profile_list, profile_access)

profile_renames = settings.get("profile_renames") or {}
if profile_renames:
    from kubespawner import KubeSpawner  # type: ignore[import-untyped]
    from profile_access import renaming_spawner  # beside us, like ProfileFilter

    c.JupyterHub.spawner_class = renaming_spawner(KubeSpawner, profile_renames)

if settings.get("templates"):
    c.JupyterHub.template_paths = [str(CONFIG_DIR / "templates")]

for file_name in settings.get("python_files", []):
    path = CONFIG_DIR / file_name
    print(f"jupyterhub_config.py: running custom hub code {file_name}")
    code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
    exec(code, {"c": c, "get_config": lambda: c, "__file__": str(path), "__name__": path.stem})

if settings.get("grow_homes"):
    from home_expansion import with_home_growth  # type: ignore[import-not-found]  # beside us

    # After the custom hub code, so a pre_spawn_hook it set still runs (first).
    own_hook = c.get("KubeSpawner", {}).get("pre_spawn_hook") or c.get("Spawner", {}).get(
        "pre_spawn_hook"
    )
    c.KubeSpawner.pre_spawn_hook = with_home_growth(own_hook)
