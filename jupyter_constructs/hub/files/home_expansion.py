"""Grow a user's existing home claim to the configured size when their server starts.

KubeSpawner sets a home claim's size only when it creates the claim
(``KubeSpawner.storage_capacity``); a larger ``UserStorage(size=...)`` reaches new users
only. This pre-spawn hook, shipped in the hub ConfigMap beside ``jupyterhub_config.py``
(which installs it, chained after any ``pre_spawn_hook`` of custom hub code), raises
``spec.resources.requests.storage`` of the user's existing claim when it is smaller
than the configured size, never lowers it, and never fails a spawn: when the API server
refuses (the StorageClass has no ``allowVolumeExpansion``, the claim is not bound yet,
the namespace's ``requests.storage`` quota is full) the server starts with the old
size and the hub logs a warning with the API server's reason. Kubernetes then grows
the volume (and, for most drivers, the file system when the pod mounts it):
https://kubernetes.io/docs/concepts/storage/persistent-volumes/#expanding-persistent-volumes-claims
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from jupyterhub.utils import maybe_future
from kubernetes_asyncio.client.rest import ApiException

#: Suffixes of Kubernetes quantities (k8s.io/apimachinery resource.Quantity).
_FACTORS = {
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$")


def parse_quantity(text: str) -> Decimal | None:
    """Bytes of a storage quantity (``"10Gi"``, ``"500M"``), or None if it is not one."""
    match = _QUANTITY.match(str(text).strip())
    if not match:
        return None
    try:
        return Decimal(match.group(1)) * _FACTORS[match.group(2)]
    except InvalidOperation:
        return None


async def grow_home(spawner: Any) -> None:
    """Raise the requested size of ``spawner``'s existing home claim to the configured one."""
    if not spawner.storage_pvc_ensure or not spawner.storage_capacity:
        return
    name, namespace, wanted = spawner.pvc_name, spawner.namespace, spawner.storage_capacity
    try:
        claim = await spawner.api.read_namespaced_persistent_volume_claim(
            name=name, namespace=namespace
        )
    except ApiException as error:
        if error.status != 404:  # 404: a new user, KubeSpawner creates it at the size
            spawner.log.warning(
                "Home claim %s/%s: could not read it to check its size (HTTP %s %s); "
                "the server starts as it is",
                namespace,
                name,
                error.status,
                error.reason,
            )
        return
    requests = (claim.spec.resources.requests if claim.spec.resources else None) or {}
    current = requests.get("storage")
    have, want = parse_quantity(current or ""), parse_quantity(wanted)
    if have is None or want is None or have >= want:
        return
    try:
        await spawner.api.patch_namespaced_persistent_volume_claim(
            name=name,
            namespace=namespace,
            body={"spec": {"resources": {"requests": {"storage": wanted}}}},
        )
    except ApiException as error:
        spawner.log.warning(
            "Home claim %s/%s stays %s, smaller than the configured %s: the API server "
            "refused to grow it (HTTP %s: %s). The server starts with the old size, no "
            "data is touched. To grow it: a StorageClass with allowVolumeExpansion: true "
            "(docs/user-servers.md, 'Changing home settings on a running hub').",
            namespace,
            name,
            current,
            wanted,
            error.status,
            _reason(error),
        )
        return
    spawner.log.info(
        "Home claim %s/%s grown from %s to %s (volume expansion requested)",
        namespace,
        name,
        current,
        wanted,
    )


def _reason(error: ApiException) -> str:
    """The API server's message of ``error`` (its Status body), else its reason."""
    try:
        return str(json.loads(error.body or "{}").get("message") or error.reason)
    except (TypeError, ValueError, AttributeError):
        return str(error.reason)


def with_home_growth(
    hook: Callable[[Any], Awaitable[None] | None] | None,
) -> Callable[[Any], Awaitable[None]]:
    """A ``pre_spawn_hook`` that runs ``hook`` (custom hub code's own, if any), then grows
    the home claim."""

    async def pre_spawn_hook(spawner: Any) -> None:
        if hook is not None:
            await maybe_future(hook(spawner))
        # Never hold up or fail a spawn for a home's size: JupyterHub awaits this hook
        # before start() and outside start_timeout, so an API server that does not answer
        # (or a connection refused) would otherwise leave the spawn pending or failed.
        # Two of KubeSpawner's own request timeouts: a read, then a patch.
        timeout = 2 * float(getattr(spawner, "k8s_api_request_timeout", 3) or 3)
        try:
            await asyncio.wait_for(grow_home(spawner), timeout)
        except Exception as error:  # any failure: log it, start as it is
            spawner.log.warning(
                "Home claim of %s: its size was not checked (%s: %s); the server starts as it is",
                getattr(getattr(spawner, "user", None), "name", "?"),
                type(error).__name__,
                error or f"no answer within {timeout:g} s",
            )

    return pre_spawn_hook
