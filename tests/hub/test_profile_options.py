"""Choices inside a profile (KubeSpawner ``profile_options``) and profiles restricted to
groups or users, proven with the real KubeSpawner's ``load_user_options``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient

from jupyter_constructs import (
    ConfigurationError,
    NamespaceQuota,
    ProfileChoice,
    ProfileOption,
    UnlistedChoice,
)
from jupyter_constructs.hub.profile_options import UnlistedChoice as _Unlisted
from tests.helpers import find, make_hub, synth, write_config_dir
from tests.hub.user_pods import check_pod
from tests.real_hub import load_config, mock_kubespawner, unknown_override_keys

GIB = 2**30
SCIPY = "quay.io/jupyter/scipy-notebook:2025-01-13"
PYTORCH = "quay.io/jupyter/pytorch-notebook:2025-01-13"
R_IMAGE = "quay.io/jupyter/r-notebook:2025-01-13"
IMAGE_REGEX = r"^quay\.io/jupyter/[a-z-]+-notebook:[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _options() -> dict[str, ProfileOption]:
    return {
        "image": ProfileOption(
            display_name="Image",
            choices={
                "scipy": ProfileChoice("SciPy", default=True, image=SCIPY),
                "pytorch": ProfileChoice("PyTorch", image=PYTORCH, env={"TORCH_HOME": "/tmp/t"}),
            },
            unlisted_choice=UnlistedChoice(
                display_name="Other image",
                validation_regex=IMAGE_REGEX,
                validation_message="a quay.io/jupyter notebook image with a date tag",
            ),
        ),
        "size": ProfileOption(
            display_name="Size",
            choices={
                "s": ProfileChoice("2 CPU, 4Gi"),
                "l": ProfileChoice(
                    "8 CPU, 32Gi",
                    cpu_request="4",
                    cpu_limit="8",
                    memory_request="16Gi",
                    memory_limit="32Gi",
                    default_url="/lab",
                ),
            },
        ),
    }


def _hub(**overrides: Any):
    chart, hub = make_hub(with_profile=False, **overrides)
    hub.add_profile("small", display_name="Small", default=True)
    hub.add_profile("ml", display_name="Machine learning", options=_options())
    hub.add_profile(
        "gpu",
        display_name="GPU",
        allowed_groups=["gpu-users"],
        allowed_users=["carol@example.org"],
        options={"image": _options()["image"]},
    )
    return chart, hub


def _load(chart, tmp_path: Path):
    return load_config(write_config_dir(synth(chart), tmp_path))


def _start(config, user_options: dict[str, Any], user: str = "alice@example.org", groups=()):
    """What KubeSpawner does with ``user_options`` before a start: the spawner and its pod."""

    async def run(spawner):
        spawner.user_options = user_options
        await spawner.load_user_options()
        api = ApiClient()
        try:
            return api.sanitize_for_serialization(await spawner.get_pod_manifest())
        finally:
            await api.close()

    with mock_kubespawner(config, user, groups) as spawner:
        pod = asyncio.run(run(spawner))
        return spawner, pod


def test_options_render_as_kubespawner_profile_options():
    chart, _ = _hub()
    profiles = find(synth(chart), "ConfigMap", "hub-config")["data"]["hub_config.json"]
    assert '"profile_options"' in profiles
    assert "--unlisted-choice" not in profiles


def test_choice_keys_are_real_kubespawner_traits(tmp_path):
    config = _load(_hub()[0], tmp_path)
    assert unknown_override_keys(config) == []


def test_default_choices_apply_when_the_user_picks_none(tmp_path):
    config = _load(_hub()[0], tmp_path)
    spawner, pod = _start(config, {"profile": "ml"})
    assert spawner.image == SCIPY
    assert spawner.cpu_limit == 2.0 and spawner.mem_limit == 4 * GIB
    check_pod(pod)


def test_chosen_image_and_size_reach_the_real_pod(tmp_path):
    config = _load(_hub()[0], tmp_path)
    spawner, pod = _start(config, {"profile": "ml", "image": "pytorch", "size": "l"})
    notebook = pod["spec"]["containers"][0]
    assert notebook["image"] == PYTORCH
    assert float(notebook["resources"]["limits"]["cpu"]) == 8.0
    assert int(notebook["resources"]["requests"]["memory"]) == 16 * GIB
    assert spawner.default_url == "/lab"
    env = {e["name"]: e.get("value") for e in notebook["env"]}
    assert env["TORCH_HOME"] == "/tmp/t"
    # The choice merges on top of the library's pod: labels and volumes survive.
    assert pod["metadata"]["labels"]["jupyter-constructs.io/profile"] == "ml"
    assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "singleuser-server"
    assert {v["name"] for v in pod["spec"]["volumes"]} >= {"home"}
    check_pod(pod)


def test_unlisted_image_matching_the_regex_is_used(tmp_path):
    config = _load(_hub()[0], tmp_path)
    _spawner, pod = _start(config, {"profile": "ml", "image--unlisted-choice": R_IMAGE})
    assert pod["spec"]["containers"][0]["image"] == R_IMAGE
    check_pod(pod)


@pytest.mark.parametrize(
    "value",
    [
        "docker.io/someone/miner:1",
        # KubeSpawner's re.match anchors the start only: the '$' we require refuses this.
        f"{R_IMAGE}-evil",
        "quay.io/jupyter/r-notebook:latest",
    ],
)
def test_unlisted_value_outside_the_regex_is_refused_by_kubespawner(tmp_path, value):
    config = _load(_hub()[0], tmp_path)
    with pytest.raises(ValueError, match="failed validation regex"):
        _start(config, {"profile": "ml", "image--unlisted-choice": value})


def test_unknown_choice_is_refused_by_kubespawner(tmp_path):
    config = _load(_hub()[0], tmp_path)
    with pytest.raises(KeyError):
        _start(config, {"profile": "ml", "image": "tensorflow"})


def test_options_form_shows_each_choice(tmp_path):
    config = _load(_hub()[0], tmp_path)
    with mock_kubespawner(config, "alice@example.org") as spawner:
        form = asyncio.run(spawner._render_options_form_dynamically(spawner))
    for text in ("Machine learning", "PyTorch", "8 CPU, 32Gi", "Other image"):
        assert text in form
    assert "profile-option-ml--image" in form


def test_quota_is_checked_against_the_largest_choice():
    _chart, hub = _hub()
    ml = next(p for p in hub.profiles if p.slug == "ml")
    usage = ml.usage()
    assert (usage.limits_cpu, usage.limits_memory) == (8, 32 * GIB)
    _, tight = make_hub(with_profile=False, quota=NamespaceQuota(limits_memory="20Gi"))
    tight.add_profile("small", display_name="Small", default=True)
    tight.add_profile("ml", display_name="ML", options=_options())
    errors = tight.validation_errors()
    assert errors and "ml" in errors[0]


def test_choice_images_are_pre_pulled():
    chart, _ = _hub()
    puller = find(synth(chart), "DaemonSet", "image-puller")
    images = [c["image"] for c in puller["spec"]["template"]["spec"]["initContainers"]]
    assert SCIPY in images and PYTORCH in images


# -- restricted profiles ----------------------------------------------------------------


def test_restricted_profile_is_hidden_and_refused_for_users_outside(tmp_path):
    config = _load(_hub()[0], tmp_path)
    with mock_kubespawner(config, "bob@example.org", ("analysts",)) as spawner:
        form = asyncio.run(spawner._render_options_form_dynamically(spawner))
    assert "Machine learning" in form and "GPU" not in form
    with pytest.raises(ValueError, match="No such profile: gpu"):
        _start(config, {"profile": "gpu"}, "bob@example.org", ("analysts",))


@pytest.mark.parametrize(
    ("user", "groups"), [("alice@example.org", ("gpu-users",)), ("carol@example.org", ())]
)
def test_restricted_profile_starts_for_members_and_listed_users(tmp_path, user, groups):
    config = _load(_hub()[0], tmp_path)
    _, pod = _start(config, {"profile": "gpu"}, user, groups)
    assert pod["metadata"]["labels"]["jupyter-constructs.io/profile"] == "gpu"


def test_open_hub_ships_no_access_module():
    chart, _ = make_hub()
    data = find(synth(chart), "ConfigMap", "hub-config")["data"]
    assert "profile_access.py" not in data and "profile_access" not in data["hub_config.json"]


# -- bad input ------------------------------------------------------------------------


def _error(**options: Any) -> str:
    _, hub = make_hub()
    with pytest.raises(ConfigurationError) as err:
        hub.add_profile("x", display_name="X", **options)
    return str(err.value)


def _option(**choices: ProfileChoice) -> ProfileOption:
    return ProfileOption("Image", choices=choices)


def test_default_profile_cannot_be_restricted():
    _, hub = make_hub(with_profile=False)
    with pytest.raises(ConfigurationError, match="default profile"):
        hub.add_profile("s", display_name="S", default=True, allowed_groups=["a"])


def test_fails_when_regex_is_not_anchored_at_the_end():
    option = ProfileOption(
        "Image",
        choices={"a": ProfileChoice("A", image=SCIPY)},
        unlisted_choice=_Unlisted("Other", validation_regex=r"^quay\.io/"),
    )
    message = _error(options={"image": option})
    assert "anchored at both ends" in message and "options['image'].unlisted_choice" in message


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"profile": _option(a=ProfileChoice("A"))}, "not 'profile'"),
        ({"image": ProfileOption("Image", choices={})}, "at least one ProfileChoice"),
        ({"image": _option(a=ProfileChoice("A", image="quay.io/x/y:latest"))}, "pinned"),
        (
            {
                "image": _option(
                    a=ProfileChoice("A", default=True), b=ProfileChoice("B", default=True)
                )
            },
            "at most one choice",
        ),
        (
            {
                "image": _option(a=ProfileChoice("A", image=SCIPY)),
                "other": _option(b=ProfileChoice("B", image=PYTORCH)),
            },
            "no other option sets",
        ),
        ({"size": _option(a=ProfileChoice("A", cpu_limit="500m"))}, "at least the CPU request"),
        ({"size": _option(a=ProfileChoice("A", memory_limit="1Gi"))}, "at least the memory"),
        ({"size": _option(a=ProfileChoice("A", default_url="lab"))}, "starting with '/'"),
    ],
)
def test_bad_options_are_refused(options, expected):
    assert expected in _error(options=options)


def test_fails_when_a_choice_sets_a_variable_the_profile_sets():
    message = _error(
        env={"TEAM": "a"}, options={"o": _option(a=ProfileChoice("A", env={"TEAM": "b"}))}
    )
    assert "TEAM" in message and "cannot replace" in message


@pytest.mark.parametrize(
    ("regex", "expected"),
    [("^(.*)$", "limits what users may run"), ("^[a-$", "regular expression")],
)
def test_fails_when_regex_is_useless_or_broken(regex, expected):
    option = ProfileOption(
        "Image",
        choices={"a": ProfileChoice("A", image=SCIPY)},
        unlisted_choice=_Unlisted("Other", validation_regex=regex),
    )
    assert expected in _error(options={"image": option})


def test_fails_when_allowed_groups_is_not_a_list_of_names():
    assert "allowed_groups" in _error(allowed_groups=["ok", " padded"])
