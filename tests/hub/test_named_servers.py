"""Named servers: the hub switch and limit, a home claim per server, the culler's flags."""

from __future__ import annotations

import json
from types import SimpleNamespace
from unittest import mock

import pytest
from kubespawner import KubeSpawner

from jupyter_constructs import (
    ConfigurationError,
    ConfigurationWarning,
    IdleCuller,
    NamedServers,
    UserStorage,
)
from tests.helpers import find, make_hub, synth, write_config_dir
from tests.real_hub import load_config, unknown_traits


def _settings(chart) -> dict:
    return json.loads(find(synth(chart), "ConfigMap", "hub-config")["data"]["hub_config.json"])


def _claim(config, server_name: str, user: str = "alice.smith@example.org") -> str:
    """The home claim the real KubeSpawner names for ``user``'s server ``server_name``."""
    with (
        mock.patch("kubespawner.spawner.load_config"),
        mock.patch("kubespawner.spawner.shared_client"),
    ):
        owner = SimpleNamespace(name=user, id=7, url=f"/user/{user}/", groups=[])
        spawner = KubeSpawner(
            config=config,
            _mock=True,
            user=owner,
            orm_spawner=SimpleNamespace(name=server_name, server=None, state=None),
        )
        return spawner.pvc_name


def test_switch_and_limit_load_into_the_real_hub(tmp_path):
    chart, _ = make_hub(named_servers=NamedServers(limit_per_user=2))
    hub = _settings(chart)["traits"]["JupyterHub"]
    assert hub["allow_named_servers"] is True and hub["named_server_limit_per_user"] == 2
    config = load_config(write_config_dir(synth(chart), tmp_path))
    assert unknown_traits(config) == []


def test_each_named_server_gets_its_own_home_and_the_default_keeps_its_claim(tmp_path):
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    before = load_config(write_config_dir(synth(make_hub()[0]), tmp_path / "before"))
    chart, _ = make_hub(named_servers=NamedServers())
    after = load_config(write_config_dir(synth(chart), tmp_path / "after"))
    # Turning named servers on does not move anyone's existing home.
    assert _claim(after, "") == _claim(before, "") == "claim-alice-smith-example-org---0d1cf0a9"
    work, scratch = _claim(after, "work"), _claim(after, "scratch")
    assert work == "claim-alice-smith-example-org---0d1cf0a9--work"
    assert len({work, scratch, _claim(after, "")}) == 3
    # Without named servers every server would have shared the default claim.
    assert _claim(before, "work") == _claim(before, "")


def test_one_home_for_every_server_warns_with_a_read_write_once_claim():
    with pytest.warns(ConfigurationWarning, match="attaches to one node"):
        make_hub(named_servers=NamedServers(home_per_server=False))


def test_one_shared_home_for_every_server_with_read_write_many(tmp_path):
    chart, _ = make_hub(
        named_servers=NamedServers(home_per_server=False),
        user_storage=UserStorage(access_mode="ReadWriteMany"),
    )
    config = load_config(write_config_dir(synth(chart), tmp_path))
    assert _claim(config, "work") == _claim(config, "")


def test_fails_when_a_custom_claim_template_ignores_the_server():
    with pytest.raises(ConfigurationError, match=r"\{user_server\}"):
        make_hub(
            named_servers=NamedServers(),
            user_storage=UserStorage(pvc_name_template="home-{username}"),
        )


@pytest.mark.parametrize("limit", [-1, 1.5, True])
def test_fails_when_the_limit_is_not_a_whole_number(limit):
    with pytest.raises(ConfigurationError, match="limit_per_user"):
        make_hub(named_servers=NamedServers(limit_per_user=limit))


def test_culler_flags_reach_its_command():
    chart, _ = make_hub(
        idle_culler=IdleCuller(remove_named_servers=True, cull_users=True, cull_admin_users=True)
    )
    services = _settings(chart)["traits"]["JupyterHub"]["services"]
    command = next(s for s in services if s["name"] == "idle-culler")["command"]
    assert "--remove-named-servers" in command and "--cull-admin-users=true" in command
    chart, _ = make_hub(idle_culler=IdleCuller(cull_users=True))
    services = _settings(chart)["traits"]["JupyterHub"]["services"]
    command = next(s for s in services if s["name"] == "idle-culler")["command"]
    # The culler's own default deletes idle admins too; ours keeps them.
    assert "--cull-admin-users=false" in command and "--remove-named-servers" not in command


def test_fails_when_admins_are_culled_without_culling_users():
    with pytest.raises(ConfigurationError, match="cull_admin_users"):
        make_hub(idle_culler=IdleCuller(cull_admin_users=True))
