"""Continuous image pre-puller: every node that can run a profile already has its image.

Notebook images are several GB; pulling one at spawn time makes users wait minutes.
A DaemonSet per placement (node selector + tolerations, e.g. GPU nodes) lists the
images of the profiles that land there (and of their init and sidecar containers) as
init containers, which makes the kubelet pull them, then sleeps in a pause container.
It is a plain DaemonSet, not a Helm hook (z2jh's hook-based puller stalls upgrades,
their #2099), so a new image rolls out like any other change. Images of GPU profiles
are pulled only on GPU nodes, with the pull secrets of the profiles that use them, and
every puller runs in the hub's user node pool (``JupyterHub(user_pods=...)``): where
user servers run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from constructs import Construct

from jupyter_constructs.core import security
from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.images import PAUSE_IMAGE, unpinned_reason
from jupyter_constructs.core.objects import KubeObject, adopt
from jupyter_constructs.core.quantities import Resources
from jupyter_constructs.core.rules import (
    check_dns_subdomain,
    check_image,
    check_sequence,
    check_toleration,
)
from jupyter_constructs.hub.profiles import Toleration

PULLER_UID = 65534
_TINY = {"requests": {"cpu": "0", "memory": "0"}, "limits": {"cpu": "10m", "memory": "16Mi"}}


@dataclass(frozen=True)
class ImagePullerOptions:
    """How the continuous image pre-puller runs (z2jh ``prePuller``).

    Pass ``JupyterHub(image_puller=ImagePullerOptions(...))``; ``image_puller=False``
    renders no puller.

    Attributes:
        extra_images: More images to keep on every user node (z2jh
            ``prePuller.extraImages``), pinned by tag or digest. Default: none.
        pull_secrets: Pull secrets for ``extra_images`` (the profiles' own
            ``image_pull_secrets`` are used for their images). Default: none.
        resources: Requests and limits of the puller's containers (z2jh
            ``prePuller.resources``). Default: no request, 10m CPU and 16Mi limits.
        extra_tolerations: Tolerations added to every puller, for tainted nodes that
            profiles do not tolerate themselves (z2jh ``prePuller.extraTolerations``).
            Default: none.
    """

    extra_images: Sequence[str] = ()
    pull_secrets: Sequence[str] = ()
    resources: Resources | None = None
    extra_tolerations: Sequence[Toleration] = ()

    def check(self, scope: Construct) -> ImagePullerOptions:
        """Return self if every field is valid, else raise a ``ConfigurationError``."""
        if isinstance(self.extra_images, str):
            raise invalid(
                scope,
                "ImagePullerOptions.extra_images",
                self.extra_images,
                allowed="a sequence of images",
                fix='pass extra_images=["quay.io/example/tools:1.0"]',
            )
        for image in self.extra_images:
            check_image(scope, "ImagePullerOptions.extra_images", image)
        if self.resources is not None:
            if not isinstance(self.resources, Resources):
                raise invalid(
                    scope,
                    "ImagePullerOptions.resources",
                    self.resources,
                    allowed="a Resources(cpu_request, cpu_limit, memory_request, memory_limit)",
                    fix='e.g. Resources("10m", "50m", "16Mi", "32Mi")',
                )
            self.resources.checked(scope, "ImagePullerOptions.resources")
        if isinstance(self.extra_tolerations, str | Mapping):
            raise invalid(
                scope,
                "ImagePullerOptions.extra_tolerations",
                self.extra_tolerations,
                allowed="a list of Toleration values",
                fix='e.g. [Toleration("dedicated", effect="NoSchedule")]',
            )
        for toleration in self.extra_tolerations:
            if not isinstance(toleration, Toleration):
                raise invalid(
                    scope,
                    "ImagePullerOptions.extra_tolerations",
                    toleration,
                    allowed="Toleration values",
                    fix='e.g. Toleration("dedicated", effect="NoSchedule")',
                )
            check_toleration(
                scope,
                "ImagePullerOptions.extra_tolerations",
                key=toleration.key,
                operator=toleration.operator,
                value=toleration.value,
                effect=toleration.effect,
            )
        check_sequence(
            scope,
            "ImagePullerOptions.pull_secrets",
            self.pull_secrets,
            lambda what, name: check_dns_subdomain(scope, what, name),
        )
        return self

    def container_resources(self) -> dict[str, Any]:
        """The ``resources`` of the puller's containers."""
        return self.resources.to_kube() if self.resources is not None else dict(_TINY)


