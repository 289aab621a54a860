"""The property test's strategies (tests/support/strategies.py, issue 23) draw every
public parameter of the hub and its profiles: a parameter added later without a strategy
fails here, before it can escape the property against the real API server."""

from __future__ import annotations

import inspect
import typing

from jupyter_constructs import ArgoCdApplication, JupyterHub
from jupyter_constructs.hub.profiles import ProfileOptions
from tests.support.strategies import COVERED

# Parameters the property sets itself (the app's structure), or leaves to other tests.
NOT_DRAWN = {
    "JupyterHub": {"self", "scope", "id"},
    "ArgoCdApplication": {
        "self",
        "scope",
        "id",
        # Where ArgoCD and the cluster run: the test API server is one cluster, and the
        # Application's sync settings have their own tests (tests/delivery/test_argocd.py).
        "destination_server",
        "argocd_namespace",
        "automated",
        "prune",
        "self_heal",
        "backoff_factor",
        "backoff_max_duration",
        "server_side_apply",
    },
}


def _parameters(function: typing.Any) -> set[str]:
    return set(inspect.signature(function).parameters)


def test_every_hub_parameter_is_drawn() -> None:
    missing = _parameters(JupyterHub.__init__) - COVERED["JupyterHub"] - NOT_DRAWN["JupyterHub"]
    assert not missing, f"add strategies for JupyterHub({', '.join(sorted(missing))})"


def test_every_profile_option_is_drawn() -> None:
    options = set(typing.get_type_hints(ProfileOptions)) | {"slug", "display_name"}
    missing = options - COVERED["add_profile"]
    assert not missing, f"add strategies for add_profile({', '.join(sorted(missing))})"


def test_every_argocd_parameter_is_drawn_or_excused() -> None:
    missing = (
        _parameters(ArgoCdApplication.__init__)
        - COVERED["ArgoCdApplication"]
        - NOT_DRAWN["ArgoCdApplication"]
    )
    assert not missing, f"add strategies for ArgoCdApplication({', '.join(sorted(missing))})"
