"""The z2jh converter: values files in, apps out, judged by the real KubeSpawner.

The values files in ``z2jh_values/`` were written for these tests in the shapes z2jh's
reference documents (https://z2jh.jupyter.org/en/stable/resources/reference.html): each
converted app is run as a user runs it (``python app.py``), and what matters for a
migration (home claim names, profile slugs, the pods' resources) is compared between
the real KubeSpawner configured as z2jh configures it and the real KubeSpawner loaded
with the app's hub config.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubespawner import KubeSpawner
from ldapauthenticator import LDAPAuthenticator
from oauthenticator.azuread import AzureAdOAuthenticator
from oauthenticator.github import GitHubOAuthenticator
from oauthenticator.google import GoogleOAuthenticator
from traitlets.config import Config

from jupyter_constructs.core.quantities import parse_cpu, parse_memory
from jupyter_constructs.delivery.z2jh import convert
from tests.helpers import find, load_manifests, write_config_dir
from tests.real_hub import load_config, mock_kubespawner, pod_manifest, unknown_traits
from tests.support.kube.product import hub_secret_env

VALUES = Path(__file__).parent / "z2jh_values"
# The authenticator classes a converted app may configure, besides the hub's own.
AUTHENTICATORS: dict[str, type] = {
    "GitHubOAuthenticator": GitHubOAuthenticator,
    "GoogleOAuthenticator": GoogleOAuthenticator,
    "AzureAdOAuthenticator": AzureAdOAuthenticator,
    "LDAPAuthenticator": LDAPAuthenticator,
}
ROOT = Path(__file__).parents[2]
ALICE = "alice.smith@example.org"

# What each values file must leave unmapped (the converter says so, with a reason).
EXPECTED_UNMAPPED = {
    "oauth-ingress": set(),
    "z2jh3-minimal": {"hub.config.Authenticator.allowed_users", "singleuser.cpu.limit"},
    "z2jh3-static-gpu": {"hub.resources"},
    "profiles-gpu": {
        "singleuser.cpu.limit",
        "cull.removeNamedServers",
        "singleuser.profileList[2].profile_options",
    },
    "postgres-static": {
        "proxy.https",
        "proxy.service",
        "hub.extraConfig",
        "hub.concurrentSpawnLimit",
        "singleuser.cpu.limit",
        "singleuser.networkPolicy.egressAllowRules.privateIPs",
    },
    "github-loadbalancer": {"singleuser.cpu.limit"},
    "ldap-nodeport": {
        "ingress.hosts",
        "hub.config.LDAPAuthenticator.server_address",
        "proxy.service.type",
        "singleuser.cpu.limit",
    },
}


def _version(name: str) -> int:
    return 3 if name.startswith("z2jh3") else 4


def _values(name: str) -> dict[str, Any]:
    return yaml.safe_load((VALUES / f"{name}.yaml").read_text())  # type: ignore[no-any-return]


def _secrets(value: Any, path: str = "") -> list[str]:
    """Every secret value in a values file (keys named like secrets)."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _secrets(v, f"{path}.{k}")]
    last = path.rsplit(".", 1)[-1].lower()
    secret = last.endswith(("secret", "password", "token"))
    return [str(value)] if secret and isinstance(value, str) else []


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Path]]:
    """Each values file through the command line, and its app run as ``python app.py``."""
    results = {}
    for values in sorted(VALUES.glob("*.yaml")):
        name = values.stem
        work = tmp_path_factory.mktemp(name)
        app = work / "app.py"
        cli = subprocess.run(
            [sys.executable, "-m", "jupyter_constructs", "from-z2jh", str(values), "-o",
             str(app), "--namespace", "jhub", "--z2jh-version", str(_version(name))],
            capture_output=True, text=True, cwd=ROOT, check=False,
        )  # fmt: skip
        assert cli.returncode == 0, cli.stderr
        run = subprocess.run(
            [sys.executable, str(app)],
            capture_output=True,
            text=True,
            cwd=work,
            env={**os.environ, "CDK8S_OUTDIR": str(work / "out")},
            check=False,
        )
        assert run.returncode == 0, f"{name}: the converted app failed:\n{run.stderr[-3000:]}"
        results[name] = (cli, work)
    return results


