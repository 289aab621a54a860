"""Alert rules: checked and unit-tested by the real promtool, plus snapshot and contracts."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from jupyter_constructs.addons.observability.alerts import (
    AlertRule,
    RuleGroup,
    Severity,
    jupyterhub_alert_rules,
    rules_spec,
)
from tests.support.paths import ROOT
from tests.support.process import run_tool

PROMTOOL_TESTS = Path(__file__).resolve().parent / "promtool" / "jupyterhub_alerts_test.yaml"
RUNBOOK = ROOT / "docs" / "runbook.md"

# The parameters tests/addons/promtool/jupyterhub_alerts_test.yaml was written for.
PROMTOOL_PARAMS: dict[str, Any] = {
    "namespace": "jupyter",
    "hub_job": "hub",
    "proxy_job": "proxy",
    "server_capacity": 10,
}


def all_rules(groups: list[RuleGroup]) -> list[AlertRule]:
    return [rule for group in groups for rule in group.rules]


def write_rule_file(directory: Path, groups: list[RuleGroup]) -> Path:
    path = directory / "rules.yaml"
    path.write_text(yaml.safe_dump(rules_spec(groups), sort_keys=False))
    return path


def runbook_anchors() -> set[str]:
    """GitHub-style anchors of the runbook's second-level headings."""
    headings = re.findall(r"^## (.+)$", RUNBOOK.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_promtool_check_rules_accepts_the_rendered_file(tmp_path: Path, promtool: str) -> None:
    groups = jupyterhub_alert_rules(**PROMTOOL_PARAMS)
    output = run_tool([promtool, "check", "rules", str(write_rule_file(tmp_path, groups))])
    assert f"SUCCESS: {len(all_rules(groups))} rules found" in output


def test_promtool_unit_tests_fire_and_stay_silent(tmp_path: Path, promtool: str) -> None:
    write_rule_file(tmp_path, jupyterhub_alert_rules(**PROMTOOL_PARAMS))
    shutil.copy(PROMTOOL_TESTS, tmp_path / PROMTOOL_TESTS.name)
    output = run_tool([promtool, "test", "rules", PROMTOOL_TESTS.name], cwd=tmp_path)
    assert "SUCCESS" in output


def test_promtool_unit_tests_fail_when_a_threshold_changes(tmp_path: Path, promtool: str) -> None:
    """The unit tests really pin behaviour: a looser 5xx threshold breaks them."""
    write_rule_file(tmp_path, jupyterhub_alert_rules(**PROMTOOL_PARAMS, api_5xx_ratio=0.2))
    shutil.copy(PROMTOOL_TESTS, tmp_path / PROMTOOL_TESTS.name)
    result = subprocess.run(
        [promtool, "test", "rules", PROMTOOL_TESTS.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "alertname: JupyterHubHighErrorRate" in result.stdout + result.stderr


def test_promtool_tests_cover_every_alert_firing_and_silent() -> None:
    tests = yaml.safe_load(PROMTOOL_TESTS.read_text())["tests"]
    firing: set[str] = set()
    silent: set[str] = set()
    for case in tests:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    names = {r.name for r in all_rules(jupyterhub_alert_rules(**PROMTOOL_PARAMS))}
    assert names - firing == set(), "alerts never shown to fire in tests/addons/promtool"
    assert names - silent == set(), "alerts never shown to stay silent in tests/addons/promtool"


def test_every_alert_has_severity_summary_description_and_runbook() -> None:
    anchors = runbook_anchors()
    rules = all_rules(jupyterhub_alert_rules(**PROMTOOL_PARAMS))
    assert len(rules) == 8
    for rule in rules:
        spec = rule.to_spec()
        assert spec["labels"] == {"severity": rule.severity.value}, rule.name
        annotations = spec["annotations"]
        assert isinstance(annotations, dict)
        assert annotations["summary"], rule.name
        assert "$value" in annotations["description"], rule.name
        url, _, anchor = annotations["runbook_url"].partition("#")
        assert url == "docs/runbook.md", rule.name
        assert anchor == rule.name.lower(), rule.name
        assert anchor in anchors, f"docs/runbook.md has no section for {rule.name}"
        assert 'namespace="jupyter"' in rule.expr, rule.name


def test_down_alerts_are_critical_the_rest_warnings() -> None:
    severities = {r.name: r.severity for r in all_rules(jupyterhub_alert_rules(**PROMTOOL_PARAMS))}
    assert severities.pop("JupyterHubDown") is Severity.CRITICAL
    assert severities.pop("JupyterHubProxyDown") is Severity.CRITICAL
    assert set(severities.values()) == {Severity.WARNING}


#: Runbook sections that are procedures, not alerts.
PROCEDURES = {"backups-and-restore", "rotating-the-hubs-secrets"}


def test_runbook_has_no_section_without_an_alert() -> None:
    names = {r.name.lower() for r in all_rules(jupyterhub_alert_rules(**PROMTOOL_PARAMS))}
    assert runbook_anchors() - PROCEDURES == names


def test_capacity_alert_only_when_capacity_given() -> None:
    without = jupyterhub_alert_rules(namespace="jupyter", hub_job="hub", proxy_job="proxy")
    assert "JupyterHubServersNearCapacity" not in {r.name for r in all_rules(without)}
    with_capacity = jupyterhub_alert_rules(
        namespace="jupyter", hub_job="hub", proxy_job="proxy", server_capacity=250
    )
    capacity = [r for r in all_rules(with_capacity) if r.name == "JupyterHubServersNearCapacity"]
    assert len(capacity) == 1
    assert "/ 250 > 0.9" in capacity[0].expr


def test_thresholds_and_selectors_reach_the_expressions() -> None:
    groups = jupyterhub_alert_rules(
        namespace="data-science",
        hub_job="jh-hub",
        proxy_job="jh/proxy",
        spawn_failure_rate=0.25,
        spawn_p95_seconds=300,
        api_p95_seconds=2.5,
        api_5xx_ratio=0.01,
        event_loop_lag_seconds=0.75,
        runbook_base_url="https://runbooks.example/jupyterhub.md",
    )
    by_name = {r.name: r for r in all_rules(groups)}
    assert 'up{namespace="data-science", job="jh-hub"}' in by_name["JupyterHubDown"].expr
    assert 'up{namespace="data-science", job="jh/proxy"}' in by_name["JupyterHubProxyDown"].expr
    assert "> 0.25\n" in by_name["JupyterHubSpawnFailures"].expr
    assert by_name["JupyterHubSpawnSlow"].expr.endswith("> 300")
    assert by_name["JupyterHubApiLatencyHigh"].expr.endswith("> 2.5")
    assert by_name["JupyterHubHighErrorRate"].expr.endswith("> 0.01")
    assert by_name["JupyterHubEventLoopLag"].expr.endswith("> 0.75")
    assert by_name["JupyterHubDown"].runbook == (
        "https://runbooks.example/jupyterhub.md#jupyterhubdown"
    )


def test_rule_groups_snapshot(snapshot: Any) -> None:
    assert rules_spec(jupyterhub_alert_rules(**PROMTOOL_PARAMS)) == snapshot


def test_rendering_is_deterministic() -> None:
    first = yaml.safe_dump(rules_spec(jupyterhub_alert_rules(**PROMTOOL_PARAMS)))
    second = yaml.safe_dump(rules_spec(jupyterhub_alert_rules(**PROMTOOL_PARAMS)))
    assert first == second


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"namespace": "Jupyter_NS"}, "namespace='Jupyter_NS' is not a Kubernetes namespace"),
        ({"hub_job": 'hub"} or vector(1) #'}, "hub_job='hub\"} or vector(1) #' must be"),
        ({"proxy_job": ""}, "proxy_job='' must be a non-empty string"),
        ({"spawn_failure_rate": 10}, "spawn_failure_rate=10 must be a fraction between 0 and 1"),
        ({"api_5xx_ratio": 0}, "api_5xx_ratio=0 must be a fraction between 0 and 1"),
        ({"spawn_p95_seconds": -1}, "spawn_p95_seconds=-1 must be a finite number above 0"),
        ({"api_p95_seconds": float("inf")}, "api_p95_seconds=inf must be a finite number"),
        ({"server_capacity": 0}, "server_capacity=0 must be a whole number of user servers"),
        ({"server_capacity": 2.5}, "server_capacity=2.5 must be a whole number"),
        ({"runbook_base_url": "x.md#top"}, "runbook_base_url='x.md#top' must be a non-empty"),
    ],
)
def test_fails_when_a_parameter_is_invalid(overrides: dict[str, Any], message: str) -> None:
    params = {**PROMTOOL_PARAMS, **overrides}
    with pytest.raises(ValueError, match=re.escape(message)):
        jupyterhub_alert_rules(**params)


def test_fails_when_an_alert_name_is_duplicated() -> None:
    rule = all_rules(jupyterhub_alert_rules(**PROMTOOL_PARAMS))[0]
    expected = r"RuleGroup g: duplicate alert names \['JupyterHubDown'\]"
    with pytest.raises(ValueError, match=expected):
        RuleGroup("g", (rule, rule))


def test_fails_when_for_is_not_a_duration() -> None:
    with pytest.raises(ValueError, match=r"AlertRule X: for_='five minutes' is not a simple"):
        AlertRule("X", "vector(1)", "five minutes", Severity.WARNING, "s", "d $value", "r#x")
