"""A small synchronous client for the test API server: REST calls, server-side apply, warnings.

Plain HTTPS with ``requests`` instead of a generated client because the tests need what
generated clients hide: the API server's ``Warning`` headers (deprecated fields, odd
finalizers), its ``Status`` message verbatim, and strict server-side field validation.
Resource paths come from the server's own discovery documents, so custom resources work
as soon as their CRD is established.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import requests
import yaml

T = TypeVar("T")
Obj = dict[str, Any]

#: The field manager ArgoCD uses for server-side apply.
ARGOCD_FIELD_MANAGER = "argocd-controller"
_RBAC_REFUSAL = re.compile(r'User "[^"]+" cannot [\w-]+ resource')
_WARNING = re.compile(r'^\d{3} \S+ "(?P<text>(?:[^"\\]|\\.)*)"')


class ApiError(Exception):
    """The API server refused a request; ``message`` is its own ``Status.message``."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.method, self.path, self.status, self.body = method, path, status, body
        if isinstance(body, dict):
            self.reason = str(body.get("reason", ""))
            self.message = str(body.get("message", body))
        else:
            self.reason, self.message = "", str(body)
        super().__init__(f"{method} {path}: HTTP {status} {self.reason}: {self.message}")


@dataclass(frozen=True)
class Resource:
    """One entry of the discovery document."""

    group_version: str
    kind: str
    plural: str
    namespaced: bool

    def collection(self, namespace: str | None) -> str:
        prefix = "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"
        if self.namespaced:
            if not namespace:
                raise ValueError(f"{self.kind} is namespaced: a namespace is needed")
            return f"{prefix}/namespaces/{namespace}/{self.plural}"
        return f"{prefix}/{self.plural}"


