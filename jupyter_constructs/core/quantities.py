"""Kubernetes resource quantities ("500m", "8Gi"): parsing, checking, and ``Resources``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from jupyter_constructs.core.errors import invalid

if TYPE_CHECKING:
    from constructs import Construct

_CPU = re.compile(r"\A(?P<num>[0-9]+(\.[0-9]+)?)(?P<unit>m?)\Z")
_MEMORY = re.compile(r"\A(?P<num>[0-9]+(\.[0-9]+)?)(?P<unit>|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)\Z")
_MEMORY_UNITS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
}


def parse_cpu(scope: Construct | str, what: str, value: str | int | float) -> Decimal:
    """CPU cores as a Decimal: ``"500m"`` -> 0.5, ``"2"`` -> 2. Zero or negative is refused."""
    match = (
        _CPU.match(str(value))
        if isinstance(value, str | int | float) and not isinstance(value, bool)
        else None
    )
    cores = Decimal(0)
    if match:
        cores = Decimal(match["num"]) / (1000 if match["unit"] else 1)
    if not match or cores <= 0:
        raise invalid(
            scope,
            what,
            value,
            allowed="a positive Kubernetes CPU quantity: cores ('2', '0.5') or millicores ('500m')",
            fix="write the CPU like '500m' or '2'",
        )
    return cores


def parse_memory(scope: Construct | str, what: str, value: str) -> int:
    """Memory in bytes: ``"8Gi"`` -> 8589934592. Zero, spaces and unknown units are refused."""
    match = _MEMORY.match(value) if isinstance(value, str) else None
    size = 0
    if match:
        size = int(Decimal(match["num"]) * _MEMORY_UNITS[match["unit"]])
    if not match or size <= 0:
        raise invalid(
            scope,
            what,
            value,
            allowed="a positive Kubernetes memory quantity with a binary ('512Mi', '8Gi') "
            "or decimal ('8G') suffix and no space",
            fix="write the memory like '8Gi'",
        )
    return size


@dataclass(frozen=True)
class Usage:
    """Requests and limits of one pod, in comparable units (cores, bytes, device counts).

    Attributes:
        requests_cpu: CPU requests, in cores.
        limits_cpu: CPU limits, in cores.
        requests_memory: Memory requests, in bytes.
        limits_memory: Memory limits, in bytes.
        gpus: The profile's ``Gpu(count=...)``, whatever its resource name (for
            messages; quota arithmetic uses ``extended``). Default: 0.
        extended: Extended resources (device plugin resources: ``nvidia.com/gpu``,
            ``nvidia.com/mig-1g.10gb``, ``amd.com/gpu``...) by name, as whole counts.
            Extended resources are requested and limited alike, and a ResourceQuota
            bounds each with its own ``requests.<name>`` item. Default: none.
    """

    requests_cpu: Decimal
    limits_cpu: Decimal
    requests_memory: int
    limits_memory: int
    gpus: int = 0
    extended: Mapping[str, int] = field(default_factory=dict)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.requests_cpu + other.requests_cpu,
            self.limits_cpu + other.limits_cpu,
            self.requests_memory + other.requests_memory,
            self.limits_memory + other.limits_memory,
            self.gpus + other.gpus,
            _combine(self.extended, other.extended, 1),
        )

    def __sub__(self, other: Usage) -> Usage:
        return Usage(
            self.requests_cpu - other.requests_cpu,
            self.limits_cpu - other.limits_cpu,
            self.requests_memory - other.requests_memory,
            self.limits_memory - other.limits_memory,
            self.gpus - other.gpus,
            _combine(self.extended, other.extended, -1),
        )


def _combine(left: Mapping[str, int], right: Mapping[str, int], sign: int) -> dict[str, int]:
    """``left`` plus (``sign`` 1) or minus (-1) ``right``, by resource name, sorted."""
    total = dict(left)
    for name, count in right.items():
        total[name] = total.get(name, 0) + sign * count
    return dict(sorted(total.items()))


@dataclass(frozen=True)
class Resources:
    """CPU and memory requests and limits of one container, as Kubernetes quantities.

    A limit must be at least its request. Example: ``Resources("500m", "2", "1Gi", "4Gi")``.

    Attributes:
        cpu_request: CPU request, cores or millicores (``"500m"``).
        cpu_limit: CPU limit.
        memory_request: Memory request with a unit (``"1Gi"``).
        memory_limit: Memory limit.
    """

    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str

    def checked(self, scope: Construct, what: str) -> Resources:
        """Return self after checking every quantity and that limits >= requests."""
        cpu_req = parse_cpu(scope, f"{what}.cpu_request", self.cpu_request)
        cpu_lim = parse_cpu(scope, f"{what}.cpu_limit", self.cpu_limit)
        mem_req = parse_memory(scope, f"{what}.memory_request", self.memory_request)
        mem_lim = parse_memory(scope, f"{what}.memory_limit", self.memory_limit)
        if cpu_lim < cpu_req:
            raise invalid(
                scope,
                f"{what}.cpu_limit",
                self.cpu_limit,
                allowed=f"at least the CPU request {self.cpu_request!r}",
                fix="raise the limit or lower the request",
            )
        if mem_lim < mem_req:
            raise invalid(
                scope,
                f"{what}.memory_limit",
                self.memory_limit,
                allowed=f"at least the memory request {self.memory_request!r}",
                fix="raise the limit or lower the request",
            )
        return self

    def usage(self) -> Usage:
        """These quantities in comparable units (checked values assumed)."""
        where = "Resources"
        return Usage(
            parse_cpu(where, "cpu_request", self.cpu_request),
            parse_cpu(where, "cpu_limit", self.cpu_limit),
            parse_memory(where, "memory_request", self.memory_request),
            parse_memory(where, "memory_limit", self.memory_limit),
        )

    def to_kube(self) -> dict[str, Any]:
        """The container ``resources`` block."""
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }
