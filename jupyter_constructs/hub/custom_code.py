"""Custom hub code (z2jh ``hub.extraConfig``) and page templates, typed and checked.

Python files are shipped in the hub ConfigMap and run by ``jupyterhub_config.py`` after the
generated configuration, in the order added, with ``c`` (the config) in scope as in z2jh's
``extraConfig``: spawn hooks, per-user logic, anything the typed API does not cover. Page
templates go to a ``templates/`` folder beside the config, first in
``JupyterHub.template_paths`` (a template may extend the stock one:
``{% extends "templates/page.html" %}``). Both are part of the hub ConfigMap, so a change
changes the Deployment's config checksum and rolls the hub.

Reference: https://jupyterhub.readthedocs.io/en/stable/howto/templates.html
"""

from __future__ import annotations

import re

from constructs import Construct

from jupyter_constructs.core.errors import invalid

#: ConfigMap keys of templates: ``template.<name>``, projected to ``templates/<name>``.
TEMPLATE_KEY_PREFIX = "template."
TEMPLATES_DIR = "templates"
_PYTHON_NAME = re.compile(r"\A[a-z_][a-z0-9_]{0,60}\.py\Z")
_TEMPLATE_NAME = re.compile(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}\.html\Z")
#: A ConfigMap holds at most 1 MiB (etcd's object limit); keep room for the rest.
MAX_FILE_BYTES = 256 * 1024


def check_python_file(scope: Construct, name: str, source: str, taken: set[str]) -> str:
    """Return ``source`` if it is a valid hub Python file called ``name``.

    Args:
        scope: The hub (errors name its path).
        name: The file name, e.g. ``"spawn_hooks.py"``.
        source: Its Python text.
        taken: File names already in the hub ConfigMap.

    Raises:
        ConfigurationError: Bad or taken name, too large, or a syntax error (with its line).
    """
    if not isinstance(name, str) or not _PYTHON_NAME.match(name):
        raise invalid(
            scope,
            "hub Python file name",
            name,
            allowed="a module file name: lowercase letters, digits and '_', ending in '.py'",
            fix="e.g. 'spawn_hooks.py'",
        )
    if name in taken:
        raise invalid(
            scope,
            "hub Python file name",
            name,
            allowed=f"a name not used by another hub file ({', '.join(sorted(taken))})",
            fix="rename the file",
        )
    _check_size(scope, name, source)
    try:
        compile(source, name, "exec")
    except SyntaxError as err:
        raise invalid(
            scope,
            f"hub Python file {name}",
            f"line {err.lineno}: {err.msg}",
            allowed="Python the hub can run (it is compiled at synth)",
            fix="fix the syntax error",
        ) from err
    return source


def check_template(scope: Construct, name: str, text: str, taken: set[str]) -> str:
    """Return ``text`` if it is a valid page template called ``name``.

    Raises:
        ConfigurationError: Bad or taken name, or too large.
    """
    if not isinstance(name, str) or not _TEMPLATE_NAME.match(name):
        raise invalid(
            scope,
            "hub template name",
            name,
            allowed="a JupyterHub page template file name ending in '.html' (page.html, "
            "login.html, spawn.html, home.html, error.html...)",
            fix="e.g. 'page.html'",
        )
    if name in taken:
        raise invalid(
            scope, "hub template name", name, allowed="each template once", fix="merge them"
        )
    _check_size(scope, name, text)
    return text


def _check_size(scope: Construct, name: str, text: str) -> None:
    if not isinstance(text, str):
        raise invalid(scope, f"hub file {name}", type(text).__name__, allowed="text", fix="read it")
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise invalid(
            scope,
            f"hub file {name} size",
            f"{size} bytes",
            allowed=f"at most {MAX_FILE_BYTES} bytes (the hub ConfigMap holds at most 1 MiB)",
            fix="ship large code in the hub image instead",
        )
