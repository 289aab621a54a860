"""Prometheus and promtool (Debian's ``prometheus`` package).

``promtool`` checks and unit-tests rule files; ``Prometheus`` is a real server on
loopback, driven through its HTTP API, that scrapes what a test points it at.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.http import http
from tests.support.process import LOOPBACK, Http, Service, free_port, require_executable, run_tool
from tests.support.process import start as start_process

#: Debian 12's ``prometheus`` package (promtool ships in it); what .ci/run installs.
VERSION = "2.42"
START_TIMEOUT = 60.0
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


class Prometheus:
    """A Prometheus server with ``config`` (a prometheus.yml as a mapping)."""

    def __init__(self, workdir: Path, config: Mapping[str, Any]) -> None:
        self.workdir = workdir
        self.config = dict(config)
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.service: Service | None = None

    def start(self) -> Prometheus:
        binary = executable("prometheus")
        config_path = self.workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        (self.workdir / "tsdb").mkdir(exist_ok=True)
        self.service = start_process(
            f"prometheus {VERSION}",
            [
                binary,
                f"--config.file={config_path}",
                f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                f"--web.listen-address={LOOPBACK}:{self.port}",
                "--log.level=warn",
            ],
            ready=Http(f"{self.url}/-/ready"),
            log_path=self.workdir / "prometheus.log",
            timeout=START_TIMEOUT,
        )
        return self

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        response = http("GET", url)
        payload = response.json()
        if response.status != 200 or payload.get("status") != "success":
            raise AssertionError(f"Prometheus {path} {params} -> {response.status}: {payload}")
        return payload["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.api("query", query=expr)
        result: list[dict[str, Any]] = data["result"] if data["resultType"] == "vector" else []
        return result

    def metric_names(self) -> set[str]:
        return set(self.api("label/__name__/values"))

    def targets(self) -> list[dict[str, Any]]:
        active: list[dict[str, Any]] = self.api("targets")["activeTargets"]
        return active


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
