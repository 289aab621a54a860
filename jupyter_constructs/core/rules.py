"""Kubernetes field rules, checked where a value enters the library.

Each check returns the value when it is valid and raises ``ConfigurationError`` in the
house format otherwise (where, what, value, what is allowed, how to fix it).
References: DNS-1123 names and labels
(https://kubernetes.io/docs/concepts/overview/working-with-objects/names/), label
syntax (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/),
image references (https://github.com/distribution/reference).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

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


def check_domain(scope: Construct, value: str, *, what: str = "domain") -> str:
    """Return ``value`` if it is a fully qualified DNS name (no scheme, no path).

    Args:
        scope: Where an error is (its path is named).
        value: The host name.
        what: What the value is, for the message. Default: ``"domain"``.
    """
    if not isinstance(value, str) or not DNS_NAME.match(value):
        raise invalid(
            scope,
            what,
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


LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def is_labels(labels: Mapping[str, str]) -> bool:
    """True if every key and value of ``labels`` is a valid Kubernetes label."""
    return all(
        isinstance(key, str)
        and LABEL_KEY.match(key)
        and isinstance(value, str)
        and LABEL_VALUE.match(value)
        for key, value in labels.items()
    )


def check_cidr(scope: Construct, what: str, cidr: str) -> str:
    """Return ``cidr`` if it is an IPv4/IPv6 network in canonical form (host bits zero)."""
    try:
        network = ipaddress.ip_network(cidr, strict=True)
    except (TypeError, ValueError):
        network = None
    if network is None or str(network) != cidr:
        raise invalid(
            scope,
            what,
            cidr,
            allowed="a CIDR with its host bits zero, such as '10.0.0.0/16' or '172.20.0.10/32'",
            fix="write the network address and prefix length",
        )
    return cidr
