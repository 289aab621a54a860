"""Renaming a profile's slug with ``former_slugs`` (issue 21, found by the simulated month).

A slug change used to strand the profile's running servers: their pods keep the label
``jupyter-constructs.io/profile=<old slug>`` until they restart, so every NetworkPolicy
selecting the profile by slug (internet access, per-profile egress, bindings) stopped
applying to them (default deny: no internet, no platform services), and a start without
options, which reuses the user's stored ``{"profile": "<old slug>"}``, failed in KubeSpawner
with "No such profile". ``add_profile(..., former_slugs=("medium",))`` keeps both working.
The API server's own selection and the real hub are in tests/k8s/test_month.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from jupyter_constructs import PlatformServiceBinding
from jupyter_constructs.core.errors import ConfigurationError
from jupyter_constructs.core.network_policy import cidrs, tcp
from jupyter_constructs.delivery.plan import load_output, make_plan
from jupyter_constructs.hub.profiles import NotebookProfile
from tests.core.test_network import PUBLIC, user
from tests.helpers import make_hub, synth, write_config_dir
from tests.netpol import Evaluator, address, pod
from tests.real_hub import load_config, mock_kubespawner

DATABASE = address("database", "10.20.0.5")


def _objects(slug: str, former: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """A hub whose second profile is ``slug``, with internet, its own egress and a binding."""
    chart, hub = make_hub()
    profile = hub.add_profile(slug, display_name="Medium (2 CPU)", former_slugs=former)
    assert hub.network is not None
    hub.network.allow_user_egress(
        "profile-to-db", to=cidrs(["10.20.0.0/16"]), ports=[tcp(5432)], profile=profile
    )
    hub.add_binding(
        PlatformServiceBinding.trino(
            chart, "trino", host="trino.data-platform", catalog="c", user="u"
        ),
        profile=profile,
    )
    return synth(chart)


TRINO = pod(
    "trino",
    "10.244.4.1",
    "data-platform",
    {"app.kubernetes.io/name": "trino", "app.kubernetes.io/component": "coordinator"},
)


def _access(objects: list[dict[str, Any]], label: str) -> dict[str, bool]:
    """What a running server labelled ``label`` may reach under ``objects``' policies."""
    evaluator = Evaluator.from_objects(objects)
    server = user(label, "10.244.1.7")
    return {
        "internet": evaluator.allows(server, PUBLIC, 443),
        "profile egress": evaluator.allows(server, DATABASE, 5432),
        "binding": evaluator.allows(server, TRINO, 8080),
    }


def test_a_running_server_of_the_former_slug_keeps_every_policy_of_its_profile() -> None:
    """Before the rename, the server of "medium" reaches the internet, its profile's own
    egress and its binding. Renamed "standard" without ``former_slugs``, it loses all three
    (what the month found); with ``former_slugs=("medium",)`` it keeps them, and a server
    started after the rename (labelled "standard") has them too."""
    everything = {"internet": True, "profile egress": True, "binding": True}
    assert _access(_objects("medium"), "medium") == everything
    assert _access(_objects("standard"), "medium") == dict.fromkeys(everything, False)
    renamed = _objects("standard", ("medium",))
    assert _access(renamed, "medium") == everything
    assert _access(renamed, "standard") == everything
    # The default profile's servers are not given the renamed profile's access.
    assert _access(renamed, "small") == {
        "internet": True,
        "profile egress": False,
        "binding": False,
    }


def test_the_real_kubespawner_starts_the_renamed_profile_for_a_stored_former_choice(
    tmp_path: Path,
) -> None:
    """JupyterHub hands the spawner the user's stored options for a start without options
    (REST API, "Start my server"); they name the slug of the day the user chose. The real
    KubeSpawner, configured by the rendered config, loads the renamed profile for it; without
    ``former_slugs`` it refuses it, as the month saw ("No such profile: medium")."""
    chart, hub = make_hub()
    hub.add_profile(
        "standard", display_name="Standard", cpu_limit="3", former_slugs=("medium", "mid")
    )
    config = load_config(write_config_dir(synth(chart), tmp_path / "renamed"))
    for stored in ("medium", "mid", "standard"):
        with mock_kubespawner(config) as spawner:
            spawner.user_options = {"profile": stored}
            asyncio.run(spawner.load_user_options())
            assert spawner.user_options["profile"] == "standard"
            assert spawner.cpu_limit == 3.0
            assert spawner.extra_labels["jupyter-constructs.io/profile"] == "standard"
    with mock_kubespawner(config) as spawner:  # other slugs are left alone
        spawner.user_options = {"profile": "small"}
        asyncio.run(spawner.load_user_options())
        assert spawner.extra_labels["jupyter-constructs.io/profile"] == "small"

    chart, hub = make_hub()
    hub.add_profile("standard", display_name="Standard")
    bare = load_config(write_config_dir(synth(chart), tmp_path / "bare"))
    with mock_kubespawner(bare) as spawner:
        spawner.user_options = {"profile": "medium"}
        with pytest.raises(ValueError, match="No such profile: medium"):
            asyncio.run(spawner.load_user_options())


