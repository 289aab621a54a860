"""EndpointSlices for Services whose pods have loopback addresses (the test kubelet's).

The API server refuses loopback addresses in ``Endpoints`` and in ``IPv4``/``IPv6``
EndpointSlices — the real endpointslice controller fails with ``EndpointSlice ... is
invalid: endpoints[0].addresses[0]: Invalid value: "127.x.y.z": may not be in the loopback
range (127.0.0.0/8, ::1/128)`` — and this machine allows only loopback addresses as
targets. So for one Service this writes the slice that controller would write (the
Service's ready pods by its selector, the Service's ports with a named ``targetPort``
resolved against the pod's container ports, the ``kubernetes.io/service-name`` label,
the Service's labels, ``targetRef`` and ``nodeName``) with ``addressType: FQDN``, whose
addresses are not range-checked (``127.1.2.3`` is a valid DNS name). Prometheus'
``endpointslice`` discovery reads FQDN slices like the others: everything after the
slice — selection by Service labels and port name, relabeling, scraping — is the real
program's. ``Endpoints`` (the v1 API, deprecated since Kubernetes 1.33) cannot be
stood in for: its addresses must be IPs.
"""

from __future__ import annotations

from typing import Any

from tests.support.kube.client import ApiError, KubeClient

Obj = dict[str, Any]
#: The ``endpointslice.kubernetes.io/managed-by`` value of these slices (the real
#: controller leaves slices of other managers alone).
MANAGER = "loopback-mirror.jupyter-constructs.test"


def _selected(pod: Obj, selector: dict[str, str]) -> bool:
    labels = pod["metadata"].get("labels") or {}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _ready(pod: Obj) -> bool:
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def _target_port(service_port: Obj, pod: Obj) -> int | None:
    target = service_port.get("targetPort", service_port["port"])
    if isinstance(target, int):
        return target
    for container in pod["spec"]["containers"]:
        for port in container.get("ports") or []:
            if port.get("name") == target:
                return int(port["containerPort"])
    return None


def mirror_endpoint_slice(admin: KubeClient, namespace: str, service_name: str) -> Obj:
    """Write (create or replace) the FQDN EndpointSlice of ``service_name``; return it."""
    service = admin.get(f"/api/v1/namespaces/{namespace}/services/{service_name}")
    selector = service["spec"].get("selector") or {}
    pods = [
        p
        for p in admin.get(f"/api/v1/namespaces/{namespace}/pods")["items"]
        if _selected(p, selector) and p.get("status", {}).get("podIP")
    ]
    ports: list[Obj] = []
    for service_port in service["spec"]["ports"]:
        number = next((n for p in pods if (n := _target_port(service_port, p))), None)
        if number is not None:
            ports.append(
                {
                    "name": service_port.get("name", ""),
                    "port": number,
                    "protocol": service_port.get("protocol", "TCP"),
                }
            )
    name = f"{service_name}-loopback"
    endpoint_slice: Obj = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                **(service["metadata"].get("labels") or {}),
                "kubernetes.io/service-name": service_name,
                "endpointslice.kubernetes.io/managed-by": MANAGER,
            },
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "name": service_name,
                    "uid": service["metadata"]["uid"],
                }
            ],
        },
        "addressType": "FQDN",
        "endpoints": [
            {
                "addresses": [pod["status"]["podIP"]],
                "conditions": {"ready": _ready(pod), "serving": _ready(pod), "terminating": False},
                "nodeName": pod["spec"].get("nodeName"),
                "targetRef": {
                    "kind": "Pod",
                    "namespace": namespace,
                    "name": pod["metadata"]["name"],
                    "uid": pod["metadata"]["uid"],
                },
            }
            for pod in pods
        ],
        "ports": ports,
    }
    path = f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices"
    try:
        admin.delete(f"{path}/{name}")
    except ApiError as error:
        if error.status != 404:
            raise
    stored, _ = admin.create(endpoint_slice, namespace)
    return stored
