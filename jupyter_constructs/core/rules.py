r"""Kubernetes field rules, checked where a value enters the library (at synth, not at spawn).

Each rule is the one the API server (or the kubelet, or KubeSpawner) applies to the field
the value ends up in, written from its source and cited beside it. No PyPI package
implements these functions: kubernetes-validate checks OpenAPI schemas (types and
required fields, no name or label formats) and the ``kubernetes`` client validates nothing.

Sources (Kubernetes 1.34):

- ``VALIDATION``: k8s.io/apimachinery/pkg/util/validation/validation.go
  (``IsDNS1123Label``, ``IsDNS1123Subdomain``, ``IsDNS1035Label``, ``IsQualifiedName``,
  ``IsValidLabelValue``, ``IsEnvVarName``, ``IsValidPortName``, ``IsConfigMapKey``).
- ``CORE``: k8s.io/kubernetes/pkg/apis/core/validation/validation.go
  (``ValidateTolerations``, ``ValidateVolumeMounts``, ``validateContainerResourceName``,
  ``ValidateEnv``, the image whitespace check of ``validateContainers``).
- ``META``: k8s.io/apimachinery/pkg/api/validation/objectmeta.go (``ValidateAnnotations``).
- ``HELPER``: k8s.io/kubernetes/pkg/apis/core/helper/helpers.go
  (``IsExtendedResourceName``, ``IsNativeResource``).

Every check returns the value when it is valid and raises ``ConfigurationError`` in the
house format otherwise (where, what, the value, what is allowed, how to fix it). Patterns
are matched with ``re.fullmatch`` and ASCII classes: Python's ``$`` also matches before a
final newline and ``\d`` matches any Unicode digit, Go's regexp does neither.

The predicates (``is_*``) take any object and never raise, so tests and property-based
strategies can use them as the reference (``tests/strategies.py``).
"""

from __future__ import annotations

import ipaddress
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import urlparse

from jupyter_constructs.core.errors import Where, invalid

_T = TypeVar("_T")

# -- the formats of validation.go ------------------------------------------------------------

_DNS1123_LABEL_FMT = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_FMT = r"[a-z](?:[-a-z0-9]*[a-z0-9])?"
_QUALIFIED_NAME_FMT = r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_ENV_VAR_NAME_FMT = r"[-._a-zA-Z][-._a-zA-Z0-9]*"
_CONFIG_MAP_KEY_FMT = r"[-._a-zA-Z0-9]+"

DNS_LABEL = re.compile(rf"\A(?=.{{1,63}}\Z){_DNS1123_LABEL_FMT}\Z", re.ASCII)
"""A DNS-1123 label (``IsDNS1123Label``): at most 63 characters."""
DNS_SUBDOMAIN = re.compile(
    rf"\A(?=.{{1,253}}\Z){_DNS1123_LABEL_FMT}(?:\.{_DNS1123_LABEL_FMT})*\Z", re.ASCII
)
"""A DNS-1123 subdomain (``IsDNS1123Subdomain``): at most 253 characters."""
DNS_NAME = re.compile(
    rf"\A(?=.{{1,253}}\Z)(?:(?=[^.]{{1,63}}\.){_DNS1123_LABEL_FMT}\.)+"
    rf"(?=[^.]{{1,63}}\Z)[a-z](?:[-a-z0-9]*[a-z0-9])?\Z",
    re.ASCII,
)
"""A fully qualified host name: two or more DNS labels of at most 63 characters each, the
last one starting with a letter (a top-level domain), 253 characters in all."""
LABEL_VALUE = re.compile(rf"\A(?:(?=.{{1,63}}\Z){_QUALIFIED_NAME_FMT})?\Z", re.ASCII)
"""A label value (``IsValidLabelValue``): empty, or at most 63 characters."""
_QUALIFIED_NAME = re.compile(rf"\A(?=.{{1,63}}\Z){_QUALIFIED_NAME_FMT}\Z", re.ASCII)
_ENV_VAR_NAME = re.compile(rf"\A{_ENV_VAR_NAME_FMT}\Z", re.ASCII)
_CONFIG_MAP_KEY = re.compile(rf"\A(?=.{{1,253}}\Z){_CONFIG_MAP_KEY_FMT}\Z", re.ASCII)
_PORT_NAME = re.compile(r"\A(?=.{1,15}\Z)(?=.*[a-z])[a-z0-9](?:-?[a-z0-9])*\Z", re.ASCII)
# registry[:port]/repo[:tag][@sha256:digest] (github.com/distribution/reference); we require
# a tag or a digest.
_IMAGE = re.compile(
    r"\A(?P<repo>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+(?=/))?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?\Z",
    re.ASCII,
)
# A Go duration (time.ParseDuration, which metav1.Duration uses): "1h30m", "90s", "0".
_GO_DURATION = re.compile(r"\A(?:0|(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+)\Z")
# A Prometheus duration, as the Prometheus Operator CRDs' pattern for ``interval``.
_PROMETHEUS_DURATION = re.compile(
    r"\A(?:0|(?=[0-9])(?:[0-9]+y)?(?:[0-9]+w)?(?:[0-9]+d)?(?:[0-9]+h)?(?:[0-9]+m)?"
    r"(?:[0-9]+s)?(?:[0-9]+ms)?)\Z"
)

