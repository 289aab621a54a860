"""Values for validation tests, by kind: known-bad examples and Hypothesis strategies.

One place for every test that feeds values into the library (tests/core/test_validation.py
walks the inventory with them; issue 23's whole-API property test against the real API
server can reuse them). A *kind* names the rule a parameter follows (``core.rules`` rule
names, plus the library's own kinds such as ``int>=1`` or ``secret-ref``).

- ``BAD[kind]``: values that break the rule (the classic mistakes: a trailing newline,
  surrounding spaces, upper case, one character too many, a bool for an int, a string
  for a number, a control character).
- ``strings(kind)``: a Hypothesis strategy of strings near the rule's boundary: valid
  values, valid values with one mutation (whitespace, control characters, Unicode
  look-alikes, case, length), and arbitrary Unicode text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

LONG = "a" * 64
NBSP = "\u00a0"
RTL_OVERRIDE = "\u202e"
ARABIC_ONE = "\u0661"  # matched by Python's \d, refused by Go's regexp

BAD: dict[str, list[Any]] = {
    "dns-label": ["Jupyter", "-jupyter", "jupyter_hub", LONG, "jupyter\n", " jupyter", "", 7],
    "dns-subdomain": ["Fast_SSD", "a..b", "-a", "a" * 254, "fast-ssd\n", " fast", "", 7],
    "host-name": [
        "jupyter.example.com\n",
        "Jupyter.Example.com",
        "https://jupyter.example.com",
        "10.0.0.1",
        "jupyter",
        " jupyter.example.com",
    ],
    "label-key": ["gpu type", "a/b/c", "/a", "-a", LONG, "gpu\n", 7],
    "label-value": ["a100 80gb", "-a", LONG, "a100\n", 7],
    "env-var-name": ["A=B", "1A", "", "A\n", "..A", "MY VAR"],
    "config-map-key": ["a b", "..x", "", "key\n", "a/b", "k" * 254],
    "port-name": ["HTTP", "a--b", "-http", "abcdefghijklmnop", "8080"],
    "port-number": [0, 65536, True, "8080", 80.5],
    "extended-resource-name": ["NVIDIA GPU", "gpu", "kubernetes.io/gpu", "nvidia.com/gpu\n"],
    "image": ["busybox", "busybox:latest", "busybox:1.36\n", "Busybox:1.36", " busybox:1.36"],
    "absolute-path": ["relative/path", "/a/../b", "/a/", "/a\n", ""],
    "go-duration": ["1 h", "1d", "", "1h\n", 60],
    "prometheus-duration": ["30 s", "", "30s\n", "1h1d", 30],
    "cidr": ["10.0.0.1/8", "10.0.0.0/33", "10.0.0.0", "10.0.0.0/8\n"],
    "cidrs": ["10.0.0.0/8", [], ["10.0.0.1/8"]],
    "text": ["", " Small", "Small\n", "a\x00b", RTL_OVERRIDE + "x", 7],
    "text-or-empty": [" x", "x\n", "a\x00b", 7],
    "token": ["", "a b", "abc\n", 7],
    "https-url": [
        "http://idp.example.com/token",
        "https://",
        "https://idp.example.com/token\n",
        "https://idp example.com",
        "ftp://idp.example.com",
    ],
    "bool": [1, "true", None],
    "int>=1": [0, -1, True, "300", 1.5],
    "int>=0": [-1, True, "0", 0.5],
    "ratio": [0, 1, 1.5, True, "0.1", float("nan")],
    "seconds>0": [0, -1, True, "1", float("inf")],
    "cpu": ["500 m", "-1", "0", "1\n", "2 cores", ARABIC_ONE],
    "memory": ["8 Gi", "8GB", "0", "8Gi\n", ARABIC_ONE + "Gi"],
    "secret-ref": ["the-actual-secret"],
    "labels": [{"gpu type": "a100"}, {"app": "a b"}, {"app\n": "x"}],
    "annotations": [{"not a key": "x"}, {"a/b/c": "x"}, {"x": 1}],
    "env": [{"A=B": "x"}, {"1A": "x"}, {"A": 1}, {"A": "a\x00b"}],
    "templated": ["{unknown}", "a}b", "{", "{username!r}"],
    "text-list": ["alice", [""], ["alice\n"], [7]],
    "toleration": [],
    "url-or-path": ["has space", "with#fragment", ""],
    "relative-path": ["/abs", "../x", "a/../b", "", "x\n", " x"],
    "whole-number": ["0", "1.5", "1\n", " 1", "01", "1e3", "-1", ARABIC_ONE],
}
"""Values that break each kind's rule."""