def test_a_renamed_profile_still_restricted_to_its_group(tmp_path: Path) -> None:
    """A former slug grants nothing the current one does not: the renamed profile's group
    restriction applies to a stored choice of its former slug."""
    chart, hub = make_hub()
    hub.add_profile(
        "gpu-a100", display_name="GPU", allowed_groups=["gpu-users"], former_slugs=("gpu",)
    )
    config = load_config(write_config_dir(synth(chart), tmp_path))
    with mock_kubespawner(config, groups=("gpu-users",)) as spawner:
        spawner.user_options = {"profile": "gpu"}
        asyncio.run(spawner.load_user_options())
        assert spawner.extra_labels["jupyter-constructs.io/profile"] == "gpu-a100"
    with mock_kubespawner(config) as spawner:
        spawner.user_options = {"profile": "gpu"}
        with pytest.raises(ValueError, match="No such profile: gpu-a100"):
            asyncio.run(spawner.load_user_options())


def test_plan_notes_a_removed_slug_unless_the_new_profile_names_it(tmp_path: Path) -> None:
    """The month's plan showed the slug change as a note telling to keep the slug; with
    ``former_slugs`` there is nothing to note, and without them the note says how."""

    def plan(name: str, new: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
        for side, objects in (("old", _objects("medium")), ("new", new)):
            folder = tmp_path / name / side / "prod"
            folder.mkdir(parents=True)
            for n, obj in enumerate(objects):
                (folder / f"{n}.yaml").write_text(yaml.safe_dump(obj))
        result = make_plan(*(load_output(tmp_path / name / side) for side in ("old", "new")))
        return [(f.severity, f.field, f.message) for c in result.changes for f in c.findings]

    ((severity, field, message),) = plan("bare", _objects("standard"))
    assert (severity, field) == ("note", "KubeSpawner.profile_list")
    assert "medium" in message and "former_slugs" in message
    assert plan("renamed", _objects("standard", ("medium",))) == []


@pytest.mark.parametrize(
    ("former", "allowed"),
    [
        (("Medium",), "Allowed: a DNS-1123 label of at most 50 characters, as the slug was"),
        (("x" * 51,), "Allowed: a DNS-1123 label of at most 50 characters, as the slug was"),
        (("standard",), "Allowed: slugs other than the profile's own slug, each listed once"),
        (("medium", "medium"), "Allowed: slugs other than the profile's own slug, each listed"),
        ("medium", "Allowed: a list of the slugs this profile had before (DNS labels)"),
    ],
)
def test_fails_when_a_former_slug_is_not_a_slug(former: Any, allowed: str) -> None:
    _, hub = make_hub()
    with pytest.raises(ConfigurationError) as err:
        hub.add_profile("standard", display_name="Standard", former_slugs=former)
    assert str(err.value).startswith("test/hub/Profile-standard: invalid former_slugs ")
    assert allowed in str(err.value)


def test_fails_when_a_former_slug_belongs_to_another_profile() -> None:
    _, hub = make_hub()  # has "small"
    with pytest.raises(ConfigurationError) as err:
        hub.add_profile("standard", display_name="Standard", former_slugs=("small",))
    assert str(err.value) == (
        "test/hub/Profile-standard: invalid former_slugs 'small'. Allowed: a slug no other "
        "profile uses ('small' is the slug of profile 'small'): a former slug names the one "
        "profile its users' stored choices and running servers belong to. Fix: remove "
        "'small' from one of the two profiles"
    )
    assert [p.slug for p in hub.profiles] == ["small"]
    hub.add_profile("standard", display_name="Standard", former_slugs=("medium",))
    with pytest.raises(ConfigurationError, match="'medium' is a former slug of profile"):
        hub.attach_profile(
            NotebookProfile(hub, "big", slug="big", display_name="Big", former_slugs=("medium",))
        )
    with pytest.raises(ConfigurationError) as err:
        hub.add_profile("medium", display_name="Medium again")
    assert str(err.value).startswith(
        "test/hub: invalid profile slug 'medium'. Allowed: a slug that is not a former slug "
        "of profile 'standard'"
    )
