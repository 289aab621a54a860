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
from typing import TYPE_CHECKING, Any

from constructs import Construct

from jupyter_constructs.core import security
from jupyter_constructs.core._utils import LateApiObject
from jupyter_constructs.core.images import PAUSE_IMAGE

if TYPE_CHECKING:
    from jupyter_constructs.hub.profiles import NotebookProfile

PULLER_UID = 65534
_TINY = {"requests": {"cpu": "0", "memory": "0"}, "limits": {"cpu": "10m", "memory": "16Mi"}}


def placement(profile: NotebookProfile) -> dict[str, Any]:
    """Where a profile's servers run: merged node selector and tolerations."""
    entry = profile.to_profile_entry()["kubespawner_override"]
    return {
        "nodeSelector": entry.get("node_selector", {}),
        "tolerations": entry.get("tolerations", []),
    }


def placement_key(profile: NotebookProfile) -> str:
    """A stable key grouping profiles that land on the same nodes."""
    return json.dumps(placement(profile), sort_keys=True)


class ImagePuller(Construct):
    """One DaemonSet pulling the images of every profile that shares a placement."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        labels: dict[str, str],
        selector: dict[str, str],
        first_profile: NotebookProfile,
    ) -> None:
        super().__init__(scope, id)
        self.name = name
        self.key = placement_key(first_profile)
        self._profiles: list[NotebookProfile] = [first_profile]
        self._labels = labels
        self._selector = selector
        self.daemon_set = LateApiObject(
            self,
            "DaemonSet",
            api_version="apps/v1",
            kind="DaemonSet",
            name=name,
            labels=labels,
            render=self._render,
        )

    def add(self, profile: NotebookProfile) -> None:
        self._profiles.append(profile)

    def images(self) -> list[str]:
        """Distinct images to pull, in profile order."""
        images: list[str] = []
        for profile in self._profiles:
            image = profile.effective_image()
            if image not in images:
                images.append(image)
        return images

    def _render(self) -> dict[str, Any]:
        # Plain Kubernetes JSON (see JupyterHub._render_deployment for why).
        where = placement(self._profiles[0])
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
                    "resources": _TINY,
                    "securityContext": container_security,
                }
            ],
        }
        if where["nodeSelector"]:
            pod["nodeSelector"] = where["nodeSelector"]
        if where["tolerations"]:
            pod["tolerations"] = where["tolerations"]
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
