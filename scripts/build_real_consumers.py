#!/usr/bin/env python3
"""Build the real consumers the tests run (kube-apiserver, etcd, kubectl, ...) from Go modules.

No container runtime is needed and no Kubernetes source lives in this repository: each
component is a small *wrapper Go module* whose ``go.mod``/``go.sum`` are committed under
``scripts/real_consumers/<component>/`` (pinned: every transitive version and checksum).
``go build -trimpath`` turns it into binaries with their release version stamped in.

Binaries land in the user's cache directory::

    ${XDG_CACHE_HOME:-~/.cache}/jupyter-constructs/real-consumers/<component>/<key>/bin/

next to a ``stamp.json`` holding what they were built from (the component's definition,
the wrapper module's hash, the hash of the build procedure's code and the Go version);
``<key>`` is a hash of those inputs but Go's, so checkouts with different inputs (two
branches sharing the cache) keep separate builds instead of rebuilding each other's. A
component is rebuilt only when one of those changes. A lock file serialises concurrent
builds (two test runs, two checkouts).

Usage::

    scripts/build_real_consumers.py                 # build every component that is stale
    scripts/build_real_consumers.py kubernetes      # only these components
    scripts/build_real_consumers.py --check         # exit 1 when something needs a build
    scripts/build_real_consumers.py --pin NAME      # regenerate NAME's go.mod/go.sum
    scripts/build_real_consumers.py --list          # components, binaries, state

Adding a component (prometheus-operator, Prometheus, ...): add a ``Component`` to
``COMPONENTS`` below, run ``--pin NAME`` (needs the Go module proxy), commit the generated
``scripts/real_consumers/NAME/``, then build. Tests locate binaries with ``binary_path()``.

Standard library only: it runs before the project's virtualenv exists.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import functools
import hashlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SCRIPT = Path(__file__).resolve()
PINS_DIR = SCRIPT.parent / "real_consumers"

#: Kubernetes release the API-server tests run against (kube-apiserver, kubectl, controllers).
KUBERNETES_VERSION = "v1.34.3"
#: etcd release of that Kubernetes version (its build/dependencies.yaml lists etcd 3.6.4).
ETCD_VERSION = "v3.6.4"
#: ArgoCD release the GitOps tests run (issue 20). v3.2.12 does not compile from its module,
#: and 3.3+ need a gitops-engine version the module proxy does not serve.
ARGOCD_VERSION = "v3.2.11"

#: prometheus-operator release the observability tests run (its CRDs come from its module).
PROMETHEUS_OPERATOR_VERSION = "v0.85.0"
#: The oldest prometheus-operator users still run (kube-prometheus-stack never upgrades CRDs):
#: v0.71 (its CRDs are the ``oldest/`` ones; v0.71.0 and v0.71.1 are not on the module proxy).
PROMETHEUS_OPERATOR_OLDEST_VERSION = "v0.71.2"
#: Prometheus 3.16.0: its Go module is tagged ``v0.316.0`` (``v0.3MM.P`` for ``3.MM.P``).
PROMETHEUS_MODULE_VERSION = "v0.316.0"
#: Prometheus 2.48.1 (module ``v0.48.1``): the default of prometheus-operator v0.71, which
#: refuses to configure Prometheus 3 ("unsupported Prometheus major version").
PROMETHEUS_OLDEST_MODULE_VERSION = "v0.48.1"

_K8S_MINOR = KUBERNETES_VERSION.split(".")[1]
_K8S_VERSION_PACKAGES = ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")


def _k8s_ldflags(version: str) -> tuple[str, ...]:
    major, minor = version.lstrip("v").split(".")[:2]
    flags: list[str] = []
    for package in _K8S_VERSION_PACKAGES:
        flags += [
            f"-X {package}.gitVersion={version}",
            f"-X {package}.gitMajor={major}",
            f"-X {package}.gitMinor={minor}",
            f"-X {package}.gitTreeState=clean",
            f"-X {package}.buildDate=1970-01-01T00:00:00Z",
        ]
    return tuple(flags)


@dataclass(frozen=True)
class Component:
    """One wrapper Go module and the binaries built from it.

    Attributes:
        name: Folder name under ``scripts/real_consumers/`` and in the cache.
        requires: ``(module, version)`` pairs the wrapper requires; the first is the component.
        binaries: Binary name -> Go package path of its ``main`` package.
        staging_replaces: For ``k8s.io/kubernetes``: replace every ``k8s.io/*`` module its
            go.mod lists at ``v0.0.0`` (its staging repositories) by ``v0.<minor>.<patch>``.
        copy_replaces: Copy the ``replace`` lines of the first required module's go.mod
            (ArgoCD, prometheus-operator v0.71, Prometheus 2); replaces by a local path
            (the module's own submodules) are skipped: the wrapper requires those at the
            same version.
        ldflags: Extra ``-ldflags`` (version stamps); ``-s -w`` are always added.
        disk_gb: Free space (GB) a cold build needs for module cache, build cache and binaries.
        symlinks: Extra names -> binary they point to (multi-call binaries such as ArgoCD).
        files: Files the tests need from the component's own module (CRDs, RBAC examples):
            name under ``share/`` in the cache -> path (file or folder) inside the first
            required module; copied from the module cache at build time, so the tests need
            neither Go nor the module cache, and nothing of the module enters this repo.
    """

    name: str
    requires: tuple[tuple[str, str], ...]
    binaries: dict[str, str]
    staging_replaces: bool = False
    copy_replaces: bool = False
    ldflags: tuple[str, ...] = ()
    disk_gb: float = 4.0
    symlinks: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


def _prometheus_ldflags(version: str) -> tuple[str, ...]:
    """The version stamp of Prometheus-family binaries (``github.com/prometheus/common``),
    as their Makefiles and ``.promu.yml`` set it (``--version`` then tells the release)."""
    package = "github.com/prometheus/common/version"
    return (
        f"-X {package}.Version={version.lstrip('v')}",
        f"-X {package}.Revision={version}",
        f"-X {package}.Branch=HEAD",
        f"-X {package}.BuildUser=build_real_consumers",
        f"-X {package}.BuildDate=19700101-00:00:00",
    )


def _prometheus_release(module_version: str) -> str:
    """The release of a Prometheus Go module tag: ``v0.316.0`` -> ``v3.16.0`` (3.x are
    tagged ``v0.3MM.P``), ``v0.48.1`` -> ``v2.48.1`` (2.x are tagged ``v0.MM.P``)."""
    minor, patch = (int(n) for n in module_version.lstrip("v").split(".")[1:3])
    return f"v3.{minor - 300}.{patch}" if minor >= 300 else f"v2.{minor}.{patch}"


def _operator_component(name: str, version: str, suffix: str = "") -> Component:
    """prometheus-operator ``version``: the operator and its config reloader. Its go.mod
    replaces its own ``pkg/apis/monitoring`` and ``pkg/client`` submodules by local paths;
    the wrapper requires them at the same version instead."""
    module = "github.com/prometheus-operator/prometheus-operator"
    return Component(
        name=name,
        requires=(
            (module, version),
            (f"{module}/pkg/apis/monitoring", version),
            (f"{module}/pkg/client", version),
        ),
        binaries={
            f"prometheus-operator{suffix}": f"{module}/cmd/operator",
            f"prometheus-config-reloader{suffix}": f"{module}/cmd/prometheus-config-reloader",
        },
        copy_replaces=True,
        ldflags=_prometheus_ldflags(version),
        disk_gb=3.0,
        files={
            # All of its CRDs: the operator watches every kind it manages and waits for them.
            "crds": "example/prometheus-operator-crd-full",
            # Its own ClusterRoles for the operator and for Prometheus.
            "rbac-operator": "example/rbac/prometheus-operator",
            "rbac-prometheus": "example/rbac/prometheus",
        },
    )


COMPONENTS: dict[str, Component] = {
    c.name: c
    for c in (
        Component(
            name="kubernetes",
            requires=(("k8s.io/kubernetes", KUBERNETES_VERSION),),
            binaries={
                "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
                "kubectl": "k8s.io/kubernetes/cmd/kubectl",
                "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
                "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
            },
            staging_replaces=True,
            ldflags=_k8s_ldflags(KUBERNETES_VERSION),
            disk_gb=6.0,
        ),
        Component(
            name="etcd",
            requires=(("go.etcd.io/etcd/server/v3", ETCD_VERSION),),
            binaries={"etcd": "go.etcd.io/etcd/server/v3"},
            disk_gb=1.5,
        ),
        Component(
            name="argocd",
            requires=(("github.com/argoproj/argo-cd/v3", ARGOCD_VERSION),),
            # One multi-call binary: it picks its role from the name it is started by.
            binaries={"argocd": "github.com/argoproj/argo-cd/v3/cmd"},
            copy_replaces=True,
            ldflags=(
                f"-X github.com/argoproj/argo-cd/v3/common.version={ARGOCD_VERSION.lstrip('v')}",
                f"-X github.com/argoproj/argo-cd/v3/common.gitTag={ARGOCD_VERSION}",
                "-X github.com/argoproj/argo-cd/v3/common.gitTreeState=clean",
                "-X github.com/argoproj/argo-cd/v3/common.buildDate=1970-01-01T00:00:00Z",
            ),
            disk_gb=8.0,
            symlinks={
                "argocd-application-controller": "argocd",
                "argocd-repo-server": "argocd",
            },
        ),
        _operator_component("prometheus-operator", PROMETHEUS_OPERATOR_VERSION),
        _operator_component(
            "prometheus-operator-oldest", PROMETHEUS_OPERATOR_OLDEST_VERSION, suffix="-oldest"
        ),
        Component(
            name="prometheus",
            requires=(("github.com/prometheus/prometheus", PROMETHEUS_MODULE_VERSION),),
            binaries={
                "prometheus": "github.com/prometheus/prometheus/cmd/prometheus",
                "promtool": "github.com/prometheus/prometheus/cmd/promtool",
            },
            ldflags=_prometheus_ldflags(_prometheus_release(PROMETHEUS_MODULE_VERSION)),
            disk_gb=4.0,
        ),
        Component(
            name="prometheus-v2",
            requires=(("github.com/prometheus/prometheus", PROMETHEUS_OLDEST_MODULE_VERSION),),
            binaries={
                "prometheus-v2": "github.com/prometheus/prometheus/cmd/prometheus",
                "promtool-v2": "github.com/prometheus/prometheus/cmd/promtool",
            },
            copy_replaces=True,
            ldflags=_prometheus_ldflags(_prometheus_release(PROMETHEUS_OLDEST_MODULE_VERSION)),
            disk_gb=4.0,
        ),
    )
}


class BuildError(Exception):
    """A build cannot run or failed; the message says what to do."""


# --------------------------------------------------------------------------- locations


def cache_root() -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/jupyter-constructs/real-consumers``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jupyter-constructs" / "real-consumers"


def component_dir(component: str) -> Path:
    """Folder of the build of ``component`` from the current inputs: ``<component>/<key>``,
    the key a hash of the wanted stamp without the Go version (a new Go toolchain rebuilds
    in place)."""
    inputs = wanted_stamp(COMPONENTS[component], go="any")
    inputs.pop("go")
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]
    return cache_root() / component / key


def bin_dir(component: str) -> Path:
    """Folder holding the binaries of ``component``."""
    return component_dir(component) / "bin"


def component_of(binary: str) -> Component:
    """The component that builds ``binary``.

    Raises:
        KeyError: No component builds it.
    """
    for component in COMPONENTS.values():
        if binary in component.binaries or binary in component.symlinks:
            return component
    raise KeyError(binary)


def share_dir(component: str) -> Path:
    """Folder holding the ``files`` of ``component`` (copied from its module)."""
    return component_dir(component) / "share"


def binary_path(binary: str) -> Path | None:
    """Path of an up-to-date ``binary``, or None when it is missing or stale."""
    component = component_of(binary)
    if not is_current(component):
        return None
    path = bin_dir(component.name) / binary
    return path if path.is_file() and os.access(path, os.X_OK) else None


def build_command(binaries: list[str] | None = None) -> str:
    """The one command that builds what ``binaries`` need (for skip messages)."""
    if not binaries:
        return "make real-consumers"
    names = sorted({component_of(b).name for b in binaries})
    return "make real-consumers COMPONENTS=" + quote_words(names)


def quote_words(words: list[str]) -> str:
    joined = " ".join(words)
    return f'"{joined}"' if len(words) > 1 else joined


# --------------------------------------------------------------------------- stamps


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise BuildError(
            "the Go toolchain (`go`) is not on PATH. Install Go >= 1.24 (https://go.dev/dl/ "
            "or your distribution's golang package) and run this again."
        )
    return go


@functools.cache
def go_version() -> str:
    """``go env GOVERSION`` (e.g. ``go1.26.8``)."""
    out = subprocess.run(
        [_go(), "env", "GOVERSION"], check=True, capture_output=True, text=True
    ).stdout
    return out.strip()


def _pin_files(component: Component) -> list[Path]:
    folder = PINS_DIR / component.name
    return [folder / "go.mod", folder / "go.sum"]


def _sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()


def _procedure_sha256() -> str:
    """Hash of the code that turns a component into binaries (not of the whole script: a
    component added to ``COMPONENTS`` leaves the others' binaries current, and checkouts
    sharing the cache with different registries do not rebuild each other's)."""
    digest = hashlib.sha256()
    for function in (build, _go_env, _run, _default_binary_name):
        digest.update(inspect.getsource(function).encode())
    return digest.hexdigest()


def wanted_stamp(component: Component, go: str | None = None) -> dict[str, object]:
    """What the binaries of ``component`` must have been built from."""
    return {
        "component": component.name,
        "requires": [f"{m}@{v}" for m, v in component.requires],
        "binaries": component.binaries,
        "ldflags": list(component.ldflags),
        "files": component.files,
        "pins_sha256": _sha256(_pin_files(component)),
        "procedure_sha256": _procedure_sha256(),
        "go": go or go_version(),
    }


def _stamp_path(component: Component) -> Path:
    return component_dir(component.name) / "stamp.json"


def is_current(component: Component) -> bool:
    """True when the cached binaries match the pins, this script and the Go toolchain."""
    try:
        have = json.loads(_stamp_path(component).read_text())
    except (OSError, ValueError):
        return False
    try:
        want = wanted_stamp(component)
    except (BuildError, subprocess.CalledProcessError):
        # No Go here: binaries built elsewhere with the same pins are still usable.
        want = wanted_stamp(component, go=str(have.get("go")))
    have.pop("built_at", None)
    have.pop("seconds", None)
    return (
        bool(have == want)
        and all((bin_dir(component.name) / b).is_file() for b in component.binaries)
        and all((share_dir(component.name) / f).exists() for f in component.files)
    )


# --------------------------------------------------------------------------- build


@contextlib.contextmanager
def build_lock() -> Iterator[None]:
    """An exclusive lock over every build of this user (builds share Go's caches and CPU)."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("build_real_consumers: another build is running; waiting for it", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _go_env(go: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GOTOOLCHAIN="local",  # never download another toolchain
        CGO_ENABLED="0",  # static binaries, no C compiler needed
        GOFLAGS="-mod=readonly -buildvcs=false",
        GOWORK="off",
    )
    return env


def _go_dirs(go: str) -> list[Path]:
    out = subprocess.run(
        [go, "env", "GOCACHE", "GOMODCACHE"], check=True, capture_output=True, text=True
    ).stdout.split()
    return [Path(p) for p in out]


def _check_disk(component: Component, go: str) -> None:
    for path in [cache_root(), *_go_dirs(go)]:
        probe = path
        while not probe.exists():
            probe = probe.parent
        free_gb = shutil.disk_usage(probe).free / 1e9
        if free_gb < component.disk_gb:
            raise BuildError(
                f"building {component.name} needs about {component.disk_gb:.1f} GB free in "
                f"{path} (Go module cache, build cache and binaries); only {free_gb:.1f} GB "
                "are free. Free some space (`go clean -cache` drops Go's build cache) or "
                "point GOCACHE / GOMODCACHE / XDG_CACHE_HOME at a larger disk."
            )


def _default_binary_name(package: str) -> str:
    """The file name ``go build -o DIR/`` gives a main package (skips a ``/vN`` suffix)."""
    parts = package.split("/")
    return parts[-2] if re.fullmatch(r"v[0-9]+", parts[-1]) and len(parts) > 1 else parts[-1]


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(
            f"`{' '.join(cmd)}` failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}"
        )
    return proc.stdout


def build(component: Component, force: bool = False) -> float | None:
    """Build ``component`` when stale; returns the seconds spent, None when it was current.

    Raises:
        BuildError: Go or disk space is missing, the pins are missing, or ``go build`` failed.
    """
    go = _go()
    if not force and is_current(component):
        return None
    with build_lock():
        if not force and is_current(component):  # built by whoever held the lock
            return None
        for pin in _pin_files(component):
            if not pin.exists():
                raise BuildError(
                    f"{pin.relative_to(SCRIPT.parent.parent)} is missing: run "
                    f"`scripts/build_real_consumers.py --pin {component.name}` and commit it."
                )
        _check_disk(component, go)
        start = time.monotonic()
        target = component_dir(component.name)
        target.mkdir(parents=True, exist_ok=True)
        env = _go_env(go)
        with tempfile.TemporaryDirectory(dir=target, prefix="work-") as tmp:
            work = Path(tmp)
            for pin in _pin_files(component):
                shutil.copy2(pin, work / pin.name)
            out = work / "bin"
            out.mkdir()
            ldflags = " ".join(("-s", "-w", *component.ldflags))
            print(
                f"build_real_consumers: building {component.name} "
                f"({', '.join(component.binaries)}) with {go_version()}",
                flush=True,
            )
            _run(["go", "mod", "download"], work, env)
            # One `go build` for all binaries: one action graph, packages compiled once.
            packages = list(component.binaries.values())
            _run(
                ["go", "build", "-trimpath", "-ldflags", ldflags, "-o", f"{out}/", *packages],
                work,
                env,
            )
            for name, package in component.binaries.items():
                default = _default_binary_name(package)
                if default != name:
                    (out / default).rename(out / name)
            for link, binary in component.symlinks.items():
                (out / link).symlink_to(binary)
            share = work / "share"
            if component.files:
                module, version = component.requires[0]
                info = json.loads(
                    _run(["go", "mod", "download", "-json", f"{module}@{version}"], work, env)
                )
                for name, inside in component.files.items():
                    source = Path(info["Dir"]) / inside
                    if source.is_dir():
                        shutil.copytree(source, share / name)
                    else:
                        share.mkdir(exist_ok=True)
                        shutil.copy2(source, share / name)
                    for path in [share / name, *(share / name).rglob("*")]:
                        path.chmod(0o755 if path.is_dir() else 0o644)  # module files are 0444
            _stamp_path(component).unlink(missing_ok=True)
            for built, final in ((out, target / "bin"), (share, target / "share")):
                old = final.with_name(final.name + ".old")
                shutil.rmtree(old, ignore_errors=True)
                if final.exists():
                    final.rename(old)
                if built.exists():
                    built.rename(final)
                shutil.rmtree(old, ignore_errors=True)
        seconds = time.monotonic() - start
        stamp = wanted_stamp(component, go=go_version())
        stamp.update(
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), seconds=round(seconds, 1)
        )
        _stamp_path(component).write_text(json.dumps(stamp, indent=2) + "\n")
        return seconds


# --------------------------------------------------------------------------- pinning


def _upstream_gomod(module: str, version: str, env: dict[str, str], cwd: Path) -> str:
    info = json.loads(_run(["go", "mod", "download", "-json", f"{module}@{version}"], cwd, env))
    return Path(info["GoMod"]).read_text()


def pin(component: Component) -> Path:
    """(Re)generate ``scripts/real_consumers/<name>/go.mod`` and ``go.sum`` via the module proxy.

    Raises:
        BuildError: Go is missing or a go command failed.
    """
    go = _go()
    env = _go_env(go)
    env["GOFLAGS"] = "-mod=mod -buildvcs=false"
    folder = PINS_DIR / component.name
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _run(
            ["go", "mod", "init", f"jupyter-constructs.invalid/real-consumers/{component.name}"],
            work,
            env,
        )
        module, version = component.requires[0]
        upstream = _upstream_gomod(module, version, env, work)
        edits: list[str] = []
        go_directive = re.search(r"^go (\S+)", upstream, re.M)
        if go_directive:
            edits.append(f"-go={go_directive.group(1)}")
        for mod, ver in component.requires:
            edits.append(f"-require={mod}@{ver}")
        if component.staging_replaces:
            staging_version = "v0." + version.lstrip("v").split(".", 1)[1]
            for mod in sorted(
                set(re.findall(r"^\s*(k8s\.io/[\w./-]+) v0\.0\.0\s*$", upstream, re.M))
            ):
                edits.append(f"-replace={mod}={mod}@{staging_version}")
        if component.copy_replaces:
            for old, new in re.findall(
                r"^\s*(?:replace\s+)?(\S+(?: \S+)?) => (\S+(?: \S+)?)\s*$", upstream, re.M
            ):
                if new.startswith(("./", "../")):
                    continue  # the module's own submodules: required at its version instead
                edits.append(f"-replace={old.replace(' ', '@')}={new.replace(' ', '@')}")
        for package in component.binaries.values():
            edits.append(f"-tool={package}")
        _run(["go", "mod", "edit", *edits], work, env)
        for line in re.findall(r"^godebug .*$", upstream, re.M):
            with (work / "go.mod").open("a") as handle:
                handle.write(line + "\n")
        _run(["go", "mod", "tidy"], work, env)
        folder.mkdir(parents=True, exist_ok=True)
        header = (
            f"// Generated by scripts/build_real_consumers.py --pin {component.name}; "
            "do not edit.\n"
        )
        (folder / "go.mod").write_text(header + (work / "go.mod").read_text())
        shutil.copy2(work / "go.sum", folder / "go.sum")
    return folder


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("components", nargs="*", help=f"default: all ({', '.join(COMPONENTS)})")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 when a component is stale")
    mode.add_argument("--pin", action="store_true", help="regenerate the wrapper go.mod/go.sum")
    mode.add_argument("--list", action="store_true", help="show components and their state")
    parser.add_argument("--force", action="store_true", help="rebuild even when current")
    args = parser.parse_args(argv)

    unknown = [c for c in args.components if c not in COMPONENTS]
    if unknown:
        parser.error(f"unknown component(s) {unknown}; known: {', '.join(COMPONENTS)}")
    selected = [COMPONENTS[c] for c in args.components or COMPONENTS]
    try:
        if args.list or args.check:
            stale = []
            for component in selected:
                current = is_current(component)
                if not current:
                    stale.append(component.name)
                if args.list:
                    state = "current" if current else "needs a build"
                    print(f"{component.name:12} {state:14} {bin_dir(component.name)}")
                    for binary in component.binaries:
                        print(f"{'':12} {binary}")
            if args.check and stale:
                print(f"stale: {' '.join(stale)}; build with: {build_command()}", file=sys.stderr)
            return 1 if args.check and stale else 0
        if args.pin:
            for component in selected:
                print(f"pinned {component.name}: {pin(component)}")
            return 0
        total_start = time.monotonic()
        built = False
        for component in selected:
            seconds = build(component, force=args.force)
            if seconds is None:
                print(
                    f"build_real_consumers: {component.name} is current ({bin_dir(component.name)})"
                )
            else:
                built = True
                print(f"build_real_consumers: built {component.name} in {seconds:.0f} s")
        if built:
            print(f"build_real_consumers: total {time.monotonic() - total_start:.0f} s")
        return 0
    except BuildError as error:
        print(f"build_real_consumers: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