def _objects(work: Path) -> list[dict[str, Any]]:
    return load_manifests(work / "out" / "jupyterhub")


def test_every_values_file_is_tested() -> None:
    assert {p.stem for p in VALUES.glob("*.yaml")} == set(EXPECTED_UNMAPPED)


@pytest.mark.parametrize("name", sorted(EXPECTED_UNMAPPED))
def test_unmapped_keys_are_reported_with_a_reason(name: str) -> None:
    conversion = convert(_values(name), namespace="jhub", z2jh_version=_version(name))
    assert {u.path for u in conversion.unmapped} == EXPECTED_UNMAPPED[name]
    assert all(len(u.reason) > 20 for u in conversion.unmapped)


@pytest.mark.parametrize("name", sorted(EXPECTED_UNMAPPED))
def test_no_secret_value_reaches_the_app_or_the_report(name, converted) -> None:
    cli, work = converted[name]
    secrets = _secrets(_values(name))
    assert secrets, "each values file carries at least one secret to check"
    text = (work / "app.py").read_text() + cli.stdout + cli.stderr
    for manifest in (work / "out").rglob("*.yaml"):
        text += manifest.read_text()
    assert [s for s in secrets if s in text] == []


@pytest.mark.parametrize("name", sorted(EXPECTED_UNMAPPED))
def test_the_app_loads_into_the_real_hub_classes(name, converted, tmp_path) -> None:
    _, work = converted[name]
    objects = _objects(work)
    config = load_config(write_config_dir(objects, tmp_path), hub_secret_env(objects))
    assert unknown_traits(config, AUTHENTICATORS) == []


@pytest.mark.parametrize(
    ("name", "z2jh_config"),
    [
        # z2jh 4.x leaves pvcNameTemplate empty: KubeSpawner 7's defaults name the claim.
        ("oauth-ingress", Config()),
        # z2jh 3.x: KubeSpawner 6's claim-{username}{servername} with escaped names, which
        # KubeSpawner 7 reproduces with slug_scheme "escape".
        (
            "z2jh3-minimal",
            Config(
                {
                    "KubeSpawner": {
                        "slug_scheme": "escape",
                        "pvc_name_template": "claim-{username}{servername}",
                    }
                }
            ),
        ),
    ],
)
def test_a_migrated_user_finds_the_same_home_claim(name, z2jh_config, converted, tmp_path) -> None:
    """The claim z2jh's KubeSpawner made for a user is the one the app's KubeSpawner mounts.

    A naive switch loses homes (issue 17, "No way from z2jh"): KubeSpawner 7 escapes user
    names differently from 6 (jupyterhub/kubespawner#791).
    """
    _, work = converted[name]
    config = load_config(write_config_dir(_objects(work), tmp_path))
    with mock_kubespawner(config, user_name=ALICE) as ours:
        ours_name = ours.pvc_name
    with mock_kubespawner(z2jh_config, user_name=ALICE) as theirs:
        theirs_name = theirs.pvc_name
    assert ours_name == theirs_name
    assert "." not in ours_name and "@" not in ours_name


