"""The hub Deployment: one replica, ``Recreate``, the generated config mounted read-only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jupyter_constructs.core import security
from jupyter_constructs.core.images import HUB_UID
from jupyter_constructs.core.quantities import Resources
from jupyter_constructs.core.secrets import SecretRef
from jupyter_constructs.hub.auth import AUTH_FILES_DIR
from jupyter_constructs.hub.config import CONFIG_FILE
from jupyter_constructs.hub.database import DATABASE_CLAIM, HUB_DATA_DIR
from jupyter_constructs.hub.rbac import HUB_SERVICE_ACCOUNT
from jupyter_constructs.hub.scheduling import Placement

HUB_PORT = 8081
CONFIG_DIR = "/usr/local/etc/jupyterhub"
CONFIG_MAP = "hub-config"


def secret_env(refs: Mapping[str, SecretRef]) -> list[dict[str, Any]]:
    """Container env vars read from Secrets, in the order given."""
    return [{"name": name, "valueFrom": ref.env_value_from()} for name, ref in refs.items()]


def hub_deployment_body(
    *,
    image: str,
    env: list[dict[str, Any]],
    resources: Resources,
    selector: Mapping[str, str],
    labels: Mapping[str, str],
    config_checksum: str,
    database_volume: bool,
    secret_files: Mapping[str, SecretRef] | None = None,
    probe_path: str = "/hub/health",
    placement: Placement | None = None,
    config_items: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The Deployment's ``spec``.

    Args:
        image: The hub image.
        env: The hub container's env vars (secrets only: the rest is in the config).
        resources: The hub container's requests and limits.
        selector: The hub pods' selector labels.
        labels: The hub pods' labels.
        config_checksum: Checksum of the config files; a change rolls the pod.
        database_volume: The database lives on the ``hub-db-dir`` PVC (sqlite); otherwise
            the data directory is an emptyDir.
        secret_files: Files of Secrets the authenticator reads, by file name, mounted
            read-only under ``AUTH_FILES_DIR``. Default: none.
        probe_path: The hub's health endpoint (``<base_url>hub/health``). Default:
            ``/hub/health``.
        placement: The core pool's node affinity and tolerations. Default: none.
        config_items: Where each ConfigMap key goes in the config folder (``items``),
            for templates in a ``templates/`` subfolder. Default: every key at the top.
    """
    config_volume: dict[str, Any] = {"name": CONFIG_MAP}
    if config_items is not None:
        config_volume["items"] = config_items
    health = {"httpGet": {"path": probe_path, "port": "http"}, "timeoutSeconds": 3}
    if database_volume:
        data_volume = {"name": "hub-data", "persistentVolumeClaim": {"claimName": DATABASE_CLAIM}}
    else:
        data_volume = {"name": "hub-data", "emptyDir": {}}
    container: dict[str, Any] = {
        "name": "hub",
        "image": image,
        "command": ["jupyterhub", "--config", f"{CONFIG_DIR}/{CONFIG_FILE}"],
        "env": env,
        "ports": [{"name": "http", "containerPort": HUB_PORT}],
        "resources": resources.to_kube(),
        "securityContext": security.restricted_container(HUB_UID, HUB_UID),
        # A database upgrade on start can take minutes: the startup probe allows 5.
        "startupProbe": {**health, "periodSeconds": 5, "failureThreshold": 60},
        "livenessProbe": {**health, "periodSeconds": 10, "failureThreshold": 6},
        "readinessProbe": {**health, "periodSeconds": 5, "failureThreshold": 2},
        "volumeMounts": [
            {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
            {"name": "hub-data", "mountPath": HUB_DATA_DIR},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    volumes: list[dict[str, Any]] = [
        {"name": "config", "configMap": config_volume},
        data_volume,
        {"name": "tmp", "emptyDir": {}},
    ]
    if secret_files:
        container["volumeMounts"].append(
            {"name": "auth-files", "mountPath": AUTH_FILES_DIR, "readOnly": True}
        )
        volumes.append(
            {
                "name": "auth-files",
                "projected": {
                    # Owner and group (fsGroup) read; nobody writes.
                    "defaultMode": 0o440,
                    "sources": [
                        {
                            "secret": {
                                "name": ref.name,
                                "items": [{"key": ref.key, "path": file_name}],
                            }
                        }
                        for file_name, ref in sorted(secret_files.items())
                    ],
                },
            }
        )
    return {
        "spec": {
            # Exactly one: the hub owns its database and its in-memory state. Recreate,
            # so the old hub has released its database and volume before the new starts.
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": dict(selector)},
            "template": {
                "metadata": {
                    "labels": dict(labels),
                    "annotations": {"checksum/config": config_checksum},
                },
                "spec": {
                    "serviceAccountName": HUB_SERVICE_ACCOUNT,
                    # The hub talks to the Kubernetes API (KubeSpawner): it needs a token.
                    "automountServiceAccountToken": True,
                    "enableServiceLinks": False,
                    "securityContext": security.restricted_pod(fs_group=HUB_UID),
                    "containers": [container],
                    "volumes": volumes,
                    **(placement.pod_fields() if placement else {}),
                },
            },
        }
    }
