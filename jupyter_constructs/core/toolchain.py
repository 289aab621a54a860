"""The Node.js side of cdk8s (jsii): a writable package cache, and which Node.js runs.

cdk8s is a jsii library: importing it starts a Node.js process that unpacks the
JavaScript packages (~14 MB) into a package cache. jsii puts that cache under
``$HOME/.cache/aws/jsii/package-cache`` unless ``JSII_RUNTIME_PACKAGE_CACHE_ROOT`` says
otherwise, and where ``$HOME`` is not writable (read-only CI runners, some containers)
importing cdk8s fails or hangs. ``ensure_jsii_package_cache`` (run when
``jupyter_constructs`` is imported, before cdk8s is, if you import it first) picks a
writable cache:

1. ``JSII_RUNTIME_PACKAGE_CACHE_ROOT`` when set: yours, left alone;
2. jsii's own default, ``$HOME/.cache/aws/jsii/package-cache``, when it can be created
   and written: nothing is changed;
3. ``$XDG_CACHE_HOME/jsii-package-cache`` when ``XDG_CACHE_HOME`` is set and writable;
4. ``<temporary directory>/jupyter-constructs-jsii-cache-<uid>`` (mode 0700) otherwise.

In CI, setting ``JSII_RUNTIME_PACKAGE_CACHE_ROOT`` to a cached folder is simplest and
makes the unpacking a one-time cost. If your app imports ``cdk8s`` before
``jupyter_constructs``, call ``ensure_jsii_package_cache()`` first or set the variable.

**Node.js.** jsii supports the Node.js releases still in maintenance (22 and 24 LTS at
the time of writing; Node.js 20 reached its end of life and jsii prints a notice on every
run). This repository installs Node.js 24 LTS from the npm registry (the ``node``
package, see ``package.json``) and points jsii at it with ``JSII_NODE`` (``Makefile``,
``main.py``, the tests); ``node_js`` tells which binary a process should use. We do not
silence jsii's end-of-life notice: if you see it, your ``node`` is unsupported.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["CACHE_ENV", "NODE_ENV", "ensure_jsii_package_cache", "node_js"]

CACHE_ENV = "JSII_RUNTIME_PACKAGE_CACHE_ROOT"
"""The environment variable jsii reads its package cache location from."""

NODE_ENV = "JSII_NODE"
"""The environment variable jsii reads the Node.js binary from (default: ``node``)."""


def _writable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-test-"):
            pass
    except OSError:
        return False
    return True


def ensure_jsii_package_cache(environ: dict[str, str] | None = None) -> str | None:
    """Make sure jsii gets a writable package cache (module docstring); returns it.

    Args:
        environ: The environment to read and update. Default: ``os.environ``.

    Returns:
        The cache folder jsii will use, or ``None`` when none is writable (jsii then
        fails with its own message naming ``JSII_RUNTIME_PACKAGE_CACHE_ROOT``).
    """
    env = os.environ if environ is None else environ
    if env.get(CACHE_ENV):
        return env[CACHE_ENV]
    home = env.get("HOME") or ""
    if home and os.path.isabs(home):
        default = Path(home) / ".cache" / "aws" / "jsii" / "package-cache"
        if _writable(default):
            return str(default)
    candidates = []
    xdg = env.get("XDG_CACHE_HOME") or ""
    if xdg and os.path.isabs(xdg):
        candidates.append(Path(xdg) / "jsii-package-cache")
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    candidates.append(Path(tempfile.gettempdir()) / f"jupyter-constructs-jsii-cache-{uid}")
    for candidate in candidates:
        if _writable(candidate):
            env[CACHE_ENV] = str(candidate)
            return str(candidate)
    return None


def node_js(project: str | Path | None = None, environ: dict[str, str] | None = None) -> str:
    """The Node.js binary jsii should run.

    ``JSII_NODE`` if set, else the project's own (``node_modules/.bin/node`` under
    ``project``, installed by ``npm ci``), else ``node``.

    Args:
        project: A folder with a ``node_modules`` (this repository's root). Default: none.
        environ: The environment to read. Default: ``os.environ``.

    Returns:
        A path or command name.
    """
    env = os.environ if environ is None else environ
    if env.get(NODE_ENV):
        return env[NODE_ENV]
    if project is not None:
        local = Path(project) / "node_modules" / ".bin" / "node"
        if local.exists():
            return str(local)
    return "node"
