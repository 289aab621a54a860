"""The JupyterHub construct: what it renders, its defaults, and the errors bad input gets."""

from __future__ import annotations

import json
import re

import cdk8s
import pytest

from jupyter_constructs import (
    ConfigurationError,
    HubDatabase,
    IngressController,
    IngressOptions,
    JupyterHub,
    OidcAuth,
    SecretRef,
)
from tests.helpers import DOMAIN, find, make_hub, new_chart, oidc_auth, pod_spec, synth


def test_snapshot(snapshot):
    chart, _ = make_hub()
    assert synth(chart) == snapshot


def test_defaults():
    """Every documented default of JupyterHub, asserted (docs must not drift from code)."""
    chart, hub = make_hub()
    objects = synth(chart)
    kinds = sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objects)
    assert kinds == sorted(
        [
            "Namespace/jupyter",
            "ServiceAccount/hub",
            "ServiceAccount/user-server",
            "ServiceAccount/hub-secrets-bootstrap",
            "Role/hub",
            "Role/hub-secrets-bootstrap",
            "RoleBinding/hub",
            "RoleBinding/hub-secrets-bootstrap",
            "ConfigMap/hub-config",
            "ConfigMap/hub-secrets-bootstrap",
            "Job/hub-secrets-bootstrap",
            "Secret/hub-secrets",
            "PersistentVolumeClaim/hub-db-dir",
            "Deployment/hub",
            "Deployment/proxy",
            "Service/hub",
            "Service/proxy-api",
            "Service/proxy-public",
            "Ingress/jupyterhub",
            "ResourceQuota/jupyterhub",
            "LimitRange/jupyterhub",
            "DaemonSet/image-puller",
            "NetworkPolicy/default-deny",
            "NetworkPolicy/hub",
            "NetworkPolicy/proxy",
            "NetworkPolicy/singleuser-server",
            "NetworkPolicy/secret-bootstrap",
            "NetworkPolicy/image-puller",
            # Users reach the internet by default (private ranges and metadata excluded).
            "NetworkPolicy/singleuser-internet",
        ]
    )
    assert hub.secret_name == "hub-secrets"
    pvc = find(objects, "PersistentVolumeClaim", "hub-db-dir")
    assert pvc["spec"]["resources"]["requests"]["storage"] == "1Gi"
    assert "storageClassName" not in pvc["spec"]
    hub_container = pod_spec(find(objects, "Deployment", "hub"))["containers"][0]
    assert hub_container["image"] == "quay.io/jupyterhub/k8s-hub:4.4.0"
    assert hub_container["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": "2", "memory": "4Gi"},
    }
    proxy_container = pod_spec(find(objects, "Deployment", "proxy"))["containers"][0]
    assert proxy_container["image"] == "quay.io/jupyterhub/configurable-http-proxy:5.2.0"
    ingress = find(objects, "Ingress", "jupyterhub")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": [DOMAIN], "secretName": "jupyterhub-tls"}]
    settings = json.loads(find(objects, "ConfigMap", "hub-config")["data"]["hub_config.json"])
    spawner = settings["traits"]["KubeSpawner"]
    assert spawner["start_timeout"] == 300
    assert spawner["image"] == "quay.io/jupyterhub/k8s-singleuser-sample:4.4.0"
    assert spawner["uid"] == 1000 and spawner["fs_gid"] == 100
    assert spawner["pvc_name_template"] == "claim-{username}"
    assert spawner["storage_capacity"] == "10Gi"
    assert spawner["storage_access_modes"] == ["ReadWriteOnce"]
    # Homes outlive their users (KubeSpawner's own default deletes them), named by
    # KubeSpawner 7's scheme, and the volume is not re-chowned at every start.
    assert spawner["delete_pvc"] is False and spawner["storage_pvc_ensure"] is True
    assert spawner["slug_scheme"] == "safe"
    assert spawner["pod_security_context"]["fsGroupChangePolicy"] == "OnRootMismatch"
    for absent in ("default_url", "cmd", "gid", "delete_grace_period"):
        assert absent not in spawner
    assert not [o for o in objects if o["metadata"]["name"] == "singleuser-extra-files"]
    culler = next(
        s for s in settings["traits"]["JupyterHub"]["services"] if s["name"] == "idle-culler"
    )
    assert culler["command"] == [
        "python3",
        "-m",
        "jupyterhub_idle_culler",
        # The hub pod's loopback, as z2jh: through the hub Service it is hairpin traffic.
        "--url=http://localhost:8081/hub/api",
        "--timeout=3600",
        "--cull-every=600",
        "--concurrency=10",
    ]
    assert culler["environment"] == {"JUPYTERHUB_API_URL": "http://localhost:8081/hub/api"}
    quota = find(objects, "ResourceQuota", "jupyterhub")["spec"]["hard"]
    assert quota["requests.cpu"] == "200" and quota["requests.nvidia.com/gpu"] == "8"
    limits = find(objects, "LimitRange", "jupyterhub")["spec"]["limits"][0]
    assert limits["max"] == {"cpu": "16", "memory": "64Gi"}
    assert not [o for o in objects if o["metadata"]["name"] == "shared-data"]
    assert (
        settings["traits"]["JupyterHub"]["db_url"] == "sqlite:////srv/jupyterhub/jupyterhub.sqlite"
    )
    # Sessions are bounded for every sign-in option (issue 16).
    assert settings["traits"]["JupyterHub"]["cookie_max_age_days"] == 1.0
    assert settings["traits"]["JupyterHub"]["token_expires_in_max_seconds"] == 86400


