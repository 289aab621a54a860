"""Namespace ResourceQuota and LimitRange, checked against the profiles at synth time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from constructs import Construct

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.objects import KubeObject
from jupyter_constructs.core.quantities import Usage, parse_cpu, parse_memory
from jupyter_constructs.core.rules import EXTENDED_RESOURCE_RULE, check, check_int
from jupyter_constructs.hub.profiles import NotebookProfile


def format_memory(size: int | Decimal) -> str:
    """Bytes as the largest binary unit that keeps it readable: 4294967296 -> '4Gi'."""
    for unit, factor in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if size >= factor:
            value = Decimal(size) / factor
            text = f"{value:.2f}".rstrip("0").rstrip(".")
            return f"{text}{unit}"
    return str(size)


def format_cpu(cores: int | Decimal) -> str:
    """Cores as Kubernetes writes them: 0.5 -> '500m', 2 -> '2'."""
    cores = Decimal(cores)
    if cores == cores.to_integral_value():
        return str(int(cores))
    return f"{int(cores * 1000)}m"


#: ``NamespaceQuota.gpus`` when not given.
DEFAULT_GPUS = 8


@dataclass(frozen=True)
class NamespaceQuota:
    """A ResourceQuota for the namespace; the defaults size a platform of about 100 users.

    Every extended resource (device plugin resource) gets its own ``requests.<name>``
    item: whole GPUs (``nvidia.com/gpu``), MIG slices (``nvidia.com/mig-1g.10gb``),
    time-sliced GPUs renamed by the device plugin (``nvidia.com/gpu.shared``), other
    vendors' GPUs (``amd.com/gpu``). Kubernetes quotas extended resources by their
    requests only (they cannot be overcommitted, so requests equal limits):
    https://kubernetes.io/docs/concepts/policy/resource-quotas/#resource-quota-for-extended-resources
    A profile asking for a resource the quota has no item for is refused at synth:
    nothing would bound its servers.

    Example: ``NamespaceQuota(gpus=4, extended_resources={"nvidia.com/mig-1g.10gb": 14})``
    renders ``requests.nvidia.com/gpu: "4"`` and ``requests.nvidia.com/mig-1g.10gb: "14"``.

    Attributes:
        requests_cpu: Total CPU requests, in cores. Default: ``"200"``.
        requests_memory: Total memory requests. Default: ``"800Gi"``.
        limits_cpu: Total CPU limits, in cores. Default: ``"400"``.
        limits_memory: Total memory limits. Default: ``"1600Gi"``.
        gpus: Total ``gpu_resource`` requested (``requests.<gpu_resource>``); 0 keeps
            them out of the namespace. Default: 8.
        gpu_resource: The resource ``gpus`` counts. Default: ``"nvidia.com/gpu"``.
        pods: Pods. Default: 250.
        persistent_volume_claims: PVCs. Default: 300.
        requests_storage: Total storage requested by PVCs. Default: ``"20Ti"``.
        extended_resources: More extended resources, by name: the total count of each
            the namespace's pods may request (one quota item each). An entry for
            ``gpu_resource`` replaces ``gpus``. Default: none.
    """

    requests_cpu: str = "200"
    requests_memory: str = "800Gi"
    limits_cpu: str = "400"
    limits_memory: str = "1600Gi"
    gpus: int = DEFAULT_GPUS
    gpu_resource: str = "nvidia.com/gpu"
    pods: int = 250
    persistent_volume_claims: int = 300
    requests_storage: str = "20Ti"
    extended_resources: Mapping[str, int] = field(default_factory=dict)

    def devices(self) -> dict[str, int]:
        """Every extended resource the quota bounds, by name, with its total (sorted).

        ``gpus`` for ``gpu_resource``, then ``extended_resources`` (which replace it).
        """
        return dict(sorted({self.gpu_resource: self.gpus, **self.extended_resources}.items()))

    def limit(self, resource: str) -> int | None:
        """The total of ``resource`` (an extended resource name) the quota allows, or None.

        Args:
            resource: E.g. ``"nvidia.com/mig-1g.10gb"``.

        Returns:
            The count of its ``requests.<resource>`` item; ``None`` when the quota has
            no item for it (nothing bounds it).
        """
        return self.devices().get(resource)

    def hard(self) -> dict[str, str]:
        """The ResourceQuota ``spec.hard``: one ``requests.<name>`` item per device."""
        hard = {
            "requests.cpu": self.requests_cpu,
            "requests.memory": self.requests_memory,
            "limits.cpu": self.limits_cpu,
            "limits.memory": self.limits_memory,
        }
        hard.update({f"requests.{name}": str(count) for name, count in self.devices().items()})
        hard.update(
            {
                "pods": str(self.pods),
                "persistentvolumeclaims": str(self.persistent_volume_claims),
                "requests.storage": self.requests_storage,
            }
        )
        return hard

    def usage(self) -> Usage:
        """The quota's CPU, memory and device amounts as comparable units."""
        where = "NamespaceQuota"
        return Usage(
            parse_cpu(where, "requests_cpu", self.requests_cpu),
            parse_cpu(where, "limits_cpu", self.limits_cpu),
            parse_memory(where, "requests_memory", self.requests_memory),
            parse_memory(where, "limits_memory", self.limits_memory),
            self.gpus,
            self.devices(),
        )

    def check(self, scope: Construct) -> NamespaceQuota:
        """Return self if every field is valid.

        Args:
            scope: The construct that uses it (errors name its path).

        Raises:
            ConfigurationError: A field is invalid, or ``gpus`` and ``extended_resources``
                give ``gpu_resource`` two different totals.
        """
        parse_cpu(scope, "NamespaceQuota.requests_cpu", self.requests_cpu)
        parse_cpu(scope, "NamespaceQuota.limits_cpu", self.limits_cpu)
        parse_memory(scope, "NamespaceQuota.requests_memory", self.requests_memory)
        parse_memory(scope, "NamespaceQuota.limits_memory", self.limits_memory)
        parse_memory(scope, "NamespaceQuota.requests_storage", self.requests_storage)
        for what in ("gpus", "pods", "persistent_volume_claims"):
            check_int(
                scope, f"NamespaceQuota.{what}", getattr(self, what), minimum=0, fix="give a count"
            )
        check(
            scope,
            "NamespaceQuota.gpu_resource",
            self.gpu_resource,
            EXTENDED_RESOURCE_RULE,
            fix="use the name the device plugin advertises, e.g. 'nvidia.com/gpu'",
        )
        if not isinstance(self.extended_resources, Mapping):
            raise invalid(
                scope,
                "NamespaceQuota.extended_resources",
                self.extended_resources,
                allowed="a mapping of extended resource name -> total count",
                fix='e.g. extended_resources={"nvidia.com/mig-1g.10gb": 14}',
            )
        for name, count in self.extended_resources.items():
            check(
                scope,
                "NamespaceQuota.extended_resources name",
                name,
                EXTENDED_RESOURCE_RULE,
                fix="use the name the device plugin advertises, e.g. 'nvidia.com/mig-1g.10gb'",
            )
            check_int(
                scope,
                f"NamespaceQuota.extended_resources[{name!r}]",
                count,
                minimum=0,
                fix="give the total count the namespace may request (0: none)",
            )
        given = self.extended_resources.get(self.gpu_resource)
        if given is not None and self.gpus not in (DEFAULT_GPUS, given):
            raise invalid(
                scope,
                f"NamespaceQuota.extended_resources[{self.gpu_resource!r}]",
                given,
                allowed=f"one total per resource (gpus={self.gpus} already counts "
                f"{self.gpu_resource})",
                fix=f"give {self.gpu_resource} once: gpus= or extended_resources",
            )
        return self


