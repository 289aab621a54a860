"""Hypothesis strategies for whole apps of the public API (issue 23).

Values are drawn from what people write in their values files: mostly valid, with the
plausible mistakes next to them (spaces, capitals, unicode, a trailing newline, one
character too many, quantities in the wrong unit or form, override keys of every kind).
An app is drawn as data (``AppSpec``) and built by ``build_app``; its ``repr`` is the
Python that builds it, so a shrunk counterexample reads as a regression test.

Which parameter each strategy covers is listed in ``COVERED`` (checked against the
public signatures by tests/k8s/test_property.py, so a new parameter without a strategy
fails that test).
"""

from __future__ import annotations

import contextlib
import string
from dataclasses import dataclass, field
from typing import Any

import cdk8s
from hypothesis import strategies as st

from jupyter_constructs import (
    ArgoCdApplication,
    CloudflareTunnel,
    ClusterDns,
    Cni,
    ConfigurationError,
    ContainerLimits,
    ExtraFile,
    GatewayRoute,
    Gpu,
    GpuIsolation,
    HubDatabase,
    HubTunables,
    IdleCuller,
    ImagePullerOptions,
    IngressOptions,
    JupyterHub,
    Mount,
    NamedServers,
    NamespaceQuota,
    NetworkOptions,
    NodeAffinity,
    NodePool,
    ObservabilityBundle,
    OidcAuth,
    PlatformServiceBinding,
    ProfileChoice,
    ProfileOption,
    PublicService,
    Resources,
    SecretRef,
    SharedData,
    SingleUser,
    Toleration,
    UnlistedChoice,
    UserContainer,
    UserStorage,
    UserVolume,
)
from jupyter_constructs.core.quantities import parse_cpu, parse_memory
from tests import strategies as kinds

# -- deferred construction: value objects check themselves, so they are built in the test --


class Call:
    """``target(*args, **kwargs)``, made when the app is built (inside synth's error
    handling: a value object refusing its arguments is synth refusing the app)."""

    def __init__(self, target: Any, *args: Any, **kwargs: Any) -> None:
        self.target, self.args, self.kwargs = target, args, kwargs

    def __repr__(self) -> str:
        name = getattr(self.target, "__qualname__", repr(self.target))
        items = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{name}({', '.join(items)})"

    def make(self) -> Any:
        return self.target(*resolve(list(self.args)), **resolve(self.kwargs))