#: Total size of one object's annotations (keys and values), ``TotalAnnotationSizeLimitB``.
ANNOTATIONS_SIZE_LIMIT = 256 * 1024
_RESOURCE_REQUESTS_PREFIX = "requests."
_NATIVE_RESOURCE_DOMAIN = "kubernetes.io/"
TOLERATION_OPERATORS = ("Equal", "Exists")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")

# Characters cdk8s's YAML writer puts into the manifests as they are, and that YAML parsers
# refuse ("control characters are not allowed": go-yaml, so kubectl and ArgoCD; PyYAML) or
# read back as another value (NEL, U+2028 and U+2029 are line breaks in YAML 1.1, which
# go-yaml follows: a quoted one is folded into a space, a plain one breaks the file).
# YAML 1.2 section 5.1: c-printable excludes U+007F-U+0084, U+0086-U+009F, U+FFFE, U+FFFF
# and surrogates. Other control characters (NUL, tab, ...) are written as escapes.
YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufffe\uffff\ud800-\udfff]")
MANIFEST_TEXT_ALLOWED = (
    "text without DEL (U+007F), C1 control characters (U+0080-U+009F), the line and "
    "paragraph separators U+2028 and U+2029 or the non-characters U+FFFE and U+FFFF (the "
    "manifests are YAML: kubectl and ArgoCD would refuse the file or read another value)"
)

# -- predicates ---------------------------------------------------------------------------------


def unsafe_character(value: str) -> str | None:
    """The first character of ``value`` YAML manifests cannot carry as written, or ``None``.

    See ``MANIFEST_TEXT_ALLOWED``; the character is returned as ``'U+XXXX'``.
    """
    found = YAML_UNSAFE.search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


def is_manifest_text(value: object) -> bool:
    """A string the YAML manifests carry as written (``MANIFEST_TEXT_ALLOWED``)."""
    return isinstance(value, str) and YAML_UNSAFE.search(value) is None


def is_clean_text(value: object) -> bool:
    """A string without control or format characters and without surrounding whitespace.

    Free text (display names, descriptions, user names) ends up in YAML, JSON, HTML and
    command lines; a newline, a NUL, a bidi override or a trailing space there is never
    meant. Empty strings pass (``check_text`` decides whether they are allowed).
    """
    if not isinstance(value, str) or value != value.strip() or not is_manifest_text(value):
        return False
    return not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") for c in value)


def is_dns_label(value: object) -> bool:
    """``IsDNS1123Label`` (VALIDATION): namespaces, container, volume and port-less names."""
    return isinstance(value, str) and DNS_LABEL.match(value) is not None


def is_dns1035_label(value: object) -> bool:
    """``IsDNS1035Label`` (VALIDATION): Service names (start with a letter)."""
    return is_dns_label(value) and isinstance(value, str) and value[0].isalpha()


def is_dns_subdomain(value: object) -> bool:
    """``IsDNS1123Subdomain`` (VALIDATION): names of Secrets, ConfigMaps, PVCs, classes..."""
    return isinstance(value, str) and DNS_SUBDOMAIN.match(value) is not None


def is_host_name(value: object) -> bool:
    """A fully qualified host name (an Ingress ``host``, ``IsDNS1123Subdomain`` and not an IP)."""
    return isinstance(value, str) and DNS_NAME.match(value) is not None


def is_qualified_name(value: object) -> bool:
    """``IsQualifiedName`` (VALIDATION): label keys, taint and toleration keys.

    ``[prefix/]name``: the prefix a DNS-1123 subdomain, the name 1-63 characters of
    ``[-A-Za-z0-9_.]`` starting and ending with an alphanumeric character.
    """
    if not isinstance(value, str):
        return False
    parts = value.split("/")
    if len(parts) == 2:
        prefix, name = parts
        if not is_dns_subdomain(prefix):
            return False
    elif len(parts) == 1:
        name = parts[0]
    else:
        return False
    return _QUALIFIED_NAME.match(name) is not None


is_label_key = is_qualified_name
"""A label key (``ValidateLabelName`` in meta/v1/validation: ``IsQualifiedName``)."""


def is_label_value(value: object) -> bool:
    """``IsValidLabelValue`` (VALIDATION): empty or a 63-character qualified name part."""
    return isinstance(value, str) and LABEL_VALUE.match(value) is not None


def is_annotation_key(value: object) -> bool:
    """``ValidateAnnotations`` (META): ``IsQualifiedName`` of the key in lower case."""
    return isinstance(value, str) and is_qualified_name(value.lower())


def is_env_var_name(value: object) -> bool:
    """``IsEnvVarName`` (VALIDATION): ``[-._a-zA-Z][-._a-zA-Z0-9]*``, not ``.``/``..``.

    Kubernetes 1.32+ accepts any printable ASCII but ``=`` (``IsRelaxedEnvVarName``,
    feature RelaxedEnvironmentVariableValidation, GA in 1.34); older API servers use this
    rule. The library supports 1.27 and later, so it keeps the rule every version accepts.
    """
    return (
        isinstance(value, str)
        and _ENV_VAR_NAME.match(value) is not None
        and not value.startswith("..")
        and value != "."
    )


