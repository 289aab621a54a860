"""PlatformServiceBinding: env vars, config files and egress NetworkPolicy per service,
proven with the real KubeSpawner and strict Kubernetes schemas."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cdk8s
import kubernetes_validate
import pytest

from jupyter_constructs import (
    ConfigurationError,
    KafkaSaslMechanism,
    KafkaSecurityProtocol,
    PlatformServiceBinding,
    SecretRef,
)
from jupyter_constructs.addons.bindings.binding import DEFAULT_SERVICE_POD_LABELS
from jupyter_constructs.addons.bindings.contract import SERVICE_ENV
from tests.core.test_manifests import NEWEST_KUBERNETES
from tests.helpers import find, make_hub, new_chart, synth, validate, write_config_dir
from tests.real_hub import load_config, mock_kubespawner, pod_manifest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "platform-services.md"
USER_PODS = {
    "app.kubernetes.io/component": "singleuser-server",
    "app.kubernetes.io/instance": "jupyter",
}

# One builder per factory, with every option a user of that service commonly sets.
FACTORIES: dict[str, Callable[[cdk8s.Chart], PlatformServiceBinding]] = {
    "trino": lambda c: PlatformServiceBinding.trino(
        c,
        "trino",
        host="trino.data-platform",
        catalog="iceberg",
        schema="analytics",
        user="{unescaped_username}",
        password=SecretRef("trino-users", "password"),
        tls=True,
        port=8443,
    ),
    "s3": lambda c: PlatformServiceBinding.minio(
        c,
        "minio",
        host="minio.data-platform",
        access_key_id=SecretRef("minio-notebooks", "access-key-id"),
        secret_access_key=SecretRef("minio-notebooks", "secret-access-key"),
        bucket="notebooks",
    ),
    "mlflow": lambda c: PlatformServiceBinding.mlflow(
        c,
        "mlflow",
        host="mlflow.ml-platform",
        username="jupyter",
        password=SecretRef("mlflow-jupyter", "password"),
    ),
    "postgres": lambda c: PlatformServiceBinding.postgres(
        c,
        "postgres",
        host="postgres.data-platform",
        database="analytics",
        user="jupyter",
        password=SecretRef("postgres-jupyter", "password"),
    ),
    "datahub": lambda c: PlatformServiceBinding.datahub(
        c, "datahub", host="datahub-gms.data-platform", token=SecretRef("datahub", "token")
    ),
    "ray": lambda c: PlatformServiceBinding.ray(c, "ray", host="ray-head.ray"),
    "kafka": lambda c: PlatformServiceBinding.kafka(
        c,
        "kafka",
        host="kafka.data-platform",
        security_protocol=KafkaSecurityProtocol.SASL_SSL,
        sasl_mechanism=KafkaSaslMechanism.SCRAM_SHA_512,
        sasl_username="jupyter",
        sasl_password=SecretRef("kafka-jupyter", "password"),
        port=9093,
    ),
}

EXPECTED_ENV: dict[str, dict[str, Any]] = {
    "trino": {
        "TRINO_HOST": "trino.data-platform",
        "TRINO_PORT": "8443",
        "TRINO_HTTP_SCHEME": "https",
        "TRINO_CATALOG": "iceberg",
        "TRINO_SCHEMA": "analytics",
        "TRINO_USER": "{unescaped_username}",
        "TRINO_PASSWORD": {
            "valueFrom": {"secretKeyRef": {"name": "trino-users", "key": "password"}}
        },
    },
    "s3": {
        "S3_ENDPOINT_URL": "http://minio.data-platform:9000",
        "AWS_ACCESS_KEY_ID": {
            "valueFrom": {"secretKeyRef": {"name": "minio-notebooks", "key": "access-key-id"}}
        },
        "AWS_SECRET_ACCESS_KEY": {
            "valueFrom": {"secretKeyRef": {"name": "minio-notebooks", "key": "secret-access-key"}}
        },
        "AWS_DEFAULT_REGION": "us-east-1",
        "S3_VERIFY_TLS": "false",
        "S3_BUCKET": "notebooks",
    },
    "mlflow": {
        "MLFLOW_TRACKING_URI": "http://mlflow.ml-platform:5000",
        "MLFLOW_TRACKING_USERNAME": "jupyter",
        "MLFLOW_TRACKING_PASSWORD": {
            "valueFrom": {"secretKeyRef": {"name": "mlflow-jupyter", "key": "password"}}
        },
    },
    "postgres": {
        "PGHOST": "postgres.data-platform",
        "PGPORT": "5432",
        "PGDATABASE": "analytics",
        "PGUSER": "jupyter",
        "PGPASSWORD": {
            "valueFrom": {"secretKeyRef": {"name": "postgres-jupyter", "key": "password"}}
        },
        "PGSSLMODE": "require",
    },
    "datahub": {
        "DATAHUB_GMS_URL": "http://datahub-gms.data-platform:8080",
        "DATAHUB_GMS_TOKEN": {"valueFrom": {"secretKeyRef": {"name": "datahub", "key": "token"}}},
    },
    "ray": {"RAY_ADDRESS": "ray://ray-head.ray:10001"},
    "kafka": {
        "KAFKA_BOOTSTRAP_SERVERS": "kafka.data-platform:9093",
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_SASL_USERNAME": "jupyter",
        "KAFKA_SASL_PASSWORD": {
            "valueFrom": {"secretKeyRef": {"name": "kafka-jupyter", "key": "password"}}
        },
    },
}

EXPECTED_FILES: dict[str, dict[str, str]] = {
    "trino": {
        "trino-cli.properties": "server=https://trino.data-platform:8443\n"
        "catalog=iceberg\nschema=analytics\n"
    },
    "s3": {
        "aws-config": "[default]\nregion = us-east-1\n"
        "endpoint_url = http://minio.data-platform:9000\ns3 =\n    addressing_style = path\n"
    },
    "mlflow": {},
    "postgres": {
        "pg_service.conf": "[platform]\nhost=postgres.data-platform\nport=5432\n"
        "dbname=analytics\nuser=jupyter\nsslmode=require\n"
    },
    "datahub": {},
    "ray": {},
    "kafka": {
        "client.properties": "bootstrap.servers=kafka.data-platform:9093\n"
        "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.username=jupyter\n"
    },
}

EXPECTED_EGRESS = {
    "trino": ("data-platform", 8443),
    "s3": ("data-platform", 9000),
    "mlflow": ("ml-platform", 5000),
    "postgres": ("data-platform", 5432),
    "datahub": ("data-platform", 8080),
    "ray": ("ray", 10001),
    "kafka": ("data-platform", 9093),
}


def _hub_with(service: str) -> tuple[cdk8s.Chart, PlatformServiceBinding]:
    chart, hub = make_hub()
    binding = FACTORIES[service](chart)
    hub.add_binding(binding)
    return chart, binding


def _objects_of(objects: list[dict[str, Any]], binding: PlatformServiceBinding) -> list[dict]:
    return [
        o
        for o in objects
        if o["metadata"].get("labels", {}).get("jupyter-constructs.io/binding") == binding.name
    ]


def _hub_settings(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return json.loads(find(objects, "ConfigMap", "hub-config")["data"]["hub_config.json"])  # type: ignore[no-any-return]


def _profile_override(objects: list[dict[str, Any]], slug: str) -> dict[str, Any]:
    profiles = _hub_settings(objects)["traits"]["KubeSpawner"]["profile_list"]
    return next(p for p in profiles if p["slug"] == slug)["kubespawner_override"]  # type: ignore[no-any-return]


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes LabelSelector semantics for matchLabels and In/NotIn/Exists."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        value, op = labels.get(expr["key"]), expr["operator"]
        if op == "In" and value not in expr["values"]:
            return False
        if op == "NotIn" and value in expr["values"]:
            return False
        if op == "Exists" and value is None:
            return False
    return True


# --- each factory --------------------------------------------------------------------


@pytest.mark.parametrize("service", list(FACTORIES))
def test_snapshot(service: str, snapshot: Any) -> None:
    chart, binding = _hub_with(service)
    objects = synth(chart)
    assert {
        "environment": binding.environment(),
        "objects": _objects_of(objects, binding),
        "volumes": binding.user_volumes(),
    } == snapshot


@pytest.mark.parametrize("service", list(FACTORIES))
def test_environment_follows_the_contract(service: str) -> None:
    chart, binding = _hub_with(service)
    assert binding.service == service
    assert binding.environment() == EXPECTED_ENV[service]
    spec = SERVICE_ENV[service]
    env = binding.environment()
    assert set(spec.required) <= set(env) <= set(spec.names)
    for name, value in env.items():
        assert isinstance(value, dict) == (name in spec.secret), name
    # The profile's KubeSpawner override carries exactly these (sorted), next to the
    # variable that hides GPUs from a profile without one (GpuIsolation).
    override = _profile_override(synth(chart), "small")
    expected = {**EXPECTED_ENV[service], "NVIDIA_VISIBLE_DEVICES": "void"}
    assert override["environment"] == dict(sorted(expected.items()))


@pytest.mark.parametrize("service", list(FACTORIES))
def test_config_files_are_a_read_only_config_map(service: str) -> None:
    chart, binding = _hub_with(service)
    objects = synth(chart)
    maps = [o for o in _objects_of(objects, binding) if o["kind"] == "ConfigMap"]
    override = _profile_override(objects, "small")
    # KubeSpawner's mapping form (hub.singleuser): volumes by name, mounts by name and path.
    mounts = [m for m in override["volume_mounts"].values() if m["name"].startswith("binding-")]
    if not EXPECTED_FILES[service]:
        assert maps == [] and binding.config_map is None and mounts == []
        return
    (config_map,) = maps
    assert config_map["data"] == EXPECTED_FILES[service]
    assert mounts == [
        {"name": f"binding-{binding.name}", "mountPath": binding.mount_path, "readOnly": True}
    ]
    assert binding.mount_path == f"/etc/platform-services/{binding.name}"
    volume = override["volumes"][f"binding-{binding.name}"]
    assert volume == {
        "name": f"binding-{binding.name}",
        "configMap": {"name": config_map["metadata"]["name"], "defaultMode": 0o444},
    }
    # No credential ever goes into a config file.
    for text in config_map["data"].values():
        assert "password" not in text.lower().replace("sasl.username", "")
        assert "secret" not in text.lower()


@pytest.mark.parametrize("service", list(FACTORIES))
def test_network_policy_allows_exactly_the_service(service: str) -> None:
    chart, binding = _hub_with(service)
    (policy,) = [o for o in _objects_of(synth(chart), binding) if o["kind"] == "NetworkPolicy"]
    namespace, port = EXPECTED_EGRESS[service]
    assert policy["apiVersion"] == "networking.k8s.io/v1"
    assert policy["metadata"]["namespace"] == "jupyter"
    assert policy["spec"] == {
        "podSelector": {"matchLabels": USER_PODS},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": namespace}
                        },
                        # The service's pods, not the whole namespace (issue 12).
                        "podSelector": {"matchLabels": DEFAULT_SERVICE_POD_LABELS[service]},
                    }
                ],
                "ports": [{"protocol": "TCP", "port": port}],
            }
        ],
    }


def test_namespace_wide_egress_only_when_asked_for() -> None:
    chart, hub = make_hub()
    wide = PlatformServiceBinding.trino(
        chart, "trino", host="trino.data-platform", catalog="c", user="u", namespace_wide=True
    )
    hub.add_binding(wide)
    policy = find(synth(chart), "NetworkPolicy", wide.network_policy.name)
    assert policy["spec"]["egress"][0]["to"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "data-platform"}}}
    ]
    assert wide.namespace_wide and wide.service_pod_labels == {}


def test_fails_when_both_pod_labels_and_namespace_wide_are_given() -> None:
    chart = new_chart()
    with pytest.raises(ConfigurationError) as err:
        PlatformServiceBinding.ray(
            chart,
            "ray",
            host="ray-head.ray",
            service_pod_labels={"ray.io/node-type": "head"},
            namespace_wide=True,
        )
    assert str(err.value) == (
        "test/ray: invalid namespace_wide True. Allowed: False when service_pod_labels is "
        "given (the labels narrow the rule, namespace_wide widens it to every pod). Fix: "
        "drop one of service_pod_labels= and namespace_wide=True"
    )
    with pytest.raises(ConfigurationError, match=r"invalid service_pod_labels \{\}"):
        PlatformServiceBinding.ray(chart, "ray2", host="ray-head.ray", service_pod_labels={})


@pytest.mark.parametrize("version", ["1.27", NEWEST_KUBERNETES])
def test_objects_validate_strictly(version: str) -> None:
    chart, hub = make_hub()
    for service, build in FACTORIES.items():
        binding = build(chart)
        if service == "ray":
            hub.profiles[0].add_binding(binding)
        else:
            hub.add_binding(binding)
    objects = synth(chart)
    mine = [
        o for o in objects if "jupyter-constructs.io/binding" in o["metadata"].get("labels", {})
    ]
    assert sorted(o["kind"] for o in mine) == ["ConfigMap"] * 4 + ["NetworkPolicy"] * 7
    for obj in mine:
        kubernetes_validate.validate(obj, version, strict=True)


def test_profile_bindings_select_only_their_profiles_and_render_late() -> None:
    chart, hub = make_hub()
    ray = PlatformServiceBinding.ray(
        chart,
        "ray",
        host="ray-head-svc.ray.svc.cluster.local",
        target_port=10002,
        service_pod_labels={"ray.io/node-type": "head"},
    )
    large = hub.add_profile("large", display_name="Large")
    large.add_binding(ray)
    # A profile added and bound after the binding was built still lands in the selector.
    gpu = hub.add_profile("gpu", display_name="GPU")
    gpu.add_binding(ray)
    objects = synth(chart)
    policy = find(objects, "NetworkPolicy", ray.network_policy.name)
    assert policy["spec"] == {
        "podSelector": {
            "matchLabels": USER_PODS,
            "matchExpressions": [
                {
                    "key": "jupyter-constructs.io/profile",
                    "operator": "In",
                    "values": ["large", "gpu"],
                }
            ],
        },
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "ray"}
                        },
                        "podSelector": {"matchLabels": {"ray.io/node-type": "head"}},
                    }
                ],
                "ports": [{"protocol": "TCP", "port": 10002}],
            }
        ],
    }
    assert ray.namespace == "ray"
    assert "RAY_ADDRESS" not in _profile_override(objects, "small").get("environment", {})
    for slug in ("large", "gpu"):
        env = _profile_override(objects, slug)["environment"]
        assert env["RAY_ADDRESS"] == "ray://ray-head-svc.ray.svc.cluster.local:10001"


def test_hub_config_holds_references_never_values(tmp_path: Path) -> None:
    chart, hub = make_hub()
    for build in FACTORIES.values():
        hub.add_binding(build(chart))
    objects = synth(chart)
    settings = _hub_settings(objects)
    env = settings["traits"]["KubeSpawner"]["profile_list"][0]["kubespawner_override"][
        "environment"
    ]
    secret_names = {n for spec in SERVICE_ENV.values() for n in spec.secret}
    assert {n for n in env if n in secret_names} == {
        "TRINO_PASSWORD",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "MLFLOW_TRACKING_PASSWORD",
        "PGPASSWORD",
        "DATAHUB_GMS_TOKEN",
        "KAFKA_SASL_PASSWORD",
    }
    for name in secret_names & set(env):
        assert set(env[name]) == {"valueFrom"}, name
        assert set(env[name]["valueFrom"]) == {"secretKeyRef"}, name
    # Nothing anywhere in the objects sets a contract secret variable by value.
    text = json.dumps(objects)
    for name in secret_names:
        assert f'"name": "{name}", "value"' not in text
    config = load_config(write_config_dir(objects, tmp_path))
    assert config.KubeSpawner.profile_list[0]["kubespawner_override"]["environment"] == env


def test_real_kubespawner_pod_has_every_binding(tmp_path: Path) -> None:
    chart, hub = make_hub()
    everything = hub.add_profile("all", display_name="All services")
    for service, build in FACTORIES.items():
        binding = build(chart)
        if service == "ray":
            everything.add_binding(binding)
        else:
            hub.add_binding(binding)
    objects = synth(chart)
    config = load_config(write_config_dir(objects, tmp_path))
    pods = {}
    for slug in ("small", "all"):
        with mock_kubespawner(config) as spawner:
            pods[slug] = pod_manifest(spawner, slug)
    container = pods["all"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    for service, expected in EXPECTED_ENV.items():
        for name, value in expected.items():
            if isinstance(value, dict):
                assert env[name] == {"name": name, **value}, name
            elif name == "TRINO_USER":
                # KubeSpawner expands the template to the hub user's name.
                assert env[name] == {"name": name, "value": "alice@example.com"}
            else:
                assert env[name] == {"name": name, "value": value}, (service, name)
    small_env = {e["name"] for e in pods["small"]["spec"]["containers"][0]["env"]}
    assert "RAY_ADDRESS" not in small_env and "TRINO_HOST" in small_env

    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pods["all"]["spec"]["volumes"]}
    maps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    for name in ("trino", "minio", "postgres", "kafka"):
        mount = mounts[f"/etc/platform-services/{name}"]
        assert mount["readOnly"] is True
        source = volumes[mount["name"]]["configMap"]
        assert source["defaultMode"] == 0o444
        assert maps[source["name"]]["metadata"]["labels"]["jupyter-constructs.io/binding"] == name
    # Each NetworkPolicy selects exactly the pods of the profiles it is bound to.
    policies = {
        o["metadata"]["labels"]["jupyter-constructs.io/binding"]: o
        for o in objects
        if o["kind"] == "NetworkPolicy"
        and "jupyter-constructs.io/binding" in o["metadata"].get("labels", {})
    }
    labels = {slug: pod["metadata"]["labels"] for slug, pod in pods.items()}
    for name, policy in policies.items():
        selector = policy["spec"]["podSelector"]
        assert _selects(selector, labels["all"]), name
        assert _selects(selector, labels["small"]) is (name != "ray"), name
        assert not _selects(selector, {**labels["all"], "app.kubernetes.io/instance": "other"})
    for version in ("1.27", NEWEST_KUBERNETES):
        kubernetes_validate.validate(pods["all"], version, strict=True)


def test_defaults() -> None:
    """Every default the docstrings promise."""
    chart = new_chart()
    trino = PlatformServiceBinding.trino(
        chart, "t", host="trino.data-platform", catalog="c", user="u"
    )
    assert (trino.port, trino.namespace, trino.name) == (8080, "data-platform", "t")
    assert trino.environment()["TRINO_SCHEMA"] == "default"
    assert trino.environment()["TRINO_HTTP_SCHEME"] == "http"
    assert "TRINO_PASSWORD" not in trino.environment()
    s3 = PlatformServiceBinding.s3(
        chart,
        "s",
        host="minio.data-platform",
        access_key_id=SecretRef("m", "a"),
        secret_access_key=SecretRef("m", "s"),
    )
    assert s3.port == 9000 and s3.service == "s3"
    assert s3.environment()["AWS_DEFAULT_REGION"] == "us-east-1"
    assert s3.environment()["S3_VERIFY_TLS"] == "false"
    assert "S3_BUCKET" not in s3.environment()
    tls_s3 = PlatformServiceBinding.s3(
        chart,
        "s-tls",
        host="minio.data-platform",
        access_key_id=SecretRef("m", "a"),
        secret_access_key=SecretRef("m", "s"),
        tls=True,
        port=443,
    )
    assert tls_s3.environment()["S3_VERIFY_TLS"] == "true"
    assert tls_s3.environment()["S3_ENDPOINT_URL"] == "https://minio.data-platform:443"
    mlflow = PlatformServiceBinding.mlflow(chart, "m", host="mlflow.ml-platform")
    assert mlflow.environment() == {"MLFLOW_TRACKING_URI": "http://mlflow.ml-platform:5000"}
    pg = PlatformServiceBinding.postgres(
        chart, "p", host="pg.db", database="d", user="u", password=SecretRef("pg", "pw")
    )
    assert pg.port == 5432 and pg.environment()["PGSSLMODE"] == "require"
    datahub = PlatformServiceBinding.datahub(chart, "d", host="datahub-gms.data-platform")
    assert datahub.environment() == {"DATAHUB_GMS_URL": "http://datahub-gms.data-platform:8080"}
    ray = PlatformServiceBinding.ray(chart, "r", host="ray-head.ray")
    assert ray.port == ray.target_port == 10001
    assert ray.service_pod_labels == {"ray.io/node-type": "head"}
    assert not ray.namespace_wide
    assert {b.service: b.service_pod_labels for b in (trino, s3, mlflow, pg, datahub)} == {
        "trino": {"app.kubernetes.io/component": "coordinator", "app.kubernetes.io/name": "trino"},
        "s3": {"app.kubernetes.io/name": "minio"},
        "mlflow": {"app.kubernetes.io/name": "mlflow"},
        "postgres": {"app.kubernetes.io/name": "postgresql"},
        "datahub": {"app.kubernetes.io/name": "datahub-gms"},
    }
    kafka = PlatformServiceBinding.kafka(chart, "k", host="kafka.data-platform")
    assert kafka.environment() == {
        "KAFKA_BOOTSTRAP_SERVERS": "kafka.data-platform:9092",
        "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
    }
    assert kafka.files == {
        "client.properties": "bootstrap.servers=kafka.data-platform:9092\n"
        "security.protocol=PLAINTEXT\n"
    }


def test_mlflow_artifact_store_is_the_s3_binding_endpoint() -> None:
    chart = new_chart()
    minio = FACTORIES["s3"](chart)
    mlflow = PlatformServiceBinding.mlflow(
        chart, "mlflow", host="mlflow.ml-platform", artifact_store=minio
    )
    assert mlflow.environment()["MLFLOW_S3_ENDPOINT_URL"] == "http://minio.data-platform:9000"


def test_docs_table_lists_each_factory_with_its_files_and_network_rule() -> None:
    text = DOC.read_text()
    rows = [
        line
        for line in text.splitlines()
        if line.startswith("| ") and "PlatformServiceBinding." in line
    ]
    by_factory = {}
    for row in rows:
        for spec in SERVICE_ENV.values():
            if f"`{spec.factory}(...)`" in row.split("|")[2]:
                by_factory[spec.service] = row
    assert set(by_factory) == set(SERVICE_ENV)
    assert "`PlatformServiceBinding.minio(...)`" in by_factory["s3"]
    for service, files in EXPECTED_FILES.items():
        row = by_factory[service]
        for name in files:
            assert f"`{name}`" in row, (service, name)
        if not files:
            assert "| none |" in row, service

        assert "TCP" in row and "namespace" in row, service
    assert "/etc/platform-services/<name>/" in text


# --- failures ------------------------------------------------------------------------


def _error(build: Callable[[cdk8s.Chart], object]) -> str:
    with pytest.raises(ConfigurationError) as err:
        build(new_chart())
    return str(err.value)


@pytest.mark.parametrize(
    "host", ["10.0.0.7", "http://trino.data-platform", "Trino.data", "trino:8080", ""]
)
def test_fails_when_host_is_not_a_dns_name(host: str) -> None:
    assert _error(lambda c: PlatformServiceBinding.ray(c, "ray", host=host, namespace="ray")) == (
        f"test/ray: invalid host {host!r}. Allowed: a lowercase DNS name or in-cluster service "
        "name such as 'trino.data-platform' (no scheme, port, path or IP address). "
        "Fix: pass the service's DNS name: <service>.<namespace>"
    )


@pytest.mark.parametrize("port", [0, 65536, -1, True, "8080"])
def test_fails_when_port_is_out_of_range(port: object) -> None:
    assert _error(
        lambda c: PlatformServiceBinding.datahub(c, "datahub", host="gms.dh", port=port)  # type: ignore[arg-type]
    ) == (
        f"test/datahub: invalid port {port!r}. Allowed: an integer 1-65535. "
        "Fix: pass the port the service listens on, e.g. 8080"
    )


def test_fails_when_target_port_is_out_of_range() -> None:
    assert _error(
        lambda c: PlatformServiceBinding.ray(c, "ray", host="ray-head.ray", target_port=70000)
    ) == (
        "test/ray: invalid target_port 70000. Allowed: an integer 1-65535. "
        "Fix: pass the port the service listens on, e.g. 8080"
    )


@pytest.mark.parametrize("namespace", ["Data_Platform", "-x", "a" * 64])
def test_fails_when_namespace_is_not_a_dns_label(namespace: str) -> None:
    assert _error(
        lambda c: PlatformServiceBinding.ray(c, "ray", host="localhost", namespace=namespace)
    ) == (
        f"test/ray: invalid namespace {namespace!r}. Allowed: a DNS-1123 label: 1-63 lowercase "
        "letters, digits and '-', starting and ending with a letter or digit. "
        "Fix: pass the namespace the service runs in, e.g. 'data-platform'"
    )


def test_fails_when_namespace_cannot_be_read_from_the_host() -> None:
    assert _error(lambda c: PlatformServiceBinding.ray(c, "ray", host="ray-head")) == (
        "test/ray: invalid namespace None. Allowed: the namespace the service runs in (host "
        "'ray-head' does not say it). Fix: pass namespace=, e.g. namespace='data-platform'"
    )


def test_fails_when_namespace_contradicts_the_host() -> None:
    assert _error(
        lambda c: PlatformServiceBinding.ray(c, "ray", host="ray-head.ray", namespace="other")
    ) == (
        "test/ray: invalid namespace 'other'. Allowed: 'ray', the namespace host "
        "'ray-head.ray' points to. Fix: drop namespace= or make host and namespace agree"
    )


@pytest.mark.parametrize(
    ("build", "what"),
    [
        (
            lambda c, v: PlatformServiceBinding.postgres(
                c, "b", host="pg.db", database="d", user="u", password=v
            ),
            "password",
        ),
        (
            lambda c, v: PlatformServiceBinding.s3(
                c, "b", host="minio.s3", access_key_id=v, secret_access_key=SecretRef("m", "k")
            ),
            "access_key_id",
        ),
        (
            lambda c, v: PlatformServiceBinding.trino(
                c, "b", host="t.t", catalog="c", user="u", password=v, tls=True
            ),
            "password",
        ),
        (lambda c, v: PlatformServiceBinding.datahub(c, "b", host="d.d", token=v), "token"),
        (
            lambda c, v: PlatformServiceBinding.mlflow(
                c, "b", host="m.m", username="u", password=v
            ),
            "password",
        ),
        (
            lambda c, v: PlatformServiceBinding.kafka(
                c,
                "b",
                host="k.k",
                security_protocol=KafkaSecurityProtocol.SASL_SSL,
                sasl_mechanism=KafkaSaslMechanism.PLAIN,
                sasl_username="u",
                sasl_password=v,
            ),
            "sasl_password",
        ),
    ],
)
def test_fails_when_a_secret_is_a_plain_str(build: Callable[..., object], what: str) -> None:
    message = _error(lambda c: build(c, "hunter2-not-a-ref"))
    assert message == (
        f"test/b: invalid {what} '<plain str, value hidden>'. Allowed: a SecretRef(name, key) "
        "naming the Kubernetes Secret that holds it. "
        f'Fix: pass {what}=SecretRef("<secret name>", "<key>"); credentials never go in code '
        "or in dist/"
    )
    assert "hunter2" not in message


def test_fails_when_a_binding_name_is_used_twice_on_a_hub() -> None:
    chart, hub = make_hub()
    hub.add_binding(PlatformServiceBinding.ray(chart, "ray", host="ray-head.ray"))
    other = PlatformServiceBinding.ray(chart, "ray2", host="ray-head.ray2", name="ray")
    with pytest.raises(ConfigurationError) as err:
        hub.profiles[0].add_binding(other)
    assert str(err.value) == (
        "test/ray2: invalid binding name 'ray'. Allowed: a name no other binding of the hub "
        "uses (test/ray has it). Fix: pass name= to one of them"
    )


def test_fails_when_the_same_binding_is_added_to_the_hub_twice() -> None:
    chart, hub = make_hub()
    ray = PlatformServiceBinding.ray(chart, "ray", host="ray-head.ray")
    hub.add_binding(ray)
    with pytest.raises(ConfigurationError) as err:
        hub.add_binding(ray)
    assert str(err.value) == (
        "test/hub: invalid binding 'test/ray'. Allowed: each binding once. "
        "Fix: remove the second add_binding call"
    )


def test_fails_when_the_same_binding_is_added_to_a_profile_twice() -> None:
    chart, hub = make_hub()
    ray = PlatformServiceBinding.ray(chart, "ray", host="ray-head.ray")
    hub.profiles[0].add_binding(ray)
    with pytest.raises(ConfigurationError) as err:
        hub.profiles[0].add_binding(ray)
    assert str(err.value) == (
        "test/hub/Profile-small: invalid binding 'test/ray'. Allowed: each binding once. "
        "Fix: remove the second add_binding call"
    )


def test_fails_when_a_hub_wide_binding_is_also_bound_to_a_profile() -> None:
    chart, hub = make_hub()
    ray = PlatformServiceBinding.ray(chart, "ray", host="ray-head.ray")
    hub.add_binding(ray)
    with pytest.raises(ConfigurationError) as err:
        hub.profiles[0].add_binding(ray)
    assert str(err.value) == (
        "test/ray: invalid binding target 'test/hub/Profile-small'. Allowed: one target per "
        "binding: it is already bound to the hub. "
        "Fix: bind it to the hub (every profile) or to profiles, not both"
    )


def test_fails_when_a_profile_binding_is_also_added_to_the_hub() -> None:
    chart, hub = make_hub()
    ray = PlatformServiceBinding.ray(chart, "ray", host="ray-head.ray")
    hub.profiles[0].add_binding(ray)
    with pytest.raises(ConfigurationError) as err:
        hub.add_binding(ray)
    assert str(err.value) == (
        "test/ray: invalid binding target 'test/hub'. Allowed: one target per binding: it is "
        "already bound to small. Fix: bind it to the hub (every profile) or to profiles, not both"
    )


def test_fails_when_two_bindings_set_the_same_variable_on_a_profile() -> None:
    chart, hub = make_hub()
    hub.add_binding(PlatformServiceBinding.ray(chart, "ray", host="ray-head.ray"))
    other = PlatformServiceBinding.ray(chart, "ray-b", host="ray-head.ray-b")
    with pytest.raises(ConfigurationError) as err:
        hub.profiles[0].add_binding(other)
    assert str(err.value) == (
        "test/ray-b: invalid environment variable 'RAY_ADDRESS'. Allowed: a variable no other "
        "binding of profile 'small' sets (test/ray sets it). Fix: bind only one binding of "
        "each service to a profile; bind the other one to another profile"
    )


def test_fails_at_synth_when_a_clash_appears_through_a_later_profile() -> None:
    chart, hub = make_hub()
    hub.add_binding(PlatformServiceBinding.ray(chart, "ray", host="ray-head.ray"))
    profile = hub.add_profile("late", display_name="Late")
    other = PlatformServiceBinding.ray(chart, "ray-b", host="ray-head.ray-b")
    # Caught at bind time too; bypass it to prove the synth-time check on its own.
    hub.attach_addon(other)
    hub._bindings.add(other, profile)
    assert validate(chart) == [
        "test/ray: invalid environment variable 'RAY_ADDRESS'. Allowed: a variable no other "
        "binding of profile 'late' sets (test/ray-b sets it). Fix: bind only one binding of "
        "each service to a profile; bind the other one to another profile",
        "test/ray-b: invalid environment variable 'RAY_ADDRESS'. Allowed: a variable no other "
        "binding of profile 'late' sets (test/ray sets it). Fix: bind only one binding of "
        "each service to a profile; bind the other one to another profile",
    ]


def test_fails_at_synth_when_a_binding_is_never_bound() -> None:
    chart, _ = make_hub()
    PlatformServiceBinding.ray(chart, "ray", host="ray-head.ray")
    assert validate(chart) == [
        "test/ray: invalid binding 'test/ray'. Allowed: a binding bound to a hub or profile. "
        "Fix: call hub.add_binding(binding) or profile.add_binding(binding), or delete the "
        "binding"
    ]


def test_fails_when_the_binding_lives_in_another_namespace() -> None:
    _, hub = make_hub()
    other = cdk8s.Chart(cdk8s.Chart.of(hub).node.scope, "other", namespace="elsewhere")  # type: ignore[arg-type]
    ray = PlatformServiceBinding.ray(other, "ray", host="ray-head.ray")
    with pytest.raises(ConfigurationError) as err:
        hub.add_binding(ray)
    assert str(err.value) == (
        "other/ray: invalid chart namespace 'elsewhere'. Allowed: 'jupyter', the hub's "
        "namespace (the ConfigMap and the NetworkPolicy must live beside the user pods). "
        "Fix: create the binding in the hub's chart"
    )


def test_fails_when_binding_name_is_not_a_dns_label() -> None:
    assert _error(
        lambda c: PlatformServiceBinding.ray(c, "ray", host="ray-head.ray", name="Ray_1")
    ) == (
        "test/ray: invalid binding name 'Ray_1'. Allowed: a DNS-1123 label of at most 55 "
        "characters: lowercase letters, digits and '-'. Fix: pass name= (or use a construct "
        "id) like 'trino' or 'minio'"
    )


def test_fails_when_trino_gets_a_password_over_http() -> None:
    assert _error(
        lambda c: PlatformServiceBinding.trino(
            c, "trino", host="trino.dp", catalog="c", user="u", password=SecretRef("t", "p")
        )
    ) == (
        "test/trino: invalid tls False. Allowed: True when a password is given (Trino refuses "
        "passwords over http). Fix: serve Trino over https and pass tls=True, or drop password="
    )


def test_fails_when_mlflow_password_has_no_username() -> None:
    assert _error(
        lambda c: PlatformServiceBinding.mlflow(
            c, "mlflow", host="mlflow.ml", password=SecretRef("m", "p")
        )
    ) == (
        "test/mlflow: invalid username None. Allowed: a user name when password= is given. "
        "Fix: pass username= for the MLflow account the password belongs to"
    )


def test_fails_when_kafka_sasl_settings_are_incomplete_or_unexpected() -> None:
    assert _error(
        lambda c: PlatformServiceBinding.kafka(
            c, "kafka", host="k.k", security_protocol=KafkaSecurityProtocol.SASL_SSL
        )
    ) == (
        "test/kafka: invalid sasl_mechanism None. Allowed: a value with security_protocol "
        "SASL_SSL. Fix: pass sasl_mechanism=, sasl_username= and sasl_password= together"
    )
    assert _error(
        lambda c: PlatformServiceBinding.kafka(c, "kafka", host="k.k", sasl_username="u")
    ) == (
        "test/kafka: invalid sasl_username 'u'. Allowed: None with security_protocol PLAINTEXT "
        "(no SASL). Fix: use KafkaSecurityProtocol.SASL_SSL or SASL_PLAINTEXT, or drop it"
    )


def test_fails_when_an_enum_is_given_as_a_string() -> None:
    assert _error(
        lambda c: PlatformServiceBinding.postgres(
            c,
            "pg",
            host="pg.db",
            database="d",
            user="u",
            password=SecretRef("p", "k"),
            sslmode="disable",  # type: ignore[arg-type]
        )
    ) == (
        "test/pg: invalid sslmode 'disable'. Allowed: PostgresSslMode.DISABLE, "
        "PostgresSslMode.ALLOW, PostgresSslMode.PREFER, PostgresSslMode.REQUIRE, "
        "PostgresSslMode.VERIFY_CA, PostgresSslMode.VERIFY_FULL. "
        "Fix: pass a PostgresSslMode member"
    )


def test_fails_when_s3_bucket_is_not_a_bucket_name() -> None:
    assert _error(
        lambda c: PlatformServiceBinding.s3(
            c,
            "s3",
            host="minio.s3",
            access_key_id=SecretRef("m", "a"),
            secret_access_key=SecretRef("m", "s"),
            bucket="Not_A_Bucket",
        )
    ) == (
        "test/s3: invalid bucket 'Not_A_Bucket'. Allowed: an S3 bucket name: 3-63 lowercase "
        "letters, digits, '.' and '-'. Fix: name an existing bucket, e.g. bucket='notebooks'"
    )


def test_fails_when_env_does_not_follow_the_contract() -> None:
    assert _error(
        lambda c: PlatformServiceBinding(
            c, "x", service="ray", host="ray-head.ray", port=10001, env={"RAY_HOST": "ray"}
        )
    ) == (
        "test/x: invalid environment ['RAY_HOST']. Allowed: the ray contract: required "
        "RAY_ADDRESS. Fix: build the binding with PlatformServiceBinding.ray(...)"
    )


# --- the reference platform ----------------------------------------------------------


def test_reference_platform_binds_all_seven(reference_manifests: list[dict[str, Any]]) -> None:
    policies = {
        o["metadata"]["labels"]["jupyter-constructs.io/service"]: o["spec"]
        for o in reference_manifests
        if o["kind"] == "NetworkPolicy"
        and "jupyter-constructs.io/binding" in o["metadata"].get("labels", {})
    }
    assert set(policies) == set(SERVICE_ENV)
    egress = {
        service: (
            spec["egress"][0]["to"][0]["namespaceSelector"]["matchLabels"][
                "kubernetes.io/metadata.name"
            ],
            spec["egress"][0]["ports"][0]["port"],
        )
        for service, spec in policies.items()
    }
    assert egress == {
        "trino": ("data-platform", 8080),
        "s3": ("data-platform", 9000),
        "mlflow": ("ml-platform", 5000),
        "postgres": ("data-platform", 5432),
        "datahub": ("data-platform", 8080),
        "ray": ("ray", 10001),
        "kafka": ("data-platform", 9092),
    }
    assert policies["ray"]["podSelector"]["matchExpressions"] == [
        {"key": "jupyter-constructs.io/profile", "operator": "In", "values": ["large", "gpu"]}
    ]
    assert all(
        "matchExpressions" not in s["podSelector"] for k, s in policies.items() if k != "ray"
    )
    profiles = {
        p["slug"]: p["kubespawner_override"]["environment"]
        for p in _hub_settings(reference_manifests)["traits"]["KubeSpawner"]["profile_list"]
    }
    for slug, env in profiles.items():
        assert env["TRINO_HOST"] == "trino.data-platform"
        assert env["S3_ENDPOINT_URL"] == "http://minio.data-platform:9000"
        assert env["MLFLOW_TRACKING_URI"] == "http://mlflow.ml-platform:5000"
        assert env["PGHOST"] == "postgres.data-platform"
        assert env["DATAHUB_GMS_URL"] == "http://datahub-gms.data-platform:8080"
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka.data-platform:9092"
        assert ("RAY_ADDRESS" in env) is (slug in ("large", "gpu"))
        if "RAY_ADDRESS" in env:
            assert env["RAY_ADDRESS"] == "ray://ray-head.ray:10001"
