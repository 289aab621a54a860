"""An ingress controller stand-in: publishes an address in the status of its Ingresses.

What ingress-nginx does through the API server besides proxying: it owns an IngressClass
(``nginx``, controller ``k8s.io/ingress-nginx``) and writes the address of its load
balancer into ``status.loadBalancer.ingress`` of every Ingress of that class. ArgoCD's
health check of an Ingress waits for exactly that (Progressing until an address is
there). Nothing is proxied: the address is loopback.
"""

from __future__ import annotations

from typing import Any

from tests.support.kube.background import PollingLoop
from tests.support.kube.client import ApiError, KubeClient

Obj = dict[str, Any]

CONTROLLER = "k8s.io/ingress-nginx"
LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"


class IngressController(PollingLoop):
    """Fills ``status.loadBalancer.ingress`` of the Ingresses of class ``class_name``."""

    name = "ingress-controller"

    def __init__(
        self, admin: KubeClient, class_name: str = "nginx", address: str = "127.0.0.1"
    ) -> None:
        super().__init__()
        self.admin = admin
        self.class_name = class_name
        self.address = address

    def start(self) -> None:
        path = f"/apis/networking.k8s.io/v1/ingressclasses/{self.class_name}"
        if not self.admin.exists(path):
            self.admin.post(
                "/apis/networking.k8s.io/v1/ingressclasses",
                {
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "IngressClass",
                    "metadata": {"name": self.class_name},
                    "spec": {"controller": CONTROLLER},
                },
            )
        super().start()

    def _ours(self, ingress: Obj) -> bool:
        spec_class = ingress["spec"].get("ingressClassName")
        legacy = (ingress["metadata"].get("annotations") or {}).get(LEGACY_CLASS_ANNOTATION)
        return (spec_class or legacy) == self.class_name

    def sync_once(self) -> None:
        for ingress in self.admin.get("/apis/networking.k8s.io/v1/ingresses")["items"]:
            meta = ingress["metadata"]
            published = (ingress.get("status") or {}).get("loadBalancer", {}).get("ingress")
            if published or meta.get("deletionTimestamp") or not self._ours(ingress):
                continue
            try:
                self.admin.request(
                    "PATCH",
                    f"/apis/networking.k8s.io/v1/namespaces/{meta['namespace']}/ingresses/"
                    f"{meta['name']}/status",
                    {"status": {"loadBalancer": {"ingress": [{"ip": self.address}]}}},
                    content_type="application/merge-patch+json",
                )
            except ApiError as error:
                if error.status != 404:
                    raise
                continue
            self.note(f"published {self.address} for {meta['namespace']}/{meta['name']}")
