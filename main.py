"""The reference platform: JupyterHub at jupyter.254carbon.com, namespace ``jupyter``.

``make synth`` runs this file and writes ``dist/``:

- ``dist/prod/``: the hub and everything around it (what ArgoCD deploys);
- ``dist/argocd/``: the ArgoCD Application that deploys ``dist/prod`` (apply it once,
  or let an app-of-apps pick it up; it is not inside the folder it syncs).

It also writes ``catalog/jupyterhub.json``, the portal's service card.

The cluster it assumes: ingress-nginx in namespace ``ingress-nginx``, cert-manager, the
Prometheus Operator in ``monitoring``, a CNI that enforces NetworkPolicy (Calico-like:
``ipBlock`` rules match the API server) and **kube-dns/CoreDNS pods** (``k8s-app:
kube-dns`` in ``kube-system``) as every pod's resolver, with no NodeLocal DNSCache. On
another cluster change ``NETWORK`` (docs/security.md, "What each CNI and DNS setup
needs"; examples/nodelocal_dns_cilium.py).

``python main.py`` writes into ``$CDK8S_OUTDIR`` (default ``dist``).
``python main.py --publish dist`` (what ``cdk8s synth`` runs, see cdk8s.yaml) writes into
``dist`` and then copies the result into the cdk8s CLI's own output folder.

Both end with a short summary (``jupyter_constructs.delivery.summary``): the folders
and their object counts, what changed against git, and the capacity of each hub's
namespace; under the cdk8s CLI it goes to stderr (the CLI swallows the app's stdout).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

# jupyter_constructs first: it gives jsii a writable package cache before cdk8s starts
# Node.js; and jsii runs the repository's Node.js LTS (node_modules, `make setup`).
from jupyter_constructs.core import toolchain

os.environ.setdefault(toolchain.NODE_ENV, toolchain.node_js(Path(__file__).resolve().parent))

import cdk8s

from jupyter_constructs import (
    CloudflareTunnel,
    ClusterDns,
    Gpu,
    IngressOptions,
    JupyterHub,
    KafkaSaslMechanism,
    KafkaSecurityProtocol,
    NetworkOptions,
    ObservabilityBundle,
    OidcAuth,
    PlatformServiceBinding,
    SecretRef,
    SharedData,
    UserStorage,
)
from jupyter_constructs.delivery.portal import ServiceCatalogEntry, write_service_catalog
from jupyter_constructs.delivery.summary import synth_summary
from jupyter_constructs.delivery.synth import (
    ARGOCD_FOLDER,
    Environment,
    failure_line,
    stop_cdk8s_cli,
    synthesize,
)

ROOT = Path(__file__).resolve().parent
NAMESPACE = "jupyter"
REPO_URL = "https://github.com/254carbon/jupyter-constructs.git"
NOTEBOOK_IMAGE = "ghcr.io/254carbon/jupyter-notebook:1.0.0"
GPU_NOTEBOOK_IMAGE = "quay.io/jupyter/pytorch-notebook:cuda12-2025-01-13"

# The cluster's DNS and CNI as the NetworkPolicies must see them (module docstring). User
# servers reach the internet (pip install, datasets), as NetworkOptions does by default;
# private ranges and cloud metadata stay blocked.
NETWORK = NetworkOptions(dns=ClusterDns.kube_dns())

ENVIRONMENTS = (
    Environment("prod", cluster="in-cluster", values={"domain": "jupyter.254carbon.com"}),
)


def build_platform(chart: cdk8s.Chart, *, domain: str) -> JupyterHub:
    """The hub of one environment, with the product brief's sizes, and its add-ons."""
    hub = JupyterHub(
        chart,
        "hub",
        domain=domain,
        auth=OidcAuth.cloudflare_access_saas(
            team_domain="254carbon.cloudflareaccess.com",
            client_id="jupyterhub",
            client_secret=SecretRef("jupyterhub-oidc", "client-secret"),
            # The Cloudflare Access policy in front of the hub decides who gets in.
            allow_all=True,
            admin_users=["platform-admin@254carbon.com"],
        ),
        ingress=IngressOptions(
            cert_manager_cluster_issuer="letsencrypt-prod",
            annotations=catalog_entry(domain).ingress_annotations(),
        ),
        notebook_image=NOTEBOOK_IMAGE,
        user_storage=UserStorage(size="10Gi"),
        shared_data=SharedData(size="50Gi"),
        network=NETWORK,
    )
    hub.add_profile(
        "small",
        display_name="Small (1 CPU, 4 GiB)",
        description="Exploration and light queries.",
        default=True,
        cpu_request="1",
        cpu_limit="2",
        memory_request="4Gi",
        memory_limit="8Gi",
    )
    hub.add_profile(
        "medium",
        display_name="Medium (2 CPU, 8 GiB)",
        description="Everyday analysis with pandas and Trino.",
        cpu_request="2",
        cpu_limit="4",
        memory_request="8Gi",
        memory_limit="16Gi",
    )
    hub.add_profile(
        "large",
        display_name="Large (4 CPU, 16 GiB)",
        description="Model training on CPU and large in-memory data.",
        cpu_request="4",
        cpu_limit="8",
        memory_request="16Gi",
        memory_limit="32Gi",
        start_timeout=600,
    )
    hub.add_profile(
        "gpu",
        display_name="GPU (1 NVIDIA GPU, 4 CPU, 32 GiB)",
        description="Deep learning with PyTorch and CUDA.",
        image=GPU_NOTEBOOK_IMAGE,
        cpu_request="4",
        cpu_limit="8",
        memory_request="32Gi",
        memory_limit="48Gi",
        gpu=Gpu(count=1),
        # PyTorch's DataLoader workers share batches through /dev/shm (64MiB by default).
        shm_size="8Gi",
        start_timeout=900,
        shared_data_read_only=True,
    )
    bind_platform_services(chart, hub)
    CloudflareTunnel(
        chart,
        "tunnel",
        hub=hub,
        tunnel_token=SecretRef("cloudflared-tunnel", "token"),
        # Both ways in are intended: sign-in is the hub's own OIDC flow (Cloudflare Access
        # for SaaS), which a request through the Ingress cannot skip.
        exclusive=False,
    )
    # Alert thresholds follow the hub: the capacity alert uses what the quota admits.
    ObservabilityBundle(chart, "observability", hub=hub)
    return hub