def placement_key(placement: Mapping[str, Any]) -> str:
    """A stable key grouping profiles that land on the same nodes.

    Args:
        placement: The pod spec fields placing a profile's servers (``nodeSelector``,
            ``tolerations``, ``affinity``).
    """
    return json.dumps(placement, sort_keys=True)


class ImagePuller(Construct):
    """One DaemonSet pulling the images of every profile that shares a placement.

    Args:
        scope: The hub.
        id: Construct id.
        name: The DaemonSet's name.
        labels: Labels of the DaemonSet and its pods.
        selector: The pods' selector labels.
        placement: Where the pods run: pod spec fields (``nodeSelector``,
            ``tolerations``, ``affinity``), as ``hub.user_pod_placement(profile)`` gives them.
        options: Extra images, pull secrets, resources and tolerations. Default:
            ``ImagePullerOptions()``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        labels: dict[str, str],
        selector: dict[str, str],
        placement: Mapping[str, Any],
        options: ImagePullerOptions | None = None,
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        self.name = name
        self.placement = dict(placement)
        self.key = placement_key(placement)
        self.options = options or ImagePullerOptions()
        self._images: list[str] = []
        self._pull_secrets: list[str] = list(self.options.pull_secrets)
        self._labels = labels
        self._selector = selector
        self.daemon_set = KubeObject(
            self,
            "DaemonSet",
            api_version="apps/v1",
            kind="DaemonSet",
            name=name,
            labels=labels,
            body=self._render,
        )
        self._scanner_exceptions()

    def add_image(self, image: str) -> None:
        """Pull ``image`` too (once, in the order given)."""
        if image not in self._images:
            self._images.append(image)
            self._scanner_exceptions()

    def _scanner_exceptions(self) -> None:
        # The profiles' images are pulled as the profiles name them (pinned by tag, never
        # latest; by digest when the profile gives one).
        exceptions = security.scanner_exceptions(
            {
                "CKV_K8S_15": security.PULL_POLICY,
                "CKV_K8S_8": security.NOTHING_TO_PROBE,
                "CKV_K8S_9": security.NOTHING_TO_PROBE,
                "CKV_K8S_43": unpinned_reason([*self.images(), PAUSE_IMAGE]),
            }
        )
        # Images are only ever added, so the exceptions only grow: each key is rewritten.
        for key, value in exceptions.items():
            self.daemon_set.add_annotation(key, value)

    def add_pull_secret(self, name: str) -> None:
        """Pull with Secret ``name`` too (once, in the order given)."""
        if name not in self._pull_secrets:
            self._pull_secrets.append(name)

    def images(self) -> list[str]:
        """Distinct images to pull, in profile order, then the extra images."""
        return list(dict.fromkeys([*self._images, *self.options.extra_images]))

    def pull_secrets(self) -> list[str]:
        """The pull secrets of every image it pulls."""
        return list(self._pull_secrets)

    def _render(self) -> dict[str, Any]:
        container_security = security.restricted_container(PULLER_UID, PULLER_UID)
        resources = self.options.container_resources()
        init_containers = [
            {
                "name": f"image-pull-{index}",
                "image": image,
                "imagePullPolicy": "IfNotPresent",
                # Pulling is the point; the container only has to start and exit.
                "command": ["/bin/sh", "-c", "echo Pulling complete"],
                "resources": resources,
                "securityContext": container_security,
            }
            for index, image in enumerate(self.images())
        ]
        pod: dict[str, Any] = {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "terminationGracePeriodSeconds": 0,
            "securityContext": security.restricted_pod(),
            "initContainers": init_containers,
            "containers": [
                {
                    "name": "pause",
                    "image": PAUSE_IMAGE,
                    "resources": resources,
                    "securityContext": container_security,
                }
            ],
        }
        if self._pull_secrets:
            pod["imagePullSecrets"] = [{"name": name} for name in self._pull_secrets]
        pod.update({k: v for k, v in self.placement.items() if k != "tolerations"})
        tolerations = [
            *self.placement.get("tolerations", []),
            *(t.to_kube() for t in self.options.extra_tolerations),
        ]
        if tolerations:
            pod["tolerations"] = tolerations
        return {
            "spec": {
                "selector": {"matchLabels": self._selector},
                "updateStrategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": "100%"},
                },
                "template": {"metadata": {"labels": self._labels}, "spec": pod},
            }
        }
