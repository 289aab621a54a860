"""The four behaviours of issue 11, and the whole-picture checks at synth."""

from __future__ import annotations

import json

import pytest
from constructs import Construct

from jupyter_constructs import (
    ConfigurationError,
    HubDatabase,
    NotebookProfile,
    PlatformServiceBinding,
)
from jupyter_constructs.core.checks import validate_app
from jupyter_constructs.core.objects import KubeObject
from tests.helpers import make_hub, new_chart, oidc_auth, synth, validate
from tests.validation_inventory import render


def _traits(hub):
    return json.loads(hub.rendered_config())["traits"]


def test_hub_admin_users_are_merged_with_the_authenticators():
    _, hub = make_hub(admin_users=["boss@example.com"], auth=oidc_auth(admin_users=["a@x.org"]))
    traits = _traits(hub)
    # GenericOAuthenticator's own list wins over Authenticator's in traitlets: both are in it.
    assert traits["GenericOAuthenticator"]["admin_users"] == ["a@x.org", "boss@example.com"]
    assert "Authenticator" not in traits


def test_hub_admin_users_reach_the_real_authenticator(tmp_path):
    from tests.helpers import write_config_dir
    from tests.real_hub import load_config

    chart, _ = make_hub(admin_users=["boss@example.com"], auth=oidc_auth(admin_users=["a@x.org"]))
    config = load_config(write_config_dir(synth(chart), tmp_path))
    from oauthenticator.generic import GenericOAuthenticator

    assert GenericOAuthenticator(config=config).admin_users == {"a@x.org", "boss@example.com"}


class _FailsLate(Construct):
    """An add-on whose bind registers things, then fails."""

    def bind(self, hub) -> None:
        hub.add_hub_service("late", scopes=["read:metrics"], api_token_secret_key="late-token")
        KubeObject(self, "leftover", api_version="v1", kind="ConfigMap", body={"data": {}})
        hub.allow_traffic(self, "policy", pod_selector={}, ingress_rules=[])
        hub.add_entry_point("a side door", self, exclusive=False)
        raise ConfigurationError("late failure")


def test_a_failed_bind_leaves_nothing_attached():
    chart, hub = make_hub()
    config, before = hub.rendered_config(), synth(chart)
    with pytest.raises(ConfigurationError, match="late failure"):
        hub.attach_addon(_FailsLate(chart, "late"))
    assert hub.addons == [hub.sign_in]
    assert hub.rendered_config() == config
    assert synth(chart) == before


def test_a_failed_add_binding_leaves_nothing_attached():
    chart, hub = make_hub()
    before = synth(chart)
    # A binding built in another namespace's chart: the user pods would not see its files.
    binding = PlatformServiceBinding.ray(new_chart("data"), "ray", host="ray-head.ray")
    with pytest.raises(ConfigurationError, match="invalid chart namespace"):
        hub.add_binding(binding)
    assert hub.addons == [hub.sign_in] and hub.bindings == []
    assert synth(chart) == before
    assert binding.network_policy is None


def test_fails_at_synth_when_a_profile_is_never_attached():
    chart, hub = make_hub()
    NotebookProfile(hub, "lonely", slug="lonely", display_name="Lonely")
    assert validate(chart) == [
        "test/hub/lonely: invalid profile 'lonely'. Allowed: a profile attached to a hub. "
        "Fix: attach it with hub.attach_profile(profile), build it with "
        "hub.add_profile(...), or delete it"
    ]


def test_fails_when_the_postgres_password_is_a_plain_string_without_echoing_it():
    with pytest.raises(ConfigurationError) as error:
        make_hub(
            database=HubDatabase.postgres(
                host="pg.db",
                database="hub",
                user="hub",
                password="s3cr3t-value",  # type: ignore[arg-type]
            )
        )
    assert "s3cr3t-value" not in str(error.value)
    assert "<plain str, value hidden>" in str(error.value)


@pytest.mark.parametrize("field", ["client_secret"])
def test_fails_when_the_oidc_client_secret_is_a_plain_string_without_echoing_it(field):
    with pytest.raises(ConfigurationError) as error:
        make_hub(auth=oidc_auth(**{field: "the-actual-secret"}))
    assert "the-actual-secret" not in str(error.value)
    assert str(error.value).startswith("test/hub: invalid OidcAuth.client_secret ")


def test_fails_when_two_objects_of_one_kind_and_name_land_in_one_folder():
    chart, _ = make_hub()
    KubeObject(
        chart,
        "mine",
        api_version="networking.k8s.io/v1",
        kind="NetworkPolicy",
        name="hub",
        body={"spec": {"podSelector": {}}},
    )
    with pytest.raises(ConfigurationError) as error:
        render(chart)
    assert str(error.value) == (
        "test/mine: invalid duplicate NetworkPolicy 'hub'. Allowed: one NetworkPolicy named "
        "'hub' per output folder: test/hub/NetworkPolicies/hub renders it too, which makes "
        "the same object twice. Fix: rename one of them (name=...), or put it in another chart"
    )


def test_fails_when_two_objects_would_share_one_file_across_namespaces():
    chart, _ = make_hub()
    KubeObject(
        chart,
        "elsewhere",
        api_version="v1",
        kind="ConfigMap",
        name="hub-config",
        namespace="other",
        body={"data": {}},
    )
    message = "\n".join(validate(chart))
    assert "invalid duplicate ConfigMap 'hub-config'" in message
    assert "namespaces 'jupyter' and 'other'" in message


def test_fails_when_a_profile_slug_is_added_twice_with_the_librarys_message():
    _, hub = make_hub()
    with pytest.raises(ConfigurationError, match=r"invalid profile slug 'small'\. Allowed: a slug"):
        hub.add_profile("small", display_name="Again")


def test_validation_failures_are_configuration_errors():
    chart, hub = make_hub(with_profile=False)
    with pytest.raises(ConfigurationError, match="invalid profiles"):
        validate_app(chart)
    assert hub.profiles == []
