"""Grafana dashboard: built by the SDK, deterministic, every query parses and is scoped."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import promql_parser
import pytest

from jupyter_constructs.addons.observability.dashboard import (
    dashboard_queries,
    jupyterhub_dashboard,
)
from tests.support.paths import ROOT
from tests.support.prometheus import metric_names


def all_panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in model["panels"] if p["type"] != "row"]


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    return jupyterhub_dashboard(namespace="jupyter")


def test_dashboard_snapshot(model: dict[str, Any], snapshot: Any) -> None:
    assert model == snapshot


def test_same_input_gives_byte_identical_json() -> None:
    first = json.dumps(jupyterhub_dashboard(namespace="jupyter"), sort_keys=True)
    second = json.dumps(jupyterhub_dashboard(namespace="jupyter"), sort_keys=True)
    assert first == second


def test_json_model_identity(model: dict[str, Any]) -> None:
    assert model["title"] == "JupyterHub"
    assert model["uid"] == "jupyterhub"
    assert isinstance(model["schemaVersion"], int)
    custom = jupyterhub_dashboard(
        namespace="team-a", title="Hub A", uid="hub-a", datasource_uid="thanos"
    )
    assert (custom["title"], custom["uid"]) == ("Hub A", "hub-a")
    for panel in all_panels(custom):
        assert panel["datasource"] == {"type": "prometheus", "uid": "thanos"}
        for target in panel["targets"]:
            assert target["datasource"] == {"type": "prometheus", "uid": "thanos"}


def test_every_query_parses_and_is_scoped_to_the_namespace(model: dict[str, Any]) -> None:
    queries = dashboard_queries(model)
    assert len(queries) >= 20
    for expr in queries:
        assert "$" not in expr, f"unsubstituted Grafana variable in {expr}"
        promql_parser.parse(expr)  # raises on a syntax error
        selectors = re.findall(r"[a-z_:]+\{[^}]*\}", expr)
        assert selectors, expr
        for selector in selectors:
            assert 'namespace="jupyter"' in selector, selector


def test_rate_interval_is_substituted_only_in_the_accessor(model: dict[str, Any]) -> None:
    raw = [t["expr"] for p in all_panels(model) for t in p["targets"]]
    assert any("[$__rate_interval]" in e for e in raw)
    assert len(raw) == len(dashboard_queries(model))
    assert all(
        "[5m]" in e for e, raw_e in zip(dashboard_queries(model), raw, strict=True) if "$" in raw_e
    )


def test_panels_cover_what_the_issue_asks_for(model: dict[str, Any]) -> None:
    names = set().union(*(metric_names(q) for q in dashboard_queries(model)))
    assert names >= {
        "jupyterhub_active_users",
        "jupyterhub_total_users",
        "jupyterhub_running_servers",
        "jupyterhub_server_spawn_duration_seconds_bucket",
        "jupyterhub_server_spawn_duration_seconds_count",
        "jupyterhub_request_duration_seconds_bucket",
        "jupyterhub_request_duration_seconds_count",
        "jupyterhub_event_loop_interval_seconds_bucket",
        "requests_web",
        "requests_ws",
        "requests_proxy",
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
        "kubelet_volume_stats_used_bytes",
        "kubelet_volume_stats_capacity_bytes",
    }
    queries = dashboard_queries(model)
    for period in ("24h", "7d", "30d"):
        assert any(f'period="{period}"' in q for q in queries), period
    assert any('container="notebook"' in q and "cpu" in q for q in queries)
    assert any('persistentvolumeclaim=~"claim-.*"' in q for q in queries)
    assert any("sum by (status)" in q and "spawn" in q for q in queries)
    assert any("sum by (handler, code)" in q for q in queries)


def test_panels_have_unique_ids_and_fit_the_grid(model: dict[str, Any]) -> None:
    ids = [p["id"] for p in model["panels"]]
    assert len(ids) == len(set(ids))
    occupied: set[tuple[int, int]] = set()
    for panel in model["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        cells = {(pos["x"] + dx, pos["y"] + dy) for dx in range(pos["w"]) for dy in range(pos["h"])}
        assert not cells & occupied, f"{panel['title']} overlaps another panel"
        occupied |= cells
    for panel in all_panels(model):
        assert panel["title"] and panel["description"], panel
        assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]


def test_jobs_narrow_the_selectors_when_given() -> None:
    model = jupyterhub_dashboard(namespace="jupyter", hub_job="hub", proxy_job="proxy")
    for expr in dashboard_queries(model):
        names = metric_names(expr)
        if any(n.startswith("jupyterhub_") for n in names):
            assert 'job="hub"' in expr, expr
        if any(n.startswith("requests_") for n in names):
            assert 'job="proxy"' in expr, expr
        if any(n.startswith(("container_", "kubelet_")) for n in names):
            assert "job=" not in expr, expr


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"namespace": "Jupyter"}, "namespace='Jupyter' is not a Kubernetes namespace name"),
        ({"namespace": 'a"b'}, "namespace='a\"b' must be a non-empty string"),
        ({"namespace": "jupyter", "uid": "x" * 41}, "must be 1-40 letters"),
        ({"namespace": "jupyter", "title": ""}, "title must not be empty"),
        ({"namespace": "jupyter", "proxy_job": "a\\b"}, "proxy_job='a\\\\b' must be"),
    ],
)
def test_fails_when_an_argument_is_invalid(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        jupyterhub_dashboard(**kwargs)


def test_importing_the_library_does_not_import_the_sdk() -> None:
    code = (
        "import sys, jupyter_constructs, jupyter_constructs.addons.observability.dashboard;"
        "print(any(m.startswith('grafana_foundation_sdk') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "False"