def _z2jh_pod(values: dict[str, Any], profile_index: int) -> dict[str, Any]:
    """The pod z2jh's KubeSpawner renders for a profile (singleuser settings + override)."""
    singleuser = values["singleuser"]
    profiles = singleuser["profileList"]
    spawner_config: dict[str, Any] = {
        "image": f"{singleuser['image']['name']}:{singleuser['image']['tag']}",
        "mem_guarantee": singleuser["memory"]["guarantee"],
        "mem_limit": singleuser["memory"]["limit"],
        "node_selector": singleuser["nodeSelector"],
        "profile_list": profiles,
    }
    with mock_kubespawner(Config({"KubeSpawner": spawner_config}), user_name=ALICE) as spawner:
        from slugify import slugify

        profile = profiles[profile_index]
        return pod_manifest(spawner, profile.get("slug") or slugify(profile["display_name"]))


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_profiles_keep_their_slug_resources_and_placement(index, converted, tmp_path) -> None:
    """A profile chosen by slug gives the same image, resources and placement as under z2jh.

    KubeSpawner's memory units are powers of 1024 ("4G" is 4 GiB); the app writes
    Kubernetes quantities, so the comparison is of the pods the real KubeSpawner renders.
    """
    values = _values("profiles-gpu")
    theirs = _z2jh_pod(values, index)["spec"]
    _, work = converted["profiles-gpu"]
    config = load_config(write_config_dir(_objects(work), tmp_path))
    from slugify import slugify

    raw = values["singleuser"]["profileList"][index]
    with mock_kubespawner(config, user_name=ALICE) as spawner:
        ours = pod_manifest(spawner, raw.get("slug") or slugify(raw["display_name"]))["spec"]
    mine, their = ours["containers"][0], theirs["containers"][0]
    assert mine["image"] == their["image"]
    for kind in ("requests", "limits"):
        for resource, amount in their["resources"].get(kind, {}).items():
            mine_amount = mine["resources"][kind][resource]
            assert _quantity(resource, mine_amount) == _quantity(resource, amount), (kind, resource)
    assert their.get("lifecycle") == mine.get("lifecycle") or index != 2
    for key, value in (theirs.get("nodeSelector") or {}).items():
        assert ours["nodeSelector"][key] == value
    for toleration in theirs.get("tolerations") or []:
        assert toleration in ours["tolerations"]


def test_every_device_gets_its_own_quota_item_and_cpu_profiles_stay_off_gpu_nodes(
    converted, tmp_path
) -> None:
    """Issue 21: a z2jh profile asking for a MIG slice (``extra_resource_limits``) becomes
    a profile the app's quota bounds by its own item, ``requests.nvidia.com/mig-1g.10gb``
    (z2jh renders no quota; the app refuses a device without an item), next to whole GPUs;
    the CPU profiles' pods, as the real KubeSpawner renders them, require a node without
    GPUs and hide the image's GPUs, while the GPU and MIG profiles' pods do neither; and
    the report says so."""
    cli, work = converted["profiles-gpu"]
    objects = _objects(work)
    (quota,) = [o for o in objects if o["kind"] == "ResourceQuota"]
    assert quota["spec"]["hard"]["requests.nvidia.com/mig-1g.10gb"] == "8"
    assert quota["spec"]["hard"]["requests.nvidia.com/gpu"] == "8"
    assert "requests.nvidia.com/mig-1g.10gb: 8" in cli.stdout + cli.stderr
    assert "now stay off nodes labelled as GPU nodes" in cli.stdout + cli.stderr
    config = load_config(write_config_dir(objects, tmp_path))
    pods = {}
    for slug in ("small-1-cpu-2-gib", "gpu", "mig"):
        # A fresh spawner per start, as JupyterHub makes (it drops a stopped one).
        with mock_kubespawner(config, user_name=ALICE) as spawner:
            pods[slug] = pod_manifest(spawner, slug)["spec"]
    cpu = pods["small-1-cpu-2-gib"]
    terms = cpu["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert {"key": "nvidia.com/gpu.present", "operator": "NotIn", "values": ["true"]} in (
        terms["nodeSelectorTerms"][0]["matchExpressions"]
    )
    env = {e["name"]: e.get("value") for e in cpu["containers"][0]["env"]}
    assert env["NVIDIA_VISIBLE_DEVICES"] == "void"
    for slug in ("gpu", "mig"):
        spec = pods[slug]
        assert "affinity" not in spec or "requiredDuringSchedulingIgnoredDuringExecution" not in (
            spec["affinity"].get("nodeAffinity") or {}
        ), slug
        names = {e["name"] for e in spec["containers"][0]["env"]}
        assert "NVIDIA_VISIBLE_DEVICES" not in names, slug


