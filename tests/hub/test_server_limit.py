"""Capacity that explains itself (issue 21): the hub's active server limit, from the quota.

The real-hub, real-API-server proof is tests/k8s/test_spawn.py (one user more than the
quota holds gets the hub's 429 instead of the API server's 403). Here: the derived
number against an independent count of every mix of profiles, what reaches the real
JupyterHub and KubeSpawner classes, and the synth-time refusals.
"""

from __future__ import annotations

import itertools
import warnings
from decimal import Decimal

import pytest
from jupyterhub.app import JupyterHub as JupyterHubApp

from jupyter_constructs import (
    ConfigurationError,
    ConfigurationWarning,
    Gpu,
    HubTunables,
    NamespaceQuota,
)
from jupyter_constructs.addons.observability.bundle import ObservabilityBundle
from jupyter_constructs.core.quantities import Usage
from jupyter_constructs.hub.quota import reserved, server_counts
from tests.helpers import find, make_hub, synth, validate, write_config_dir
from tests.real_hub import load_config, mock_kubespawner


def _mixed_hub(**overrides):
    """Three CPU profiles that trade CPU for memory, and a GPU profile."""
    chart, hub = make_hub(
        with_profile=False,
        quota=NamespaceQuota(
            requests_cpu="20",
            limits_cpu="40",
            requests_memory="64Gi",
            limits_memory="128Gi",
            gpus=2,
            pods=40,
        ),
        **overrides,
    )
    hub.add_profile(
        "small",
        display_name="Small",
        default=True,
        cpu_request="500m",
        cpu_limit="1",
        memory_request="1Gi",
        memory_limit="2Gi",
    )
    hub.add_profile(
        "cpu",
        display_name="CPU",
        cpu_request="4",
        cpu_limit="8",
        memory_request="2Gi",
        memory_limit="4Gi",
    )
    hub.add_profile(
        "memory",
        display_name="Memory",
        cpu_request="1",
        cpu_limit="2",
        memory_request="16Gi",
        memory_limit="32Gi",
    )
    hub.add_profile(
        "gpu",
        display_name="GPU",
        cpu_request="2",
        cpu_limit="4",
        memory_request="8Gi",
        memory_limit="16Gi",
        gpu=Gpu(),
    )
    return chart, hub


def _every_mix_fits(hub, servers: int) -> bool:
    """An independent count: every way users can pick ``servers`` servers, summed item by
    item against what the quota leaves after the hub and proxy (GPU servers at most the
    GPU quota, which refuses more of them whatever the hub does)."""
    quota = hub.quota
    taken, taken_pods = reserved(hub.reservations())
    free = quota.usage() - taken
    usages = [p.usage() for p in hub.profiles]
    for mix in itertools.combinations_with_replacement(range(len(usages)), servers):
        total = Usage(Decimal(0), Decimal(0), 0, 0, 0)
        for index in mix:
            total = total + usages[index]
        if total.gpus > free.gpus:
            continue  # the GPU quota refuses such a mix before any other item
        if (
            servers > quota.pods - taken_pods
            or total.requests_cpu > free.requests_cpu
            or total.limits_cpu > free.limits_cpu
            or total.requests_memory > free.requests_memory
            or total.limits_memory > free.limits_memory
        ):
            return False
    return True


def test_the_derived_limit_is_the_most_servers_every_mix_of_profiles_fits():
    _, hub = _mixed_hub()
    always, most = hub.server_counts()
    assert _every_mix_fits(hub, always.servers)
    assert not _every_mix_fits(hub, always.servers + 1)
    # No mix ever holds more than ``most``: the smallest profile alone.
    assert most.servers == hub.capacity_summary()["small"][0]
    assert hub.server_limit() == always.servers
    text = hub.format_capacity()
    assert f"active server limit: {always.servers}, servers that always fit" in text
    assert f"up to {most.servers} of small fit" in text


def test_the_derived_limit_reaches_the_real_hub(tmp_path):
    chart, hub = _mixed_hub()
    config = load_config(write_config_dir(synth(chart), tmp_path))
    assert JupyterHubApp(config=config).active_server_limit == hub.server_limit() > 0


