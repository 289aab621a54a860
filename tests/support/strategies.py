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

import string
from dataclasses import dataclass, field
from typing import Any

import cdk8s
from hypothesis import strategies as st

from jupyter_constructs import (
    CloudflareTunnel,
    ContainerLimits,
    ExtraFile,
    Gpu,
    HubDatabase,
    IdleCuller,
    ImagePullerOptions,
    IngressOptions,
    JupyterHub,
    Mount,
    NamespaceQuota,
    ObservabilityBundle,
    OidcAuth,
    PlatformServiceBinding,
    SecretRef,
    SharedData,
    SingleUser,
    Toleration,
    UserContainer,
    UserStorage,
    UserVolume,
)
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


def _with_mistake(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``valid``, or ``valid`` with a plausible mistake put somewhere in it."""

    @st.composite
    def spoiled(draw: st.DrawFn) -> str:
        text = draw(valid)
        where = draw(st.sampled_from(["start", "end", "middle"]))
        mistake = draw(_MISTAKES)
        if where == "start":
            return mistake + text
        if where == "end":
            return text + mistake
        middle = len(text) // 2
        return text[:middle] + mistake + text[middle:]

    return st.one_of(valid, valid, valid, spoiled())


def _name(max_size: int = 20) -> st.SearchStrategy[str]:
    return st.text(_ALNUM, min_size=1, max_size=max_size).map(lambda s: "n" + s)


def _kind(kind: str, *extra: str) -> st.SearchStrategy[str]:
    """Values of a rule's kind (tests/strategies.py), as people write them: mostly valid,
    now and then with one typical mistake or a known-bad value (a shrunk counterexample
    keeps only the mistakes it needs: the choice shrinks towards a valid value)."""
    bad = [b for b in kinds.BAD.get(kind, []) if isinstance(b, str)] + list(extra)
    mistakes = kinds.mutated(kind) | st.sampled_from(bad) if bad else kinds.mutated(kind)
    return st.integers(0, 11).flatmap(lambda n: mistakes if n == 11 else kinds.valid(kind))


def _mostly(
    valid: st.SearchStrategy[Any], mistakes: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """``valid``, now and then ``mistakes`` (shrinking towards ``valid``)."""
    return st.integers(0, 11).flatmap(lambda n: mistakes if n == 11 else valid)


DNS_LABEL = _kind("dns-label", "a" * 63, "Team", "x-")
LABEL_VALUE = _kind("label-value", "", "a" * 63, "data science", "v1.2_3")
LABEL_KEY = _kind(
    "label-key", "example.com/team", "kubernetes.io/arch", "node-role.kubernetes.io/gpu"
)
CPU = st.sampled_from(
    ["100m", "500m", "1", "2", "0.5", "1.5", "4", "1000m", "0", "-1", "1.2345", "1e3",
     "500 m", "1Gi", "", "2.0", "0.1", "250m", "1k", "100u"]
) | st.integers(-1, 64).map(str)  # fmt: skip
MEMORY = st.sampled_from(
    ["512Mi", "1Gi", "2Gi", "4Gi", "1G", "1.5Gi", "1e9", "100", "1gi", "1 Gi", "0", "-1Gi",
     "1Ki", "1Ei", "2048M", "3Gb", "", "0.5Gi", "1024Ki", "16Gi", "64Gi", "1Ti"]
)  # fmt: skip
STORAGE = st.sampled_from(["1Gi", "10Gi", "100Gi", "1G", "500Mi", "0", "-1Gi", "1gi", "", "1 Ti"])
_TAG = st.text(_ALNUM + "._-", min_size=1, max_size=12).filter(lambda t: t[0] not in ".-")
IMAGE = st.one_of(
    st.builds(lambda n, t: f"quay.io/jupyter/{n}:{t}", _name(10), _TAG),
    st.builds(lambda n, t: f"registry.example.com:5000/team/{n}:{t}", _name(10), _TAG),
    st.builds(lambda n: f"{n}@sha256:{'a' * 64}", _name(10)),
    st.sampled_from(
        ["jupyter/scipy-notebook:latest", "scipy-notebook", "Quay.io/Jupyter/X:1", " img:1",
         "img:1\n", "img:" + "t" * 129, "img:tag with space", "img@sha256:abc", "img:1.0"]
    ),
)  # fmt: skip
ENV_NAME = _with_mistake(st.text(string.ascii_uppercase + "_", min_size=1, max_size=12)) | (
    st.sampled_from(["MY.VAR", "my-var", "1VAR", "JUPYTERHUB_API_TOKEN", "PATH", "A=B"])
)
ENV_VALUE = st.text(max_size=20)
SECRET_REF = builds(SecretRef, DNS_LABEL, st.sampled_from(["password", "token", "a b", "k"]))
UID = st.sampled_from([0, 1000, 1001, 65534, -1, 2**31, 100])
PATH = st.sampled_from(
    ["/data", "/home/jovyan/work", "/home/jovyan", "data", "/tmp/x", "/etc/passwd", "/a:b",
     "/home/jovyan/shared", "/dev/shm", "/opt/conf", "/srv/data/", "/../x"]
)  # fmt: skip
TOLERATION = builds(
    Toleration,
    key=st.one_of(st.none(), LABEL_KEY),
    operator=st.sampled_from(["Equal", "Exists", "equal", "In"]),
    value=st.one_of(st.none(), LABEL_VALUE),
    effect=st.one_of(
        st.none(), st.sampled_from(["NoSchedule", "PreferNoSchedule", "NoExecute", "NoSchedul"])
    ),
)
GPU = builds(
    Gpu,
    count=st.integers(-1, 9),
    resource_name=st.sampled_from(
        ["nvidia.com/gpu", "amd.com/gpu", "nvidia.com/mig-1g.5gb", "NVIDIA GPU", "gpu", "x/"]
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
        sub_path=st.one_of(st.none(), st.sampled_from(["{username}", "x", "/abs", "../up"])),
    ),
)
EXTRA_FILE = builds(
    ExtraFile,
    mount_path=PATH.map(lambda p: p.rstrip("/") + "/file.txt"),
    text=st.text(max_size=30),
    mode=st.one_of(st.none(), st.sampled_from([0o644, 0o600, 0o777, 0o1000, -1])),
)
CONTAINER = builds(
    UserContainer,
    name=DNS_LABEL,
    image=IMAGE,
    command=st.lists(st.text(max_size=8), max_size=3),
    env=st.dictionaries(ENV_NAME, ENV_VALUE, max_size=2),
    mounts=st.lists(builds(Mount, volume=MOUNT_NAME, path=PATH), max_size=1),
)
# kubespawner_override keys people use, with the values they give them.
OVERRIDE = st.dictionaries(
    st.sampled_from(
        ["extra_containers", "extra_pod_config", "extra_container_config", "working_dir",
         "args", "supplemental_gids", "extra_labels", "extra_annotations", "environment",
         "port", "lifecycle_hooks", "privileged", "namespace", "notebook_dir", "ip",
         "http_timeout", "mem_limit", "priority_class_name", "scheduler_name",
         "service_account", "automount_service_account_token", "unknown_trait"]
    ),
    st.sampled_from(
        [[{"name": "sidecar", "image": "busybox:1.36", "command": ["sleep", "infinity"]}],
         {"priorityClassName": "high"}, {"dnsPolicy": "Default"}, {"stdin": True},
         "/home/jovyan/work", ["--debug"], [100, 1000], {"cost-center": "ml"},
         {"team": "data science"}, {"a": "b"}, 8888, True, 30, "x", "1G", None, [],
         {"runAsUser": 0}]
    ),
    max_size=2,
)  # fmt: skip


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
class AppSpec:
    """One chart with one hub, its profiles and add-ons."""

    namespace: str
    hub: dict[str, Any]
    profiles: list[ProfileSpec] = field(default_factory=list)
    addons: list[AddonSpec] = field(default_factory=list)

    def __repr__(self) -> str:
        lines = [f"chart = cdk8s.Chart(app, 'jupyterhub', namespace={self.namespace!r})"]
        args = ", ".join(f"{k}={v!r}" for k, v in self.hub.items())
        lines.append(f"hub = JupyterHub(chart, 'hub', auth=AUTH, {args})")
        lines += [repr(p) for p in self.profiles]
        lines += [repr(a) for a in self.addons]
        return "\n".join(lines)


AUTH = OidcAuth(
    client_id="jupyterhub",
    client_secret=SecretRef("jupyterhub-oidc", "client-secret"),
    authorize_url="https://idp.example.com/authorize",
    token_url="https://idp.example.com/token",
    userdata_url="https://idp.example.com/userinfo",
    allowed_groups=["data-science"],
)

_PROFILE_OPTIONS: dict[str, st.SearchStrategy[Any]] = {
    "description": st.text(max_size=20),
    "image": st.one_of(st.none(), IMAGE),
    "image_pull_policy": st.sampled_from(["IfNotPresent", "Always", "Never", "always"]),
    "image_pull_secrets": st.lists(DNS_LABEL, max_size=2),
    "cpu_request": CPU,
    "cpu_limit": CPU,
    "memory_request": MEMORY,
    "memory_limit": MEMORY,
    "gpu": st.one_of(st.none(), GPU),
    "env": st.dictionaries(ENV_NAME, st.one_of(ENV_VALUE, SECRET_REF), max_size=3),
    "node_selector": st.dictionaries(LABEL_KEY, LABEL_VALUE, max_size=2),
    "tolerations": st.lists(TOLERATION, max_size=2),
    "start_timeout": st.one_of(st.none(), st.sampled_from([0, 1, 60, 300, 3600, -5])),
    "post_start_command": st.one_of(st.none(), st.lists(st.text(max_size=10), max_size=3)),
    "pre_stop_command": st.one_of(st.none(), st.lists(st.text(max_size=10), max_size=3)),
    "stop_grace_period": st.one_of(st.none(), st.sampled_from([0, 1, 30, -1, 10**6])),
    "shared_data_read_only": st.booleans(),
    "internet_access": st.one_of(st.none(), st.booleans()),
    "default_url": st.one_of(st.none(), st.sampled_from(["/lab", "lab", "/tree", "/lab?x=1"])),
    "cmd": st.one_of(st.none(), st.lists(st.sampled_from(["jupyterhub-singleuser", "x"]))),
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
            st.sampled_from(["example.com/fpga", "hugepages-2Mi", "smarter-devices/fuse", "x"]),
            st.sampled_from(["1", "2", "0", "1Gi", "-1", "a"]),
            max_size=1,
        ),
    ),
    "extra_overrides": st.one_of(st.none(), OVERRIDE),
}


@st.composite
def profile_specs(draw: st.DrawFn) -> ProfileSpec:
    keys = draw(st.sets(st.sampled_from(sorted(_PROFILE_OPTIONS)), max_size=4))
    kwargs: dict[str, Any] = {"display_name": draw(_kind("text"))}
    for key in sorted(keys):
        kwargs[key] = draw(_PROFILE_OPTIONS[key])
    return ProfileSpec(draw(DNS_LABEL), kwargs)  # "default" is decided by app_specs


_SINGLEUSER = builds(
    SingleUser,
    env=st.dictionaries(ENV_NAME, st.one_of(ENV_VALUE, SECRET_REF), max_size=2),
    default_url=st.one_of(st.none(), st.sampled_from(["/lab", "lab"])),
    uid=st.one_of(st.none(), UID),
    fs_gid=st.one_of(st.none(), UID),
    image_pull_secrets=st.lists(DNS_LABEL, max_size=1),
    volumes=st.lists(VOLUME, max_size=1),
    extra_labels=st.one_of(st.none(), st.dictionaries(LABEL_KEY, LABEL_VALUE, max_size=1)),
    shm_size=st.one_of(st.none(), MEMORY),
)

_HUB_OPTIONS: dict[str, st.SearchStrategy[Any]] = {
    "notebook_image": IMAGE,
    "start_timeout": st.sampled_from([0, 1, 60, 300, -1, 10**6]),
    "admin_users": st.lists(st.sampled_from(["alice", "bob@example.com", "", "a b"]), max_size=2),
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
            timeout=st.sampled_from([60, 3600, 0, -1]),
            interval=st.sampled_from([60, 600, 0]),
            max_age=st.sampled_from([0, 86400, -1]),
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
            pods=st.sampled_from([0, 1, 50, -1]),
        ),
    ),
    "container_limits": st.one_of(
        st.none(), builds(ContainerLimits, max_cpu=CPU, max_memory=MEMORY)
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
            host=st.sampled_from(["db.example.com", "db", "", "db example"]),
            database=st.sampled_from(["jupyterhub", "", "a b"]),
            user=st.sampled_from(["hub", ""]),
            password=SECRET_REF,
        ),
    ),
}

_ADDONS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "ObservabilityBundle": st.fixed_dictionaries(
        {},
        optional={
            "prometheus_namespace": DNS_LABEL,
            "scrape_interval": st.sampled_from(["30s", "1m", "30", "1h", "0s", "x"]),
            "dashboard_folder": st.text(max_size=10),
            "monitor_labels": st.dictionaries(LABEL_KEY, LABEL_VALUE, max_size=1),
        },
    ),
    "CloudflareTunnel": st.fixed_dictionaries(
        {"tunnel_token": SECRET_REF},
        optional={
            "replicas": st.integers(-1, 5),
            "cpu_request": CPU,
            "memory_limit": MEMORY,
        },
    ),
    "PlatformServiceBinding.trino": st.fixed_dictionaries(
        {
            "host": st.sampled_from(["trino.data", "trino", "Trino.Data", "a b"]),
            "catalog": st.sampled_from(["hive", "", "a b"]),
            "user": st.sampled_from(["u", ""]),
        },
        optional={"port": st.sampled_from([8080, 0, 65536, -1]), "namespace": DNS_LABEL},
    ),
    "PlatformServiceBinding.ray": st.fixed_dictionaries(
        {"host": st.sampled_from(["ray-head.ray", "ray"])},
        optional={"port": st.sampled_from([10001, 0, 70000]), "namespace": DNS_LABEL},
    ),
}


@st.composite
def app_specs(draw: st.DrawFn) -> AppSpec:
    """One chart, one hub with a drawn subset of its options, 1-3 profiles, add-ons."""
    keys = draw(st.sets(st.sampled_from(sorted(_HUB_OPTIONS)), max_size=5))
    hub: dict[str, Any] = {
        "domain": draw(_kind("host-name", "Jupyter.Example.com", "hub", "hub.example.com:8443"))
    }
    for key in sorted(keys):
        hub[key] = draw(_HUB_OPTIONS[key])
    profiles = draw(st.lists(profile_specs(), min_size=1, max_size=3))
    # Most apps mark one default profile, as the docs ask; some forget (a mistake to refuse).
    if draw(st.integers(0, 9)) > 0:
        profiles[0].kwargs["default"] = True
    addon_kinds = draw(st.sets(st.sampled_from(sorted(_ADDONS)), max_size=2))
    addons = [AddonSpec(kind, draw(_ADDONS[kind])) for kind in sorted(addon_kinds)]
    namespace = draw(st.one_of([st.just("jupyter")] * 4 + [DNS_LABEL]))
    return AppSpec(namespace, hub, profiles, addons)


def build_app(spec: AppSpec, app: cdk8s.App) -> None:
    """Build the app ``spec`` describes (what ``AppSpec.__repr__`` prints)."""
    chart = cdk8s.Chart(app, "jupyterhub", namespace=spec.namespace)
    hub = JupyterHub(chart, "hub", auth=AUTH, **resolve(spec.hub))
    for profile in spec.profiles:
        hub.add_profile(profile.slug, **resolve(profile.kwargs))
    for index, raw in enumerate(spec.addons):
        addon = AddonSpec(raw.kind, resolve(raw.kwargs))
        if addon.kind == "ObservabilityBundle":
            ObservabilityBundle(chart, "observability", hub=hub, **addon.kwargs)
        elif addon.kind == "CloudflareTunnel":
            CloudflareTunnel(chart, "tunnel", hub=hub, **addon.kwargs)
        else:
            factory = getattr(PlatformServiceBinding, addon.kind.split(".", 1)[1])
            hub.add_binding(factory(chart, f"binding-{index}", **addon.kwargs))


#: The public parameters the strategies draw: ``{callable name: parameter names}``.
COVERED: dict[str, set[str]] = {
    "JupyterHub": {"domain", "auth", *_HUB_OPTIONS},
    "add_profile": {"display_name", *_PROFILE_OPTIONS},
}