EXAMPLE: dict[str, tuple[Any, ...]] = {
    "bool": (True, False),
    "dns-label": ("team-b",),
    "dns-subdomain": ("team-b.data",),
    "host-name": ("team.example.org",),
    "labels": ({"team": "b"},),
    "annotations": ({"example.com/team": "b"},),
    "env": ({"TEAM": "b"},),
    "memory": ("2Gi",),
    "cpu": ("1500m",),
    "int": (3,),
    "int>=1": (3,),
    "int>=0": (2,),
    "seconds>0": (90,),
    "ratio": (0.5,),
    "port-number": (8081,),
    "text": ("Team B",),
    "text-or-empty": ("",),
    "text-list": (["ada"],),
    "token": ("team-b",),
    "token-list": (["openid", "email"],),
    "https-url": ("https://idp.example.com/x",),
    "absolute-path": ("/srv/team",),
    "cidrs": (["10.0.0.0/16"],),
    "image": ("quay.io/jupyter/base-notebook:2025-01-06",),
    "base-url": ("/team/",),
    "go-duration": ("90s",),
    "prometheus-duration": ("30s",),
    "label-key": ("example.com/team",),
    "label-value": ("b",),
    "config-map-key": ("team.json",),
    "email-list": (["ada@example.com"],),
    "host-name-list": (["old.example.com"],),
    "domain-list": (["example.org"],),
    "extended-resource-name": ("example.com/fpga",),
    "argv": (["echo", "ready"],),
    "dns-subdomain-list": (["registry-creds"],),
}
"""One value of each kind that every parameter of the kind accepts (rows whose field has
a narrower rule say so with ``Param.good``)."""

