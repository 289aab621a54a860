"""Custom hub code and page templates: run by the real hub after our config, rolling it."""

from __future__ import annotations

import pytest
import requests

from jupyter_constructs import ConfigurationError, HubTunables
from tests.helpers import find, make_hub, pod_spec, synth, write_config_dir
from tests.real_hub import load_config, unknown_traits
from tests.support.hub import hub_process

HOOKS = """\
# Runs after the generated config: what it set is visible here.
c.JupyterHub.template_vars["timeout_seen"] = str(c.KubeSpawner.start_timeout)


def pre_spawn_hook(spawner):
    spawner.environment["TEAM"] = "data"


c.KubeSpawner.pre_spawn_hook = pre_spawn_hook
"""
PAGE = """\
{% extends "templates/page.html" %}
{% block announcement %}
<div id="custom-banner">{{ banner }} / {{ timeout_seen }}</div>
{% endblock %}
"""


def _hub(**overrides):
    chart, hub = make_hub(tunables=HubTunables(template_vars={"banner": "Welcome"}), **overrides)
    hub.add_python_file("spawn_hooks.py", HOOKS)
    hub.add_template("page.html", PAGE)
    return chart, hub


def _checksum(objects) -> str:
    deployment = find(objects, "Deployment", "hub")
    return deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]


def test_files_load_after_the_generated_config(tmp_path):
    chart, _ = _hub()
    config = load_config(write_config_dir(synth(chart), tmp_path))
    assert config.JupyterHub.template_vars == {"banner": "Welcome", "timeout_seen": "300"}
    assert config.KubeSpawner.pre_spawn_hook.__name__ == "pre_spawn_hook"
    assert config.JupyterHub.template_paths == [str(tmp_path / "templates")]
    assert unknown_traits(config) == []


def test_templates_are_projected_into_a_folder_of_the_config_volume():
    chart, _ = _hub()
    objects = synth(chart)
    volume = next(
        v for v in pod_spec(find(objects, "Deployment", "hub"))["volumes"] if v["name"] == "config"
    )
    items = {i["key"]: i["path"] for i in volume["configMap"]["items"]}
    assert items["template.page.html"] == "templates/page.html"
    assert items["spawn_hooks.py"] == "spawn_hooks.py"
    # Every key is projected: nothing of the config is left out.
    assert set(items) == set(find(objects, "ConfigMap", "hub-config")["data"])


def test_a_change_of_custom_code_rolls_the_hub():
    before = _checksum(synth(_hub()[0]))
    chart, hub = make_hub(tunables=HubTunables(template_vars={"banner": "Welcome"}))
    hub.add_python_file("spawn_hooks.py", HOOKS.replace('"data"', '"ml"'))
    hub.add_template("page.html", PAGE)
    assert _checksum(synth(chart)) != before
    chart, hub = make_hub(tunables=HubTunables(template_vars={"banner": "Welcome"}))
    hub.add_python_file("spawn_hooks.py", HOOKS)
    hub.add_template("page.html", PAGE.replace("custom-banner", "banner-2"))
    assert _checksum(synth(chart)) != before


@pytest.mark.integration
def test_real_hub_runs_the_code_and_serves_the_template(tmp_path):
    chart, _ = _hub()
    write_config_dir(synth(chart), tmp_path)
    with hub_process(tmp_path) as hub:
        page = requests.get(f"{hub.public_url}/hub/login", timeout=10)
        log = hub.log_path.read_text()
    assert '<div id="custom-banner">Welcome / 300</div>' in page.text
    assert "running custom hub code spawn_hooks.py" in log


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        ("hooks.py", "def broken(:\n", "line 1"),
        ("Hooks.py", "", "module file name"),
        ("hooks", "", "module file name"),
        ("jupyterhub_config.py", "", "not used by another hub file"),
        ("hub_config.json", "", "module file name"),
        ("big.py", "#" * (256 * 1024 + 1), "at most 262144 bytes"),
    ],
)
def test_bad_python_files_are_refused(name, source, expected):
    _, hub = make_hub()
    with pytest.raises(ConfigurationError, match=expected):
        hub.add_python_file(name, source)


@pytest.mark.parametrize("name", ["../page.html", "page.txt", "sub/page.html"])
def test_bad_template_names_are_refused(name):
    _, hub = make_hub()
    with pytest.raises(ConfigurationError, match="template"):
        hub.add_template(name, "x")
