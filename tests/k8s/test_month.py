"""A month of a platform team's changes to a running hub (issue 21, "Done when").

Each trial deploys one version of a hub to the real API server, runs the real hub, proxy
and KubeSpawner on it (users' servers run under the test kubelet), then applies the next
version the way ArgoCD does and restarts the hub on the same database, as its Deployment
does when the config checksum changes. What users had must still be there, the new
setting must apply where the docs say it does, and whatever applies only partly must be
said by ``plan`` (``jupyter_constructs.delivery.plan``), which the team reads before
merging.

The trials, in the order a team meets them:

- a home size raised: new users get the new size; an existing home is grown only where
  Kubernetes can (a bound claim of an expandable class: tests/k8s/test_home_expansion.py),
  here its claim is not bound (no PV binder at this level), so it keeps its size and the
  hub says why;
- a profile renamed: without ``former_slugs`` its running servers fall outside the
  profile's NetworkPolicies and a start that reuses the user's last choice fails ("No such
  profile"), which the plan notes; with ``former_slugs`` both keep working;
- ``IdleCuller(cull_users=True)``: the real culler deletes an idle user, the home stays
  and the user comes back to it;
- the hub's secrets rotated as docs/runbook.md says (proxy token, cookie secret, and the
  crypt key kept as ``new;old``): the running server stays reachable through the new
  pair, and the secret bootstrap re-run by the next sync leaves the rotated values alone;
- a GPU pool sliced into MIG: a quota without an item for the slices is refused at synth,
  and with one the ResourceQuota bounds MIG pods by their own item.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from jupyter_constructs import Gpu, IdleCuller, NamespaceQuota, UserStorage
from jupyter_constructs.core.network_policy import cidrs, tcp
from jupyter_constructs.delivery.plan import Finding, load_output, make_plan
from jupyter_constructs.hub.deployment import HUB_PORT
from jupyter_constructs.hub.profiles import PROFILE_LABEL
from tests.helpers import make_hub, synth
from tests.k8s.test_spawn import SHORT_CULLER, Hub, running_hub, user_pods, wait
from tests.support.kube.client import ApiError, KubeClient
from tests.support.kube.fixtures import DIST, apply_product, delete_namespace
from tests.support.kube.kubelet import TestKubelet
from tests.support.kube.product import (
    UserChoice,
    prepare_platform,
    render_user_pod,
    run_secret_bootstrap,
)
from tests.support.kube.sync import load_manifests
from tests.support.process import fixed_port

pytestmark = [pytest.mark.k8s, pytest.mark.integration]

Objects = list[dict[str, Any]]


@pytest.fixture
def month_namespace(admin: KubeClient, crds: list[str]) -> Iterator[str]:
    name = f"month-{secrets.token_hex(3)}"
    yield name
    delete_namespace(admin, name)
    for volume in admin.get("/api/v1/persistentvolumes")["items"]:
        if volume["metadata"]["name"].startswith(f"{name}-"):
            admin.delete(f"/api/v1/persistentvolumes/{volume['metadata']['name']}")


def plan_findings(tmp: Path, old: Objects, new: Objects) -> list[Finding]:
    """Every finding ``plan`` gives for ``old`` -> ``new`` (both as one ``prod`` folder)."""
    for side, objects in (("old", old), ("new", new)):
        folder = tmp / side / "prod"
        folder.mkdir(parents=True)
        for n, obj in enumerate(objects):
            (folder / f"{n}.yaml").write_text(yaml.safe_dump(obj))
    plan = make_plan(load_output(tmp / "old"), load_output(tmp / "new"))
    return [f for change in plan.changes for f in change.findings]


def start(hub: Hub, kubelet: TestKubelet, user: str, profile: str | None = None) -> None:
    hub.api("POST", f"/users/{user}/server", {"profile": profile} if profile else None)
    wait(lambda: (hub.server(user) or {}).get("ready"), 150, f"{user}'s server", hub, kubelet)


def stop(admin: KubeClient, hub: Hub, kubelet: TestKubelet, user: str) -> None:
    hub.api("DELETE", f"/users/{user}/server")
    wait(lambda: not user_pods(admin, hub.namespace, user), 60, f"{user}'s stop", hub, kubelet)


def home_claim(admin: KubeClient, namespace: str, user: str) -> dict[str, Any]:
    (pod,) = user_pods(admin, namespace, user)
    (home,) = [v for v in pod["spec"]["volumes"] if v["name"] == "home"]
    name = home["persistentVolumeClaim"]["claimName"]
    return admin.get(f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}")  # type: ignore[no-any-return]


def selected_pods(admin: KubeClient, namespace: str, policy: str) -> set[str]:
    """The pods NetworkPolicy ``policy`` applies to, as the API server selects them."""
    selector = admin.get(
        f"/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies/{policy}"
    )["spec"]["podSelector"]
    terms = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        assert expression["operator"] == "In", expression
        terms.append(f"{expression['key']} in ({','.join(expression['values'])})")
    pods = admin.get(f"/api/v1/namespaces/{namespace}/pods", labelSelector=",".join(terms))
    return {p["metadata"]["name"] for p in pods["items"]}


def test_a_larger_home_size_reaches_new_users_and_plan_says_existing_homes_keep_theirs(
    admin: KubeClient, kubelet: TestKubelet, month_namespace: str, tmp_path: Path
) -> None:
    """Week 2: homes 10Gi -> 20Gi. KubeSpawner makes a claim once; the hub's pre-spawn hook
    asks for 20Gi on alice's existing claim, which the API server refuses here (the claim
    is not bound: no PV binder at this level), so alice keeps 10Gi and the hub logs why;
    bob (after) gets 20Gi, and the plan notes it instead of showing a plain config change."""
    old, _ = make_hub(user_storage=UserStorage.dynamic(size="10Gi"))
    new, _ = make_hub(user_storage=UserStorage.dynamic(size="20Gi"))
    old_objects, new_objects = synth(old), synth(new)
    notes = [f.field for f in plan_findings(tmp_path / "plan", old_objects, new_objects)]
    assert notes == ["KubeSpawner.storage_capacity"], notes

    namespace = month_namespace
    apply_product(admin, namespace, old_objects)
    prepare_platform(admin, namespace, old_objects, tmp_path)
    with running_hub(admin, namespace, old_objects, tmp_path / "hub") as hub:
        hub.api("POST", "/users/alice")
        start(hub, kubelet, "alice")
        before = home_claim(admin, namespace, "alice")
        stop(admin, hub, kubelet, "alice")
    apply_product(admin, namespace, new_objects)
    with running_hub(admin, namespace, new_objects, tmp_path / "hub") as hub:
        start(hub, kubelet, "alice")
        after = home_claim(admin, namespace, "alice")
        assert after["metadata"]["uid"] == before["metadata"]["uid"], "alice got a new home"
        assert after["spec"]["resources"]["requests"]["storage"] == "10Gi"
        assert "claim-alice stays 10Gi, smaller than the configured 20Gi" in hub.log.read_text()
        hub.api("POST", "/users/bob")
        start(hub, kubelet, "bob")
        assert home_claim(admin, namespace, "bob")["spec"]["resources"]["requests"] == {
            "storage": "20Gi"
        }
        stop(admin, hub, kubelet, "alice")
        stop(admin, hub, kubelet, "bob")


def test_a_profile_renamed_with_former_slugs_keeps_its_servers_policies_and_users_choices(
    admin: KubeClient, kubelet: TestKubelet, month_namespace: str, tmp_path: Path
) -> None:
    """Week 2: profile "medium" renamed "standard" (a slug change). Found by the month:
    alice's running server keeps the label ``jupyter-constructs.io/profile=medium``, so with
    the slug simply changed the internet policy and the profile's own egress no longer
    select it (default deny: it silently loses them until it restarts), and a start without
    options reuses her stored choice and fails with KubeSpawner's "No such profile: medium";
    the plan notes that and points to ``former_slugs``. Renamed with
    ``former_slugs=("medium",)``: the plan is quiet, the API server still selects her
    running pod for both policies after the new version is applied, and a start without
    options (her stored ``{"profile": "medium"}``) starts "standard"."""

    def objects(slug: str, former: tuple[str, ...] = ()) -> Objects:
        chart, hub = make_hub()
        profile = hub.add_profile(slug, display_name="Medium (2 CPU)", former_slugs=former)
        assert hub.network is not None
        hub.network.allow_user_egress(
            "profile-to-db", to=cidrs(["10.20.0.0/16"]), ports=[tcp(5432)], profile=profile
        )
        return synth(chart)

    old_objects, new_objects = objects("medium"), objects("standard", ("medium",))
    bare = plan_findings(tmp_path / "plan-bare", old_objects, objects("standard"))
    assert [(f.severity, f.field) for f in bare] == [("note", "KubeSpawner.profile_list")]
    assert "former_slugs" in bare[0].message
    assert plan_findings(tmp_path / "plan", old_objects, new_objects) == []

    namespace = month_namespace
    policies = ("singleuser-internet", "profile-to-db")
    apply_product(admin, namespace, old_objects)
    prepare_platform(admin, namespace, old_objects, tmp_path)
    with fixed_port(HUB_PORT) as port:  # the running server keeps the hub's API address
        with running_hub(admin, namespace, old_objects, tmp_path / "hub", hub_port=port) as hub:
            hub.api("POST", "/users/alice")
            start(hub, kubelet, "alice", "medium")
            (pod,) = user_pods(admin, namespace, "alice")
            name = pod["metadata"]["name"]
            for policy in policies:
                assert name in selected_pods(admin, namespace, policy), policy
        apply_product(admin, namespace, new_objects)
        with running_hub(admin, namespace, new_objects, tmp_path / "hub", hub_port=port) as hub:
            # The server survived the hub's restart with its old label, and the renamed
            # profile's policies still select it.
            assert (hub.server("alice") or {}).get("ready")
            (pod,) = user_pods(admin, namespace, "alice")
            assert pod["metadata"]["name"] == name
            assert pod["metadata"]["labels"][PROFILE_LABEL] == "medium"
            for policy in policies:
                assert name in selected_pods(admin, namespace, policy), policy
            stop(admin, hub, kubelet, "alice")
            start(hub, kubelet, "alice")  # no options: the hub reuses her stored choice
            (pod,) = user_pods(admin, namespace, "alice")
            assert pod["metadata"]["labels"][PROFILE_LABEL] == "standard"
            for policy in policies:
                assert pod["metadata"]["name"] in selected_pods(admin, namespace, policy)
            assert "No such profile" not in hub.log.read_text(errors="replace")
            stop(admin, hub, kubelet, "alice")


def test_culling_users_keeps_their_homes(
    admin: KubeClient, kubelet: TestKubelet, month_namespace: str, tmp_path: Path
) -> None:
    """Week 3: ``IdleCuller(cull_users=True)``, with the real culler as rendered (its
    ``--cull-users`` and its role), a short timeout. The culler deletes carol once her
    server is culled; her home claim stays, and when she comes back she gets it again. Her
    API token goes with her, as the plan notes when culling users is turned on."""
    before, _ = make_hub()
    chart, _ = make_hub(idle_culler=IdleCuller(cull_users=True))
    objects = synth(chart)
    notes = [f.field for f in plan_findings(tmp_path / "plan", synth(before), objects)]
    assert notes == ["JupyterHub.services.idle-culler"], notes
    namespace = month_namespace
    apply_product(admin, namespace, objects)
    prepare_platform(admin, namespace, objects, tmp_path)
    culler = SHORT_CULLER.format(timeout=5, every=2)
    claims = f"/api/v1/namespaces/{namespace}/persistentvolumeclaims"
    with (
        fixed_port(HUB_PORT) as port,
        running_hub(
            admin, namespace, objects, tmp_path / "hub", extra=culler, hub_port=port
        ) as hub,
    ):
        hub.api("POST", "/users/carol")
        start(hub, kubelet, "carol")
        home = home_claim(admin, namespace, "carol")
        token = hub.api("POST", "/users/carol/tokens", {"note": "a script"})["token"]

        def users() -> list[str]:
            return [u["name"] for u in hub.api("GET", "/users")]

        wait(lambda: "carol" not in users(), 90, "the culler to delete carol", hub, kubelet)
        wait(lambda: not user_pods(admin, namespace, "carol"), 60, "carol's pod", hub, kubelet)
        kept = admin.get(f"{claims}/{home['metadata']['name']}")
        assert kept["metadata"]["uid"] == home["metadata"]["uid"]
        assert "deletionTimestamp" not in kept["metadata"]
        # What the plan notes: the user's API tokens went with the user.
        assert requests.get(
            f"{hub.hub_url}/hub/api/user",
            headers={"Authorization": f"token {token}"},
            timeout=30,
        ).status_code in (401, 403)
        hub.api("POST", "/users/carol")
        start(hub, kubelet, "carol")
        again = home_claim(admin, namespace, "carol")
        assert again["metadata"]["uid"] == home["metadata"]["uid"], "carol came back to a new home"


def test_rotating_the_hub_secrets_as_the_runbook_says_keeps_running_servers(
    admin: KubeClient, kubelet: TestKubelet, month_namespace: str, tmp_path: Path
) -> None:
    """Week 3: every key of ``hub-secrets`` rotated as docs/runbook.md says, the crypt key
    as ``new;old``, then hub and proxy restarted together. alice's running server stays
    reachable with her token through the new pair; the secret bootstrap that the next
    ArgoCD sync runs again leaves every rotated value as it is."""
    objects = load_manifests(DIST / "prod")
    namespace = month_namespace
    apply_product(admin, namespace, objects)
    prepare_platform(admin, namespace, objects, tmp_path)
    path = f"/api/v1/namespaces/{namespace}/secrets/hub-secrets"

    def secret() -> dict[str, str]:
        return {k: base64.b64decode(v).decode() for k, v in admin.get(path)["data"].items()}

    def reach(hub: Hub, token: str) -> int:
        return requests.get(
            f"{hub.public_url}/user/alice/api/status",
            headers={"Authorization": f"token {token}"},
            timeout=30,
        ).status_code

    with fixed_port(HUB_PORT) as port:
        with running_hub(admin, namespace, objects, tmp_path / "hub", hub_port=port) as hub:
            hub.api("POST", "/users/alice")
            start(hub, kubelet, "alice")
            token = hub.api("POST", "/users/alice/tokens", {"note": "month"})["token"]
            assert reach(hub, token) == 200
        before = secret()
        rotated = {key: secrets.token_hex(32) for key in before}
        rotated["crypt-key"] = f"{rotated['crypt-key']};{before['crypt-key']}"
        admin.patch(path, {"stringData": rotated})
        assert run_secret_bootstrap(admin, objects, namespace, tmp_path).returncode == 0
        assert secret() == rotated, "the bootstrap changed a rotated value"
        with running_hub(admin, namespace, objects, tmp_path / "hub", hub_port=port) as hub:
            assert hub.env["JUPYTERHUB_CRYPT_KEY"] == rotated["crypt-key"]
            wait(lambda: (hub.server("alice") or {}).get("ready"), 60, "alice", hub, kubelet)
            assert reach(hub, token) == 200
            stop(admin, hub, kubelet, "alice")


def test_a_mig_pool_is_bounded_by_the_quota(
    admin: KubeClient, month_namespace: str, tmp_path: Path
) -> None:
    """Week 4: the GPU pool sliced into MIG, ``Gpu(resource_name="nvidia.com/mig-1g.10gb")``.
    The month's quota, ``NamespaceQuota(gpus=1)``, has no item for the slices: refused at
    synth, naming the resource (before, nothing bounded MIG pods). With the item, one MIG
    server is admitted and the second is refused by the ResourceQuota."""
    mig = Gpu(count=1, resource_name="nvidia.com/mig-1g.10gb")
    chart, hub = make_hub(quota=NamespaceQuota(gpus=1))
    hub.add_profile("mig", display_name="MIG slice", gpu=mig)
    with pytest.raises(AssertionError, match=r"no requests\.nvidia\.com/mig-1g\.10gb item"):
        synth(chart)
    chart, hub = make_hub(
        quota=NamespaceQuota(gpus=1, extended_resources={"nvidia.com/mig-1g.10gb": 1})
    )
    hub.add_profile("mig", display_name="MIG slice", gpu=mig)
    objects = synth(chart)
    namespace = month_namespace
    apply_product(admin, namespace, objects)
    as_hub = admin.as_service_account(namespace, "hub")
    for n, user in enumerate(("alice@example.com", "bob@example.com")):
        pod, _ = render_user_pod(objects, UserChoice("mig"), user)
        pod["spec"]["volumes"] = [v for v in pod["spec"]["volumes"] if v["name"] != "home"]
        for container in pod["spec"]["containers"]:
            container["volumeMounts"] = [
                m for m in container.get("volumeMounts", []) if m["name"] != "home"
            ]
        if n == 0:
            as_hub.create(pod, namespace)
        else:
            with pytest.raises(ApiError, match="exceeded quota"):
                as_hub.create(pod, namespace)
