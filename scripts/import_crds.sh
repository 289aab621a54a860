#!/usr/bin/env bash
# Regenerate the typed CRD bindings in imports/ from a directory of CRD YAML files.
#
#   scripts/import_crds.sh <crd-dir> [<imports-dir>]      (or: make imports CRDS=<crd-dir>)
#
# <crd-dir> holds CustomResourceDefinition files (*.yaml, *.yml), e.g. local copies of
# the URLs pinned in cdk8s.yaml. The CRDs of one API group are concatenated into one
# multi-document file and imported in ONE `cdk8s import` call: separate calls for the
# same group write the same module and only the last one survives.
#
# Generated modules (every folder holding a _jsii/ folder) are replaced as a whole,
# modules of groups no longer present are removed, and the hand-written __init__.py
# files above them (imports/, imports/com, ...) are kept.
# Env: PYTHON (with PyYAML; default python3), CDK8S (default: npx --no-install cdk8s).
set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: make imports CRDS=<dir>
       scripts/import_crds.sh <dir with CustomResourceDefinition YAML files> [<imports dir>]
Regenerates imports/ (shipped as jupyter_constructs.crds) with `cdk8s import`, one call
per API group. The upstream URLs of the CRDs are listed in cdk8s.yaml.
EOF
}

crds_dir=${1:-}
out_dir=${2:-imports}
python=${PYTHON:-python3}
read -r -a cdk8s <<<"${CDK8S:-npx --no-install cdk8s}"

if [[ -z "$crds_dir" ]]; then
  usage
  exit 2
fi
if [[ ! -d "$crds_dir" ]]; then
  echo "import_crds: CRDS=$crds_dir is not a directory" >&2
  usage
  exit 2
fi
if [[ ! -d "$out_dir" ]]; then
  echo "import_crds: output folder $out_dir does not exist (run from the repository root)" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/groups" "$work/out"

# One <group>.yaml per API group, its CRDs in file-name order (deterministic output).
"$python" - "$crds_dir" "$work/groups" <<'PY'
import sys
from pathlib import Path

import yaml

src, dest = Path(sys.argv[1]), Path(sys.argv[2])
groups: dict[str, list[str]] = {}
files = sorted(p for p in src.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
for path in files:
    text = path.read_text(encoding="utf-8")
    docs = [d for d in yaml.safe_load_all(text) if d]
    found = {d.get("spec", {}).get("group") for d in docs if d.get("kind") == "CustomResourceDefinition"}
    if len(found) != 1 or None in found:
        sys.exit(f"import_crds: {path.name}: expected CRDs of exactly one API group, found {sorted(map(str, found))}")
    if not text.startswith("---"):
        text = "---\n" + text
    if not text.endswith("\n"):
        text += "\n"
    groups.setdefault(found.pop(), []).append(text)
if not groups:
    sys.exit(f"import_crds: no CustomResourceDefinition *.yaml/*.yml file in {src}")
for group, texts in sorted(groups.items()):
    (dest / f"{group}.yaml").write_text("".join(texts), encoding="utf-8")
    print(f"import_crds: {group}: {len(texts)} file(s)")
PY

for group_file in "$work"/groups/*.yaml; do
  # --no-check-upgrade: the upgrade check needs the network and prints a stack trace offline.
  "${cdk8s[@]}" import "$group_file" --language python --no-save --no-check-upgrade \
    -o "$work/out" >/dev/null
done

# Replace the generated modules; keep everything hand-written.
mapfile -t old_modules < <(cd "$out_dir" && find . -type d -name _jsii -printf '%h\n' | sort)
mapfile -t new_modules < <(cd "$work/out" && find . -type d -name _jsii -printf '%h\n' | sort)
for module in "${old_modules[@]}"; do
  rm -rf "${out_dir:?}/${module#./}"
done
for module in "${new_modules[@]}"; do
  mkdir -p "$out_dir/$(dirname "$module")"
  cp -R "$work/out/${module#./}" "$out_dir/${module#./}"
  # Every folder between imports/ and the module must be a package.
  parent=$(dirname "${module#./}")
  while [[ "$parent" != "." ]]; do
    if [[ ! -f "$out_dir/$parent/__init__.py" ]]; then
      echo "import_crds: add $out_dir/$parent/__init__.py and list the new packages" \
        "in pyproject.toml [tool.setuptools] packages" >&2
    fi
    parent=$(dirname "$parent")
  done
  echo "import_crds: wrote $out_dir/${module#./}"
done