def test_hub_runs_one_replica_recreated():
    chart, _ = make_hub()
    deployment = find(synth(chart), "Deployment", "hub")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}


def test_proxy_runs_one_replica_and_exposes_api_and_public_services():
    chart, _ = make_hub()
    objects = synth(chart)
    proxy = find(objects, "Deployment", "proxy")
    assert proxy["spec"]["replicas"] == 1
    assert proxy["spec"]["strategy"] == {"type": "Recreate"}
    api = find(objects, "Service", "proxy-api")
    public = find(objects, "Service", "proxy-public")
    assert api["spec"]["ports"] == [{"name": "api", "port": 8001, "targetPort": "api"}]
    assert public["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http"}]
    container = pod_spec(proxy)["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 8000, "api": 8001, "metrics": 8002}
    assert "--default-target=http://hub:8081" in container["command"]
    token = next(e for e in container["env"] if e["name"] == "CONFIGPROXY_AUTH_TOKEN")
    assert token["valueFrom"] == {"secretKeyRef": {"name": "hub-secrets", "key": "proxy-token"}}


def test_probes():
    chart, _ = make_hub()
    objects = synth(chart)
    hub = pod_spec(find(objects, "Deployment", "hub"))["containers"][0]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert hub[probe]["httpGet"] == {"path": "/hub/health", "port": "http"}
    # A slow database upgrade gets 5 minutes before liveness applies.
    startup = hub["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] == 300
    proxy = pod_spec(find(objects, "Deployment", "proxy"))["containers"][0]
    for probe in ("livenessProbe", "readinessProbe"):
        assert proxy[probe]["httpGet"] == {"path": "/_chp_healthz", "port": "http"}


@pytest.mark.parametrize(
    ("kind", "name"),
    [("Deployment", "hub"), ("Deployment", "proxy"), ("Job", "hub-secrets-bootstrap")],
)
def test_security_contexts_are_restricted(kind, name):
    chart, _ = make_hub()
    spec = pod_spec(find(synth(chart), kind, name))
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in spec["containers"]:
        ctx = container["securityContext"]
        assert ctx["runAsNonRoot"] is True
        assert ctx["runAsUser"] > 0
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["readOnlyRootFilesystem"] is True
        assert ctx["capabilities"] == {"drop": ["ALL"]}
        assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}


def test_namespace_enforces_restricted_pod_security_and_is_cluster_scoped():
    chart, _ = make_hub()
    namespace = find(synth(chart), "Namespace", "jupyter")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert "namespace" not in namespace["metadata"]


def test_hub_role_grants_exactly_what_kubespawner_uses():
    """Each verb is one KubeSpawner 7.0 calls (rbac.py); the real API server checks them with
    the hub's own token in tests/k8s/test_rbac.py and test_spawn.py. Issue 16: pods get,
    PVC list/watch and events get were granted and never used."""
    chart, _ = make_hub()
    objects = synth(chart)
    role = find(objects, "Role", "hub")
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch", "create", "delete"]},
        {
            "apiGroups": [""],
            "resources": ["persistentvolumeclaims"],
            "verbs": ["get", "create", "delete"],
        },
        {"apiGroups": [""], "resources": ["events"], "verbs": ["list", "watch"]},
    ]
    assert not [o for o in objects if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    binding = find(objects, "RoleBinding", "hub")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "hub"}]


def test_bootstrap_role_is_limited_to_the_rendered_secrets_and_cannot_create():
    """Issue 16: the Role could create any Secret of the namespace."""
    chart, _ = make_hub()
    role = find(synth(chart), "Role", "hub-secrets-bootstrap")
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["hub-secrets"],
            "verbs": ["get", "patch"],
        }
    ]


