"""Test support: every real program the tests start, and the fixtures that start them.

- ``process``: the one process helper (mirakuru): start, bounded wait, logs on failure,
  teardown of the whole process group; ``free_port``, ``run_tool``.
- One module per real consumer, each with its pinned ``VERSION``: ``postgres``
  (PostgreSQL 15), ``s3`` (moto), ``mlflow``, ``ray``, ``prometheus`` (and promtool),
  ``proxy`` (configurable-http-proxy), ``hub`` (a JupyterHub process), ``singleuser``
  (jupyter-server user servers), ``jwks`` (a key set on pytest-httpserver),
  ``cloudflare`` (Access tokens signed here, a hub folder laid out as its ConfigMap),
  ``fake_kube_api`` (a recording stand-in of the Secret API, for the bootstrap script's
  races and retries; the real API server judges it in ``tests/k8s/``), ``keycloak``
  (Keycloak 26, the real OpenID Connect provider, from ``make keycloak``).
- ``fixtures``: the shared fixtures, once per session (loaded by ``tests/conftest.py``).
- ``snapshots``: the snapshot extension (no package source in ``.ambr`` files).
- ``http``, ``paths``: a small HTTP client and bounded wait; the repository's folders.

See docs/testing.md.
"""