def is_config_map_key(value: object) -> bool:
    """``IsConfigMapKey`` (VALIDATION): keys of Secrets and ConfigMaps."""
    return (
        isinstance(value, str)
        and _CONFIG_MAP_KEY.match(value) is not None
        and not value.startswith("..")
        and value != "."
    )


def is_port_name(value: object) -> bool:
    """``IsValidPortName`` (VALIDATION): 1-15 of ``[-a-z0-9]`` with a letter, no ``--``.

    It may not start or end with ``-`` either.
    """
    return isinstance(value, str) and _PORT_NAME.match(value) is not None


def is_port_number(value: object) -> bool:
    """``IsValidPortNum`` (VALIDATION): an integer 1-65535 (``bool`` is not one)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536


def is_extended_resource_name(value: object) -> bool:
    """``IsExtendedResourceName`` (HELPER), as ``validateContainerResourceName`` (CORE) checks it.

    A qualified name with a domain prefix outside ``kubernetes.io/``, not starting with
    ``requests.``, and ``requests.<name>`` must still be a qualified name (the quota key).
    """
    if not isinstance(value, str) or not is_qualified_name(value) or "/" not in value:
        return False
    if _NATIVE_RESOURCE_DOMAIN in value or value.startswith(_RESOURCE_REQUESTS_PREFIX):
        return False
    return is_qualified_name(_RESOURCE_REQUESTS_PREFIX + value)


_HUGEPAGES_NAME = re.compile(r"\Ahugepages-[1-9][0-9]*(?:Ki|Mi|Gi)\Z", re.ASCII)
# At most 18 digits: a resource.Quantity holds an int64 (the API server refuses more).
_WHOLE_NUMBER = re.compile(r"\A[1-9][0-9]{0,17}\Z", re.ASCII)


def is_hugepages_resource_name(value: object) -> bool:
    """``IsHugePageResourceName`` (HELPER), with a page size that parses.

    ``hugepages-`` then a positive binary quantity (``hugepages-2Mi``, ``hugepages-1Gi``),
    as ``HugePageSizeFromResourceName`` (HELPER) reads it.
    """
    return isinstance(value, str) and _HUGEPAGES_NAME.match(value) is not None


def is_whole_number(value: object) -> bool:
    """A positive whole number written as text (``"1"``), as an extended resource takes.

    ``ValidateResourceRequirements`` (CORE): extended resources must be integers
    (``IsIntegerResourceName``) that fit a ``resource.Quantity`` (int64: at most 18
    digits here); the library also refuses ``0`` and any other spelling.
    """
    return isinstance(value, str) and _WHOLE_NUMBER.match(value) is not None


def is_absolute_path(value: object) -> bool:
    """A mount path: absolute, normalised (no empty, ``.`` or ``..`` segment), clean text.

    ``ValidateVolumeMounts`` (CORE) only requires a non-empty, unique ``mountPath``; the
    container runtime then resolves it. Relative paths, ``..`` and ``:`` (the Windows
    drive and the old ``src:dst`` syntax) are refused here, so what the pod mounts is
    what the manifest says.
    """
    if not isinstance(value, str) or not is_clean_text(value) or not value.startswith("/"):
        return False
    if value == "/":
        return False
    segments = value[1:].split("/")
    return all(s not in ("", ".", "..") for s in segments) and ":" not in value


def is_path_segment_name(value: object) -> bool:
    """``IsValidPathSegmentName`` (k8s.io/apimachinery/pkg/api/validation/path/name.go).

    The name rule of RBAC objects (``ValidateRBACName``): not ``.`` or ``..``, no ``/``
    or ``%`` (so ``jupyterhub:jupyter:user-scheduler`` is valid). Also clean, non-empty
    text and at most 253 characters here, as every object name is stored in etcd keys.
    """
    return (
        is_clean_text(value)
        and isinstance(value, str)
        and 0 < len(value) <= 253
        and value not in (".", "..")
        and "/" not in value
        and "%" not in value
    )


def is_relative_path(value: object) -> bool:
    """A path inside a volume (``subPath``, ``items[].path``): relative, no ``..`` segment.

    ``validateLocalDescendingPath`` and ``validateLocalNonReservedPath`` (CORE): not
    absolute, no ``..`` element (nor starting with ``..`` for ``items[].path``). Also
    clean text here: a control character or surrounding whitespace is a mistake.
    """
    return (
        is_clean_text(value)
        and isinstance(value, str)
        and value != ""
        and not value.startswith("/")
        and ".." not in value.split("/")
    )


def is_image(value: object) -> bool:
    """An image reference pinned by tag or digest, tag not ``latest``.

    The API server only refuses an empty image or one with surrounding whitespace
    (``validateContainers``, CORE); the container runtime then refuses a malformed
    reference at pull time. We check the reference grammar (github.com/distribution/reference)
    and require a pin, so a bad image fails at synth.
    """
    match = _IMAGE.match(value) if isinstance(value, str) else None
    if match is None or not (match["tag"] or match["digest"]) or match["tag"] == "latest":
        return False
    return len(match["repo"]) <= 255


def is_go_duration(value: object) -> bool:
    """A Go duration (``time.ParseDuration``, ``metav1.Duration``) such as ``"1h"``, ``"90s"``."""
    return isinstance(value, str) and _GO_DURATION.match(value) is not None


def is_prometheus_duration(value: object) -> bool:
    """A Prometheus duration, the Prometheus Operator CRDs' pattern (``"30s"``, ``"1m30s"``)."""
    return isinstance(value, str) and value != "" and _PROMETHEUS_DURATION.match(value) is not None


