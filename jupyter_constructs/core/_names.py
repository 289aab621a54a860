"""cdk8s's generated object names, worked out in Python (private).

``cdk8s.Chart.generateObjectName`` names an unnamed object from its construct path
(``Names.toDnsLabel``): asking for it is a round-trip to cdk8s's Node.js process per
object. This is the same algorithm (cdk8s 2.70 ``names.ts``, constructs 10
``node-addr.ts``); ``KubeObject`` checks it against cdk8s once per chart, so a change
upstream shows as a mismatch, never as a wrong name.
"""

from __future__ import annotations

import hashlib
import os
import re

_MAX_LEN = 63
_HASH_LEN = 8
_VALID = re.compile(r"^[0-9a-z-]+$")
_NOT_ALLOWED = re.compile(r"[^0-9a-zA-Z-_.]")
_HIDDEN_ID = "Default"  # constructs leaves it out of addresses


def address(path: str) -> str:
    """The construct address (``node.addr``) of the construct at ``path``."""
    digest = hashlib.sha1()
    for component in ["", *path.split("/")]:  # the app's own id is ""
        if component == _HIDDEN_ID:
            continue
        digest.update(component.encode())
        digest.update(b"\n")
    return "c8" + digest.hexdigest()


def _hash(path: str) -> str:
    if os.environ.get("CDK8S_LEGACY_HASH"):
        return hashlib.sha256(path.encode()).hexdigest()[:_HASH_LEN]
    return address(path)[:_HASH_LEN]


def _human_form(components: list[str], delim: str, max_len: int) -> str:
    reversed_ = list(reversed(components))
    deduplicated = [c for i, c in enumerate(reversed_) if i == 0 or c != reversed_[i - 1]]
    trimmed = "/".join(deduplicated)[:max_len].split("/")
    joined = delim.join(c for c in reversed(trimmed) if c)
    parts = [p for p in joined.split(delim) if p]
    return delim.join(p for p in parts if p.lower() not in ("resource", "default"))


def dns_label(path: str, *, include_hash: bool, max_len: int = _MAX_LEN) -> str:
    """``cdk8s.Names.toDnsLabel`` of the construct at ``path``."""
    components = path.split("/")
    if len(components) == 1 and _VALID.match(components[0]) and len(components[0]) <= max_len:
        return components[0]
    components = [_NOT_ALLOWED.sub("", c.lower())[:max_len] for c in components]
    if include_hash:
        components.append(_hash(path))
    return _human_form(components, "-", max_len)