def resolve(value: Any) -> Any:
    """``value`` with every ``Call`` in it made (lists, tuples and dicts walked)."""
    if isinstance(value, Call):
        return value.make()
    if isinstance(value, dict):
        return {k: resolve(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(resolve(v) for v in value)
    return value


def builds(target: Any, *args: Any, **kwargs: Any) -> st.SearchStrategy[Call]:
    """``st.builds`` of a deferred ``Call`` of ``target``."""
    return st.builds(lambda *a, **k: Call(target, *a, **k), *args, **kwargs)


# -- building blocks: strings people write --------------------------------------------------

_ALNUM = string.ascii_lowercase + string.digits
_MISTAKES = st.sampled_from(
    [" ", "\n", "é", "_", "/", ":", "A", "-", ".", "😀", "\t", "=", "$", "@", ",", ""]
)


def _spoiled(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``valid`` with a plausible mistake put somewhere in it."""

    @st.composite
    def spoil(draw: st.DrawFn) -> str:
        text = draw(valid)
        where = draw(st.sampled_from(["start", "end", "middle"]))
        mistake = draw(_MISTAKES)
        if where == "start":
            return mistake + text
        if where == "end":
            return text + mistake
        middle = len(text) // 2
        return text[:middle] + mistake + text[middle:]

    return spoil()


def _name(max_size: int = 20) -> st.SearchStrategy[str]:
    return st.text(_ALNUM, min_size=1, max_size=max_size).map(lambda s: "n" + s)


#: One value in MISTAKE_ODDS is a plausible mistake (the others are valid). With ~15
#: values per app, about half the apps are valid throughout and reach the API server; the
#: others carry a mistake or two that synth must refuse (or that the API server judges).
MISTAKE_ODDS = 24


def _mostly(
    valid: st.SearchStrategy[Any], mistakes: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """``valid``, one time in ``MISTAKE_ODDS`` ``mistakes``.

    The choice is an integer whose mistake value sits inside the range (Hypothesis
    favours a range's ends); it shrinks towards 0, a valid value, so a shrunk
    counterexample keeps only the mistakes it needs.
    """
    return st.integers(0, MISTAKE_ODDS - 1).flatmap(
        lambda n: mistakes if n == MISTAKE_ODDS // 2 else valid
    )


def _of(valid: list[Any], mistakes: list[Any]) -> st.SearchStrategy[Any]:
    """One of ``valid``, now and then one of ``mistakes``."""
    return _mostly(st.sampled_from(valid), st.sampled_from(mistakes))


def _kind(kind: str, *extra: str) -> st.SearchStrategy[str]:
    """Values of a rule's kind (tests/strategies.py), as people write them: mostly valid,
    now and then with one typical mistake or a known-bad value."""
    bad = [b for b in kinds.BAD.get(kind, []) if isinstance(b, str)] + list(extra)
    mistakes = kinds.mutated(kind) | st.sampled_from(bad) if bad else kinds.mutated(kind)
    return _mostly(kinds.valid(kind), mistakes)


DNS_LABEL = _kind("dns-label", "a" * 64, "Team", "x-")
LABEL_VALUE = _mostly(
    st.one_of(kinds.valid("label-value"), st.sampled_from(["", "a" * 63, "v1.2_3"])),
    kinds.mutated("label-value") | st.sampled_from(["data science", "a" * 64, "-x"]),
)
LABEL_KEY = _mostly(
    st.one_of(
        kinds.valid("label-key"),
        st.sampled_from(["example.com/team", "kubernetes.io/arch", "node-role.kubernetes.io/gpu"]),
    ),
    kinds.mutated("label-key") | st.sampled_from([b for b in kinds.BAD["label-key"] if b != 7]),
)
CPU = _mostly(
    st.sampled_from(["100m", "500m", "1", "2", "0.5", "1.5", "4", "1000m", "2.0", "0.1", "250m"])
    | st.integers(1, 64).map(str),
    st.sampled_from(["0", "-1", "1.2345", "1e3", "500 m", "1Gi", "", "1k", "100u", "0.0001"]),
)  # fmt: skip
MEMORY = _of(
    ["512Mi", "1Gi", "2Gi", "4Gi", "1G", "1.5Gi", "2048M", "0.5Gi", "16Gi", "64Gi", "1Ti",
     "1e9", "1000000000"],
    ["100", "1gi", "1 Gi", "0", "-1Gi", "1Ki", "1Ei", "3Gb", "", "1024Ki", "1.5"],
)  # fmt: skip
STORAGE = _of(["1Gi", "10Gi", "100Gi", "1G", "500Mi"], ["0", "-1Gi", "1gi", "", "1 Ti"])
_TAG = st.text(_ALNUM + "._-", min_size=1, max_size=12).filter(lambda t: t[0] not in ".-")
IMAGE = _mostly(
    st.one_of(
        st.builds(lambda n, t: f"quay.io/jupyter/{n}:{t}", _name(10), _TAG),
        st.builds(lambda n, t: f"registry.example.com:5000/team/{n}:{t}", _name(10), _TAG),
        st.builds(lambda n: f"{n}@sha256:{'a' * 64}", _name(10)),
        st.just("img:1.0"),
    ),
    st.sampled_from(
        ["jupyter/scipy-notebook:latest", "scipy-notebook", "Quay.io/Jupyter/X:1", " img:1",
         "img:1\n", "img:" + "t" * 129, "img:tag with space", "img@sha256:abc"]
    ),
)  # fmt: skip
_ENV_NAME = st.text(string.ascii_uppercase + "_", min_size=1, max_size=12)
ENV_NAME = _mostly(
    _ENV_NAME,
    _spoiled(_ENV_NAME)
    | st.sampled_from(
        ["MY.VAR", "my-var", "1VAR", "JUPYTERHUB_API_TOKEN", "PATH", "A=B", "MY VAR", "A\n", ""]
    ),
)
ENV_VALUE = _mostly(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc",)), max_size=20),
    st.text(max_size=20),
)
SECRET_REF = builds(SecretRef, DNS_LABEL, _of(["password", "token", "k"], ["a b", ""]))
UID = _of([1000, 1001, 65534, 100], [0, -1, 2**31])
PATH = _of(
    ["/data", "/home/jovyan/work", "/home/jovyan/shared", "/opt/conf", "/srv/data"],
    ["/home/jovyan", "data", "/tmp/x", "/etc/passwd", "/a:b", "/dev/shm", "/srv/data/", "/../x"],
)  # fmt: skip
TOLERATION = builds(
    Toleration,
    key=st.one_of(st.none(), LABEL_KEY),
    operator=_of(["Equal", "Exists"], ["equal", "In"]),
    value=st.one_of(st.none(), LABEL_VALUE),
    effect=st.one_of(
        st.none(), _of(["NoSchedule", "PreferNoSchedule", "NoExecute"], ["NoSchedul"])
    ),
)
GPU = builds(
    Gpu,
    count=_mostly(st.integers(1, 8), st.sampled_from([0, -1])),
    resource_name=_of(
        ["nvidia.com/gpu", "amd.com/gpu", "nvidia.com/mig-1g.5gb"], ["NVIDIA GPU", "gpu", "x/"]
    ),
)
MOUNT_NAME = DNS_LABEL
VOLUME = st.one_of(
    builds(UserVolume.empty_dir, name=MOUNT_NAME, mount_path=PATH),
    builds(UserVolume.dev_shm, size_limit=MEMORY),
    builds(UserVolume.config_map, name=MOUNT_NAME, config_map_name=DNS_LABEL, mount_path=PATH),
    builds(UserVolume.secret, name=MOUNT_NAME, secret_name=DNS_LABEL, mount_path=PATH),
    builds(
        UserVolume.existing_claim,
        name=MOUNT_NAME,
        claim_name=DNS_LABEL,
        mount_path=PATH,
        read_only=st.booleans(),
        sub_path=st.one_of(st.none(), _of(["{username}", "x"], ["/abs", "../up"])),
    ),
)
EXTRA_FILE = builds(
    ExtraFile,
    mount_path=PATH.map(lambda p: p.rstrip("/") + "/file.txt"),
    text=st.text(max_size=30),
    mode=st.one_of(st.none(), _of([0o644, 0o600, 0o444], [0o777, 0o1000, -1])),
)
CONTAINER = builds(
    UserContainer,
    name=DNS_LABEL,
    image=IMAGE,
    command=st.lists(st.text(max_size=8), max_size=3),
    env=st.dictionaries(ENV_NAME, ENV_VALUE, max_size=2),
    mounts=st.lists(builds(Mount, volume=MOUNT_NAME, path=PATH), max_size=1),
)
# kubespawner_override keys people use, with the values they give them (and mistakes).
_OVERRIDES: dict[str, st.SearchStrategy[Any]] = {
    "extra_containers": _of(
        [[{"name": "sidecar", "image": "busybox:1.36", "command": ["sleep", "infinity"]}]],
        [[{"name": "Sidecar", "image": "busybox"}], [{"image": "busybox:1.36"}]],
    ),
    "extra_pod_config": _of(
        [{"dnsPolicy": "Default"}, {"priorityClassName": "high"}, {"enableServiceLinks": False}],
        [{"hostNetwork": True}, {"dnsPolicy": "default"}, {"securityContext": {"runAsUser": 0}}],
    ),
    "extra_container_config": _of(
        [{"stdin": True}, {"tty": True}], [{"securityContext": {"privileged": True}}]
    ),
    "working_dir": _of(["/home/jovyan/work"], ["work", ""]),
    "args": _of([["--debug"], ["--ServerApp.log_level=DEBUG"]], ["--debug"]),
    "supplemental_gids": _of([[100, 1000]], [[-1], ["100"]]),
    "extra_labels": _of([{"cost-center": "ml"}], [{"team": "data science"}, {"a b": "x"}]),
    "extra_annotations": _of([{"example.com/owner": "ml"}], [{"a b": "x"}, "1G"]),
    "environment": _of([{"TZ": "UTC"}], [{"1A": "x"}, {"A": 1}]),
    "port": _of([8888, 8080], [0, 70000, "8888"]),
    "lifecycle_hooks": _of(
        [{"postStart": {"exec": {"command": ["true"]}}}], [{"postStart": {}}, {"onStart": {}}]
    ),
    "privileged": _of([False], [True]),
    "notebook_dir": _of(["/home/jovyan/work"], ["work"]),
    "ip": _of(["0.0.0.0"], ["localhost:8888"]),
    "http_timeout": _of([30, 120], [0, -1]),
    "mem_limit": _of(["1G", "2Gi"], ["1 G", "x"]),
    "priority_class_name": _of(["high"], ["High Priority"]),
    "scheduler_name": _of(["default-scheduler"], ["My Scheduler"]),
    "service_account": _of(["default"], ["hub"]),
    "automount_service_account_token": _of([False], [True]),
    "namespace": _of(["jupyter"], ["other"]),
    "unknown_trait": st.just("x"),
}
OVERRIDE = _mostly(
    st.sets(st.sampled_from(sorted(set(_OVERRIDES) - {"unknown_trait"})), max_size=2),
    st.sets(st.sampled_from(sorted(_OVERRIDES)), min_size=1, max_size=2),
).flatmap(lambda keys: st.fixed_dictionaries({key: _OVERRIDES[key] for key in sorted(keys)}))


# -- the app ------------------------------------------------------------------------------


@dataclass
class ProfileSpec:
    """``hub.add_profile(slug, **kwargs)``."""

    slug: str
    kwargs: dict[str, Any]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"hub.add_profile({self.slug!r}, {args})"


@dataclass
class AddonSpec:
    """An add-on built on the chart and attached to the hub."""

    kind: str
    kwargs: dict[str, Any]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{self.kind}(chart, ..., {args})"


@dataclass
class HubSpec:
    """One chart (one namespace) with one hub, its profiles and add-ons."""

    namespace: str
    hub: dict[str, Any]
    profiles: list[ProfileSpec] = field(default_factory=list)
    addons: list[AddonSpec] = field(default_factory=list)

    def lines(self, chart_id: str) -> list[str]:
        lines = [f"chart = cdk8s.Chart(app, {chart_id!r}, namespace={self.namespace!r})"]
        args = ", ".join(f"{k}={v!r}" for k, v in self.hub.items())
        lines.append(f"hub = JupyterHub(chart, 'hub', auth=AUTH, {args})")
        lines += [repr(p) for p in self.profiles]
        lines += [repr(a) for a in self.addons]
        return lines


@dataclass
class AppSpec:
    """A whole app: one or more hubs, and maybe their ArgoCD Applications."""

    hubs: list[HubSpec]
    argocd: dict[str, Any] | None = None

    @property
    def namespace(self) -> str:
        return self.hubs[0].namespace

    def __repr__(self) -> str:
        lines = []
        for number, hub in enumerate(self.hubs):
            lines += hub.lines(_chart_id(number))
        if self.argocd is not None:
            args = ", ".join(f"{k}={v!r}" for k, v in self.argocd.items())
            lines.append("chart = cdk8s.Chart(app, 'argocd')")
            for number, hub in enumerate(self.hubs):
                lines.append(
                    f"ArgoCdApplication(chart, {_chart_id(number)!r}, "
                    f"name='jupyterhub-{number}', path='dist/{_chart_id(number)}', "
                    f"destination_namespace={hub.namespace!r}, {args})"
                )
        return "\n".join(lines)


AUTH = OidcAuth(
    client_id="jupyterhub",
    client_secret=SecretRef("jupyterhub-oidc", "client-secret"),
    authorize_url="https://idp.example.com/authorize",
    token_url="https://idp.example.com/token",
    userdata_url="https://idp.example.com/userinfo",
    allowed_groups=["data-science"],
)

_ARGUMENT = _mostly(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=10),
    st.text(max_size=10),
)
_COMMAND = st.lists(_ARGUMENT, min_size=1, max_size=3)
_PROFILE_OPTIONS: dict[str, st.SearchStrategy[Any]] = {
    "description": _kind("text-or-empty"),
    "image": st.one_of(st.none(), IMAGE),
    "image_pull_policy": _of(["IfNotPresent", "Always", "Never"], ["always", "IfNotPresent "]),
    "image_pull_secrets": st.lists(DNS_LABEL, max_size=2),
    "cpu_request": CPU,
    "cpu_limit": CPU,
    "memory_request": MEMORY,
    "memory_limit": MEMORY,
    "gpu": st.one_of(st.none(), GPU),
    "env": st.dictionaries(ENV_NAME, st.one_of(ENV_VALUE, SECRET_REF), max_size=3),
    "node_selector": st.dictionaries(LABEL_KEY, LABEL_VALUE, max_size=2),
    "tolerations": st.lists(TOLERATION, max_size=2),
    "start_timeout": st.one_of(st.none(), _of([1, 60, 300, 3600], [0, -5])),
    "post_start_command": st.one_of(st.none(), _COMMAND),
    "pre_stop_command": st.one_of(st.none(), _COMMAND),
    "stop_grace_period": st.one_of(st.none(), _of([0, 1, 30, 600], [-1, 10**6])),
    "shared_data_read_only": st.booleans(),
    "internet_access": st.one_of(st.none(), st.booleans()),
    "former_slugs": st.lists(_of(["old-small", "medium"], ["Medium", "a b"]), max_size=1).map(
        tuple
    ),
    "default_url": st.one_of(st.none(), _of(["/lab", "/tree", "/lab?x=1"], ["lab", " /lab"])),
    "cmd": st.one_of(
        st.none(), _of([["jupyterhub-singleuser"], ["start-singleuser.sh"]], [[], ["x y"]])
    ),
    "uid": st.one_of(st.none(), UID),
    "gid": st.one_of(st.none(), UID),
    "fs_gid": st.one_of(st.none(), UID),
    "volumes": st.lists(VOLUME, max_size=2),
    "extra_files": st.one_of(st.none(), st.dictionaries(DNS_LABEL, EXTRA_FILE, max_size=1)),
    "shm_size": st.one_of(st.none(), MEMORY),
    "init_containers": st.lists(CONTAINER, max_size=1),
    "extra_containers": st.lists(CONTAINER, max_size=1),
    "extra_labels": st.one_of(st.none(), st.dictionaries(LABEL_KEY, LABEL_VALUE, max_size=2)),
    "extra_annotations": st.one_of(
        st.none(), st.dictionaries(LABEL_KEY, st.text(max_size=10), max_size=2)
    ),
    "extra_resources": st.one_of(
        st.none(),
        st.dictionaries(
            _of(["example.com/fpga", "hugepages-2Mi", "smarter-devices/fuse"], ["x", "fpga"]),
            _of(["1", "2"], ["0", "1Gi", "-1", "a"]),
            max_size=1,
        ),
    ),
    "extra_overrides": st.one_of(st.none(), OVERRIDE),
    "allowed_groups": st.lists(_of(["data-science", "ml"], ["", "a\n"]), min_size=1, max_size=2),
    "allowed_users": st.lists(
        _of(["alice", "bob@example.com"], ["", " x"]), min_size=1, max_size=2
    ),
    "options": st.one_of(
        st.none(),
        st.dictionaries(
            _of(["image", "size"], ["Image", "a b"]),
            builds(
                ProfileOption,
                display_name=_kind("text"),
                choices=st.dictionaries(
                    DNS_LABEL,
                    builds(
                        ProfileChoice,
                        display_name=_kind("text"),
                        image=st.one_of(st.none(), IMAGE),
                        cpu_limit=st.one_of(st.none(), CPU),
                        memory_limit=st.one_of(st.none(), MEMORY),
                        env=st.dictionaries(ENV_NAME, ENV_VALUE, max_size=1),
                    ),
                    min_size=1,
                    max_size=2,
                ),
                unlisted_choice=st.one_of(
                    st.none(),
                    builds(
                        UnlistedChoice,
                        display_name=_kind("text"),
                        validation_regex=_of(["^quay\\.io/jupyter/[a-z-]+:[0-9.]+$"], ["(", ".*"]),
                    ),
                ),
            ),
            min_size=1,
            max_size=1,
        ),
    ),
}


@st.composite
def profile_specs(draw: st.DrawFn) -> ProfileSpec:
    keys = draw(st.sets(st.sampled_from(sorted(_PROFILE_OPTIONS)), max_size=4))
    kwargs: dict[str, Any] = {"display_name": draw(_kind("text"))}
    for key in sorted(keys):
        kwargs[key] = draw(_PROFILE_OPTIONS[key])
    # A request above its limit is a mistake people make now and then, not every time.
    if not draw(_mostly(st.just(False), st.just(True))):
        for request, limit, parse in (
            ("cpu_request", "cpu_limit", parse_cpu),
            ("memory_request", "memory_limit", parse_memory),
        ):
            with contextlib.suppress(ConfigurationError, KeyError):
                if parse("x", request, kwargs[request]) > parse("x", limit, kwargs[limit]):
                    kwargs[request], kwargs[limit] = kwargs[limit], kwargs[request]
    return ProfileSpec(draw(DNS_LABEL), kwargs)  # "default" is decided by hub_specs


_SINGLEUSER = builds(
    SingleUser,
    env=st.dictionaries(ENV_NAME, st.one_of(ENV_VALUE, SECRET_REF), max_size=2),
    default_url=st.one_of(st.none(), _of(["/lab"], ["lab"])),
    uid=st.one_of(st.none(), UID),
    fs_gid=st.one_of(st.none(), UID),
    image_pull_secrets=st.lists(DNS_LABEL, max_size=1),
    volumes=st.lists(VOLUME, max_size=1),
    extra_labels=st.dictionaries(LABEL_KEY, LABEL_VALUE, max_size=1),
    shm_size=st.one_of(st.none(), MEMORY),
)

_NODE_POOL = st.one_of(
    builds(NodePool.core, affinity=st.sampled_from(list(NodeAffinity))),
    builds(NodePool.user, affinity=st.sampled_from(list(NodeAffinity))),
    builds(
        NodePool,
        node_labels=st.dictionaries(LABEL_KEY, LABEL_VALUE, min_size=1, max_size=2),
        affinity=st.sampled_from(list(NodeAffinity)),
        tolerations=st.lists(TOLERATION, max_size=1),
        weight=_of([1, 50, 100], [0, 101]),
    ),
)
_CIDRS = st.lists(
    _of(["10.0.0.0/8", "172.20.0.10/32", "fd00::/64"], ["10.0.0.1/8", "10.0.0.0/33"]),
    min_size=1,
    max_size=2,
)
_HUB_OPTIONS: dict[str, st.SearchStrategy[Any]] = {
    "base_url": _of(["/", "/jupyter/", "/team-a/hub/"], ["jupyter", "/a b/", "/jupyter"]),
    "cookie_max_age_days": _of([1.0, 0.5, 14], [0, -1, float("nan")]),
    "token_expires_in_max_seconds": _of([3600, 86400], [0, -1]),
    "redirect_domains": st.lists(
        _of(["old.example.com", "jupyter.example.org"], ["Old.Example.com", "a b"]), max_size=2
    ),
    "gateway": st.one_of(
        st.none(),
        builds(
            GatewayRoute,
            gateway_name=DNS_LABEL,
            gateway_namespace=DNS_LABEL,
            section_name=st.one_of(st.none(), _of(["https"], ["HTTPS"])),
        ),
    ),
    "public_service": st.one_of(
        st.none(),
        builds(
            PublicService,
            type=_of(["ClusterIP", "LoadBalancer", "NodePort"], ["loadbalancer"]),
            source_ranges=st.lists(
                _of(["10.0.0.0/8", "203.0.113.0/24"], ["10.0.0.1/8"]), max_size=1
            ),
            node_port=st.none(),
        ),
    ),
    "notebook_image": IMAGE,
    "hub_image": IMAGE,
    "proxy_image": IMAGE,
    "replicas": _of([1], [0, 2]),
    "hub_resources": builds(
        Resources,
        cpu_request=_of(["500m", "100m"], ["0"]),
        cpu_limit=_of(["2", "1"], ["50m"]),
        memory_request=_of(["1Gi", "512Mi"], ["1 Gi"]),
        memory_limit=_of(["4Gi", "2Gi"], ["100Mi"]),
    ),
    "create_namespace": st.booleans(),
    "network": st.one_of(
        st.none(),
        builds(
            NetworkOptions,
            dns=st.one_of(
                builds(ClusterDns.kube_dns),
                builds(
                    ClusterDns.node_local_dns,
                    kube_dns_service_ip=_of(["10.96.0.10", "fd00::a"], ["10.96.0.0/12", "dns"]),
                ),
                builds(ClusterDns.gke_cloud_dns),
            ),
            api_server_cidrs=st.one_of(st.none(), _CIDRS),
            database_cidrs=st.one_of(st.none(), _CIDRS),
            user_internet_access=st.booleans(),
            cni=st.sampled_from(list(Cni)),
            ipv6=st.booleans(),
        ),
    ),
    "core_pods": st.one_of(st.none(), _NODE_POOL),
    "user_pods": st.one_of(st.none(), _NODE_POOL),
    "gpu_isolation": st.one_of(
        st.none(),
        builds(
            GpuIsolation,
            keep_off_gpu_nodes=st.booleans(),
            hide_devices=st.booleans(),
        ),
    ),
    "named_servers": st.one_of(
        st.none(),
        builds(
            NamedServers,
            limit_per_user=_of([1, 3, 10], [0, -1]),
            home_per_server=st.booleans(),
        ),
    ),
    "tunables": st.one_of(
        st.none(),
        builds(
            HubTunables,
            concurrent_spawn_limit=st.one_of(st.none(), _of([1, 64], [0])),
            active_server_limit=st.one_of(st.none(), _of([0, 100], [-1])),
            consecutive_failure_limit=st.one_of(st.none(), _of([0, 5], [-1])),
            redirect_to_server=st.one_of(st.none(), st.booleans()),
            shutdown_on_logout=st.one_of(st.none(), st.booleans()),
            template_vars=st.dictionaries(
                _of(["announcement", "org"], ["a b", ""]), _kind("text"), max_size=1
            ),
            log_level=st.one_of(st.none(), _of(["INFO", "DEBUG", "WARNING"], ["info", "TRACE"])),
        ),
    ),
    "start_timeout": _of([1, 60, 300, 10**6], [0, -1]),
    "admin_users": st.lists(_of(["alice", "bob@example.com"], ["", "a b", "alice\n"]), max_size=2),
    "existing_secret": st.one_of(st.none(), DNS_LABEL),
    "user_storage": st.one_of(
        builds(
            UserStorage.dynamic,
            size=STORAGE,
            storage_class=st.one_of(st.none(), DNS_LABEL),
        ),
        builds(UserStorage.shared, claim_name=DNS_LABEL),
        st.just(Call(UserStorage.none)),
    ),
    "shared_data": st.one_of(
        st.none(),
        builds(SharedData, size=STORAGE, storage_class=st.one_of(st.none(), DNS_LABEL)),
    ),
    "singleuser": st.one_of(st.none(), _SINGLEUSER),
    "idle_culler": st.one_of(
        st.none(),
        builds(
            IdleCuller,
            timeout=_of([60, 3600], [0, -1]),
            interval=_of([60, 600], [0]),
            max_age=_of([0, 86400], [-1]),
        ),
    ),
    "quota": st.one_of(
        st.none(),
        builds(
            NamespaceQuota,
            requests_cpu=CPU,
            requests_memory=MEMORY,
            limits_cpu=CPU,
            limits_memory=MEMORY,
            pods=_of([1, 50], [0, -1]),
        ),
    ),
    "container_limits": st.one_of(
        st.none(),
        builds(
            ContainerLimits,
            max_cpu=_mostly(st.sampled_from(["4", "8", "16", "64"]), CPU),
            max_memory=_mostly(st.sampled_from(["8Gi", "16Gi", "64Gi", "128Gi"]), MEMORY),
        ),
    ),
    "image_puller": st.one_of(
        st.booleans(),
        builds(
            ImagePullerOptions,
            extra_images=st.lists(IMAGE, max_size=2),
            pull_secrets=st.lists(DNS_LABEL, max_size=1),
        ),
    ),
    "ingress": st.one_of(
        st.none(),
        builds(
            IngressOptions,
            tls_secret_name=DNS_LABEL,
            annotations=st.dictionaries(LABEL_KEY, st.text(max_size=10), max_size=2),
        ),
    ),
    "database": st.one_of(
        st.none(),
        builds(HubDatabase.sqlite_pvc, size=STORAGE),
        builds(
            HubDatabase.postgres,
            host=_of(["db.example.com", "db"], ["", "db example"]),
            database=_of(["jupyterhub"], ["", "a b"]),
            user=_of(["hub"], [""]),
            password=SECRET_REF,
        ),
    ),
}

_ADDONS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "ObservabilityBundle": st.fixed_dictionaries(
        {},
        optional={
            "prometheus_namespace": DNS_LABEL,
            "scrape_interval": _of(["30s", "1m", "1h"], ["30", "0s", "x"]),
            "dashboard_folder": _kind("text"),
            "monitor_labels": st.dictionaries(LABEL_KEY, LABEL_VALUE, max_size=1),
        },
    ),
    "CloudflareTunnel": st.fixed_dictionaries(
        {"tunnel_token": SECRET_REF},
        optional={
            "replicas": _mostly(st.integers(1, 5), st.sampled_from([0, -1])),
            "cpu_request": CPU,
            "memory_limit": MEMORY,
        },
    ),
    "PlatformServiceBinding.trino": st.fixed_dictionaries(
        {
            "host": _of(["trino.data", "trino.data.svc"], ["trino", "Trino.Data", "a b"]),
            "catalog": _of(["hive"], ["", "a b"]),
            "user": _of(["u"], [""]),
        },
        optional={"port": _of([8080, 443], [0, 65536, -1]), "namespace": _of(["data"], ["x"])},
    ),
    "PlatformServiceBinding.ray": st.fixed_dictionaries(
        {"host": _of(["ray-head.ray", "ray-head.ray.svc"], ["ray", "Ray Head"])},
        optional={"port": _of([10001], [0, 70000]), "namespace": _of(["ray"], ["x"])},
    ),
}

_ARGOCD_OPTIONS: dict[str, st.SearchStrategy[Any]] = {
    "target_revision": _of(["main", "v1.2.3"], ["", "a b"]),
    "project": _of(["default", "data-platform"], ["Data Platform"]),
    "sync_wave": _of([-2, 0], [True]),
    "retry_limit": _of([0, 5], [-1]),
    "backoff_duration": _of(["10s", "1m"], ["10", "x"]),
    "create_namespace": st.booleans(),
    "cascade_delete": st.booleans(),
}
_ARGOCD = st.fixed_dictionaries(
    {"repo_url": _of(["https://github.com/example/platform.git"], ["github.com/x"])},
    optional=_ARGOCD_OPTIONS,
)


@st.composite
def hub_specs(draw: st.DrawFn, namespace: str) -> HubSpec:
    """One chart with one hub, a drawn subset of its options, 1-3 profiles, add-ons."""
    keys = draw(st.sets(st.sampled_from(sorted(_HUB_OPTIONS)), max_size=7))
    hub: dict[str, Any] = {
        "domain": draw(_kind("host-name", "Jupyter.Example.com", "hub", "hub.example.com:8443"))
    }
    for key in sorted(keys):
        hub[key] = draw(_HUB_OPTIONS[key])
    # Profile slugs are unique, now and then not (a mistake to refuse).
    unique = draw(_mostly(st.just(True), st.just(False)))
    profiles = draw(
        st.lists(
            profile_specs(),
            min_size=1,
            max_size=3,
            unique_by=(lambda p: p.slug) if unique else None,
        )
    )
    # Most apps mark one default profile, as the docs ask; some forget (a mistake to refuse).
    if draw(_mostly(st.just(True), st.just(False))):
        profiles[0].kwargs["default"] = True
    addon_kinds = draw(st.sets(st.sampled_from(sorted(_ADDONS)), max_size=2))
    addons = [AddonSpec(kind, draw(_ADDONS[kind])) for kind in sorted(addon_kinds)]
    return HubSpec(namespace, hub, profiles, addons)


@st.composite
def app_specs(draw: st.DrawFn) -> AppSpec:
    """One to three hubs (one chart and namespace each), now and then with an ArgoCD
    Application for each (in a chart of its own, as ``dist/argocd``)."""
    first = draw(_mostly(st.just("jupyter"), DNS_LABEL))
    others = draw(st.lists(kinds.valid("dns-label"), max_size=2, unique=True))
    namespaces = [first] + [n for n in others if n != first]
    hubs = [draw(hub_specs(namespace)) for namespace in namespaces]
    argocd = draw(st.one_of(st.none(), _ARGOCD))
    return AppSpec(hubs, argocd)


def build_app(spec: AppSpec, app: cdk8s.App) -> None:
    """Build the app ``spec`` describes (what ``AppSpec.__repr__`` prints)."""
    for number, hub_spec in enumerate(spec.hubs):
        chart = cdk8s.Chart(app, _chart_id(number), namespace=hub_spec.namespace)
        hub = JupyterHub(chart, "hub", auth=AUTH, **resolve(hub_spec.hub))
        for profile in hub_spec.profiles:
            hub.add_profile(profile.slug, **resolve(profile.kwargs))
        for index, raw in enumerate(hub_spec.addons):
            addon = AddonSpec(raw.kind, resolve(raw.kwargs))
            if addon.kind == "ObservabilityBundle":
                ObservabilityBundle(chart, "observability", hub=hub, **addon.kwargs)
            elif addon.kind == "CloudflareTunnel":
                CloudflareTunnel(chart, "tunnel", hub=hub, **addon.kwargs)
            else:
                factory = getattr(PlatformServiceBinding, addon.kind.split(".", 1)[1])
                hub.add_binding(factory(chart, f"binding-{index}", **addon.kwargs))
    if spec.argocd is not None:
        chart = cdk8s.Chart(app, "argocd")
        for number, hub_spec in enumerate(spec.hubs):
            ArgoCdApplication(
                chart,
                _chart_id(number),
                name=f"jupyterhub-{number}",
                path=f"dist/{_chart_id(number)}",
                destination_namespace=hub_spec.namespace,
                **resolve(spec.argocd),
            )


def _chart_id(number: int) -> str:
    return "jupyterhub" if number == 0 else f"jupyterhub-{number}"


#: The public parameters the strategies draw: ``{callable name: parameter names}``.
COVERED: dict[str, set[str]] = {
    "JupyterHub": {"domain", "auth", *_HUB_OPTIONS},
    "add_profile": {"slug", "display_name", "default", *_PROFILE_OPTIONS},
    "ArgoCdApplication": {"name", "path", "destination_namespace", "repo_url", *_ARGOCD_OPTIONS},
}