def is_cidr(value: object) -> bool:
    """An IPv4/IPv6 network in canonical form (host bits zero), as NetworkPolicy ``ipBlock``."""
    if not isinstance(value, str):
        return False
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        return False
    return str(network) == value


def is_int(value: object) -> bool:
    """An ``int`` that is not a ``bool`` (JSON has no such confusion; Python has)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """A finite ``int`` or ``float`` that is not a ``bool``."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# -- rules: a predicate with its message --------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A rule a value must follow, with the sentence that says what is allowed.

    Attributes:
        name: Short name (``"dns-label"``), used in docs/validation.md.
        allowed: What is allowed, for the ``Allowed:`` part of the message.
        test: The predicate.
        source: The Kubernetes (or other) source the rule follows.
    """

    name: str
    allowed: str
    test: Callable[[object], bool]
    source: str

    def __call__(self, value: object) -> bool:
        """True when ``value`` follows the rule."""
        return self.test(value)


VALIDATION_GO = "k8s.io/apimachinery/pkg/util/validation/validation.go"
CORE_VALIDATION_GO = "k8s.io/kubernetes/pkg/apis/core/validation/validation.go"

DNS_LABEL_RULE = Rule(
    "dns-label",
    "a DNS-1123 label: 1-63 lowercase letters, digits and '-', starting and ending with a "
    "letter or digit",
    is_dns_label,
    f"IsDNS1123Label, {VALIDATION_GO}",
)
DNS1035_LABEL_RULE = Rule(
    "dns-1035-label",
    "a DNS-1035 label: 1-63 lowercase letters, digits and '-', starting with a letter and "
    "ending with a letter or digit",
    is_dns1035_label,
    f"IsDNS1035Label, {VALIDATION_GO}",
)
PATH_SEGMENT_NAME_RULE = Rule(
    "path-segment-name",
    "a name without '/' or '%', not '.' or '..', without whitespace at the ends or "
    "control characters (RBAC object names, e.g. 'jupyterhub:jupyter:user-scheduler')",
    is_path_segment_name,
    "IsValidPathSegmentName, k8s.io/apimachinery/pkg/api/validation/path/name.go "
    "(ValidateRBACName, k8s.io/kubernetes/pkg/apis/rbac/validation/validation.go)",
)
DNS_SUBDOMAIN_RULE = Rule(
    "dns-subdomain",
    "a DNS-1123 subdomain: at most 253 characters, dot-separated lowercase labels of "
    "letters, digits and '-', each starting and ending with a letter or digit",
    is_dns_subdomain,
    f"IsDNS1123Subdomain, {VALIDATION_GO}",
)
HOST_NAME_RULE = Rule(
    "host-name",
    "a lowercase fully qualified host name such as 'jupyter.example.com' (no scheme, port, "
    "path, IP address or surrounding whitespace)",
    is_host_name,
    "IsDNS1123Subdomain and not an IP (validateIngressRules, "
    "k8s.io/kubernetes/pkg/apis/networking/validation/validation.go)",
)
LABEL_KEY_RULE = Rule(
    "label-key",
    "a label key: an optional DNS subdomain prefix and '/', then 1-63 letters, digits, '-', "
    "'_' and '.', starting and ending with a letter or digit",
    is_label_key,
    f"IsQualifiedName, {VALIDATION_GO}",
)
LABEL_VALUE_RULE = Rule(
    "label-value",
    "a label value: empty, or 1-63 letters, digits, '-', '_' and '.', starting and ending "
    "with a letter or digit",
    is_label_value,
    f"IsValidLabelValue, {VALIDATION_GO}",
)
ANNOTATION_KEY_RULE = Rule(
    "annotation-key",
    "an annotation key: an optional DNS subdomain prefix and '/', then 1-63 letters, digits, "
    "'-', '_' and '.', starting and ending with a letter or digit",
    is_annotation_key,
    "ValidateAnnotations, k8s.io/apimachinery/pkg/api/validation/objectmeta.go",
)
ENV_VAR_NAME_RULE = Rule(
    "env-var-name",
    "an environment variable name: letters, digits, '_', '-' and '.', not starting with a "
    "digit or '..' (the rule of every Kubernetes version since 1.27)",
    is_env_var_name,
    f"IsEnvVarName, {VALIDATION_GO}",
)
CONFIG_MAP_KEY_RULE = Rule(
    "config-map-key",
    "1-253 letters, digits, '-', '_' and '.', not '.' or starting with '..'",
    is_config_map_key,
    f"IsConfigMapKey, {VALIDATION_GO}",
)
PORT_NAME_RULE = Rule(
    "port-name",
    "a port name: 1-15 lowercase letters, digits and '-', at least one letter, no '--', "
    "not starting or ending with '-'",
    is_port_name,
    f"IsValidPortName, {VALIDATION_GO}",
)
PORT_NUMBER_RULE = Rule(
    "port-number",
    "an integer 1-65535",
    is_port_number,
    f"IsValidPortNum, {VALIDATION_GO}",
)
EXTENDED_RESOURCE_RULE = Rule(
    "extended-resource-name",
    "an extended resource name with a domain outside kubernetes.io, such as 'nvidia.com/gpu' "
    "or 'amd.com/gpu' (letters, digits, '-', '_' and '.' after the '/')",
    is_extended_resource_name,
    "IsExtendedResourceName, k8s.io/kubernetes/pkg/apis/core/helper/helpers.go; "
    f"validateContainerResourceName, {CORE_VALIDATION_GO}",
)
ABSOLUTE_PATH_RULE = Rule(
    "absolute-path",
    "an absolute path such as '/home/jovyan/shared': no empty, '.' or '..' segment, no ':', "
    "no trailing '/', no control characters",
    is_absolute_path,
    f"ValidateVolumeMounts, {CORE_VALIDATION_GO} (stricter: normalised absolute paths only)",
)
IMAGE_RULE = Rule(
    "image",
    "an image reference pinned by tag or digest, e.g. "
    "'quay.io/jupyter/scipy-notebook:2025-01-13' (':latest' and untagged images change "
    "under you and are refused)",
    is_image,
    f"validateContainers, {CORE_VALIDATION_GO}; github.com/distribution/reference",
)
GO_DURATION_RULE = Rule(
    "go-duration",
    "a Go duration such as '1h', '30m' or '1h30m' (units ns, us, ms, s, m, h)",
    is_go_duration,
    "time.ParseDuration (Go), metav1.Duration",
)
PROMETHEUS_DURATION_RULE = Rule(
    "prometheus-duration",
    "a Prometheus duration such as '30s', '1m' or '1m30s' (units y, w, d, h, m, s, ms, in "
    "that order)",
    is_prometheus_duration,
    "the 'Duration' pattern of the Prometheus Operator CRDs (monitoring.coreos.com)",
)
CIDR_RULE = Rule(
    "cidr",
    "a CIDR with its host bits zero, such as '10.0.0.0/16' or '172.20.0.10/32'",
    is_cidr,
    "validateIPBlock (k8s.io/kubernetes/pkg/apis/networking/validation/validation.go)",
)
MANIFEST_TEXT_RULE = Rule(
    "manifest-text",
    MANIFEST_TEXT_ALLOWED,
    is_manifest_text,
    "YAML 1.2 section 5.1 (c-printable) and go-yaml's reader ('control characters are not "
    "allowed'): what kubectl and ArgoCD parse the manifests with",
)
TEXT_RULE = Rule(
    "text",
    "a non-empty string without control characters, line breaks or surrounding whitespace",
    lambda v: is_clean_text(v) and v != "",
    "the library's own rule for free text (YAML, JSON, HTML and command lines)",
)


# -- checks: raise in the house format ---------------------------------------------------------


def check(where: Where, what: str, value: _T, rule: Rule, *, fix: str) -> _T:
    """Return ``value`` if it follows ``rule``, else raise a ``ConfigurationError``.

    Args:
        where: The construct (or label) the error names.
        what: The parameter, e.g. ``"namespace"``.
        value: The value received.
        rule: The rule it must follow.
        fix: How to fix it, for the message.

    Raises:
        ConfigurationError: ``value`` breaks ``rule``.
    """
    if not rule(value):
        raise invalid(where, what, value, allowed=rule.allowed, fix=fix)
    return value


def check_dns_label(where: Where, what: str, value: Any) -> str:
    """Return ``value`` if it is a DNS-1123 label, else raise with the house message."""
    checked = check(
        where, what, value, DNS_LABEL_RULE, fix=f"choose a {what} like 'jupyter' or 'team-a'"
    )
    return cast("str", checked)


def check_dns_subdomain(where: Where, what: str, value: Any) -> str:
    """Return ``value`` if it is a DNS-1123 subdomain (object names of most kinds)."""
    checked = check(
        where, what, value, DNS_SUBDOMAIN_RULE, fix=f"choose a {what} like 'fast-ssd' or 'team-a'"
    )
    return cast("str", checked)


def check_domain(where: Where, value: Any, *, what: str = "domain") -> str:
    """Return ``value`` if it is a fully qualified DNS name (no scheme, no path).

    Args:
        where: The construct (or label) the error names.
        value: The host name.
        what: What the value is, for the message. Default: ``"domain"``.

    Raises:
        ConfigurationError: ``value`` is not a lowercase fully qualified host name.
    """
    checked = check(
        where,
        what,
        value,
        HOST_NAME_RULE,
        fix="pass only the host name users type in the browser",
    )
    return cast("str", checked)


def check_image(where: Where, what: str, value: Any) -> str:
    """Return ``value`` if it names an image by tag or digest, and the tag is not ``latest``."""
    checked = check(
        where, what, value, IMAGE_RULE, fix="add an explicit version tag or an @sha256: digest"
    )
    return cast("str", checked)


def check_cidr(where: Where, what: str, cidr: Any) -> str:
    """Return ``cidr`` if it is an IPv4/IPv6 network in canonical form (host bits zero)."""
    checked = check(where, what, cidr, CIDR_RULE, fix="write the network address and prefix length")
    return cast("str", checked)


def check_text(
    where: Where, what: str, value: Any, *, empty: bool = False, max_length: int | None = None
) -> str:
    """Return ``value`` if it is clean free text (``is_clean_text``).

    Args:
        where: The construct (or label) the error names.
        what: The parameter.
        value: The value received.
        empty: Allow ``""``. Default: False.
        max_length: At most this many characters. Default: no limit.

    Raises:
        ConfigurationError: ``value`` is not a string, is empty, too long, has control
            characters or surrounding whitespace.
    """
    ok = is_clean_text(value) and (empty or value != "")
    if ok and max_length is not None and len(value) > max_length:
        ok = False
    if not ok:
        allowed = "a " + ("" if empty else "non-empty ") + "string without control characters, "
        allowed += "line breaks or surrounding whitespace"
        if max_length is not None:
            allowed += f", at most {max_length} characters"
        raise invalid(where, what, value, allowed=allowed, fix=f"write {what} on one line, trimmed")
    return cast("str", value)


def check_int(
    where: Where,
    what: str,
    value: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    fix: str | None = None,
) -> int:
    """Return ``value`` if it is an ``int`` (not a ``bool``, not a string) within the bounds.

    Raises:
        ConfigurationError: ``value`` is not an integer or out of range.
    """
    if (
        not is_int(value)
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        raise invalid(
            where,
            what,
            value,
            allowed=_range("an integer", minimum, maximum),
            fix=fix or _fix(what),
        )
    return cast("int", value)


def check_number(
    where: Where,
    what: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive: bool = False,
    fix: str | None = None,
) -> float:
    """Return ``value`` if it is a finite ``int`` or ``float`` (not a ``bool``) within bounds.

    Args:
        where: The construct (or label) the error names.
        what: The parameter.
        value: The value received.
        minimum: Lowest allowed value. Default: none.
        maximum: Highest allowed value. Default: none.
        exclusive: The bounds themselves are not allowed. Default: False.
        fix: How to fix it. Default: a generic hint.

    Raises:
        ConfigurationError: ``value`` is not a number or out of range.
    """
    ok = is_number(value)
    if ok and minimum is not None:
        ok = value > minimum if exclusive else value >= minimum
    if ok and maximum is not None:
        ok = value < maximum if exclusive else value <= maximum
    if not ok:
        allowed = _range("a finite number", minimum, maximum, exclusive=exclusive)
        raise invalid(where, what, value, allowed=allowed, fix=fix or _fix(what))
    return cast("float", value)


def check_bool(where: Where, what: str, value: Any) -> bool:
    """Return ``value`` if it is ``True`` or ``False`` (not ``1``, not ``"true"``)."""
    if not isinstance(value, bool):
        raise invalid(where, what, value, allowed="True or False", fix=f"pass {what}=True or False")
    return value


def check_choice(where: Where, what: str, value: _T, choices: Sequence[_T], *, fix: str) -> _T:
    """Return ``value`` if it is one of ``choices`` (compared by type and value)."""
    if not any(type(value) is type(c) and value == c for c in choices):
        raise invalid(where, what, value, allowed=", ".join(map(str, choices)), fix=fix)
    return value


def check_sequence(
    where: Where, what: str, values: Sequence[_T], item: Callable[[str, object], object]
) -> list[_T]:
    """Return ``values`` as a list after ``item(what[i], value)`` checked each element.

    A string is not a sequence of strings here (``admin_users="alice"`` is a mistake).

    Raises:
        ConfigurationError: ``values`` is a string, a mapping or not a sequence, or an
            element is refused by ``item``.
    """
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence | tuple | list):
        raise invalid(
            where,
            what,
            values,
            allowed="a list or tuple",
            fix=f"pass {what}=[...], even for one element",
        )
    for index, value in enumerate(values):
        item(f"{what}[{index}]", value)
    return list(values)


def check_mapping(
    where: Where,
    what: str,
    values: Mapping[str, _T],
    *,
    key: Rule,
    value: Rule | None = None,
    fix: str,
) -> dict[str, _T]:
    """Return ``values`` as a dict after checking every key (and value) against the rules.

    Raises:
        ConfigurationError: ``values`` is not a mapping, or a key or value breaks its rule.
    """
    if not isinstance(values, Mapping):
        raise invalid(where, what, values, allowed="a mapping (dict)", fix=fix)
    for k, v in values.items():
        check(where, f"{what} key", k, key, fix=fix)
        if value is not None:
            check(where, f"{what}[{k!r}]", v, value, fix=fix)
    return dict(values)


def check_labels(where: Where, what: str, labels: Mapping[str, str]) -> dict[str, str]:
    """Return ``labels`` if every key is a label key and every value a label value."""
    return check_mapping(
        where,
        what,
        labels,
        key=LABEL_KEY_RULE,
        value=LABEL_VALUE_RULE,
        fix="use Kubernetes label keys and values, e.g. {'app.kubernetes.io/name': 'trino'}",
    )


def check_node_selector(where: Where, what: str, selector: Mapping[str, str]) -> dict[str, str]:
    """A pod ``nodeSelector``: labels (``ValidateLabels`` on ``spec.nodeSelector``, CORE)."""
    return check_mapping(
        where,
        what,
        selector,
        key=LABEL_KEY_RULE,
        value=LABEL_VALUE_RULE,
        fix="copy a node label, e.g. {'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB'}",
    )


def check_annotations(where: Where, what: str, annotations: Mapping[str, str]) -> dict[str, str]:
    """Return ``annotations`` if keys, values and total size are what the API server accepts.

    Every key an annotation key, every value a string, and the whole within 256 KiB
    (``ValidateAnnotations``, META).
    """
    checked = check_mapping(
        where,
        what,
        annotations,
        key=ANNOTATION_KEY_RULE,
        value=Rule(
            "annotation-value",
            "a string: " + MANIFEST_TEXT_ALLOWED,
            is_manifest_text,
            "ObjectMeta.annotations; YAML 1.2 section 5.1",
        ),
        fix="use annotation keys such as 'nginx.ingress.kubernetes.io/proxy-body-size' with "
        "string values",
    )
    size = sum(len(k.encode()) + len(v.encode()) for k, v in checked.items())
    if size > ANNOTATIONS_SIZE_LIMIT:
        raise invalid(
            where,
            f"{what} size",
            size,
            allowed=f"at most {ANNOTATIONS_SIZE_LIMIT} bytes of keys and values in all",
            fix="keep large data in a ConfigMap, not in annotations",
        )
    return checked


ENV_VALUE_RULE = Rule(
    "env-value",
    "a string without NUL characters (the kernel's environment is NUL-separated), "
    + MANIFEST_TEXT_ALLOWED,
    lambda v: isinstance(v, str) and "\0" not in v and is_manifest_text(v),
    "execve(2): NUL-terminated environment strings; YAML 1.2 section 5.1",
)


def check_manifest_text(where: Where, what: str, value: str, *, fix: str) -> str:
    """Return ``value`` unless it holds a character the YAML manifests cannot carry.

    Raises:
        ConfigurationError: ``value`` has DEL, a C1 control character, U+2028, U+2029,
            U+FFFE or U+FFFF (the message names which, at which index).
    """
    char = unsafe_character(value)
    if char is not None:
        index = YAML_UNSAFE.search(value).start()  # type: ignore[union-attr]
        raise invalid(
            where,
            what,
            value,
            allowed=MANIFEST_TEXT_ALLOWED,
            fix=f"remove the character {char} at index {index}; {fix}",
        )
    return value


def check_env(where: Where, what: str, env: Mapping[str, str]) -> dict[str, str]:
    """Environment variables given as name -> plain string value (``ValidateEnv``, CORE).

    Values are any string without NUL (the kernel's environment is NUL-separated).
    """
    return check_mapping(
        where,
        what,
        env,
        key=ENV_VAR_NAME_RULE,
        value=ENV_VALUE_RULE,
        fix="name variables like 'MY_SETTING' and give string values",
    )


def check_toleration(
    where: Where,
    what: str,
    *,
    key: str | None,
    operator: str,
    value: str | None,
    effect: str | None,
) -> None:
    """One pod toleration, as ``ValidateTolerations`` (CORE) checks it.

    ``key`` a label key (or empty only with ``Exists``), ``operator`` ``Equal`` or
    ``Exists``, ``value`` a label value with ``Equal`` and empty with ``Exists``,
    ``effect`` empty or a taint effect.

    Raises:
        ConfigurationError: One of those rules is broken.
    """
    if key not in (None, ""):
        check(
            where,
            f"{what}.key",
            key,
            LABEL_KEY_RULE,
            fix="copy the taint key, e.g. 'nvidia.com/gpu'",
        )
    check_choice(
        where, f"{what}.operator", operator, TOLERATION_OPERATORS, fix="use 'Exists' or 'Equal'"
    )
    if not key and operator != "Exists":
        raise invalid(
            where,
            f"{what}.operator",
            operator,
            allowed="'Exists' when key is empty (that tolerates every taint)",
            fix="give the taint key, or use operator='Exists'",
        )
    if operator == "Exists" and value not in (None, ""):
        raise invalid(
            where,
            f"{what}.value",
            value,
            allowed="no value with operator 'Exists' (it matches every value)",
            fix="drop value=, or use operator='Equal'",
        )
    if operator == "Equal":
        check(
            where,
            f"{what}.value",
            "" if value is None else value,
            LABEL_VALUE_RULE,
            fix="copy the taint value",
        )
    if effect not in (None, ""):
        check_choice(where, f"{what}.effect", effect, TAINT_EFFECTS, fix="use 'NoSchedule'")


def check_volumes(
    where: Where,
    what: str,
    volumes: Sequence[Mapping[str, Any]],
    mounts: Sequence[Mapping[str, Any]],
) -> None:
    """Volumes and one container's mounts, as ``ValidateVolumes``/``ValidateVolumeMounts`` (CORE).

    Volume names are DNS labels and unique; every mount names a volume; mount paths are
    absolute (``is_absolute_path``) and unique in the container; ``subPath`` is relative
    without ``..``.

    Raises:
        ConfigurationError: One of those rules is broken.
    """
    names: set[str] = set()
    for index, volume in enumerate(volumes):
        name = volume.get("name") if isinstance(volume, Mapping) else None
        check(
            where,
            f"{what} volumes[{index}].name",
            name,
            DNS_LABEL_RULE,
            fix="name the volume like 'data'",
        )
        assert isinstance(name, str)
        if name in names:
            raise invalid(
                where,
                f"{what} volume name",
                name,
                allowed="each volume name once per pod",
                fix="rename one of the volumes",
            )
        names.add(name)
    paths: set[str] = set()
    for index, mount in enumerate(mounts):
        if not isinstance(mount, Mapping):
            raise invalid(
                where,
                f"{what} volume_mounts[{index}]",
                mount,
                allowed="a mapping",
                fix="pass a dict",
            )
        name = mount.get("name")
        if name not in names:
            raise invalid(
                where,
                f"{what} volume_mounts[{index}].name",
                name,
                allowed=f"the name of a volume of the pod ({', '.join(sorted(names)) or 'none'})",
                fix="add the volume, or mount one that exists",
            )
        path = mount.get("mountPath")
        check(
            where,
            f"{what} volume_mounts[{index}].mountPath",
            path,
            ABSOLUTE_PATH_RULE,
            fix="mount at an absolute path",
        )
        assert isinstance(path, str)
        if path in paths:
            raise invalid(
                where,
                f"{what} mount path",
                path,
                allowed="each mount path once per container",
                fix="mount the volumes at different paths",
            )
        paths.add(path)
        sub_path = mount.get("subPath")
        if sub_path is not None and not is_relative_path(sub_path):
            raise invalid(
                where,
                f"{what} volume_mounts[{index}].subPath",
                sub_path,
                allowed="a relative path without '..' (validateLocalDescendingPath)",
                fix="give a path inside the volume",
            )


def _range(
    kind: str, minimum: float | None, maximum: float | None, *, exclusive: bool = False
) -> str:
    low, high = ("above", "below") if exclusive else ("at least", "at most")
    if minimum is not None and maximum is not None:
        return f"{kind} {low} {minimum} and {high} {maximum} (not a bool or a string)"
    if minimum is not None:
        return f"{kind} {low} {minimum} (not a bool or a string)"
    if maximum is not None:
        return f"{kind} {high} {maximum} (not a bool or a string)"
    return f"{kind} (not a bool or a string)"


def _fix(what: str) -> str:
    return f"pass {what} as a number, without quotes"


def is_url(value: object, schemes: Sequence[str] = ("https",)) -> bool:
    """An absolute URL with one of ``schemes`` and a host, without whitespace or controls."""
    if not is_clean_text(value) or not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    try:
        parsed = urlparse(value)
        port = parsed.port
    except ValueError:
        return False
    host = parsed.hostname or ""
    if parsed.scheme not in schemes or not host or port == 0:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return is_dns_subdomain(host) or is_dns_label(host)


def check_url(
    where: Where, what: str, value: str, *, schemes: Sequence[str] = ("https",), fix: str
) -> str:
    """Return ``value`` if it is an absolute URL with one of ``schemes`` (``is_url``).

    Raises:
        ConfigurationError: It is not.
    """
    if not is_url(value, schemes):
        raise invalid(
            where,
            what,
            value,
            allowed=f"an absolute {' or '.join(s + '://' for s in schemes)} URL with a lowercase "
            "host name, no whitespace",
            fix=fix,
        )
    return value


def check_token(where: Where, what: str, value: Any, *, example: str) -> str:
    """Return ``value`` if it is clean, non-empty text without any whitespace (ids, claims).

    Raises:
        ConfigurationError: It is not.
    """
    if (
        not is_clean_text(value)
        or not isinstance(value, str)
        or not value
        or any(c.isspace() for c in value)
    ):
        raise invalid(
            where,
            what,
            value,
            allowed="a non-empty string without whitespace or control characters",
            fix=f"e.g. {what}={example!r}",
        )
    return value


def is_labels(labels: object) -> bool:
    """True if ``labels`` is a mapping whose keys are label keys and values label values."""
    return isinstance(labels, Mapping) and all(
        is_label_key(k) and is_label_value(v) for k, v in labels.items()
    )