@dataclass(frozen=True)
class ContainerLimits:
    """A LimitRange for the namespace's containers.

    Attributes:
        max_cpu: The most CPU one container may use, in cores. Default: ``"16"``.
        max_memory: The most memory one container may use. Default: ``"64Gi"``.
        default_request: Requests of containers that set none. Default: 100m CPU, 128Mi.
        default_limit: Limits of containers that set none. Default: 1 CPU, 1Gi.
    """

    max_cpu: str = "16"
    max_memory: str = "64Gi"
    default_request: Mapping[str, str] = field(
        default_factory=lambda: {"cpu": "100m", "memory": "128Mi"}
    )
    default_limit: Mapping[str, str] = field(default_factory=lambda: {"cpu": "1", "memory": "1Gi"})

    def check(self, scope: Construct) -> ContainerLimits:
        """Return self if every field is valid.

        Args:
            scope: The construct that uses it (errors name its path).

        Raises:
            ConfigurationError: A field is invalid.
        """
        max_cpu = parse_cpu(scope, "ContainerLimits.max_cpu", self.max_cpu)
        max_memory = parse_memory(scope, "ContainerLimits.max_memory", self.max_memory)
        amounts = {}
        for what in ("default_request", "default_limit"):
            given = getattr(self, what)
            if not isinstance(given, Mapping) or set(given) != {"cpu", "memory"}:
                raise invalid(
                    scope,
                    f"ContainerLimits.{what}",
                    given,
                    allowed="a mapping with exactly the keys 'cpu' and 'memory'",
                    fix=f'e.g. {what}={{"cpu": "100m", "memory": "128Mi"}}',
                )
            amounts[what] = (
                parse_cpu(scope, f"ContainerLimits.{what}['cpu']", given["cpu"]),
                parse_memory(scope, f"ContainerLimits.{what}['memory']", given["memory"]),
            )
        # ValidateLimitRange (CORE): defaultRequest <= default <= max, per resource.
        request, limit = amounts["default_request"], amounts["default_limit"]
        for index, resource in enumerate(("cpu", "memory")):
            maximum = (max_cpu, max_memory)[index]
            if not request[index] <= limit[index] <= maximum:
                raise invalid(
                    scope,
                    f"ContainerLimits.default_limit['{resource}']",
                    self.default_limit[resource],
                    allowed=f"at least default_request['{resource}'] and at most the maximum "
                    "(ValidateLimitRange)",
                    fix="order them: default_request <= default_limit <= max",
                )
        return self


