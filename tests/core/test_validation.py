"""Every public parameter is checked at synth by the rule of the field it reaches.

Walks ``tests/validation_inventory.py``:

- every parameter of the public API has a row (a parameter added later must say how it
  is checked, or the test fails);
- one ``test_fails_when_<kind>...`` per kind: every known-bad value of every row of that
  kind fails with a ``ConfigurationError`` that names the construct path and the value
  (never a secret), what is allowed and how to fix it;
- a property test feeds generated strings (Unicode, whitespace, control characters,
  boundary lengths) into every string parameter: either a ``ConfigurationError``, or every
  rendered object validates strictly (kubernetes-validate 1.27 and the newest; custom
  resources against their CRDs) and the real KubeSpawner renders a valid user pod.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import os
import re
from collections.abc import Callable
from typing import Any

import kubernetes_validate
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from jupyter_constructs import (
    ArgoCdApplication,
    AzureAdAuth,
    CloudflareAccessAuth,
    CloudflareTunnel,
    ClusterDns,
    ConfigurationError,
    ContainerLimits,
    Environment,
    ExternalSecretSource,
    ExtraFile,
    FileItem,
    GatewayRoute,
    GitHubAuth,
    GoogleAuth,
    Gpu,
    HubDatabase,
    HubNetworkPolicies,
    HubTunables,
    IdleCuller,
    ImagePullerOptions,
    IngressController,
    IngressOptions,
    JupyterHub,
    KubeObject,
    LdapAuth,
    Mount,
    NamedServers,
    NamespaceQuota,
    NetworkOptions,
    NfsExport,
    NodePool,
    NotebookProfile,
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
    UserPlaceholders,
    UserScheduler,
    UserStorage,
    UserVolume,
    VeleroBackups,
)
from jupyter_constructs.core import network_policy
from jupyter_constructs.delivery.portal import ServiceCatalogEntry
from tests import strategies
from tests.core.test_manifests import VERSIONS
from tests.crd_schemas import is_custom_resource, validate_custom_resource
from tests.support.kube.product import render_user_pod, user_choices
from tests.validation_inventory import (
    DOC,
    INVENTORY,
    UNCHECKED,
    WITHOUT_GOOD_VALUE,
    Param,
    good_values,
    render_markdown,
)

# -- the inventory covers the public API ---------------------------------------------------

_SKIP = {"self", "scope", "id", "cls", "app"}


def _params(obj: Callable[..., Any]) -> list[str]:
    if dataclasses.is_dataclass(obj):
        return [f.name for f in dataclasses.fields(obj) if f.init]
    signature = inspect.signature(obj.__init__ if inspect.isclass(obj) else obj)
    names = []
    for name, param in signature.parameters.items():
        if name in _SKIP:
            continue
        names.append("**options" if param.kind is param.VAR_KEYWORD else name)
    return names


PUBLIC_API: dict[str, Callable[..., Any]] = {
    "JupyterHub": JupyterHub,
    "NotebookProfile": NotebookProfile,
    "Gpu": Gpu,
    "Toleration": Toleration,
    "Resources": Resources,
    "UserStorage": UserStorage,
    "SharedData": SharedData,
    "IdleCuller": IdleCuller,
    "NamespaceQuota": NamespaceQuota,
    "ContainerLimits": ContainerLimits,
    "IngressOptions": IngressOptions,
    "NetworkOptions": NetworkOptions,
    "ClusterDns": ClusterDns,
    "ClusterDns.kube_dns": ClusterDns.kube_dns,
    "ClusterDns.node_local_dns": ClusterDns.node_local_dns,
    "IngressController": IngressController,
    "IngressController.nginx": IngressController.nginx,
    "IngressController.traefik": IngressController.traefik,
    "HubDatabase.sqlite_pvc": HubDatabase.sqlite_pvc,
    "HubDatabase.postgres": HubDatabase.postgres,
    "SecretRef": SecretRef,
    "OidcAuth": OidcAuth,
    "OidcAuth.cloudflare_access_saas": OidcAuth.cloudflare_access_saas,
    "CloudflareAccessAuth": CloudflareAccessAuth,
    **{
        f"PlatformServiceBinding.{f}": getattr(PlatformServiceBinding, f)
        for f in ("trino", "s3", "mlflow", "postgres", "datahub", "ray", "kafka")
    },
    "CloudflareTunnel": CloudflareTunnel,
    "ObservabilityBundle": ObservabilityBundle,
    "ExternalSecretSource": ExternalSecretSource,
    "ArgoCdApplication": ArgoCdApplication,
    "Environment": Environment,
    "Environment.chart": Environment.chart,
    "Environment.add_application": Environment.add_application,
    "ServiceCatalogEntry": ServiceCatalogEntry,
    "ServiceCatalogEntry.jupyterhub": ServiceCatalogEntry.jupyterhub,
    "KubeObject": KubeObject,
    "JupyterHub.add_hub_service": JupyterHub.add_hub_service,
    "HubNetworkPolicies.allow_user_egress": HubNetworkPolicies.allow_user_egress,
    "network_policy.tcp": network_policy.tcp,
    "network_policy.udp": network_policy.udp,
    "network_policy.pods": network_policy.pods,
    "network_policy.pods_in_namespace": network_policy.pods_in_namespace,
    "network_policy.cidrs": network_policy.cidrs,
    # User servers (issue 13). UserVolume is built through its factories; UserStorage's
    # factories (dynamic, shared, none) only set the dataclass fields listed under it.
    "SingleUser": SingleUser,
    **{
        f"UserVolume.{f}": getattr(UserVolume, f)
        for f in ("existing_claim", "nfs_export", "config_map", "secret", "empty_dir")
    },
    "NfsExport": NfsExport,
    "FileItem": FileItem,
    "ExtraFile": ExtraFile,
    "UserContainer": UserContainer,
    "Mount": Mount,
    "ImagePullerOptions": ImagePullerOptions,
    # Hub features (issue 14A), day two (issue 17), merged from main.
    "ProfileOption": ProfileOption,
    "ProfileChoice": ProfileChoice,
    "UnlistedChoice": UnlistedChoice,
    "NamedServers": NamedServers,
    "HubTunables": HubTunables,
    "JupyterHub.set_trait": JupyterHub.set_trait,
    "JupyterHub.add_python_file": JupyterHub.add_python_file,
    "JupyterHub.add_template": JupyterHub.add_template,
    "VeleroBackups": VeleroBackups,
    # Sign-in providers and the hub's edge (issue 14 part B).
    "GitHubAuth": GitHubAuth,
    "GoogleAuth": GoogleAuth,
    "AzureAdAuth": AzureAdAuth,
    "LdapAuth": LdapAuth,
    "GatewayRoute": GatewayRoute,
    "GatewayRoute.envoy_gateway": GatewayRoute.envoy_gateway,
    "GatewayRoute.per_gateway_deployment": GatewayRoute.per_gateway_deployment,
    "PublicService": PublicService,
    "PublicService.load_balancer": PublicService.load_balancer,
    "PublicService.node_port_service": PublicService.node_port_service,
    # Scheduling (issue 21).
    "NodePool": NodePool,
    "NodePool.by_purpose": NodePool.by_purpose,
    "NodePool.core": NodePool.core,
    "NodePool.user": NodePool.user,
    "UserScheduler": UserScheduler,
    "UserPlaceholders": UserPlaceholders,
}
# hub.add_profile takes NotebookProfile's parameters (ProfileOptions): covered by its rows.
_SAME_AS = {"NotebookProfile": ("slug", "display_name")}
_NOT_PARAMETERS = {("ServiceBinding", "")}


def test_every_public_parameter_has_a_row_in_the_inventory():
    listed = {(p.api, p.name) for p in INVENTORY} | set(UNCHECKED)
    missing = [
        f"{api}({name})"
        for api, obj in PUBLIC_API.items()
        for name in _params(obj)
        if (api, name) not in listed
    ]
    assert missing == [], (
        "public parameters without a row in tests/validation_inventory.py (say which "
        f"field each reaches and how it is checked): {missing}"
    )


def test_add_profile_takes_exactly_the_profile_parameters():
    from typing import get_type_hints

    from jupyter_constructs.hub.profiles import ProfileOptions

    options = set(get_type_hints(ProfileOptions))
    assert options | {"slug", "display_name"} == set(_params(NotebookProfile))


def test_no_public_parameter_swallows_untyped_keywords():
    for api, obj in PUBLIC_API.items():
        signature = inspect.signature(obj.__init__ if inspect.isclass(obj) else obj)
        for param in signature.parameters.values():
            if param.kind is param.VAR_KEYWORD:
                assert "Unpack" in str(param.annotation), f"{api}(**{param.name}: Any)"


def test_the_document_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/validation.md is out of date: run `make docs`"
    )


# -- one test per kind: every bad value fails with the house message ----------------------------


def shows(value: Any, message: str) -> bool:
    """The message shows the value (or, for a container, one of its elements)."""
    if repr(value) in message:
        return True
    if isinstance(value, dict):
        return any(shows(k, message) or shows(v, message) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(shows(v, message) for v in value)
    if isinstance(value, float) and math.isnan(value):
        return "nan" in message
    return False


def assert_refused(row: Param, value: Any) -> None:
    with pytest.raises(ConfigurationError) as error:
        row.build(value)
    message = str(error.value)
    assert message.startswith(row.path) or f"{row.path}" in message.split(":")[0], message
    assert "Allowed: " in message and "Fix: " in message, message
    if row.kind == "secret-ref":
        assert value not in message, f"a secret was echoed: {message}"
        assert "value hidden" in message, message
    elif row.kind not in ("options", "auth", "database", "hub", "binding", "trait", "typed"):
        assert shows(value, message) or "Allowed:" in message, message


def _cases(kind: str) -> list[Any]:
    cases = []
    for row in INVENTORY:
        if row.kind != kind:
            continue
        bad = row.bad if row.bad is not None else tuple(strategies.BAD.get(kind, ()))
        cases += [
            pytest.param(row, value, id=f"{row.api}.{row.name}={value!r}"[:120]) for value in bad
        ]
    return cases


def _test_for(kind: str) -> Callable[..., None]:
    @pytest.mark.parametrize(("row", "value"), _cases(kind))
    def test(row: Param, value: Any) -> None:
        assert_refused(row, value)

    test.__doc__ = f"Every parameter of kind {kind!r} refuses the values that break its rule."
    return test


for _kind in sorted({row.kind for row in INVENTORY}):
    if _cases(_kind):
        _name = (
            "test_fails_when_" + re.sub(r"[^a-z0-9]+", "_", _kind.lower()).strip("_") + "_is_broken"
        )
        globals()[_name] = _test_for(_kind)


# -- every row renders with a valid value ----------------------------------------------------
# A builder that fails whatever it is given makes its row's bad-value tests pass without
# proving anything (CloudflareAccessAuth's builder did, until its rows were given a
# valid value here).


def _good_cases() -> list[Any]:
    return [
        pytest.param(row, value, id=f"{row.api}.{row.name}={value!r}"[:120])
        for row in INVENTORY
        for value in good_values(row)
    ]


@pytest.mark.parametrize(("row", "value"), _good_cases())
def test_every_row_renders_a_valid_value_into_valid_objects(row: Param, value: Any) -> None:
    _validate(row.build(value))


def test_rows_without_a_valid_value_are_only_the_known_ones():
    without = {(row.api, row.name) for row in INVENTORY if not good_values(row)}
    assert without <= WITHOUT_GOOD_VALUE, (
        "give these rows good=(...) (a value their builder must render): "
        f"{sorted(without - WITHOUT_GOOD_VALUE)}"
    )
    assert not WITHOUT_GOOD_VALUE - without, (
        "these rows have a valid value now: drop them from WITHOUT_GOOD_VALUE: "
        f"{sorted(WITHOUT_GOOD_VALUE - without)}"
    )


def test_every_kind_has_bad_values():
    without = sorted(
        {
            row.kind
            for row in INVENTORY
            if (row.bad if row.bad is not None else strategies.BAD.get(row.kind)) in (None, (), [])
        }
        - {"mapping"}
    )
    assert without == []


# -- the property test ----------------------------------------------------------------------------

STRING_ROWS = [row for row in INVENTORY if row.strings]
# The unit level runs a few examples per run; JC_HYPOTHESIS_EXAMPLES=2000 runs a long search.
settings.register_profile(
    "unit",
    max_examples=int(os.environ.get("JC_HYPOTHESIS_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=os.environ.get("JC_HYPOTHESIS_EXAMPLES") is None,
)


_VALID_OBJECTS: set[str] = set()


def _validate_object(obj: dict[str, Any]) -> None:
    # Most objects are the same from one example to the next: each distinct one once.
    key = json.dumps(obj, sort_keys=True)
    if key in _VALID_OBJECTS:
        return
    if is_custom_resource(obj):
        validate_custom_resource(obj)
    else:
        for version in VERSIONS:
            kubernetes_validate.validate(obj, version, strict=True)
    _VALID_OBJECTS.add(key)


def _validate(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        _validate_object(obj)
    hub_config = [
        o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "hub-config"
    ]
    # KubeSpawner makes a claim per user only with storage_pvc_ensure (dynamic homes).
    pvc_per_user = bool(hub_config) and (
        json.loads(hub_config[0]["data"]["hub_config.json"])
        .get("KubeSpawner", {})
        .get("storage_pvc_ensure", False)
    )
    for choice in user_choices(objects) if hub_config else []:
        pod, pvc = render_user_pod(objects, choice)
        _validate_object(pod)
        if pvc_per_user:
            _validate_object(pvc)


@settings.get_profile("unit") and settings(settings.get_profile("unit"))
@given(data=st.data())
def test_generated_strings_are_refused_or_render_valid_objects(data: st.DataObject) -> None:
    row = data.draw(st.sampled_from(STRING_ROWS), label="parameter")
    value = data.draw(strategies.strings(row.kind), label=f"{row.api}.{row.name}")
    try:
        objects = row.build(value)
    except ConfigurationError as error:
        message = str(error)
        assert "Allowed: " in message and "Fix: " in message, message
        event("refused")
        return
    event("accepted")
    _validate(objects)


def test_the_property_test_reaches_every_string_parameter():
    # Enough rows take strings, and each has either valid examples of its kind or the
    # generic Unicode strategies (so generated values are accepted as well as refused).
    assert len(STRING_ROWS) > 100
    without_valid = sorted({r.kind for r in STRING_ROWS if not strategies.has_strategy(r.kind)})
    assert set(without_valid) <= {
        "config-map-key",
        "enum",
        "ip-address",
        "no-space-text",
        "templated-user",
        "team-domain",
        "url-segment",
        "repo-url",
        "repo-path",
        "git-ref",
        "argocd-duration",
        "url-or-path",
        "port",
    }, without_valid
