"""network-config-analyzer (np-guard's ``nca``): an independent judge of NetworkPolicies.

``nca --connectivity`` reads NetworkPolicies, Pods and Namespaces (no cluster) and
prints, for every pair of endpoints (pods, and IP ranges it derives from the
policies' ``ipBlock``s), the connections the policies allow. The tests compare its
report with our own evaluator (``tests/netpol.py``) cell by cell.

It pins its own dependencies (PyYAML, networkx...) exactly, so it lives in its own
virtualenv, ``.nca-venv``, installed by ``make nca`` (``make test`` does it first), like
checkov.

Reference: https://github.com/np-guard/network-config-analyzer (docs/CommandLineOptions.md)
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
#: The release ``make nca`` installs (Makefile ``NCA_VERSION``).
VERSION = "2.1.0"
EXECUTABLE = ROOT / ".nca-venv" / "bin" / "nca"
TIMEOUT = 120.0

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_LINE = re.compile(r"^(?P<src>\S+) => (?P<dst>\S+) : (?P<conn>.+)$")
_POD = re.compile(r"^(?P<namespace>[^/\s]+)/(?P<name>[^/\s\[]+)(\[Pod\])?$")
_CONN_SET = re.compile(r"\{([^{}]*)\}")


def require_nca() -> Path:
    """The ``nca`` executable of ``.nca-venv``; fails the test (never skips) without it."""
    if not EXECUTABLE.is_file():
        pytest.fail(
            f"network-config-analyzer is not installed in {EXECUTABLE.parent.parent.name}: "
            "run `make nca` (make test does)"
        )
    return EXECUTABLE


@dataclass(frozen=True)
class Connections:
    """What one ``src => dst`` line allows: protocol -> ports (``None``: every port)."""

    by_protocol: Mapping[str, tuple[tuple[int, int], ...] | None]

    def allows(self, port: int, protocol: str) -> bool:
        if protocol not in self.by_protocol:
            return False
        ranges = self.by_protocol[protocol]
        return ranges is None or any(low <= port <= high for low, high in ranges)


ALL = Connections({"TCP": None, "UDP": None, "SCTP": None})


def parse_connections(text: str) -> Connections:
    """``All connections``, or ``{protocols:TCP, UDP,dst_ports:53},{protocols:TCP}``..."""
    text = text.strip()
    if text == "All connections":
        return ALL
    if text == "No connections":
        return Connections({})
    by_protocol: dict[str, tuple[tuple[int, int], ...] | None] = {}
    for body in _CONN_SET.findall(text):
        protocols_part, _, ports_part = body.partition("dst_ports:")
        if "src_ports:" in body:
            raise ValueError(f"nca reported source ports, which the tests do not model: {text}")
        protocols = [
            p.strip() for p in protocols_part.removeprefix("protocols:").split(",") if p.strip()
        ]
        ranges: tuple[tuple[int, int], ...] | None = None
        if ports_part:
            parsed = []
            for item in ports_part.split(","):
                low, _, high = item.strip().partition("-")
                parsed.append((int(low), int(high or low)))
            ranges = tuple(parsed)
        for protocol in protocols:
            previous = by_protocol.get(protocol, ())
            if previous is None or ranges is None:
                by_protocol[protocol] = None
            else:
                by_protocol[protocol] = previous + ranges
    if not by_protocol:
        raise ValueError(f"cannot read nca connections {text!r}")
    return Connections(by_protocol)


def _range(text: str) -> tuple[Address, Address] | None:
    """An nca IP endpoint (``a-b``, ``a/len`` or ``a``) as its first and last address."""
    try:
        if "/" in text:
            network = ipaddress.ip_network(text, strict=False)
            return network[0], network[-1]
        low, _, high = text.partition("-")
        return ipaddress.ip_address(low), ipaddress.ip_address(high or low)
    except ValueError:
        return None


@dataclass
class Connectivity:
    """nca's connectivity report: pods by ``namespace/name``, addresses by range."""

    pod_to_pod: dict[tuple[str, str], Connections] = field(default_factory=dict)
    pod_to_ip: list[tuple[str, tuple[Address, Address], Connections]] = field(default_factory=list)
    ip_to_pod: list[tuple[tuple[Address, Address], str, Connections]] = field(default_factory=list)
    report: str = ""

    def allows(
        self, source: str | Address, destination: str | Address, port: int, protocol: str
    ) -> bool:
        """Does the report allow ``source`` -> ``destination`` on ``port``/``protocol``?

        Pods are ``namespace/name`` strings; addresses are ``ipaddress`` objects.
        """
        if isinstance(source, str) and isinstance(destination, str):
            conns = self.pod_to_pod.get((source, destination))
            return conns is not None and conns.allows(port, protocol)
        if isinstance(source, str):
            assert not isinstance(destination, str)
            return any(
                pod == source and _contains(span, destination) and conns.allows(port, protocol)
                for pod, span, conns in self.pod_to_ip
            )
        if isinstance(destination, str):
            return any(
                pod == destination and _contains(span, source) and conns.allows(port, protocol)
                for span, pod, conns in self.ip_to_pod
            )
        raise ValueError("nca does not judge address-to-address connections")


