"""Continuous image pre-puller: every node that can run a profile already has its image.

Notebook images are several GB; pulling one at spawn time makes users wait minutes.
A DaemonSet per placement (node selector + tolerations, e.g. GPU nodes) lists the
images of the profiles that land there as init containers, which makes the kubelet
pull them, then sleeps in a pause container. It is a plain DaemonSet, not a Helm hook
(z2jh's hook-based puller stalls upgrades, their #2099), so a new image rolls out like
any other change. Images of GPU profiles are pulled only on GPU nodes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from constructs import Construct

from jupyter_constructs.core import security
from jupyter_constructs.core.images import PAUSE_IMAGE, unpinned_reason
from jupyter_constructs.core.objects import KubeObject, adopt

PULLER_UID = 65534
_TINY = {"requests": {"cpu": "0", "memory": "0"}, "limits": {"cpu": "10m", "memory": "16Mi"}}


def placement_key(placement: Mapping[str, Any]) -> str:
    """A stable key grouping profiles that land on the same nodes.

    Args:
        placement: A profile's ``placement()`` (``nodeSelector``, ``tolerations``).
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
        placement: Where the pods run (``NotebookProfile.placement()``).
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
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        self.name = name
        self.placement = dict(placement)
        self.key = placement_key(placement)
        self._images: list[str] = []
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
                "CKV_K8S_43": unpinned_reason([*self._images, PAUSE_IMAGE]),
            }
        )
        # Images are only ever added, so the exceptions only grow: each key is rewritten.
        for key, value in exceptions.items():
            self.daemon_set.add_annotation(key, value)

    def images(self) -> list[str]:
        """Distinct images to pull, in profile order."""
        return list(self._images)

    def _render(self) -> dict[str, Any]:
        container_security = security.restricted_container(PULLER_UID, PULLER_UID)
        init_containers = [
            {
                "name": f"image-pull-{index}",
                "image": image,
                "imagePullPolicy": "IfNotPresent",
                # Pulling is the point; the container only has to start and exit.
                "command": ["/bin/sh", "-c", "echo Pulling complete"],
                "resources": _TINY,
                "securityContext": container_security,
            }
            for index, image in enumerate(self._images)
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
                    "resources": _TINY,
                    "securityContext": container_security,
                }
            ],
        }
        if self.placement["nodeSelector"]:
            pod["nodeSelector"] = self.placement["nodeSelector"]
        if self.placement["tolerations"]:
            pod["tolerations"] = self.placement["tolerations"]
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