def bind_platform_services(chart: cdk8s.Chart, hub: JupyterHub) -> None:
    """The seven services of the data platform, at the product brief's endpoints.

    Every profile gets the common ones (``hub.add_binding``); Ray only the profiles that
    run distributed training (``profile.add_binding``). Credentials are SecretRefs: the
    Secrets live in the hub's namespace, created by the platform team.
    """
    for binding in (
        PlatformServiceBinding.trino(
            chart,
            "trino",
            host="trino.data-platform",
            port=8080,
            catalog="iceberg",
            schema="default",
            # The notebook user's hub name (KubeSpawner expands it): a claim Trino does not
            # verify (docs/platform-services.md, "Whose identity each service sees").
            user="{unescaped_username}",
        ),
        PlatformServiceBinding.minio(
            chart,
            "minio",
            host="minio.data-platform",
            port=9000,
            access_key_id=SecretRef("minio-notebooks", "access-key-id"),
            secret_access_key=SecretRef("minio-notebooks", "secret-access-key"),
            bucket="notebooks",
        ),
        PlatformServiceBinding.mlflow(chart, "mlflow", host="mlflow.ml-platform", port=5000),
        PlatformServiceBinding.postgres(
            chart,
            "postgres",
            host="postgres.data-platform",
            port=5432,
            database="analytics",
            user="jupyter",
            password=SecretRef("postgres-jupyter", "password"),
        ),
        PlatformServiceBinding.datahub(
            chart,
            "datahub",
            host="datahub-gms.data-platform",
            port=8080,
            token=SecretRef("datahub-jupyter", "token"),
        ),
        PlatformServiceBinding.kafka(
            chart,
            "kafka",
            host="kafka.data-platform",
            port=9092,
            security_protocol=KafkaSecurityProtocol.SASL_PLAINTEXT,
            sasl_mechanism=KafkaSaslMechanism.SCRAM_SHA_512,
            sasl_username="jupyter",
            sasl_password=SecretRef("kafka-jupyter", "password"),
        ),
    ):
        hub.add_binding(binding)
    ray = PlatformServiceBinding.ray(chart, "ray", host="ray-head.ray", port=10001)
    for profile in hub.profiles:
        if profile.slug in ("large", "gpu"):
            profile.add_binding(ray)


def catalog_entry(domain: str) -> ServiceCatalogEntry:
    """The portal card (Compute & Query) for the hub at ``domain``."""
    return ServiceCatalogEntry.jupyterhub(
        domain,
        docs_url="https://github.com/254carbon/jupyter-constructs/blob/main/docs/QUICKSTART.md",
        dashboard_url="https://grafana.254carbon.com/d/jupyterhub",
    )


#: The hubs of the last build, for the summary printed after the synth.
HUBS: list[JupyterHub] = []


def build(app: cdk8s.App) -> None:
    """Every environment's chart, and the Applications that deploy them."""
    HUBS.clear()
    argocd = cdk8s.Chart(app, ARGOCD_FOLDER)
    for env in ENVIRONMENTS:
        chart = env.chart(app, namespace=NAMESPACE, disable_resource_name_hashes=True)
        hub = build_platform(chart, domain=env.values["domain"])
        HUBS.append(hub)
        env.add_application(
            argocd,
            repo_url=REPO_URL,
            destination_namespace=NAMESPACE,
            project="production",
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Synthesize the reference platform.")
    parser.add_argument(
        "--publish",
        metavar="DIR",
        help="write into DIR, then copy the result into $CDK8S_OUTDIR (for `cdk8s synth`)",
    )
    args = parser.parse_args(argv)
    cli_outdir = os.environ.get("CDK8S_OUTDIR")
    outdir = Path(args.publish or cli_outdir or ROOT / "dist")
    try:
        synthesize(build, outdir=outdir)
    except Exception as exc:  # one readable line; dist/ is left as it was
        print(failure_line(exc, outdir), file=sys.stderr)
        stop_cdk8s_cli()  # under `cdk8s synth`: no second error and stack from the CLI
        return 1
    domains = [env.values["domain"] for env in ENVIRONMENTS]
    # Beside dist/, never inside it: ArgoCD would try to apply it.
    catalog = outdir.resolve().parent / "catalog" / "jupyterhub.json"
    write_service_catalog([catalog_entry(d) for d in domains], catalog, dist=outdir)
    if args.publish and cli_outdir:
        shutil.copytree(outdir, cli_outdir, dirs_exist_ok=True)
    # What was written, what changed against git, what the quota admits. To stderr under
    # the cdk8s CLI, which swallows the app's stdout (and lists its scratch copy).
    summary = synth_summary(outdir, notes=[hub.format_capacity() for hub in HUBS])
    print(summary, end="", file=sys.stderr if args.publish else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
