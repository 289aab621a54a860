#!/usr/bin/env bash
# shellcheck disable=SC2317 # delete() and cleanup() run from the EXIT trap
# End to end on a real cluster with a container runtime (kind or k3d), outside `make test`.
#
#   make e2e-cluster [CLUSTER_TOOL=kind|k3d] [KEEP=1] [CRDS=<dir of CRD files>]
#
# What `make test` cannot prove without a container runtime: the images pull and start,
# the probes pass, the hub comes up behind the proxy, and (with a CNI that enforces them,
# e.g. k3s's embedded network-policy controller) the NetworkPolicies hold.
#
# Steps: create a throwaway cluster, install the CRDs (if given), create the credential
# Secret the deployment guide asks for (a dummy OIDC client secret), apply dist/prod wave
# by wave server-side as ArgoCD does, wait for the secret-bootstrap Job and for the hub
# and proxy rollouts, then ask the hub for /hub/health through the proxy. The cluster is
# deleted on exit unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."

name=jupyter-constructs-e2e
namespace=jupyter
tool=${CLUSTER_TOOL:-}
crds=${CRDS:-${JC_CRDS_DIR:-../shared/crds}}

die() { echo "e2e-cluster: $*" >&2; exit 1; }

if [ -z "$tool" ]; then
  if command -v kind >/dev/null; then tool=kind
  elif command -v k3d >/dev/null; then tool=k3d
  else die "needs kind (https://kind.sigs.k8s.io) or k3d (https://k3d.io) and a container runtime"
  fi
fi
command -v kubectl >/dev/null || die "needs kubectl"
command -v curl >/dev/null || die "needs curl"

case "$tool" in
  kind)
    kind create cluster --name "$name" --wait 180s
    context="kind-$name"
    delete() { kind delete cluster --name "$name"; }
    ;;
  k3d)
    k3d cluster create "$name" --wait --timeout 180s
    context="k3d-$name"
    delete() { k3d cluster delete "$name"; }
    ;;
  *) die "CLUSTER_TOOL must be kind or k3d, not $tool" ;;
esac
forward_pid=
cleanup() {
  [ -z "$forward_pid" ] || kill "$forward_pid" 2>/dev/null || true
  if [ "${KEEP:-}" = 1 ]; then
    echo "e2e-cluster: kept the cluster (kubectl --context $context)"
  else
    delete
  fi
}
trap cleanup EXIT
k() { kubectl --context "$context" "$@"; }

if [ -d "$crds" ]; then
  for crd in "$crds"/*.yaml; do k apply --server-side -f "$crd" >/dev/null; done
  k wait --for=condition=Established crd --all --timeout=60s >/dev/null
else
  echo "e2e-cluster: no CRD folder $crds: custom resources (wave 1) will be refused" >&2
fi

# The files of dist/prod by sync wave (one object per file; no annotation means wave 0).
wave_of() { sed -n 's/.*argocd\.argoproj\.io\/sync-wave: "\(-\{0,1\}[0-9]*\)".*/\1/p' "$1" | head -n1; }
declare -A files
for f in dist/prod/*.yaml; do
  w=$(wave_of "$f"); w=${w:-0}
  files[$w]+="$f "
done

for w in $(printf '%s\n' "${!files[@]}" | sort -n); do
  echo "e2e-cluster: wave $w"
  # shellcheck disable=SC2086 # word splitting of the file list is intended
  for f in ${files[$w]}; do
    k apply --server-side --field-manager=argocd-controller --force-conflicts -f "$f"
  done
  if [ "$w" = -2 ]; then
    # What the deployment guide asks for before the first sync (dummy values here).
    k -n "$namespace" create secret generic jupyterhub-oidc \
      --from-literal=client-secret=e2e-dummy-client-secret --dry-run=client -o yaml | k apply -f -
  fi
  if [ "$w" = -1 ]; then
    k -n "$namespace" wait --for=condition=Complete job/hub-secrets-bootstrap --timeout=300s
  fi
done

k -n "$namespace" rollout status deploy/hub --timeout=600s
k -n "$namespace" rollout status deploy/proxy --timeout=300s

port=18080
k -n "$namespace" port-forward svc/proxy-public "$port:80" >/dev/null &
forward_pid=$!
for _ in $(seq 1 30); do
  if curl -fsS "http://127.0.0.1:$port/hub/health" >/dev/null 2>&1; then
    echo "e2e-cluster: the hub answers /hub/health through the proxy"
    exit 0
  fi
  sleep 2
done
die "the hub did not answer /hub/health through the proxy"