def test_z2jh_spawn_and_failure_limits_reach_the_real_hub_and_spawner(tmp_path):
    """z2jh's values.yaml: ``hub.concurrentSpawnLimit: 64``, ``hub.consecutiveFailureLimit:
    5`` (z2jh sets ``Spawner.consecutive_failure_limit``); JupyterHub's own are 100 and 0."""
    chart, _ = make_hub()
    config = load_config(write_config_dir(synth(chart), tmp_path))
    assert JupyterHubApp(config=config).concurrent_spawn_limit == 64
    with mock_kubespawner(config) as spawner:
        assert spawner.consecutive_failure_limit == 5


def test_no_quota_no_limit_and_zero_turns_it_off():
    chart, hub = make_hub(quota=None)
    assert "active_server_limit" not in hub.config.to_dict()["traits"]["JupyterHub"]
    assert validate(chart) == []
    chart, hub = make_hub(tunables=HubTunables(active_server_limit=0))
    hub.config_files()
    assert hub.config.to_dict()["traits"]["JupyterHub"]["active_server_limit"] == 0
    assert hub.server_limit() is None
    assert "active server limit: none" in hub.format_capacity()


def test_an_explicit_limit_between_the_two_counts_is_kept():
    chart, hub = _mixed_hub(tunables=HubTunables(active_server_limit=30))
    always, most = hub.server_counts()
    assert always.servers < 30 <= most.servers
    assert validate(chart) == []
    assert hub.config.to_dict()["traits"]["JupyterHub"]["active_server_limit"] == 30


def test_an_explicit_limit_the_quota_never_reaches_is_refused():
    chart, hub = _mixed_hub(tunables=HubTunables(active_server_limit=500))
    _, most = hub.server_counts()
    (error,) = validate(chart)
    assert "invalid HubTunables.active_server_limit 500" in error
    assert f"at most {most.servers}" in error
    assert "exceeded quota" in error and "leave it unset" in error


@pytest.mark.parametrize("trait", ["concurrent_spawn_limit", "active_server_limit"])
def test_set_trait_leaves_the_limits_to_the_typed_parameter(trait):
    _, hub = make_hub()
    with pytest.raises(ConfigurationError, match=rf"HubTunables\({trait}=\.\.\.\)"):
        hub.set_trait("JupyterHub", trait, 10)


def test_the_capacity_alert_fires_before_the_hub_refuses():
    chart, hub = _mixed_hub()
    ObservabilityBundle(chart, "observability", hub=hub)
    rules = find(synth(chart), "PrometheusRule", "test-observability-alerts")
    exprs = [
        rule["expr"]
        for group in rules["spec"]["groups"]
        for rule in group["rules"]
        if rule.get("alert") == "JupyterHubServersNearCapacity"
    ]
    assert exprs == [
        'max by (namespace) (jupyterhub_running_servers{namespace="jupyter", job="hub"}) '
        f"/ {hub.server_limit()} > 0.9"
    ]


def test_server_counts_without_profiles():
    assert server_counts(NamespaceQuota(), [], {}) is None


@pytest.mark.parametrize(
    ("quota", "homes"),
    [
        (NamespaceQuota(persistent_volume_claims=10), 10),
        (NamespaceQuota(requests_storage="50Gi"), 5),
    ],
)
def test_a_quota_that_holds_fewer_homes_than_servers_is_questioned(quota, homes):
    """Homes outlive servers: a PVC or storage quota below the server limit fills up with
    homes over the weeks, and the next new user gets the API server's "exceeded quota"."""
    chart, hub = make_hub(quota=quota)
    with pytest.warns(ConfigurationWarning, match=f"home claims of at most {homes} users") as seen:
        assert validate(chart) == []
    assert f"fewer than the {hub.server_limit()} servers" in str(seen[0].message)


def test_the_default_quota_holds_every_home():
    chart, _ = make_hub()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigurationWarning)
        assert validate(chart) == []
