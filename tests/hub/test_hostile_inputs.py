"""Inputs a hostile or careless user gave a hub, found by an adversarial review.

Each was accepted at synth before and reached the cluster: the hub's own token in user
pods (its Role can delete every home), a hub taking over ``kube-system``, secrets written
into the hub ConfigMap (in git), two users sharing one home claim, and users mounting the
hub's database. Each is now refused with the product's error.
"""

from __future__ import annotations

import pytest

from jupyter_constructs import (
    ConfigurationError,
    JupyterHub,
    SharedData,
    SingleUser,
    UserStorage,
    UserVolume,
)
from tests.helpers import DOMAIN, make_hub, new_chart, oidc_auth, synth


@pytest.mark.parametrize(
    "overrides",
    [
        {"service_account": "hub", "automount_service_account_token": True},
        {"automount_service_account_token": True},
        {"extra_pod_config": {"serviceAccountName": "hub"}},
        {"extra_pod_config": {"automountServiceAccountToken": True}},
        {"extra_pod_config": {"hostNetwork": True}},
    ],
)
def test_no_override_gives_user_pods_a_service_account_token(overrides) -> None:
    chart, hub = make_hub(with_profile=False)
    with pytest.raises(ConfigurationError, match="Fix: drop"):
        hub.add_profile("small", display_name="Small", default=True, extra_overrides=overrides)
        synth(chart)


@pytest.mark.parametrize("namespace", ["kube-system", "default", "kube-public", "kube-x"])
def test_a_hub_never_takes_over_a_system_namespace(namespace) -> None:
    chart = new_chart(namespace)
    with pytest.raises(ConfigurationError, match="namespace of its own"):
        JupyterHub(chart, "hub", domain=DOMAIN, auth=oidc_auth())


@pytest.mark.parametrize(
    ("class_name", "trait"),
    [
        ("JupyterHub", "cookie_secret"),
        ("GenericOAuthenticator", "client_secret"),
        ("ConfigurableHTTPProxy", "auth_token"),
        ("JupyterHub", "api_tokens"),
        ("KubeSpawner", "environment"),
        ("KubeSpawner", "group_overrides"),
        ("KubeSpawner", "service_account"),
        ("Spawner", "apply_user_options"),
        ("JupyterHub", "load_roles"),
        ("Authenticator", "allow_all"),
    ],
)
def test_set_trait_refuses_secrets_and_what_typed_parameters_decide(class_name, trait) -> None:
    _, hub = make_hub()
    with pytest.raises(ConfigurationError, match="set_trait"):
        hub.set_trait(class_name, trait, "x")


def test_set_trait_still_sets_an_ordinary_trait() -> None:
    """The guard is not a blanket refusal."""
    _, hub = make_hub()
    hub.set_trait("JupyterHub", "shutdown_on_logout", True)
    assert "shutdown_on_logout" in hub.rendered_config()


@pytest.mark.parametrize("template", ["claim-{servername}", "claim-{namespace}", "home"])
def test_two_users_never_share_a_home_claim(template) -> None:
    with pytest.raises(ConfigurationError, match="pvc_name_template"):
        make_hub(user_storage=UserStorage.dynamic(pvc_name_template=template))


@pytest.mark.parametrize(
    "setting",
    [
        {"user_storage": UserStorage.shared("hub-db-dir")},
        {"shared_data": SharedData(claim_name="hub-db-dir", existing_claim=True)},
        {
            "singleuser": SingleUser(
                volumes=[
                    UserVolume.existing_claim(
                        "db", claim_name="hub-db-dir", mount_path="/home/jovyan/db"
                    )
                ]
            )
        },
    ],
)
def test_users_never_mount_the_hub_database(setting) -> None:
    with pytest.raises(ConfigurationError, match="hub's database"):
        chart, _ = make_hub(**setting)
        synth(chart)


@pytest.mark.parametrize(
    "blocks",
    [["0.0.0.0/0"], ["169.254.0.0/16"], ["169.254.169.254/32"], ["::/0"], ["fd00::/8"]],
)
def test_no_user_egress_reaches_the_cloud_metadata_service(blocks) -> None:
    """User pods never get a path to 169.254.169.254 (or AWS's fd00:ec2::254): it hands out
    the node's cloud credentials. z2jh blocks it by default too
    (``singleuser.cloudMetadata.blockWithIptables``, docs "Block cloud metadata API")."""
    from jupyter_constructs.hub.network import cidrs, tcp

    _chart, hub = make_hub()
    assert hub.network is not None
    with pytest.raises(ConfigurationError, match="cloud metadata address") as error:
        hub.network.allow_user_egress("user-egress", to=cidrs(blocks), ports=[tcp(443)])
    assert "Fix: add except=" in str(error.value)


def test_user_egress_that_leaves_out_the_metadata_address_is_accepted() -> None:
    from jupyter_constructs.hub.network import cidrs, tcp

    chart, hub = make_hub()
    assert hub.network is not None
    hub.network.allow_user_egress(
        "user-egress",
        to=[{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}],
        ports=[tcp(443)],
    )
    hub.network.allow_user_egress("to-vpc", to=cidrs(["10.20.0.0/16"]), ports=[tcp(5432)])
    policies = {o["metadata"]["name"] for o in synth(chart) if o["kind"] == "NetworkPolicy"}
    assert {"user-egress", "to-vpc"} <= policies
