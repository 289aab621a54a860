"""ExternalSecretSource: credentials synced from a secret store, handed out as SecretRefs."""

from __future__ import annotations

import pytest

from jupyter_constructs import ConfigurationError, ExternalSecretSource, SecretRef
from tests.crd_schemas import missing_defaults, validate_custom_resource
from tests.helpers import new_chart, synth


def _source(**options):
    chart = new_chart()
    settings = {
        "secret_name": "jupyterhub-oidc",
        "store": "vault",
        "keys": {"client-secret": "platform/jupyterhub/oidc#client_secret"},
    }
    settings.update(options)
    return chart, ExternalSecretSource(chart, "oidc", **settings)


def test_renders_an_external_secret_that_matches_its_crd(snapshot):
    chart, source = _source(keys={"client-secret": "jupyterhub/oidc#secret", "token": "tunnel"})
    (obj,) = synth(chart)
    assert obj == snapshot
    validate_custom_resource(obj)
    validate_custom_resource(obj, oldest=True)  # External Secrets v0.16
    assert missing_defaults(obj) == missing_defaults(obj, oldest=True) == []
    assert obj["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "vault"}
    assert obj["spec"]["target"] == {
        "creationPolicy": "Owner",
        "deletionPolicy": "Retain",
        "name": "jupyterhub-oidc",
    }
    defaults = {
        "conversionStrategy": "Default",
        "decodingStrategy": "None",
        "metadataPolicy": "None",
    }
    assert obj["spec"]["data"] == [
        {
            "secretKey": "client-secret",
            "remoteRef": {"key": "jupyterhub/oidc", "property": "secret", **defaults},
        },
        {"secretKey": "token", "remoteRef": {"key": "tunnel", **defaults}},
    ]
    assert source.ref("token") == SecretRef("jupyterhub-oidc", "token")


def test_fails_when_a_ref_names_a_key_the_source_does_not_sync():
    _, source = _source()
    with pytest.raises(ConfigurationError) as err:
        source.ref("password")
    assert str(err.value) == (
        "test/oidc: invalid key 'password'. Allowed: client-secret. Fix: add the key to "
        "keys= or use one of those"
    )


def test_fails_when_store_kind_is_unknown():
    with pytest.raises(ConfigurationError, match="invalid store_kind 'Vault'"):
        _source(store_kind="Vault")


def test_fails_when_refresh_interval_is_not_a_duration():
    with pytest.raises(ConfigurationError, match="invalid refresh_interval 'hourly'"):
        _source(refresh_interval="hourly")


def test_fails_when_no_key_is_given():
    with pytest.raises(ConfigurationError, match=r"invalid keys \{\}"):
        _source(keys={})
