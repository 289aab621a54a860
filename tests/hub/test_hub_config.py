"""The generated hub config, loaded by the real JupyterHub, KubeSpawner and authenticator."""

from __future__ import annotations

import kubernetes_validate
import pytest
from jupyterhub.app import JupyterHub as JupyterHubApp
from oauthenticator.generic import GenericOAuthenticator

from jupyter_constructs import HubDatabase, SecretRef
from tests.core.test_manifests import NEWEST_KUBERNETES
from tests.helpers import make_hub, synth, write_config_dir
from tests.real_hub import load_config, mock_kubespawner, pod_manifest, unknown_traits


@pytest.fixture
def hub_config(tmp_path):
    chart, _ = make_hub()
    return load_config(write_config_dir(synth(chart), tmp_path))


def test_every_configured_trait_exists(hub_config):
    assert unknown_traits(hub_config) == []


def test_a_misspelled_trait_is_caught(hub_config):
    """The check above can fail: a typo in a trait name is reported."""
    hub_config.KubeSpawner.start_timout = 10
    assert unknown_traits(hub_config) == ["KubeSpawner.start_timout"]


def test_secrets_come_from_the_environment_only(tmp_path):
    chart, _ = make_hub()
    objects = synth(chart)
    config_text = "".join(
        o["data"]["hub_config.json"] for o in objects if o["metadata"]["name"] == "hub-config"
    )
    assert "test-client-secret" not in config_text
    config = load_config(write_config_dir(objects, tmp_path))
    authenticator = GenericOAuthenticator(config=config)
    assert authenticator.client_secret == "test-client-secret"
    assert authenticator.client_id == "hub-client"
    assert authenticator.allowed_groups == {"data-science"}
    assert authenticator.admin_users == {"admin@example.com"}
    assert authenticator.oauth_callback_url == "https://jupyter.example.com/hub/oauth_callback"


def test_hub_app_accepts_the_config(hub_config):
    app = JupyterHubApp(config=hub_config)
    assert app.db_url == "sqlite:////srv/jupyterhub/jupyterhub.sqlite"
    assert app.hub_connect_url == "http://hub:8081"
    assert app.cleanup_servers is False
    assert app.authenticator_class.__name__ == "OidcAuthenticator"
    assert issubclass(app.authenticator_class, GenericOAuthenticator)
    assert app.spawner_class.__name__ == "KubeSpawner"


def test_postgres_url_carries_no_password(tmp_path):
    chart, _ = make_hub(
        database=HubDatabase.postgres(
            host="pg", database="hub", user="hub", password=SecretRef("hub-db", "password")
        )
    )
    config = load_config(write_config_dir(synth(chart), tmp_path))
    app = JupyterHubApp(config=config)
    assert app.db_url == "postgresql+psycopg2://hub@pg:5432/hub"


def test_user_pod_from_the_real_kubespawner_is_restricted_and_valid(hub_config):
    with mock_kubespawner(hub_config) as spawner:
        pod = pod_manifest(spawner)
    assert pod["spec"]["serviceAccountName"] == "user-server"
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert pod["spec"]["securityContext"]["fsGroup"] == 100
    assert pod["spec"]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = pod["spec"]["containers"][0]
    assert container["securityContext"]["runAsUser"] == 1000
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["metadata"]["labels"]["app.kubernetes.io/instance"] == "jupyter"
    assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "singleuser-server"
    for version in ("1.27", NEWEST_KUBERNETES):
        kubernetes_validate.validate(pod, version, strict=True)