_VALID: dict[str, st.SearchStrategy[str]] = {
    "dns-label": st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True),
    "dns-subdomain": st.from_regex(
        r"[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?){0,3}",
        fullmatch=True,
    ),
    "host-name": st.from_regex(
        r"[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?){0,2}\.[a-z]{2,6}",
        fullmatch=True,
    ),
    "label-key": st.from_regex(
        r"([a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?(\.[a-z]{2,4})?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?",
        fullmatch=True,
    ),
    "label-value": st.from_regex(
        r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?)?", fullmatch=True
    ),
    "env-var-name": st.from_regex(r"[-._a-zA-Z][-._a-zA-Z0-9]{0,20}", fullmatch=True).filter(
        lambda s: not s.startswith("..") and s != "."
    ),
    "extended-resource-name": st.from_regex(
        r"[a-z]{2,8}\.(com|io|org)/[a-z]([-a-z0-9_.]{0,10}[a-z0-9])?", fullmatch=True
    ),
    "image": st.from_regex(
        r"([a-z0-9]{2,8}\.io/)?[a-z0-9]{1,8}(/[a-z0-9]{1,8})?:[0-9][A-Za-z0-9_.-]{0,10}",
        fullmatch=True,
    ),
    "absolute-path": st.from_regex(r"(/[A-Za-z0-9_.-]{1,8}){1,4}", fullmatch=True).filter(
        lambda p: all(s not in (".", "..") for s in p.split("/"))
    ),
    "go-duration": st.from_regex(r"[1-9][0-9]{0,2}(h|m|s)([1-9][0-9]?(m|s))?", fullmatch=True),
    "prometheus-duration": st.from_regex(r"[1-9][0-9]{0,2}(m|s)", fullmatch=True),
    "cpu": st.from_regex(r"[1-9][0-9]{0,2}(m|(\.[0-9]{1,2})?)", fullmatch=True),
    "memory": st.from_regex(r"[1-9][0-9]{0,2}(Ki|Mi|Gi|M|G)", fullmatch=True),
    "token": st.from_regex(r"[A-Za-z0-9._~-]{1,20}", fullmatch=True),
    "text": st.text(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Co", "Zl", "Zp")),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool),
    "https-url": st.from_regex(
        r"https://[a-z]{1,10}\.example\.com(/[a-z]{1,8}){0,3}", fullmatch=True
    ),
}
_VALID["text-or-empty"] = _VALID["text"] | st.just("")
_VALID["base-url"] = st.from_regex(r"/([a-z0-9._~-]{1,8}/){0,3}", fullmatch=True)
_VALID["server-path"] = st.from_regex(r"/[a-z]{1,8}(/[a-z]{1,8}){0,2}", fullmatch=True)
_VALID["claim-template"] = st.from_regex(
    r"[a-z]{1,8}(-[a-z0-9]{1,4})?-\{username\}", fullmatch=True
)
_VALID["relative-template"] = st.from_regex(r"([a-z]{1,6}/)?\{username\}", fullmatch=True)
_VALID["relative-path"] = st.from_regex(
    r"[a-z]{1,8}(/[a-z0-9._-]{1,8}){0,2}", fullmatch=True
).filter(lambda p: all(s not in (".", "..") for s in p.split("/")))
_VALID["host-or-ip"] = _VALID["host-name"] | st.ip_addresses().map(str)
_VALID["file-text"] = st.text(max_size=200)
_VALID["whole-number"] = st.integers(min_value=1, max_value=10**6).map(str)
_VALID["https-origin"] = st.from_regex(
    r"https://[a-z]{1,10}\.example\.com(:[1-9][0-9]{2,3})?", fullmatch=True
)
_VALID["azure-tenant"] = st.uuids().map(str) | _VALID["host-name"]
_VALID["dn"] = st.from_regex(
    r"(ou|cn|dc|uid)=[a-z]{1,8}(,(ou|cn|dc)=[a-z]{1,8}){0,3}", fullmatch=True
)
_VALID["ldap-filter"] = st.sampled_from(
    ["(member={userdn})", "(memberUid={uid})", "(|(member={userdn})(uniqueMember={userdn}))"]
)
_VALID["k8s-version"] = st.from_regex(r"1\.3[0-5]\.(0|[1-9][0-9]?)", fullmatch=True)
_VALID["config-map-key"] = st.from_regex(r"[-._a-zA-Z0-9]{1,30}", fullmatch=True).filter(
    lambda k: k != "." and not k.startswith("..")
)

_MUTATIONS: list[Callable[[str], str]] = [
    lambda s: s + "\n",
    lambda s: s + " ",
    lambda s: " " + s,
    lambda s: s + "\r\n",
    lambda s: s.upper(),
    lambda s: s + "\x00",
    lambda s: s[:1] + "\t" + s[1:],
    lambda s: s + NBSP,
    lambda s: RTL_OVERRIDE + s,
    lambda s: s.replace("1", ARABIC_ONE),
    lambda s: s + "{",
    lambda s: s + "-",
    lambda s: "-" + s,
    lambda s: s + "/..",
    lambda s: (s * 64)[:64],
    lambda s: (s * 254)[:254],
    lambda s: s.replace(".", ".."),
    lambda s: s.replace("-", "_"),
    lambda s: s.replace("a", "\u0430"),  # Cyrillic a
]


def valid(kind: str) -> st.SearchStrategy[str]:
    """Strings that follow ``kind``'s rule (a sample of them, not all)."""
    return _VALID[kind]


def mutated(kind: str) -> st.SearchStrategy[str]:
    """Valid strings of ``kind`` with one typical mistake applied."""
    return st.tuples(valid(kind), st.sampled_from(_MUTATIONS)).map(lambda pair: pair[1](pair[0]))


def strings(kind: str) -> st.SearchStrategy[str]:
    """Strings at a rule's boundary: valid, mutated, known-bad, and arbitrary Unicode."""
    parts: list[st.SearchStrategy[str]] = [
        st.text(max_size=70),
        st.text(st.characters(codec="ascii"), max_size=70),
    ]
    if kind in _VALID:
        parts = [valid(kind), mutated(kind), *parts]
    bad = [b for b in BAD.get(kind, []) if isinstance(b, str)]
    if bad:
        parts.append(st.sampled_from(bad))
    return st.one_of(parts)


def has_strategy(kind: str) -> bool:
    """True when ``strings(kind)`` knows the kind's valid values."""
    return kind in _VALID
