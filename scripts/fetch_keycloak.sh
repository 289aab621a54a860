#!/usr/bin/env bash
# Fetch Keycloak, the real OpenID Connect provider of the sign-in integration tests
# (tests/addons/test_oidc_keycloak.py), from Maven Central into the user's cache, once.
#
#   scripts/fetch_keycloak.sh          # or: make keycloak
#
# Result: $XDG_CACHE_HOME/jupyter-constructs/real-consumers/keycloak/<version>/ (default
# XDG_CACHE_HOME=~/.cache), an unpacked distribution already built (`kc.sh build`) for the
# tests' options, so each test session starts it with `start --optimized` and skips
# Quarkus' ~25 s re-augmentation. The `.stamp` file (version and build options) is written
# last; tests/support/keycloak.py accepts only the stamp it expects. A lock serialises
# concurrent runs; a run that finds the stamp does nothing. Maven checks the artifact's
# published checksum (--strict-checksums) and this script its SHA-256 below, so a changed
# upload fails loudly instead of being cached. Keycloak 26 needs a JDK 21 or newer:
# JAVA_HOME, else the newest one installed in the standard JVM folder.
set -euo pipefail

VERSION=26.5.6
SHA256=490189d9dff05272432d51f71a069462eeca97f2920a694d539a1e6c26a5a347
ARTIFACT="org.keycloak:keycloak-quarkus-dist:${VERSION}:zip"
# Build-time options; tests/support/keycloak.py (BUILD_OPTIONS) must say the same.
BUILD_OPTIONS="--db=dev-mem --health-enabled=false --metrics-enabled=false"
STAMP="$VERSION $BUILD_OPTIONS"

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/jupyter-constructs/real-consumers/keycloak"
dest="$cache_root/$VERSION"
mkdir -p "$cache_root"

exec 9>"$cache_root/.lock"
if ! flock -w 900 9; then
  echo "fetch_keycloak: another fetch holds $cache_root/.lock for over 15 minutes" >&2
  exit 1
fi

if [[ -f "$dest/.stamp" && "$(cat "$dest/.stamp")" == "$STAMP" ]]; then
  echo "fetch_keycloak: Keycloak $VERSION already in $dest"
  exit 0
fi

java_major() {  # the major version of the JDK in $1, or 0
  sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null | head -n1 | grep . || echo 0
}
java_home=""
for candidate in ${JAVA_HOME:+"$JAVA_HOME"} /usr/lib/jvm/*/; do
  candidate="${candidate%/}"
  if [[ -x "$candidate/bin/java" && "$(java_major "$candidate")" -ge 21 ]]; then
    java_home="$candidate"
    break
  fi
done
if [[ -z "$java_home" ]]; then
  echo "fetch_keycloak: Keycloak $VERSION needs a JDK 21 or newer; set JAVA_HOME" >&2
  exit 1
fi

for tool in mvn unzip sha256sum; do
  command -v "$tool" >/dev/null || { echo "fetch_keycloak: '$tool' is required" >&2; exit 1; }
done

work="$(mktemp -d "$cache_root/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
# The Maven repository lives in the scratch folder: the 165 MB zip is not kept twice.
mvn --batch-mode --quiet --strict-checksums -Dstyle.color=never \
  -Dmaven.repo.local="$work/m2" \
  dependency:copy -Dartifact="$ARTIFACT" -DoutputDirectory="$work" -Dmdep.overWriteReleases=true
zip="$work/keycloak-quarkus-dist-${VERSION}.zip"
actual="$(sha256sum "$zip" | cut -d' ' -f1)"
if [[ "$actual" != "$SHA256" ]]; then
  echo "fetch_keycloak: SHA-256 of $ARTIFACT is $actual, expected $SHA256" >&2
  exit 1
fi
unzip -q "$zip" -d "$work/unpacked"
fetched=$(date +%s)
# shellcheck disable=SC2086 # BUILD_OPTIONS is a list of options
JAVA_HOME="$java_home" "$work/unpacked/keycloak-${VERSION}/bin/kc.sh" build $BUILD_OPTIONS \
  >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
rm -rf "$dest"
mv "$work/unpacked/keycloak-${VERSION}" "$dest"
echo "$STAMP" >"$dest/.stamp"
echo "fetch_keycloak: Keycloak $VERSION in $dest (download $(( fetched - start )) s," \
  "build $(( $(date +%s) - fetched )) s)"