def _contains(span: tuple[Address, Address], address: Address) -> bool:
    low, high = span
    return low.version == address.version and low <= address <= high


def parse_report(text: str) -> Connectivity:
    """Read ``nca --connectivity ... -o txt_no_fw_rules`` output."""
    result = Connectivity(report=text)
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if match is None:
            continue
        src, dst = match["src"], match["dst"]
        conns = parse_connections(match["conn"])
        # An address range first: "10.0.0.0/8" would also look like "namespace/name".
        src_pod = None if _range(src) else _POD.match(src)
        dst_pod = None if _range(dst) else _POD.match(dst)
        if src_pod and dst_pod:
            key = (
                f"{src_pod['namespace']}/{src_pod['name']}",
                f"{dst_pod['namespace']}/{dst_pod['name']}",
            )
            result.pod_to_pod[key] = conns
        elif src_pod:
            span = _range(dst)
            if span is None:
                raise ValueError(f"cannot read nca endpoint {dst!r} in: {line}")
            result.pod_to_ip.append((f"{src_pod['namespace']}/{src_pod['name']}", span, conns))
        elif dst_pod:
            span = _range(src)
            if span is None:
                raise ValueError(f"cannot read nca endpoint {src!r} in: {line}")
            result.ip_to_pod.append((span, f"{dst_pod['namespace']}/{dst_pod['name']}", conns))
    return result


def connectivity(
    policies: Iterable[Mapping[str, Any]],
    pods: Iterable[Mapping[str, Any]],
    workdir: Path,
) -> Connectivity:
    """Run ``nca --connectivity`` on ``policies`` (NetworkPolicies) with ``pods``.

    Namespaces are derived from the pods (each labelled with its name, as Kubernetes
    does). The files are written to ``workdir``; the report is kept beside them.

    Raises:
        pytest.fail.Exception: nca is missing, or failed.
    """
    executable = require_nca()
    workdir.mkdir(parents=True, exist_ok=True)
    pods = [dict(p) for p in pods]
    namespaces = sorted({p["metadata"]["namespace"] for p in pods})
    policy_file = workdir / "policies.yaml"
    pod_file = workdir / "pods.yaml"
    ns_file = workdir / "namespaces.yaml"
    policy_file.write_text(yaml.safe_dump_all(list(policies), sort_keys=True), encoding="utf-8")
    pod_file.write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "PodList", "items": pods}, sort_keys=True),
        encoding="utf-8",
    )
    ns_file.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "NamespaceList",
                "items": [
                    {
                        "apiVersion": "v1",
                        "kind": "Namespace",
                        "metadata": {"name": n, "labels": {"kubernetes.io/metadata.name": n}},
                    }
                    for n in namespaces
                ],
            },
            sort_keys=True,
        ),
        encoding="utf-8",
    )
    command = [
        str(executable),
        "--connectivity",
        policy_file.name,
        "--pod_list",
        pod_file.name,
        "--ns_list",
        ns_file.name,
        "--output_endpoints",
        "pods",
        "-o",
        "txt_no_fw_rules",
    ]
    run = subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    (workdir / "nca-report.txt").write_text(run.stdout + run.stderr, encoding="utf-8")
    if run.returncode != 0 or "=>" not in run.stdout:
        pytest.fail(f"nca failed ({run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return parse_report(run.stdout)