def test_the_user_scheduler_and_placeholders_are_converted(converted, tmp_path) -> None:
    """``scheduling.userScheduler.enabled`` and ``userPlaceholder.replicas: 2``: the app has
    a packing scheduler, two placeholders of the default profile, and the user pod the real
    KubeSpawner renders names that scheduler and the user PriorityClass."""
    _, work = converted["profiles-gpu"]
    objects = _objects(work)
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert ("Deployment", "user-scheduler") in kinds
    assert ("ClusterRole", "jupyterhub:jhub:user-scheduler") in kinds
    (placeholders,) = [o for o in objects if o["metadata"]["name"].startswith("user-placeholder-")]
    assert placeholders["spec"]["replicas"] == 2
    default_slug = placeholders["metadata"]["name"].removeprefix("user-placeholder-")
    config = load_config(write_config_dir(objects, tmp_path))
    with mock_kubespawner(config, user_name=ALICE) as spawner:
        spec = pod_manifest(spawner, default_slug)["spec"]
    assert spec["schedulerName"] == "jhub-user-scheduler"
    assert spec["priorityClassName"] == "jupyterhub-jhub-user"
    requests = placeholders["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]
    server = spec["containers"][0]["resources"]["requests"]
    assert _quantity("cpu", requests["cpu"]) == _quantity("cpu", server["cpu"])
    assert _quantity("memory", requests["memory"]) == _quantity("memory", server["memory"])


def test_node_pools_are_converted() -> None:
    values = {"scheduling": {
        "corePods": {"nodeAffinity": {"matchNodePurpose": "require"}},
        "userPods": {"nodeAffinity": {"matchNodePurpose": "prefer"}, "tolerations": [{}]},
    }}  # fmt: skip
    conversion = convert(values, namespace="jhub")
    assert "core_pods=NodePool.core(affinity=NodeAffinity.REQUIRED)" in conversion.source
    assert "user_pods=NodePool.user(affinity=NodeAffinity.PREFERRED)" in conversion.source
    assert [u.path for u in conversion.unmapped if u.path.startswith("scheduling")] == [
        "scheduling.userPods.tolerations"
    ]


def _quantity(resource: str, value: Any) -> Any:
    if resource == "memory":
        return parse_memory("test", resource, str(value))
    if resource == "cpu":
        return parse_cpu("test", resource, str(value))
    return int(value)


def test_a_secret_key_is_never_echoed_by_the_cli_on_bad_input(tmp_path) -> None:
    bad = tmp_path / "values.yaml"
    bad.write_text("hub: [unclosed\n  password: fake-pw-123\n")
    result = subprocess.run(
        [sys.executable, "-m", "jupyter_constructs", "from-z2jh", str(bad), "-o",
         str(tmp_path / "app.py")],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "cannot convert" in result.stderr
    assert "fake-pw-123" not in result.stderr + result.stdout
    assert not (tmp_path / "app.py").exists()


def test_strict_exits_3_when_a_key_is_not_mapped(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jupyter_constructs", "from-z2jh",
         str(VALUES / "postgres-static.yaml"), "-o", str(tmp_path / "app.py"), "--strict"],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 3
    assert "hub.extraConfig: custom hub code" in result.stdout


def test_kubespawner_is_the_judge_of_the_z2jh_side() -> None:
    """The z2jh side of the comparisons above is KubeSpawner's own: it can disagree."""
    with mock_kubespawner(
        Config({"KubeSpawner": {"slug_scheme": "escape"}}), user_name=ALICE
    ) as spawner:
        escaped = spawner.pvc_name
    with mock_kubespawner(Config(), user_name=ALICE) as spawner:
        safe = spawner.pvc_name
    assert escaped != safe
    assert isinstance(KubeSpawner.slug_scheme.default_value, str)


def test_the_hub_database_is_z2jh_s_own(converted, tmp_path) -> None:
    """sqlite: the same claim (hub-db-dir, its size and class from values.yaml), mounted
    where z2jh mounts it, the same file, and the hub's user (z2jh runs the hub as 1000)."""
    _, work = converted["oauth-ingress"]
    objects = _objects(work)
    claim = next(o for o in objects if o["kind"] == "PersistentVolumeClaim")
    assert claim["metadata"]["name"] == "hub-db-dir"
    assert claim["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert claim["spec"]["storageClassName"] == "gp3"
    hub = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "hub")
    spec = hub["spec"]["template"]["spec"]
    volume = next(v for v in spec["volumes"] if v.get("persistentVolumeClaim"))
    assert volume["persistentVolumeClaim"]["claimName"] == "hub-db-dir"
    mount = next(m for m in spec["containers"][0]["volumeMounts"] if m["name"] == volume["name"])
    assert mount["mountPath"] == "/srv/jupyterhub"
    assert spec["containers"][0]["securityContext"]["runAsUser"] == 1000
    config = load_config(write_config_dir(objects, tmp_path))
    assert config.JupyterHub.db_url == "sqlite:////srv/jupyterhub/jupyterhub.sqlite"


def test_the_chart_defaults_convert_to_a_hub_that_admits_nobody_yet() -> None:
    """``values.yaml`` with nothing set (z2jh's defaults: the dummy authenticator)."""
    conversion = convert({}, namespace="jhub")
    paths = {u.path for u in conversion.unmapped}
    assert "hub.config.JupyterHub.authenticator_class" in paths
    assert "ingress.hosts" in paths
    assert 'allowed_groups=["CHANGE-ME-jupyterhub-users"]' in conversion.source
    compile(conversion.source, "app.py", "exec")


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="mapping"):
        convert(["not", "a", "mapping"], namespace="jhub")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="3 or 4"):
        convert({}, namespace="jhub", z2jh_version=2)


