"""The trait table (hub/traits.py) is the real classes' traits, and the checks built on it
never accept what the real trait refuses."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from jupyter_constructs import ConfigurationError
from jupyter_constructs.hub.config import HubConfig, _matches, check_trait_value
from jupyter_constructs.hub.traits import TRAITS

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_traits", ROOT / "scripts" / "gen_traits.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_traits"] = module
    spec.loader.exec_module(module)
    return module


GEN = _generator()
CLASSES = GEN.configurable_classes()


def test_the_table_is_generated_from_the_real_classes():
    assert (ROOT / "jupyter_constructs" / "hub" / "traits.py").read_text() == GEN.render(), (
        "jupyter_constructs/hub/traits.py is out of date: run scripts/gen_traits.py"
    )


def test_every_class_the_generated_config_sets_is_in_the_table():
    from tests.real_hub import CONFIGURABLE_CLASSES

    assert set(CONFIGURABLE_CLASSES) <= set(TRAITS)


SAMPLES = [0, 7, -1, True, False, 1.5, "x", "", [], ["a"], {}, {"a": 1}, None]


@pytest.mark.parametrize("class_name", sorted(TRAITS))
def test_what_we_accept_the_real_trait_accepts(class_name):
    cls = CLASSES[class_name]
    traits = cls.class_traits(config=True)
    instance = cls.__new__(cls)  # traitlets sets up trait storage here, without __init__
    wrong = []
    for trait, kind in TRAITS[class_name].items():
        for value in SAMPLES:
            if not _matches(kind, value):
                continue
            try:
                traits[trait]._validate(instance, value)
            except (Exception, SystemExit) as error:  # TraitError, or a validator's own
                # What a string says (a class to import, a file, a scope name) is the
                # hub's business at start-up; the kinds check types, not contents.
                if "str" in kind and (
                    isinstance(value, str)
                    or (isinstance(value, list) and all(isinstance(v, str) for v in value))
                ):
                    continue
                wrong.append(f"{trait}={value!r} ({kind}): {type(error).__name__}")
    assert wrong == []


@pytest.mark.parametrize(
    ("class_name", "trait", "value", "allowed"),
    [
        ("JupyterHub", "concurrent_spawn_limit", "10", "an integer"),
        ("JupyterHub", "concurrent_spawn_limit", True, "an integer"),
        ("KubeSpawner", "start_timeout", 1.5, "an integer"),
        ("KubeSpawner", "environment", ["A=1"], "a dict"),
        ("Spawner", "pre_spawn_hook", "my_hook", "a Python object"),
        ("GenericOAuthenticator", "allow_all", "yes", "True or False"),
        ("KubeSpawner", "slug_scheme", "fancy", "one of safe, escape"),
        ("KubeSpawner", "extra_labels", {"a": float("nan")}, "a dict"),
    ],
)
def test_fails_when_a_hub_config_value_has_the_wrong_type(class_name, trait, value, allowed):
    with pytest.raises(ConfigurationError) as error:
        check_trait_value("test/hub", class_name, trait, value)
    message = str(error.value)
    assert message.startswith(f"test/hub: invalid {class_name}.{trait} {value!r}. Allowed: ")
    assert allowed in message


def test_fails_when_a_hub_config_trait_is_misspelled():
    config = HubConfig("test/hub")
    with pytest.raises(ConfigurationError) as error:
        config.set("JupyterHub", "concurent_spawn_limit", 10)
    assert str(error.value) == (
        "test/hub: invalid JupyterHub trait 'concurent_spawn_limit'. Allowed: a configurable "
        "trait of JupyterHub (the pinned hub image's version). Fix: did you mean "
        "'concurrent_spawn_limit'?"
    )


def test_fails_when_a_hub_config_class_is_unknown():
    with pytest.raises(ConfigurationError, match="invalid hub config class 'Spawnr'"):
        HubConfig("test/hub").set("Spawnr", "start_timeout", 10)
