"""A profile's own start timeout is the one that applies (issue 21).

JupyterHub 5 (``jupyterhub/user.py``, ``User.spawn``) runs the spawner's
``apply_user_options`` and ``pre_spawn_hook``, then awaits ``spawner.start()`` for
``spawner.start_timeout`` seconds, read *before* ``start()``; KubeSpawner 7 applies the
chosen profile's ``kubespawner_override`` inside ``start()`` (``load_user_options``) and
then waits for the pod for the *profile's* ``start_timeout``. Reported upstream as
jupyterhub/kubespawner#552 ("start_timeout in profile_list is ignored"): a GPU profile
given 900 s was cut off at the hub's 300 s.

These tests replay that order with the real classes: the timeout JupyterHub applies
(read before the profile is loaded) and the one KubeSpawner applies (after).
"""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers import make_hub, synth, write_config_dir
from tests.real_hub import load_config, mock_kubespawner


def _timeouts(config, slug: str) -> tuple[int, int]:
    """(what JupyterHub waits for start(), what KubeSpawner waits for the pod)."""

    async def spawn_order() -> tuple[int, int]:
        with mock_kubespawner(config) as spawner:
            spawner.user_options = {"profile": slug}
            await spawner._run_apply_user_options(spawner.user_options)
            hub_waits = spawner.start_timeout  # jupyterhub/user.py reads it here
            await spawner.load_user_options()  # what KubeSpawner.start() does first
            return hub_waits, spawner.start_timeout

    return asyncio.run(spawn_order())


@pytest.fixture
def config(tmp_path):
    chart, hub = make_hub(with_profile=False, start_timeout=6)
    hub.add_profile("fast", display_name="Fast", default=True)
    hub.add_profile("slow", display_name="GPU", start_timeout=20)
    hub.add_profile("quick", display_name="Quick", start_timeout=3)
    return load_config(write_config_dir(synth(chart), tmp_path))


def test_a_slow_profile_waits_its_own_timeout(config) -> None:
    hub_waits, pod_waits = _timeouts(config, "slow")
    assert pod_waits == 20
    assert hub_waits >= pod_waits, "the hub would give up before the profile's timeout"


@pytest.mark.parametrize(("slug", "own"), [("fast", 6), ("quick", 3)])
def test_a_fast_profile_is_not_given_the_slow_ones_timeout(config, slug, own) -> None:
    _, pod_waits = _timeouts(config, slug)
    assert pod_waits == own


def test_without_profile_timeouts_the_hub_value_is_unchanged(tmp_path) -> None:
    chart, _ = make_hub(start_timeout=42)
    config = load_config(write_config_dir(synth(chart), tmp_path))
    assert config.KubeSpawner.start_timeout == 42
    assert all(
        "start_timeout" not in p["kubespawner_override"] for p in config.KubeSpawner.profile_list
    )
