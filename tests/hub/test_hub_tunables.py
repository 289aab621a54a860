"""Hub tunables typed, and ``hub.set_trait``: the escape hatch checked against the real classes."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from jupyterhub.app import JupyterHub as JupyterHubApp
from kubespawner import KubeSpawner

from jupyter_constructs import ConfigurationError, HubTunables
from jupyter_constructs.hub.tunables import KNOWN_TRAITS
from tests.helpers import make_hub, synth, validate, write_config_dir
from tests.real_hub import load_config, mock_kubespawner, unknown_traits

ROOT = Path(__file__).resolve().parents[2]


def test_trait_table_matches_the_real_classes():
    """``set_trait`` and ``hub.config`` check against one table: every class the hub
    configures (authenticators shipped in hub/files included), equal to the real class."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        script = importlib.import_module("gen_traits")
    finally:
        sys.path.pop(0)
    classes = script.configurable_classes()
    assert set(KNOWN_TRAITS) == set(classes)
    for section, cls in classes.items():
        assert KNOWN_TRAITS[section] == set(cls.class_trait_names(config=True)), section
    assert KNOWN_TRAITS["KubeSpawner"] == set(KubeSpawner.class_trait_names(config=True))
    assert "allowed_organizations" in KNOWN_TRAITS["GitHubAuthenticator"]


def test_tunables_reach_the_real_hub_and_spawner(tmp_path):
    chart, _ = make_hub(
        tunables=HubTunables(
            concurrent_spawn_limit=20,
            active_server_limit=200,
            consecutive_failure_limit=5,
            redirect_to_server=False,
            shutdown_on_logout=True,
            template_vars={"announcement": "Maintenance on Friday"},
            log_level="DEBUG",
        )
    )
    config = load_config(write_config_dir(synth(chart), tmp_path))
    assert unknown_traits(config) == []
    app = JupyterHubApp(config=config)
    assert (app.concurrent_spawn_limit, app.active_server_limit) == (20, 200)
    assert app.redirect_to_server is False and app.shutdown_on_logout is True
    assert app.template_vars == {"announcement": "Maintenance on Friday"}
    assert app.log_level == 10  # logging.DEBUG
    with mock_kubespawner(config) as spawner:
        assert spawner.consecutive_failure_limit == 5


def test_no_tunables_render_nothing():
    chart, hub = make_hub()
    traits = hub.config.to_dict()["traits"]["JupyterHub"]
    assert "concurrent_spawn_limit" not in traits and "log_level" not in traits
    assert validate(chart) == []


def test_set_trait_reaches_the_real_class(tmp_path):
    chart, hub = make_hub()
    hub.set_trait("JupyterHub", "named_server_limit_per_user", 4)
    hub.set_trait("KubeSpawner", "events_enabled", False)
    config = load_config(write_config_dir(synth(chart), tmp_path))
    assert JupyterHubApp(config=config).named_server_limit_per_user == 4
    with mock_kubespawner(config) as spawner:
        assert spawner.events_enabled is False


def test_misspelled_trait_is_refused_with_the_right_name():
    """The issue's own example: ``concurent_spawn_limt`` rendered without an error before."""
    _, hub = make_hub()
    with pytest.raises(ConfigurationError) as err:
        hub.set_trait("JupyterHub", "concurent_spawn_limt", 10)
    assert "did you mean 'concurrent_spawn_limit'?" in str(err.value)
    assert "hub" in str(err.value)


@pytest.mark.parametrize(
    ("class_name", "trait", "value", "expected"),
    [
        ("JupyterHubb", "base_url", "/", "hub config class"),
        ("JupyterHub", "base_url", "/jupyter/", "already set"),
        ("JupyterHub", "template_vars", {"f": object()}, "a JSON value"),
    ],
)
def test_set_trait_refuses(class_name, trait, value, expected):
    _, hub = make_hub()
    with pytest.raises(ConfigurationError, match=expected):
        hub.set_trait(class_name, trait, value)


def test_unchecked_config_set_fails_at_once():
    """Code that bypasses ``set_trait`` (``hub.config.set``) is still checked, at the call.

    ``HubConfig.set`` checks every name and value against the generated trait tables
    (issue 11), so the typo never reaches the synth's whole-picture checks.
    """
    chart, hub = make_hub()
    with pytest.raises(ConfigurationError, match="start_timout") as error:
        hub.config.set("KubeSpawner", "start_timout", 10)
    assert "did you mean 'start_timeout'?" in str(error.value)
    assert validate(chart) == []


@pytest.mark.parametrize(
    ("tunables", "expected"),
    [
        (HubTunables(concurrent_spawn_limit=-1), "concurrent_spawn_limit"),
        (HubTunables(active_server_limit=True), "active_server_limit"),
        (HubTunables(log_level="debug"), "log_level"),
        (HubTunables(shutdown_on_logout="yes"), "shutdown_on_logout"),
        (HubTunables(template_vars={"not an identifier": "x"}), "template_vars"),
    ],
)
def test_bad_tunables_are_refused(tunables, expected):
    with pytest.raises(ConfigurationError, match=expected):
        make_hub(tunables=tunables)
