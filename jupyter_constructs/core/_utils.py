"""Private helpers shared by the constructs: validation, labels, late-rendered objects."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import cdk8s
from constructs import Construct

from jupyter_constructs.core.errors import invalid

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# A host name: dot-separated DNS labels, at least two of them, at most 253 characters.
DNS_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
)
# registry/repo[:tag][@sha256:digest]; we require a tag or a digest.
_IMAGE = re.compile(
    r"^(?P<repo>[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*)"
    r"(:(?P<tag>[\w][\w.-]{0,127}))?(@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


def check_dns_label(scope: Construct, what: str, value: str) -> str:
    """Return ``value`` if it is a DNS-1123 label, else raise with the house message."""
    if not isinstance(value, str) or not DNS_LABEL.match(value):
        raise invalid(
            scope,
            what,
            value,
            allowed="a DNS-1123 label: 1-63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit",
            fix=f"choose a {what} like 'jupyter' or 'team-a'",
        )
    return value


def check_domain(scope: Construct, value: str) -> str:
    """Return ``value`` if it is a fully qualified DNS name (no scheme, no path)."""
    if not isinstance(value, str) or not DNS_NAME.match(value):
        raise invalid(
            scope,
            "domain",
            value,
            allowed="a lowercase fully qualified host name such as 'jupyter.example.com' "
            "(no scheme, port or path)",
            fix="pass only the host name users type in the browser",
        )
    return value


def check_image(scope: Construct, what: str, value: str) -> str:
    """Return ``value`` if it names an image by tag or digest, and the tag is not ``latest``."""
    match = _IMAGE.match(value) if isinstance(value, str) else None
    if match is None or not (match["tag"] or match["digest"]) or match["tag"] == "latest":
        raise invalid(
            scope,
            what,
            value,
            allowed="an image reference pinned by tag or digest, e.g. "
            "'quay.io/jupyter/scipy-notebook:2025-01-13' (':latest' and untagged images "
            "change under you and are refused)",
            fix="add an explicit version tag or an @sha256: digest",
        )
    return value


def attach_binding(owner: Construct, bindings: list[Any], binding: Any) -> None:
    """Add ``binding`` to ``owner`` (a hub or a profile) and bind it, once."""
    if binding in bindings:
        raise invalid(
            owner,
            "binding",
            binding.node.path,
            allowed="each binding once",
            fix="remove the second add_binding call",
        )
    bindings.append(binding)
    binding.bind(owner)


def sort_keys(value: Any) -> Any:
    """``value`` with every dict's keys sorted, recursively (lists keep their order)."""
    if isinstance(value, dict):
        return {key: sort_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sort_keys(item) for item in value]
    return value


def stable_json(value: Any) -> str:
    """JSON with sorted keys and fixed separators: same input, same bytes."""
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def sha256_of(data: Mapping[str, str]) -> str:
    """Checksum of a ConfigMap's data, used to roll pods when their config changes."""
    return hashlib.sha256(stable_json(dict(data)).encode()).hexdigest()


class LateApiObject(cdk8s.ApiObject):
    """An API object whose body is rendered at synth time, after every ``add_*`` call.

    cdk8s's typed L1 classes check their arguments when they are built, so they cannot
    carry a value that is only known later (the hub config, its checksum). This object
    keeps the metadata API of any ApiObject and asks ``render`` for the rest when the
    chart is synthesized. ``add_json_patch`` still works and is applied last.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        api_version: str,
        kind: str,
        name: str,
        labels: Mapping[str, str],
        render: Callable[[], dict[str, Any]],
    ) -> None:
        super().__init__(
            scope,
            id,
            api_version=api_version,
            kind=kind,
            metadata=cdk8s.ApiObjectMetadata(name=name, labels=dict(labels)),
        )
        self._render = render
        self._late_patches: list[cdk8s.JsonPatch] = []
        # The kind, readable without a round trip to the jsii runtime.
        self.late_kind = kind

    def add_json_patch(self, *ops: cdk8s.JsonPatch) -> None:
        """Queue JSON patches; they apply after the late body is rendered."""
        self._late_patches.extend(ops)

    def to_json(self) -> Any:
        manifest = dict(super().to_json())
        # cdk8s writes every object with sorted keys; a plain-dict body follows suit.
        manifest.update(sort_keys(self._render()))
        if self._late_patches:
            manifest = cdk8s.JsonPatch.apply(manifest, *self._late_patches)
        return manifest