def test_the_secrets_are_rendered_empty_and_never_pruned_or_deleted():
    chart, _ = make_hub()
    objects = synth(chart)
    secret = find(objects, "Secret", "hub-secrets")
    assert secret["type"] == "Opaque"
    assert "data" not in secret and "stringData" not in secret
    annotations = secret["metadata"]["annotations"]
    assert annotations["argocd.argoproj.io/sync-options"] == "Prune=false,Delete=false"
    # Before the Job that fills it.
    job = find(objects, "Job", "hub-secrets-bootstrap")
    wave = int(annotations["argocd.argoproj.io/sync-wave"])
    assert wave < int(job["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])


def test_bootstrap_job_is_a_recreated_sync_hook_before_the_hub():
    chart, _ = make_hub()
    objects = synth(chart)
    job = find(objects, "Job", "hub-secrets-bootstrap")
    annotations = job["metadata"]["annotations"]
    assert annotations["argocd.argoproj.io/hook"] == "Sync"
    assert annotations["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation"
    hub_wave = int(
        find(objects, "Deployment", "hub")["metadata"]
        .get("annotations", {})
        .get("argocd.argoproj.io/sync-wave", "0")
    )
    assert int(annotations["argocd.argoproj.io/sync-wave"]) < hub_wave
    env = {e["name"]: e.get("value") for e in pod_spec(job)["containers"][0]["env"]}
    assert json.loads(env["SECRETS"]) == {
        "hub-secrets": ["cookie-secret", "crypt-key", "proxy-token"]
    }
    assert env["CREATE_SECRET"] == "false"


def test_existing_secret_replaces_the_bootstrap_job():
    chart, _ = make_hub(existing_secret="my-hub-secret")
    objects = synth(chart)
    assert not [o for o in objects if o["kind"] in ("Job", "Secret")]
    env = pod_spec(find(objects, "Deployment", "hub"))["containers"][0]["env"]
    cookie = next(e for e in env if e["name"] == "JPY_COOKIE_SECRET")
    assert cookie["valueFrom"]["secretKeyRef"]["name"] == "my-hub-secret"


def test_user_service_account_has_no_token():
    chart, _ = make_hub()
    objects = synth(chart)
    assert find(objects, "ServiceAccount", "user-server")["automountServiceAccountToken"] is False
    settings = json.loads(find(objects, "ConfigMap", "hub-config")["data"]["hub_config.json"])
    assert settings["traits"]["KubeSpawner"]["service_account"] == "user-server"
    assert settings["traits"]["KubeSpawner"]["automount_service_account_token"] is False


def test_config_change_rolls_the_hub_pod():
    def checksum(**overrides):
        chart, _ = make_hub(**overrides)
        deployment = find(synth(chart), "Deployment", "hub")
        return deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]

    assert re.fullmatch(r"[0-9a-f]{64}", checksum())
    assert checksum() == checksum()
    assert checksum() != checksum(start_timeout=600)


def test_postgres_password_reaches_the_hub_only_as_a_secret_reference():
    chart, _ = make_hub(
        database=HubDatabase.postgres(
            host="pg.data-platform",
            database="jupyterhub",
            user="hub",
            password=SecretRef("hub-db", "password"),
            ssl_mode="require",
        )
    )
    objects = synth(chart)
    assert not [o for o in objects if o["kind"] == "PersistentVolumeClaim"]
    env = pod_spec(find(objects, "Deployment", "hub"))["containers"][0]["env"]
    password = next(e for e in env if e["name"] == "PGPASSWORD")
    assert password == {
        "name": "PGPASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "hub-db", "key": "password"}},
    }
    settings = json.loads(find(objects, "ConfigMap", "hub-config")["data"]["hub_config.json"])
    assert (
        settings["traits"]["JupyterHub"]["db_url"]
        == "postgresql+psycopg2://hub@pg.data-platform:5432/jupyterhub?sslmode=require"
    )


def test_ingress_options():
    chart, _ = make_hub(
        ingress=IngressOptions(
            controller=IngressController.traefik(),
            tls_secret_name="hub-cert",
            cert_manager_cluster_issuer="letsencrypt",
            annotations={"example.com/team": "data"},
        )
    )
    ingress = find(synth(chart), "Ingress", "jupyterhub")
    assert ingress["spec"]["ingressClassName"] == "traefik"
    assert ingress["metadata"]["annotations"] == {
        "cert-manager.io/cluster-issuer": "letsencrypt",
        "example.com/team": "data",
    }
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend == {"service": {"name": "proxy-public", "port": {"name": "http"}}}


def test_nginx_ingress_is_websocket_safe():
    chart, _ = make_hub()
    annotations = find(synth(chart), "Ingress", "jupyterhub")["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "3600"
    assert annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"] == "3600"


def test_ingress_can_be_disabled():
    chart, hub = make_hub(ingress=IngressOptions(enabled=False))
    assert hub.ingress is None
    assert not [o for o in synth(chart) if o["kind"] == "Ingress"]


def test_exposed_attributes_are_the_rendered_objects():
    _, hub = make_hub()
    assert hub.deployment.name == "hub"
    assert hub.service.name == "hub"
    assert hub.config_map.name == "hub-config"
    assert hub.proxy_deployment.name == "proxy"
    assert hub.proxy_service.name == "proxy-public"
    assert hub.proxy_api_service.name == "proxy-api"
    assert hub.role.name == "hub"
    assert hub.ingress is not None and hub.ingress.ingress.name == "jupyterhub"


def test_json_patch_escape_hatch_applies_to_late_rendered_objects():
    chart, hub = make_hub()
    hub.deployment.add_json_patch(
        cdk8s.JsonPatch.add("/spec/template/spec/priorityClassName", "platform-critical")
    )
    deployment = find(synth(chart), "Deployment", "hub")
    assert pod_spec(deployment)["priorityClassName"] == "platform-critical"


def test_no_secret_values_in_hub_objects():
    chart, _ = make_hub()
    objects = synth(chart)
    secrets = [o for o in objects if o["kind"] == "Secret"]
    assert [s["metadata"]["name"] for s in secrets] == ["hub-secrets"]
    assert not [s for s in secrets if s.get("data") or s.get("stringData")]


def test_session_limits_are_hub_wide_and_settable():
    chart, _ = make_hub(cookie_max_age_days=0.25, token_expires_in_max_seconds=3600)
    settings = json.loads(find(synth(chart), "ConfigMap", "hub-config")["data"]["hub_config.json"])
    assert settings["traits"]["JupyterHub"]["cookie_max_age_days"] == 0.25
    assert settings["traits"]["JupyterHub"]["token_expires_in_max_seconds"] == 3600


@pytest.mark.parametrize("value", [0, 59, 365 * 86400 + 1, 3600.0, True, None])
def test_fails_when_the_token_limit_is_out_of_bounds(value):
    message = _error(token_expires_in_max_seconds=value)
    assert message.startswith(f"test/hub: invalid token_expires_in_max_seconds {value!r}.")
    assert "Allowed: whole seconds from 60 to 31536000 (a year)." in message


# -- bad input ------------------------------------------------------------------------


def _error(**overrides) -> str:
    with pytest.raises(ConfigurationError) as err:
        make_hub(**overrides)
    return str(err.value)


def test_fails_when_replicas_is_more_than_one():
    assert _error(replicas=2) == (
        "test/hub: invalid replicas 2. Allowed: 1. Fix: remove replicas=: JupyterHub keeps "
        "state in its database and in memory and must own its database; two hubs corrupt "
        "sqlite and race on spawns. For availability use HubDatabase.postgres(...); user "
        "servers keep running while the hub restarts"
    )


@pytest.mark.parametrize(
    "domain",
    [
        "https://jupyter.example.com",
        "Jupyter.Example.com",
        "jupyter",
        "a..b.com",
        "jupyter.example.com/hub",
        # The issue's example: '$' matched before a final newline.
        "jupyter.example.com\n",
        " jupyter.example.com",
        "10.0.0.1",
    ],
)
def test_fails_when_domain_is_not_a_dns_name(domain):
    assert _error(domain=domain) == (
        f"test/hub: invalid domain {domain!r}. Allowed: a lowercase fully qualified host "
        "name such as 'jupyter.example.com' (no scheme, port, path, IP address or surrounding "
        "whitespace). Fix: pass only the "
        "host name users type in the browser"
    )


@pytest.mark.parametrize("namespace", ["Jupyter", "jupyter_hub", "-jupyter", "a" * 64])
def test_fails_when_namespace_is_not_a_dns_label(namespace):
    chart = new_chart(namespace=namespace)
    with pytest.raises(ConfigurationError) as err:
        JupyterHub(chart, "hub", domain=DOMAIN, auth=oidc_auth())
    assert str(err.value) == (
        f"test/hub: invalid namespace {namespace!r}. Allowed: a DNS-1123 label: 1-63 "
        "lowercase letters, digits and '-', starting and ending with a letter or digit. "
        "Fix: choose a namespace like 'jupyter' or 'team-a'"
    )


def test_fails_when_chart_has_no_namespace():
    chart = new_chart(namespace=None)
    with pytest.raises(ConfigurationError, match=r"^test/hub: invalid chart namespace None\."):
        JupyterHub(chart, "hub", domain=DOMAIN, auth=oidc_auth())


@pytest.mark.parametrize(
    ("argument", "image"),
    [
        ("hub_image", "quay.io/jupyterhub/k8s-hub"),
        ("proxy_image", "quay.io/jupyterhub/configurable-http-proxy:latest"),
        ("notebook_image", "not an image"),
    ],
)
def test_fails_when_image_has_no_tag_or_digest(argument, image):
    assert _error(**{argument: image}) == (
        f"test/hub: invalid {argument} {image!r}. Allowed: an image reference pinned by tag "
        "or digest, e.g. 'quay.io/jupyter/scipy-notebook:2025-01-13' (':latest' and untagged "
        "images change under you and are refused). Fix: add an explicit version tag or an "
        "@sha256: digest"
    )


def test_image_pinned_by_digest_is_accepted():
    digest = "quay.io/jupyterhub/k8s-hub@sha256:" + "a" * 64
    chart, _ = make_hub(hub_image=digest)
    assert pod_spec(find(synth(chart), "Deployment", "hub"))["containers"][0]["image"] == digest


def test_fails_when_auth_is_not_a_hub_auth():
    assert _error(auth={"type": "dummy"}) == (
        "test/hub: invalid auth 'dict'. Allowed: an OidcAuth or CloudflareAccessAuth (a "
        "HubAuth). Fix: pass auth=OidcAuth(...) or auth=CloudflareAccessAuth(...); there is "
        "deliberately no open or dummy authenticator"
    )


@pytest.mark.parametrize(("name", "key", "what"), [("", "password", "name"), ("trino", "", "key")])
def test_fails_when_secret_ref_is_empty(name, key, what):
    with pytest.raises(ConfigurationError) as err:
        SecretRef(name, key)
    assert str(err.value).startswith(f"SecretRef: invalid secret {what} ''. Allowed: ")


def test_fails_when_oidc_auth_allows_nobody():
    assert _error(auth=oidc_auth(allowed_groups=())) == (
        "test/hub: invalid OidcAuth allow rule 'nobody'. Allowed: allowed_users, "
        "allowed_groups, or allow_all=True. Fix: say who may sign in; allow_all=True only "
        "when the identity provider already restricts who can authenticate"
    )


def test_fails_when_oidc_endpoint_is_not_https():
    message = _error(auth=oidc_auth(token_url="http://idp.example.com/token"))
    assert message.startswith(
        "test/hub: invalid OidcAuth.token_url 'http://idp.example.com/token'. "
        "Allowed: an absolute https:// URL with"
    )


def test_fails_when_postgres_password_is_not_a_secret_ref():
    database = HubDatabase.postgres(
        host="pg",
        database="hub",
        user="hub",
        password="hunter2",  # type: ignore[arg-type]
    )
    message = _error(database=database)
    # The plain string is most likely the password itself: never echoed.
    assert "hunter2" not in message
    assert message == (
        "test/hub: invalid HubDatabase.postgres password '<plain str, value hidden>'. Allowed: "
        "a SecretRef(name, key) naming the Kubernetes Secret that holds it. Fix: pass "
        'HubDatabase.postgres password=SecretRef("<secret name>", "<key>"); credentials never '
        "go in code or in dist/"
    )


def test_fails_when_hub_resources_limit_is_below_request():
    from jupyter_constructs import Resources

    assert _error(hub_resources=Resources("2", "1", "1Gi", "2Gi")) == (
        "test/hub: invalid hub_resources.cpu_limit '1'. Allowed: at least the CPU request "
        "'2'. Fix: raise the limit or lower the request"
    )


def test_fails_when_two_hubs_share_a_namespace():
    chart, _ = make_hub()
    with pytest.raises(ConfigurationError, match="one JupyterHub per namespace"):
        JupyterHub(chart, "second", domain=DOMAIN, auth=oidc_auth())


def test_cloudflare_saas_endpoints():
    auth = OidcAuth.cloudflare_access_saas(
        team_domain="team.cloudflareaccess.com",
        client_id="abc",
        client_secret=SecretRef("cf", "secret"),
        allow_all=True,
    )
    assert auth.authorize_url == (
        "https://team.cloudflareaccess.com/cdn-cgi/access/sso/oidc/abc/authorization"
    )
    assert auth.token_url.endswith("/oidc/abc/token")
    assert auth.userdata_url.endswith("/oidc/abc/userinfo")
    assert auth.login_service == "Cloudflare Access"
