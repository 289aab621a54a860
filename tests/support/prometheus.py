"""promtool (Debian's ``prometheus`` package) and PromQL helpers.

``promtool`` checks and unit-tests rule files. A Prometheus *server* is no longer started
here: the monitors are judged by prometheus-operator and a Prometheus it configures
(``tests/support/kube/prometheus.py``, ``tests/consumers/``), not by a scrape
configuration written by hand.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from tests.support.process import require_executable, run_tool

#: Debian 12's ``prometheus`` package (promtool ships in it); what .ci/run installs.
VERSION = "2.42"
INSTALL = "apt-get install prometheus"


@functools.cache
def executable(name: str) -> str:
    """Path of ``prometheus`` or ``promtool``, checked to be version ``VERSION``."""
    path = require_executable(name, INSTALL)
    version = run_tool([path, "--version"])
    if f"version {VERSION}." not in version:
        pytest.fail(f"expected {name} {VERSION}, found: {version.splitlines()[0]}")
    return path


def promtool() -> str:
    return executable("promtool")


def metric_names(expr: str) -> set[str]:
    """Metric names of every selector in a PromQL expression, from the parsed AST
    (promql-parser)."""
    import promql_parser

    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            return
        if isinstance(node, promql_parser.MatrixSelector):
            walk(node.vector_selector)
            return
        if isinstance(node, promql_parser.Call):
            for arg in node.args:
                walk(arg)
            return
        if isinstance(node, promql_parser.BinaryExpr):
            walk(node.lhs)
            walk(node.rhs)
            return
        if isinstance(node, promql_parser.AggregateExpr):
            walk(node.expr)
            if node.param is not None:
                walk(node.param)
            return
        if isinstance(node, promql_parser.ParenExpr | promql_parser.UnaryExpr):
            walk(node.expr)
            return
        if isinstance(node, promql_parser.SubqueryExpr):
            walk(node.expr)

    walk(promql_parser.parse(expr))
    return names
