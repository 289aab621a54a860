"""Helpers of the observability tests: promtool and PromQL metric names.

The live checks of the monitors, rules and dashboard run against the real
prometheus-operator and Prometheus in ``tests/consumers/test_monitors.py``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import promql_parser
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def require_executable(name: str) -> str:
    """Path of ``name`` on PATH; fails the test (never skips) when it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed: install Debian's 'prometheus' package "
            "(apt-get install prometheus), as .ci/run does."
        )
    return path


def run_tool(argv: Sequence[str], *, cwd: Path | None = None, timeout: float = 60) -> str:
    """Run a command line tool; returns stdout+stderr, fails the test on a non-zero exit."""
    result = subprocess.run(
        list(argv), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"{' '.join(argv)} exited with {result.returncode}:\n{output}")
    return output


def metric_names(expr: str) -> set[str]:
    """Metric names of every selector in a PromQL expression, from the parsed AST."""
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