@dataclass(frozen=True)
class Reservation:
    """Pods that take their share of the namespace quota before any user server.

    The hub and the proxy are two; add-ons register theirs with ``hub.reserve_capacity``
    (user placeholders, the user scheduler, tunnel connectors).

    Attributes:
        what: What they are, for messages (``"the hub"``, ``"user placeholders
            test/warm"``).
        per_pod: The requests and limits of one pod.
        pods: How many pods. Default: 1.
        add_on: Reserved by an add-on (named in quota messages); False for the hub and
            the proxy, which every hub has. Default: True.
    """

    what: str
    per_pod: Usage
    pods: int = 1
    add_on: bool = True

    def usage(self) -> Usage:
        """What all of its pods take together."""
        total = Usage(Decimal(0), Decimal(0), 0, 0, 0)
        for _ in range(self.pods):
            total = total + self.per_pod
        return total


def reserved(reservations: Sequence[Reservation]) -> tuple[Usage, int]:
    """What ``reservations`` take together, and their number of pods."""
    total = Usage(Decimal(0), Decimal(0), 0, 0, 0)
    for reservation in reservations:
        total = total + reservation.usage()
    return total, sum(r.pods for r in reservations)


def capacity(
    quota: NamespaceQuota, reservations: Sequence[Reservation], profile_usage: Usage
) -> tuple[int, str]:
    """How many servers of one profile fit in ``quota`` after ``reservations``, and what limits it.

    Every reserved pod is also one of the quota's ``pods``.
    """
    taken, taken_pods = reserved(reservations)
    free = quota.usage() - taken
    room: dict[str, tuple[Decimal, Decimal]] = {
        "requests.cpu": (free.requests_cpu, profile_usage.requests_cpu),
        "limits.cpu": (free.limits_cpu, profile_usage.limits_cpu),
        "requests.memory": (Decimal(free.requests_memory), Decimal(profile_usage.requests_memory)),
        "limits.memory": (Decimal(free.limits_memory), Decimal(profile_usage.limits_memory)),
        "pods": (Decimal(quota.pods - taken_pods), Decimal(1)),
    }
    bounded = quota.devices()
    for name, need in profile_usage.extended.items():
        if need > 0 and name in bounded:
            room[f"requests.{name}"] = (Decimal(free.extended.get(name, 0)), Decimal(need))
    counts = {key: int(have // need) if have > 0 else 0 for key, (have, need) in room.items()}
    limiting = min(counts, key=lambda key: (counts[key], key))
    return counts[limiting], limiting


def shortfall(
    quota: NamespaceQuota, reservations: Sequence[Reservation], usage: Usage
) -> str | None:
    """Why one server using ``usage`` does not fit in ``quota`` (with the amount), or None."""
    taken, taken_pods = reserved(reservations)
    free = quota.usage() - taken
    for what, need, room, show in (
        ("CPU request", usage.requests_cpu, free.requests_cpu, format_cpu),
        ("CPU limit", usage.limits_cpu, free.limits_cpu, format_cpu),
        ("memory request", usage.requests_memory, free.requests_memory, format_memory),
        ("memory limit", usage.limits_memory, free.limits_memory, format_memory),
    ):
        if need > room:
            return (
                f"its {what} {show(need)} exceeds what the quota leaves ({show(room)}) "
                f"by {show(need - room)}"
            )
    bounded = quota.devices()
    for name, need in usage.extended.items():
        if name not in bounded or need <= free.extended.get(name, 0):
            continue
        room = free.extended.get(name, 0)
        if taken.extended.get(name, 0):
            return (
                f"it asks for {need} {name}, {need - room} more than the quota leaves "
                f"({room} of {bounded[name]}, requests.{name})"
            )
        return (
            f"it asks for {need} {name}, {need - bounded[name]} more than the quota's "
            f"{bounded[name]} (requests.{name})"
        )
    if taken_pods >= quota.pods:
        return f"the quota's {quota.pods} pods are all taken"
    return None


def describe(reservations: Sequence[Reservation]) -> str:
    """``reservations`` as a person reads them: what, how many pods, their requests."""
    parts = []
    for reservation in reservations:
        usage = reservation.usage()
        amounts = [format_cpu(usage.requests_cpu) + " CPU", format_memory(usage.requests_memory)]
        amounts += [f"{count} {name}" for name, count in usage.extended.items() if count]
        pods = f"{reservation.pods} pod" + ("" if reservation.pods == 1 else "s")
        parts.append(f"{reservation.what} ({pods}, {', '.join(amounts)} requested)")
    return ", ".join(parts)


def limit_range_excess(limits: ContainerLimits, usage: Usage) -> str | None:
    """Why a container using ``usage`` breaks the LimitRange maximum (with the amount), or None."""
    max_cpu = parse_cpu("ContainerLimits", "", limits.max_cpu)
    if usage.limits_cpu > max_cpu:
        return (
            f"its CPU limit {format_cpu(usage.limits_cpu)} exceeds the LimitRange maximum "
            f"{limits.max_cpu} by {format_cpu(usage.limits_cpu - max_cpu)}"
        )
    max_memory = parse_memory("ContainerLimits", "", limits.max_memory)
    if usage.limits_memory > max_memory:
        return (
            f"its memory limit {format_memory(usage.limits_memory)} exceeds the LimitRange "
            f"maximum {limits.max_memory} by {format_memory(usage.limits_memory - max_memory)}"
        )
    return None


def quota_objects(
    scope: Construct,
    *,
    quota: NamespaceQuota | None,
    limits: ContainerLimits | None,
    labels: dict[str, str],
) -> tuple[KubeObject | None, KubeObject | None]:
    """The namespace's ResourceQuota and LimitRange (each ``None`` when not wanted)."""
    resource_quota = None
    if quota is not None:
        resource_quota = KubeObject(
            scope,
            "ResourceQuota",
            api_version="v1",
            kind="ResourceQuota",
            name="jupyterhub",
            labels=labels,
            body={"spec": {"hard": quota.hard()}},
        )
    limit_range = None
    if limits is not None:
        item: dict[str, Any] = {
            "type": "Container",
            "max": {"cpu": limits.max_cpu, "memory": limits.max_memory},
            "defaultRequest": dict(limits.default_request),
            "default": dict(limits.default_limit),
        }
        limit_range = KubeObject(
            scope,
            "LimitRange",
            api_version="v1",
            kind="LimitRange",
            name="jupyterhub",
            labels=labels,
            body={"spec": {"limits": [item]}},
        )
    return resource_quota, limit_range


def unbounded(quota: NamespaceQuota, usage: Usage) -> list[str]:
    """Extended resources ``usage`` asks for that ``quota`` has no item for (sorted).

    Nothing in the namespace would bound how many servers take them.
    """
    bounded = quota.devices()
    return sorted(name for name, count in usage.extended.items() if count and name not in bounded)


def profile_errors(
    profiles: Sequence[NotebookProfile],
    *,
    quota: NamespaceQuota | None,
    limits: ContainerLimits | None,
    reservations: Sequence[Reservation],
) -> list[str]:
    """Profiles whose one server breaks the LimitRange or does not fit in the quota.

    Args:
        profiles: The hub's profiles (each message names the profile's path).
        quota: The namespace quota, or ``None``.
        limits: The LimitRange, or ``None``.
        reservations: What the quota holds before any user server: the hub and the proxy
            first, then what add-ons reserved (placeholders, ...). When add-ons reserved
            something, the message says what the quota leaves is after them.

    Returns:
        One error message (house format) per broken rule.
    """
    errors = []
    extra = [r for r in reservations if r.add_on and r.pods]
    for profile in profiles:
        usage = profile.usage()
        if limits is not None:
            excess = limit_range_excess(limits, usage)
            if excess:
                errors.append(
                    str(
                        invalid(
                            profile,
                            "profile for the LimitRange",
                            profile.slug,
                            allowed=f"containers within ContainerLimits ({excess})",
                            fix="lower the profile's limits or raise ContainerLimits",
                        )
                    )
                )
        if quota is not None:
            for name in unbounded(quota, usage):
                errors.append(
                    str(
                        invalid(
                            profile,
                            "profile for the namespace quota",
                            profile.slug,
                            allowed=f"extended resources the quota bounds (it asks for "
                            f"{usage.extended[name]} {name}, and NamespaceQuota has no "
                            f"requests.{name} item: nothing would bound these servers; it "
                            f"bounds {', '.join(quota.devices()) or 'none'})",
                            fix=f"give its total: NamespaceQuota(extended_resources="
                            f"{{{name!r}: N}}), N the {name} the namespace may use",
                        )
                    )
                )
            missing = shortfall(quota, reservations, usage)
            if missing:
                allowed = f"one server must fit in NamespaceQuota ({missing})"
                fix = "lower the profile's requests/limits or raise NamespaceQuota"
                if extra:
                    allowed = (
                        f"one server must fit in NamespaceQuota next to the hub, the proxy "
                        f"and {describe(extra)} ({missing})"
                    )
                    fix += ", or reserve less (fewer placeholders)"
                errors.append(
                    str(
                        invalid(
                            profile,
                            "profile for the namespace quota",
                            profile.slug,
                            allowed=allowed,
                            fix=fix,
                        )
                    )
                )
    return errors


def overbooked(quota: NamespaceQuota, reservations: Sequence[Reservation]) -> str | None:
    """Which quota item ``reservations`` alone already exceed (with the amount), or None."""
    taken, taken_pods = reserved(reservations)
    have = quota.usage()
    for what, need, room, show in (
        ("requests.cpu", taken.requests_cpu, have.requests_cpu, format_cpu),
        ("limits.cpu", taken.limits_cpu, have.limits_cpu, format_cpu),
        ("requests.memory", taken.requests_memory, have.requests_memory, format_memory),
        ("limits.memory", taken.limits_memory, have.limits_memory, format_memory),
    ):
        if need > room:
            return f"{what}: they take {show(need)} of {show(room)}, {show(need - room)} too much"
    for name, count in taken.extended.items():
        limit = have.extended.get(name)
        if limit is not None and count > limit:
            return f"requests.{name}: they take {count} of {limit}, {count - limit} too many"
    if taken_pods > quota.pods:
        return f"pods: they are {taken_pods} of {quota.pods}, {taken_pods - quota.pods} too many"
    return None