def test_what_a_newcomer_found_mis_converted_is_kept(converted, tmp_path) -> None:
    """A review with a team's values found these lost or changed; each is z2jh's again.

    The hub with requests but no CPU limit runs (the limit is the hub's default, reported);
    z2jh 3.x folders on a shared claim keep their escaped names (folders, unlike claim
    names, are not remembered by the hub); a GPU profile keeps exactly z2jh's placement
    (no GPU-operator label added); the database keeps ``sslmode``; the pre-puller keeps
    its tolerations.
    """
    _, work = converted["z2jh3-static-gpu"]
    objects = _objects(work)
    config = load_config(write_config_dir(objects, tmp_path))
    assert config.KubeSpawner.slug_scheme == "escape"
    assert config.JupyterHub.db_url.endswith("?sslmode=require")
    with mock_kubespawner(config, user_name=ALICE) as spawner:
        gpu = pod_manifest(spawner, "a100")["spec"]
    assert gpu["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-tesla-a100"}
    pullers = [o for o in objects if o["kind"] == "DaemonSet"]
    assert pullers and all(
        {"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}
        in o["spec"]["template"]["spec"]["tolerations"]
        for o in pullers
    )


def _real_authenticator(config: Config, config_dir: Path) -> Any:
    """The class the hub loads (``JupyterHub.authenticator_class``), from the config dir."""
    import importlib

    module_name, _, class_name = config.JupyterHub.authenticator_class.rpartition(".")
    sys.path.insert(0, str(config_dir))
    try:
        return getattr(importlib.import_module(module_name), class_name)(config=config)
    finally:
        sys.path.remove(str(config_dir))
        sys.modules.pop("oauth_authenticators", None)


def _proxy_clients(objects: list[dict[str, Any]]) -> list[str]:
    """The CIDRs the proxy's NetworkPolicies admit."""
    return [
        peer["ipBlock"]["cidr"]
        for o in objects
        if o["kind"] == "NetworkPolicy"
        for rule in o["spec"].get("ingress", [])
        for peer in rule.get("from", [])
        if "ipBlock" in peer
    ]


def test_github_sign_in_a_base_url_and_a_load_balancer_are_converted(converted, tmp_path) -> None:
    """``GitHubOAuthenticator``, ``hub.baseUrl`` and a LoadBalancer ``proxy.service`` with
    ``loadBalancerSourceRanges`` become GitHubAuth, base_url and PublicService: the real
    GitHubOAuthenticator gets the organizations and the callback under /jupyter/, the
    Service keeps its ranges and annotations, the proxy admits those ranges only, and
    there is no Ingress (z2jh rendered none)."""
    _, work = converted["github-loadbalancer"]
    objects = _objects(work)
    config_dir = write_config_dir(objects, tmp_path)
    config = load_config(config_dir, hub_secret_env(objects))
    github = _real_authenticator(config, config_dir)
    assert isinstance(github, GitHubOAuthenticator)
    assert github.allowed_organizations == {"example-org", "example-org:data-team"}
    assert github.populate_teams_in_auth_state is True
    assert github.oauth_callback_url == "https://lab.example.net/jupyter/hub/oauth_callback"
    assert config.JupyterHub.base_url == "/jupyter/"
    assert config.JupyterHub.admin_users == {"octo-admin"} or config.Authenticator.admin_users
    service = find(objects, "Service", "proxy-public")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["loadBalancerSourceRanges"] == ["203.0.113.0/24"]
    annotations = service["metadata"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb"
    assert _proxy_clients(objects) == ["203.0.113.0/24"]
    assert not [o for o in objects if o["kind"] == "Ingress"]


def test_ldap_sign_in_and_a_node_port_are_converted(converted, tmp_path) -> None:
    """``LDAPAuthenticator`` with a DN lookup over LDAPS and a NodePort ``proxy.service``:
    the real LDAPAuthenticator gets the lookup, the verified TLS and the group; the search
    password comes from a Secret (never the values file's); the node port is kept."""
    cli, work = converted["ldap-nodeport"]
    objects = _objects(work)
    config_dir = write_config_dir(objects, tmp_path)
    config = load_config(config_dir, hub_secret_env(objects))
    ldap = _real_authenticator(config, config_dir)
    assert isinstance(ldap, LDAPAuthenticator)
    assert ldap.server_address == "ad.example.org"
    assert (ldap.server_port, ldap.tls_strategy.name) == (636, "on_connect")
    assert ldap.lookup_dn is True
    assert ldap.user_search_base == "ou=people,dc=example,dc=org"
    assert ldap.lookup_dn_search_user == "cn=hub,ou=services,dc=example,dc=org"
    assert ldap.allowed_groups == ["cn=data,ou=groups,dc=example,dc=org"]
    assert "jupyterhub-ldap (key search-password)" in cli.stdout
    service = find(objects, "Service", "proxy-public")
    assert service["spec"]["type"] == "NodePort"
    assert [p.get("nodePort") for p in service["spec"]["ports"]] == [30080]


def test_google_and_azure_ad_sign_in_are_converted() -> None:
    """Google (a Workspace domain, groups read through a service account) and Azure AD
    (one tenant, groups) map to GoogleAuth and AzureAdAuth; the key file and the client
    secrets become SecretRefs the report asks to create."""
    google = convert(
        {"hub": {"config": {
            "JupyterHub": {"authenticator_class": "google"},
            "GoogleOAuthenticator": {
                "client_id": "g-client", "client_secret": "fake-google-secret-1",
                "hosted_domain": ["example.org"],
                "allowed_google_groups": {"example.org": ["data@example.org"]},
                "gsuite_administrator": {"example.org": "it-admin"},
                "google_service_account_keys": {"example.org": "/etc/key.json"},
            },
        }}},
        namespace="jhub",
    )  # fmt: skip
    assert "GoogleAuth(" in google.source
    assert "hosted_domains=['example.org']" in google.source.replace('"', "'")
    assert 'service_account_key=SecretRef("jupyterhub-google-service-account"' in google.source
    assert "fake-google-secret-1" not in google.source + google.report()
    assert not [u for u in google.unmapped if u.path.startswith("hub.config")]
    azure = convert(
        {"hub": {"config": {
            "JupyterHub": {"authenticator_class": "azuread"},
            "AzureAdOAuthenticator": {
                "client_id": "az-client", "client_secret": "fake-azure-secret-2",
                "tenant_id": "6f1c2b9e-0d4a-4a57-9a43-2b8f3c1d7e55",
                "allowed_groups": ["0d1e2f3a-aaaa-bbbb-cccc-000000000001"],
            },
        }}},
        namespace="jhub",
    )  # fmt: skip
    assert "AzureAdAuth(" in azure.source
    assert "fake-azure-secret-2" not in azure.source + azure.report()
    assert not [u for u in azure.unmapped if u.path.startswith("hub.config")]
