"""Servers of profiles without a GPU kept away from GPUs: off GPU nodes, devices hidden.

Two ways a server that asked for no GPU still reaches one, both seen on real clusters:

- **Placement.** The NVIDIA device plugin never taints a node; on EKS, AKS and
  on-premises clusters GPU pools are often untainted, so the scheduler puts CPU servers
  on GPU nodes, where they take the CPU and memory the GPU servers need (and keep an
  autoscaled GPU node alive). Profiles without a GPU therefore require a node that has
  none of the GPU node labels (a required node affinity, ``NotIn``/``DoesNotExist``).
- **Device visibility.** Every CUDA image sets ``NVIDIA_VISIBLE_DEVICES=all``. With the
  device plugin's default ``deviceListStrategy=envvar`` and the NVIDIA container
  runtime as the node's default runtime, a container that was allocated no GPU keeps
  the image's value, and the runtime gives it every GPU of the node. A pod's ``env``
  overrides the image's, so servers of profiles without a GPU get
  ``NVIDIA_VISIBLE_DEVICES=void``: the NVIDIA runtime then behaves like runc (no GPU,
  no driver library). ``none`` would still mount the driver.
  https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/docker-specialized.html

What the isolation relies on, and what closes the gap for good, is in
``docs/user-servers.md`` (GPU isolation): NVIDIA's own fix is
``accept-nvidia-visible-devices-envvar-when-unprivileged = false`` in the container
toolkit with the device plugin's ``deviceListStrategy=volume-mounts`` (or CDI), which
makes the runtime ignore the variable in unprivileged containers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jupyter_constructs.core.errors import Where, invalid
from jupyter_constructs.core.rules import check_bool, is_label_key, is_label_value

#: The variable the NVIDIA container runtime reads to pick a container's GPUs.
VISIBLE_DEVICES = "NVIDIA_VISIBLE_DEVICES"
#: Its value for "no GPU, no driver": the runtime behaves like runc.
NO_DEVICES = "void"


def _default_node_labels() -> dict[str, tuple[str, ...]]:
    return {
        # GPU feature discovery (the NVIDIA GPU operator) on every NVIDIA GPU node; the
        # label Gpu(...) selects by default.
        "nvidia.com/gpu.present": ("true",),
        # GKE labels every GPU node pool with its accelerator type.
        "cloud.google.com/gke-accelerator": (),
    }


def _default_domains() -> tuple[str, ...]:
    return ("nvidia.com", "amd.com", "gpu.intel.com")


@dataclass(frozen=True)
class GpuIsolation:
    """How servers of profiles that ask for no GPU are kept away from GPUs.

    A profile asks for a GPU when it has ``gpu=Gpu(...)`` or an ``extra_resources``
    entry in one of ``gpu_resource_domains`` (MIG slices, shared GPUs). Every other
    profile's servers:

    - require a node without the GPU node labels (``keep_off_gpu_nodes``): a required
      node affinity term, ``NotIn`` the listed values or ``DoesNotExist``, added to every
      term of the user pool's (``JupyterHub(user_pods=...)``) and of the profile's own;
      the user placeholders and the pre-puller of those profiles follow it;
    - get ``NVIDIA_VISIBLE_DEVICES=void`` (``hide_devices``), which overrides the
      image's ``all``.

    Default on: a server that asked for no GPU has no business on a GPU node, where it
    takes room GPU users need and, on untainted pools, can see every GPU. Teams that want
    CPU work on GPU nodes (a cluster of GPU nodes only, spare CPU on a GPU pool) set
    ``keep_off_gpu_nodes=False`` and keep ``hide_devices``.

    Attributes:
        keep_off_gpu_nodes: Require nodes without the GPU labels. Default: True.
        hide_devices: Set ``NVIDIA_VISIBLE_DEVICES=void``. Default: True.
        gpu_node_labels: Node labels that mark a GPU node: label key -> the values that
            mean "GPU" (empty: any value, the key's presence). Default:
            ``{"nvidia.com/gpu.present": ("true",), "cloud.google.com/gke-accelerator":
            ()}`` (GPU feature discovery, GKE).
        gpu_resource_domains: Extended resource domains that are GPUs: a profile
            requesting ``<domain>/<name>`` asks for a GPU. Default: ``("nvidia.com",
            "amd.com", "gpu.intel.com")``.
    """

    keep_off_gpu_nodes: bool = True
    hide_devices: bool = True
    gpu_node_labels: Mapping[str, Sequence[str]] = field(default_factory=_default_node_labels)
    gpu_resource_domains: Sequence[str] = field(default_factory=_default_domains)

    def check(self, where: Where) -> GpuIsolation:
        """Return self if every field is valid.

        Args:
            where: Where it is used (errors name it).

        Raises:
            ConfigurationError: A field is invalid.
        """
        check_bool(where, "GpuIsolation.keep_off_gpu_nodes", self.keep_off_gpu_nodes)
        check_bool(where, "GpuIsolation.hide_devices", self.hide_devices)
        labels = self.gpu_node_labels
        if not isinstance(labels, Mapping) or (self.keep_off_gpu_nodes and not labels):
            raise invalid(
                where,
                "GpuIsolation.gpu_node_labels",
                labels,
                allowed="a non-empty mapping of node label key -> values marking GPU nodes",
                fix='e.g. {"nvidia.com/gpu.present": ("true",)}, or keep_off_gpu_nodes=False',
            )
        for key, values in labels.items():
            if not is_label_key(key):
                raise invalid(
                    where,
                    "GpuIsolation.gpu_node_labels key",
                    key,
                    allowed="a label key ('nvidia.com/gpu.present')",
                    fix="copy it from `kubectl get node --show-labels` on a GPU node",
                )
            if (
                isinstance(values, str)
                or not isinstance(values, Sequence)
                or not all(isinstance(v, str) and v and is_label_value(v) for v in values)
            ):
                raise invalid(
                    where,
                    f"GpuIsolation.gpu_node_labels[{key!r}]",
                    values,
                    allowed="a tuple of label values (empty: any value)",
                    fix='e.g. ("true",) or ()',
                )
        domains = self.gpu_resource_domains
        if isinstance(domains, str) or not all(
            isinstance(d, str) and d and "/" not in d for d in domains
        ):
            raise invalid(
                where,
                "GpuIsolation.gpu_resource_domains",
                domains,
                allowed="a tuple of resource domains without '/' ('nvidia.com')",
                fix='e.g. ("nvidia.com", "amd.com")',
            )
        return self

    def gpu_resources(self, resources: Mapping[str, Any]) -> list[str]:
        """The names in ``resources`` that are GPUs (in ``gpu_resource_domains``), sorted."""
        return sorted(n for n in resources if n.split("/", 1)[0] in self.gpu_resource_domains)

    def isolates(self, gpu: bool, resources: Mapping[str, Any]) -> bool:
        """True for a profile without a GPU: no ``gpu=`` and no GPU among ``resources``.

        Args:
            gpu: The profile has ``gpu=Gpu(...)`` (a GPU whatever its resource name).
            resources: The extended resources its servers request, by name.
        """
        return not gpu and not self.gpu_resources(resources)

    def node_requirements(self) -> list[dict[str, Any]]:
        """``matchExpressions`` a node without GPUs meets (Kubernetes ``NodeSelectorRequirement``).

        ``NotIn`` and ``DoesNotExist`` also match nodes without the label, so CPU nodes
        need no label of their own.
        """
        return [
            {"key": key, "operator": "NotIn", "values": list(values)}
            if values
            else {"key": key, "operator": "DoesNotExist"}
            for key, values in sorted(self.gpu_node_labels.items())
        ]

    def gpu_selector(self, node_selector: Mapping[str, str]) -> str | None:
        """The label of ``node_selector`` that only GPU nodes have (``key=value``), or None."""
        for key, value in sorted(node_selector.items()):
            values = self.gpu_node_labels.get(key)
            if values is not None and (not values or value in values):
                return f"{key}={value}"
        return None


def with_required(
    terms: Sequence[Mapping[str, Any]] | None, requirements: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """``NodeSelectorTerm``s that also require ``requirements``.

    Terms are ORed and a term's expressions ANDed, so the requirements go into every
    term (a term of their own would let a node match another term instead).

    Args:
        terms: The terms so far (the user pool's, the profile's), or ``None``.
        requirements: ``NodeSelectorRequirement``s to add to each.
    """
    return [
        {**term, "matchExpressions": [*term.get("matchExpressions", []), *requirements]}
        for term in (terms or [{}])
    ]


__all__ = ["NO_DEVICES", "VISIBLE_DEVICES", "GpuIsolation", "with_required"]