@dataclass
class KubeClient:
    """Calls to one API server with one identity (a bearer token)."""

    server: str
    ca_file: Path
    token: str
    user: str = "admin"
    _session: requests.Session = field(init=False, repr=False)
    _discovery: dict[tuple[str, str], Resource] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._session = requests.Session()
        # Only our CA, never a bundle or proxy from the environment (REQUESTS_CA_BUNDLE
        # would win over Session.verify; HTTPS_PROXY must not see loopback calls).
        self._session.trust_env = False
        self._session.verify = str(self.ca_file)
        self._session.headers["Authorization"] = f"Bearer {self.token}"
        self._session.headers["Accept"] = "application/json"

    # ------------------------------------------------------------------ plain REST

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        params: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> tuple[Any, list[str]]:
        """One call; returns the decoded body and the server's warnings.

        Raises:
            ApiError: Any HTTP status >= 400, with the server's message.
        """
        # UTF-8, not JSON's \uXXXX escapes: the API server parses apply patches as YAML,
        # which refuses the surrogate-pair escapes json.dumps writes for characters beyond
        # the Basic Multilingual Plane (kubectl and ArgoCD send UTF-8).
        text = (
            None
            if body is None
            else (body if isinstance(body, str) else json.dumps(body, ensure_ascii=False))
        )
        data = None if text is None else text.encode("utf-8")
        headers = {"Content-Type": content_type} if data is not None else {}
        response = self._session.request(
            method,
            self.server + path,
            data=data,
            headers=headers,
            params=params,
            timeout=timeout,
        )
        warnings = [
            match.group("text").replace('\\"', '"') if (match := _WARNING.match(w)) else w
            for w in response.raw.headers.getlist("Warning")
        ]
        try:
            decoded = response.json() if response.content else None
        except ValueError:
            decoded = response.text
        if response.status_code >= 400:
            raise ApiError(method, path, response.status_code, decoded)
        return decoded, warnings

    def get(self, path: str, **params: str) -> Any:
        return self.request("GET", path, params=params or None)[0]

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, body)[0]

    def delete(self, path: str, **params: str) -> Any:
        return self.request("DELETE", path, params=params or None)[0]

    def patch(self, path: str, body: Any, patch_type: str = "merge") -> Any:
        content_type = {
            "merge": "application/merge-patch+json",
            "strategic": "application/strategic-merge-patch+json",
            "json": "application/json-patch+json",
        }[patch_type]
        return self.request("PATCH", path, body, content_type=content_type)[0]

    def exists(self, path: str) -> bool:
        try:
            self.get(path)
        except ApiError as error:
            if error.status == 404:
                return False
            raise
        return True

    # ------------------------------------------------------------------ discovery

    def resource(self, api_version: str, kind: str) -> Resource:
        """The discovery entry of ``kind`` (refreshed once on a miss, for new CRDs)."""
        key = (api_version, kind)
        if key not in self._discovery:
            path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            try:
                listing = self.get(path)
            except ApiError as error:
                raise ApiError("GET", path, error.status, f"no API {api_version}") from error
            for entry in listing["resources"]:
                if "/" not in entry["name"]:
                    self._discovery[(api_version, entry["kind"])] = Resource(
                        api_version, entry["kind"], entry["name"], entry["namespaced"]
                    )
        if key not in self._discovery:
            raise KeyError(f"the API server serves no {kind} in {api_version}")
        return self._discovery[key]

    def path_of(self, obj: Obj, namespace: str | None = None) -> str:
        """The URL path of ``obj`` (its own namespace unless ``namespace`` overrides it)."""
        resource = self.resource(obj["apiVersion"], obj["kind"])
        ns = namespace or obj["metadata"].get("namespace")
        return f"{resource.collection(ns)}/{obj['metadata']['name']}"

    # ------------------------------------------------------------------ objects

    def apply(
        self,
        obj: Obj,
        *,
        namespace: str | None = None,
        field_manager: str = ARGOCD_FIELD_MANAGER,
        dry_run: bool = False,
    ) -> tuple[Obj, list[str]]:
        """Server-side apply with strict field validation (as ArgoCD's ServerSideApply=true).

        Returns:
            The object as stored and the server's warnings.

        Raises:
            ApiError: The server refused it (unknown field, immutable field, admission...).
        """
        if namespace is not None and self.resource(obj["apiVersion"], obj["kind"]).namespaced:
            obj = {**obj, "metadata": {**obj["metadata"], "namespace": namespace}}
        params = {"fieldManager": field_manager, "fieldValidation": "Strict", "force": "true"}
        if dry_run:
            params["dryRun"] = "All"
        stored, warnings = self.request(
            "PATCH",
            self.path_of(obj),
            obj,
            content_type="application/apply-patch+yaml",
            params=params,
        )
        return stored, warnings

    def create(
        self, obj: Obj, namespace: str | None = None, *, dry_run: bool = False
    ) -> tuple[Obj, list[str]]:
        """POST ``obj`` with strict field validation; returns it as stored and the warnings.

        With ``dry_run`` the server validates and admits it (every admission plugin, quota
        included) but stores nothing.
        """
        resource = self.resource(obj["apiVersion"], obj["kind"])
        ns = namespace or obj["metadata"].get("namespace")
        params = {"fieldValidation": "Strict"}
        if dry_run:
            params["dryRun"] = "All"
        stored, warnings = self.request("POST", resource.collection(ns), obj, params=params)
        return stored, warnings

    def delete_object(self, obj: Obj, namespace: str | None = None, **params: str) -> None:
        with contextlib.suppress(ApiError):
            self.delete(self.path_of(obj, namespace), **params)

    # ------------------------------------------------------------------ identities

    def token_for(self, namespace: str, service_account: str, seconds: int = 3600) -> str:
        """A TokenRequest token of ``service_account`` (what a pod's projected volume holds)."""
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": seconds},
        }
        reply = self.post(
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{service_account}/token", body
        )
        return str(reply["status"]["token"])

    def as_service_account(self, namespace: str, service_account: str) -> KubeClient:
        """A client that authenticates with the ServiceAccount's own token."""
        return KubeClient(
            self.server,
            self.ca_file,
            self.token_for(namespace, service_account),
            user=f"system:serviceaccount:{namespace}:{service_account}",
        )

    def can_i(
        self,
        verb: str,
        resource: str,
        namespace: str | None,
        *,
        group: str = "",
        subresource: str = "",
        name: str = "",
    ) -> bool:
        """A SelfSubjectAccessReview: what the API server's authorizer says for this identity.

        ``subresource`` is a real subresource check (``pods`` + ``exec``): the slash form
        ``pods/exec`` as a resource name would be a different, wrong question.
        """
        attributes = {
            "verb": verb,
            "resource": resource,
            "group": group,
            "subresource": subresource,
            "name": name,
        }
        if namespace:
            attributes["namespace"] = namespace
        review = self.post(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            {
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attributes},
            },
        )
        return bool(review["status"].get("allowed"))

    def attempt(
        self,
        verb: str,
        resource: str,
        namespace: str | None,
        *,
        group: str = "",
        name: str = "",
        subresource: str = "",
        version: str = "v1",
    ) -> tuple[bool, str]:
        """Make the real request (mutations as ``dryRun=All``) and report what the
        authorizer decided: ``(False, message)`` on 403, ``(True, "")`` on anything else
        (authorization comes before existence, validation and admission)."""
        prefix = "/api/v1" if not group else f"/apis/{group}/{version}"
        collection = (
            f"{prefix}/namespaces/{namespace}/{resource}" if namespace else f"{prefix}/{resource}"
        )
        item = f"{collection}/{name or 'does-not-exist'}"
        if subresource:
            item += f"/{subresource}"
        dry = {"dryRun": "All"}
        calls: dict[str, tuple[str, str, Any, dict[str, str]]] = {
            "get": ("GET", item, None, {}),
            "list": ("GET", collection, None, {}),
            "watch": ("GET", collection, None, {"watch": "1", "timeoutSeconds": "1"}),
            "create": (
                "POST",
                item if subresource else collection,
                {"metadata": {"name": name or "attempt"}},
                dry,
            ),
            "update": ("PUT", item, {"metadata": {"name": name or "attempt"}}, dry),
            "patch": ("PATCH", item, {}, dry),
            "delete": ("DELETE", item, None, dry),
            "deletecollection": ("DELETE", collection, None, dry),
        }
        if verb not in calls:
            raise ValueError(f"no request for verb {verb!r}: use can_i()")
        method, path, body, params = calls[verb]
        content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
        try:
            self.request(method, path, body, content_type=content_type, params=params)
        except ApiError as error:
            if error.status == 403 and _RBAC_REFUSAL.search(error.message):
                return False, error.message
        return True, ""

    def kubeconfig(self, path: Path, namespace: str = "default") -> Path:
        """Write a kubeconfig for this identity (for kubectl, KubeSpawner, ...)."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "test",
                    "cluster": {"server": self.server, "certificate-authority": str(self.ca_file)},
                }
            ],
            "users": [{"name": "user", "user": {"token": self.token}}],
            "contexts": [
                {
                    "name": "test",
                    "context": {"cluster": "test", "user": "user", "namespace": namespace},
                }
            ],
            "current-context": "test",
        }
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)
        return path

    def watch(
        self, path: str, *, resource_version: str | None = None, timeout: int = 60
    ) -> Iterator[Obj]:
        """Watch events of a collection (``{"type": ..., "object": ...}``) until the timeout."""
        params = {"watch": "1", "timeoutSeconds": str(timeout), "allowWatchBookmarks": "false"}
        if resource_version:
            params["resourceVersion"] = resource_version
        with self._session.get(
            self.server + path, params=params, stream=True, timeout=timeout + 10
        ) as response:
            if response.status_code >= 400:
                raise ApiError("GET", path, response.status_code, response.text)
            for line in response.iter_lines():
                if line:
                    yield json.loads(line)


def wait_until(
    check: Callable[[], T | None],
    timeout: float,
    what: str,
    *,
    interval: float = 0.2,
    on_timeout: Callable[[], str] | None = None,
) -> T:
    """Poll ``check`` until it returns a truthy value; fail after ``timeout`` seconds.

    Raises:
        TimeoutError: With ``what`` and, if given, ``on_timeout()`` (e.g. component logs).
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except (ApiError, requests.RequestException) as error:
            last_error = error
        if time.monotonic() > deadline:
            details = f"; last error: {last_error}" if last_error else ""
            extra = f"\n{on_timeout()}" if on_timeout else ""
            raise TimeoutError(f"{what}: not within {timeout:.0f} s{details}{extra}")
        time.sleep(interval)
