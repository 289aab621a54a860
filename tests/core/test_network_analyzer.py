"""An independent judge: network-config-analyzer agrees with our matrices, cell by cell.

``tests/core/test_network.py`` asserts each matrix as our own evaluator
(``tests/netpol.py``) computes it. Here np-guard's network-config-analyzer (``nca``) reads
the same NetworkPolicies and the same Pods (the pod templates and the user pods the real
KubeSpawner renders) and its connectivity report is compared with every cell: a cell
where the two disagree fails the test, with both verdicts. The only cells it cannot
judge are left out and counted: a process reaching its own pod's loopback (no policy
applies; nca has no notion of it) and a pod connecting to itself (nca reports no
self-connection).

Scenarios (``tests/network_scenarios.py``): the reference platform; a non-default setup
(NodeLocal DNSCache, Traefik, internet only where a profile asks, API server narrowed, a
binding opened namespace-wide on purpose); one hub per DNS preset.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.network_matrix import Column, Scenario
from tests.network_scenarios import (
    CUSTOM_COLUMNS,
    CUSTOM_ROWS,
    DNS_COLUMNS,
    DNS_PRESETS,
    DNS_ROWS,
    REFERENCE_COLUMNS,
    REFERENCE_ROWS,
    custom,
    dns,
    reference,
)
from tests.support import nca


def _agree(scenario: Scenario, rows: Sequence[str], cols: Sequence[Column], workdir: Path) -> int:
    report = scenario.analyze(workdir)
    disagreements = scenario.disagreements(report, rows, cols)
    assert not disagreements, (
        f"network-config-analyzer and our evaluator disagree on {len(disagreements)} "
        "cell(s):\n" + "\n".join(disagreements) + f"\n(nca's report: {workdir}/nca-report.txt)"
    )
    compared = scenario.compared_cells(report, rows, cols)
    # Every judged cell but the culler's loopback and a pod's connections to itself.
    judged = sum(
        1 for row in rows for c in cols if scenario.cell(scenario.evaluator, row, c) != "-"
    )
    assert compared >= judged - len(rows), (compared, judged)
    return compared


def test_analyzer_agrees_on_the_reference_platform(
    reference_manifests: list[dict[str, Any]], tmp_path: Path
) -> None:
    compared = _agree(reference(reference_manifests), REFERENCE_ROWS, REFERENCE_COLUMNS, tmp_path)
    assert compared == 350


def test_analyzer_agrees_on_a_non_default_setup(tmp_path: Path) -> None:
    assert _agree(custom(), CUSTOM_ROWS, CUSTOM_COLUMNS, tmp_path) == 148


@pytest.mark.parametrize("preset", sorted(DNS_PRESETS))
def test_analyzer_agrees_on_each_dns_preset(preset: str, tmp_path: Path) -> None:
    assert _agree(dns(preset), DNS_ROWS, DNS_COLUMNS, tmp_path) == 65


def test_analyzer_sees_what_the_old_namespace_wide_bindings_allowed(tmp_path: Path) -> None:
    """The analyzer is not blind: on a binding opened namespace-wide it reports the admin
    database beside Trino as reachable, as the third-party analysis of issue 12 did."""
    scenario = custom()
    report = scenario.analyze(tmp_path)
    assert report.allows("jupyter/user-small", "data-platform/admin-db", 8080, "TCP")
    assert not report.allows("jupyter/user-small", "data-platform/admin-db", 5432, "TCP")
    assert report.allows("jupyter/user-open", "data-platform/postgres", 5432, "TCP")
    assert not report.allows("jupyter/user-small", "data-platform/postgres", 5432, "TCP")


def test_report_parser_reads_nca_connection_sets() -> None:
    conns = nca.parse_connections(
        "{protocols:TCP, UDP,dst_ports:53},{protocols:TCP,dst_ports:8000-8002}"
    )
    assert conns.allows(53, "UDP") and conns.allows(53, "TCP") and conns.allows(8001, "TCP")
    assert not conns.allows(8003, "TCP") and not conns.allows(8001, "UDP")
    assert nca.parse_connections("All connections").allows(1, "SCTP")
    assert nca.parse_connections("{protocols:UDP}").allows(7844, "UDP")
    report = nca.parse_report(
        "jupyter/hub => 0.0.0.0-9.255.255.255 : {protocols:TCP,dst_ports:443}\n"
        "jupyter/hub => 10.0.0.0/8 : {protocols:TCP,dst_ports:6443}\n"
        "0.0.0.0-255.255.255.255 => ray/head : All connections\n"
    )
    import ipaddress

    assert report.allows("jupyter/hub", ipaddress.ip_address("8.8.8.8"), 443, "TCP")
    assert not report.allows("jupyter/hub", ipaddress.ip_address("10.0.0.5"), 443, "TCP")
    assert report.allows("jupyter/hub", ipaddress.ip_address("10.0.0.5"), 6443, "TCP")
    assert report.allows(ipaddress.ip_address("8.8.8.8"), "ray/head", 1, "UDP")
