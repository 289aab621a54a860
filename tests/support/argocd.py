"""A real ArgoCD for the tests (issue 20): application controller, repo server and redis
against the test API server, a git repository on a ``file://`` URL, and bounded waits
that say what ArgoCD said.

ArgoCD v3.2.11 is built from its Go module by ``scripts/build_real_consumers.py argocd``
(one multi-call binary; the role comes from the name it is started by). It runs outside
a pod the way FACTS of this project record:

- ``ARGOCD_FAKE_IN_CLUSTER=true`` + ``KUBECONFIG``: the in-cluster destination
  ``https://kubernetes.default.svc`` is the test API server;
- ``argocd-cm`` and ``argocd-secret`` carry ``app.kubernetes.io/part-of: argocd`` (ArgoCD
  ignores them otherwise) and the Secret a ``server.secretkey``;
- the repo server runs with ``ARGOCD_GPG_ENABLED=false`` (no gpg keyring outside its image);
- redis is the distribution's ``redis-server``, without persistence.

Nothing of ArgoCD is reimplemented here: the tests only create ArgoCD's objects
(AppProject, Application), ask for a refresh with ArgoCD's own annotation, and read the
Application's status. The API server (no ArgoCD API server runs) is the only interface.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.kube.client import ApiError, KubeClient
from tests.support.kube.control_plane import LOOPBACK, Component, ControlPlane, free_port

Obj = dict[str, Any]

NAMESPACE = "argocd"
IN_CLUSTER = "https://kubernetes.default.svc"
APPS = f"/apis/argoproj.io/v1alpha1/namespaces/{NAMESPACE}/applications"
PROJECTS = f"/apis/argoproj.io/v1alpha1/namespaces/{NAMESPACE}/appprojects"
REFRESH = "argocd.argoproj.io/refresh"
PART_OF_ARGOCD = {"app.kubernetes.io/part-of": "argocd"}
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"


# ---------------------------------------------------------------------- outcomes


class NotSynced(AssertionError):
    """An Application did not reach the state a test waits for; the message is ArgoCD's
    own account of it (operation phase and message, conditions, unhealthy resources)."""

    def __init__(self, what: str, app: Obj | None, logs: str = "") -> None:
        self.app = app or {}
        self.operation_message = str(operation(self.app).get("message", ""))
        text = f"{what}\n{describe(self.app)}"
        if logs:
            text += f"\n{logs}"
        super().__init__(text)


class SyncFailed(NotSynced):
    """The sync operation failed (after ArgoCD's own retries had failed at least twice)."""


class WaveStuck(NotSynced):
    """The sync operation is still running, waiting for resources of a wave to be healthy."""


class OutOfSyncAfterSync(NotSynced):
    """The sync of a revision succeeded, yet ArgoCD keeps finding the Application OutOfSync
    with that same revision: the live objects differ from git in a way no sync can fix
    (a field the API server defaults or drops). With automated sync this never ends."""


# ---------------------------------------------------------------------- reading status


def operation(app: Obj) -> Obj:
    return (app.get("status") or {}).get("operationState") or {}


def sync_status(app: Obj) -> str:
    return str(((app.get("status") or {}).get("sync") or {}).get("status", "Unknown"))


def health_status(app: Obj) -> str:
    return str(((app.get("status") or {}).get("health") or {}).get("status", "Unknown"))


def synced_revision(app: Obj) -> str:
    return str(((app.get("status") or {}).get("sync") or {}).get("revision", ""))


def describe(app: Obj) -> str:
    """ArgoCD's view of an Application, as ``argocd app get`` would summarise it."""
    if not app:
        return "(no Application)"
    status = app.get("status") or {}
    lines = [
        f"Application {app['metadata']['name']}: sync={sync_status(app)} "
        f"health={health_status(app)} revision={synced_revision(app)[:12]}"
    ]
    op = operation(app)
    if op:
        lines.append(
            f"operation: {op.get('phase')} (retries {op.get('retryCount', 0)}): "
            f"{op.get('message', '')}"
        )
        for res in (op.get("syncResult") or {}).get("resources") or []:
            if res.get("status") not in (None, "Synced") or res.get("hookPhase") == "Failed":
                lines.append(
                    f"  sync result {res.get('kind')}/{res.get('name')}: {res.get('status')} "
                    f"{res.get('hookPhase', '')} {res.get('message', '')}".rstrip()
                )
    for condition in status.get("conditions") or []:
        lines.append(f"condition {condition.get('type')}: {condition.get('message')}")
    for res in status.get("resources") or []:
        health = (res.get("health") or {}).get("status")
        if res.get("hook"):
            continue
        if res.get("status") != "Synced" or health not in (None, "Healthy"):
            message = (res.get("health") or {}).get("message", "")
            lines.append(
                f"  {res.get('kind')}/{res.get('namespace', '')}/{res.get('name')}: "
                f"{res.get('status')} {health or ''} {message}".rstrip()
            )
    return "\n".join(lines)


# ---------------------------------------------------------------------- git


@dataclass
class GitRepo:
    """A git repository ArgoCD reads from a ``file://`` URL; commits can be added any time."""

    path: Path
    branch: str = "main"

    @classmethod
    def create(cls, path: Path, branch: str = "main") -> GitRepo:
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path, branch)
        repo.git("init", "-q", "-b", branch)
        repo.git("config", "user.name", "jupyter-constructs tests")
        repo.git("config", "user.email", "tests@jupyter-constructs.invalid")
        repo.git("config", "commit.gpgsign", "false")
        return repo

    @property
    def url(self) -> str:
        return f"file://{self.path}"

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.path), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    def commit(self, files: Mapping[str, str | None], message: str, *, replace: str = "") -> str:
        """Write ``files`` (relative path -> text; None deletes) and commit; returns the sha.

        ``replace``: a folder (``"."``: the whole repository) whose committed files are
        all replaced by ``files``.
        """
        if replace:
            for name in self.git("ls-files", replace).splitlines():
                (self.path / name).unlink(missing_ok=True)
        for relative, text in files.items():
            target = self.path / relative
            if text is None:
                target.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def files(self, under: str = "") -> dict[str, str]:
        """The committed text of every file (under a folder)."""
        names = self.git("ls-files", under or ".").splitlines()
        return {name: (self.path / name).read_text() for name in names}


# ---------------------------------------------------------------------- ArgoCD's objects


def documented_project(name: str, namespace: str, repo_url: str) -> Obj:
    """The AppProject the deployment guide asks for (section "ArgoCD"): "The project ...
    must allow the destination namespace and the cluster-scoped Namespace kind". The guide
    does not name the source repository; a project must list it (``sourceRepos``)."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "sourceRepos": [repo_url],
            "destinations": [{"server": IN_CLUSTER, "namespace": namespace}],
            "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
        },
    }


def dump_all(objects: list[Obj]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False)


# ---------------------------------------------------------------------- processes


def _redis_ready(port: int) -> bool:
    with socket.create_connection((LOOPBACK, port), timeout=2) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:
        return int(response.status) == 200


@dataclass
class ArgoCD:
    """A running ArgoCD (controller, repo server, redis) against ``plane``."""

    plane: ControlPlane
    workdir: Path
    resync_seconds: int
    admin: KubeClient
    components: list[Component] = field(default_factory=list)

    # ------------------------------------------------------------------ reports

    def logs(self, lines: int = 40, match: Callable[[str], bool] | None = None) -> str:
        """The tail of each ArgoCD process' log (only lines ``match`` accepts, if given)."""
        parts = []
        for component in self.components:
            text = component.log.read_text(errors="replace").splitlines()
            if match is not None:
                text = [line for line in text if match(line)]
            parts.append(f"--- {component.name} ---")
            parts += text[-lines:]
        return "\n".join(parts)

    def log_lines(self, name: str) -> list[str]:
        for component in self.components:
            if component.name == name:
                return component.log.read_text(errors="replace").splitlines()
        raise KeyError(name)

    # ------------------------------------------------------------------ objects

    def apply(self, obj: Obj) -> Obj:
        """Create or update an ArgoCD object (server-side apply, as ``kubectl apply``)."""
        stored, _ = self.admin.apply(obj, field_manager="test-operator")
        return stored

    def application(self, name: str) -> Obj | None:
        try:
            return self.admin.get(f"{APPS}/{name}")  # type: ignore[no-any-return]
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def refresh(self, name: str, hard: bool = False) -> None:
        """What a git webhook or the UI's Refresh does: ArgoCD's refresh annotation."""
        self.admin.patch(
            f"{APPS}/{name}",
            {"metadata": {"annotations": {REFRESH: "hard" if hard else "normal"}}},
        )

    def delete_application(self, name: str) -> None:
        """``kubectl delete application NAME``: ArgoCD's finalizers decide what follows."""
        with contextlib.suppress(ApiError):
            self.admin.delete(f"{APPS}/{name}")

    def forget(self, name: str) -> None:
        """Remove an Application without touching what it deployed (test clean-up)."""
        with contextlib.suppress(ApiError):
            self.admin.patch(f"{APPS}/{name}", {"metadata": {"finalizers": None}})
        with contextlib.suppress(ApiError):
            self.admin.delete(f"{APPS}/{name}")

    # ------------------------------------------------------------------ waits

    def wait(
        self,
        name: str,
        done: Callable[[Obj], bool],
        timeout: float,
        what: str,
        *,
        fail_fast: bool = True,
        stuck: Callable[[Obj, float], bool] | None = None,
    ) -> Obj:
        """Poll the Application until ``done(app)``; bounded by ``timeout`` seconds.

        Raises:
            SyncFailed: The operation failed and ArgoCD's retries failed twice more
                (``fail_fast``), or it had failed at the deadline.
            WaveStuck: ``stuck(app, seconds_waited)`` said so, or the operation was still
                waiting for a wave's health at the deadline.
            NotSynced: Anything else at the deadline.
        """
        start = time.monotonic()
        app: Obj | None = None
        while True:
            app = self.application(name)
            waited = time.monotonic() - start
            if app is not None and done(app):
                return app
            op = operation(app or {})
            failed = op.get("phase") in ("Failed", "Error") or (
                op.get("phase") == "Running" and int(op.get("retryCount", 0)) >= 2
            )
            if app is not None and fail_fast and failed:
                raise SyncFailed(f"{what}: the sync failed after {waited:.0f} s", app)
            if app is not None and stuck is not None and stuck(app, waited):
                raise WaveStuck(f"{what}: stuck after {waited:.0f} s", app)
            if waited > timeout:
                break
            time.sleep(1)
        op = operation(app or {})
        message = str(op.get("message", ""))
        if op.get("phase") in ("Failed", "Error") or "Retrying attempt" in message:
            raise SyncFailed(f"{what}: failed within {timeout:.0f} s", app)
        if op.get("phase") == "Running" and "waiting for healthy state" in message:
            raise WaveStuck(f"{what}: not done within {timeout:.0f} s", app)
        raise NotSynced(f"{what}: not done within {timeout:.0f} s", app)

    def wait_synced_healthy(
        self,
        name: str,
        timeout: float,
        revision: str | None = None,
        stuck: Callable[[Obj, float], bool] | None = None,
    ) -> Obj:
        """Until the Application is Synced with ``revision`` (default: any) and Healthy, and
        its last sync operation succeeded (a commit that changes no manifest needs none)."""

        def done(app: Obj) -> bool:
            return (
                sync_status(app) == "Synced"
                and health_status(app) == "Healthy"
                and operation(app).get("phase") == "Succeeded"
                and (revision is None or synced_revision(app) == revision)
            )

        what = f"Application {name} Synced and Healthy" + (
            f" at {revision[:12]}" if revision else ""
        )
        drifting_since: list[float] = []

        def stuck_or_drifting(app: Obj, waited: float) -> bool:
            op = operation(app)
            synced = (op.get("syncResult") or {}).get("revision")
            if (
                op.get("phase") == "Succeeded"
                and sync_status(app) == "OutOfSync"
                and synced == synced_revision(app)
                and (revision is None or synced == revision)
            ):
                drifting_since[:1] = drifting_since[:1] or [time.monotonic()]
                if time.monotonic() - drifting_since[0] > 3 * self.resync_seconds:
                    raise OutOfSyncAfterSync(
                        f"{what}: still OutOfSync {3 * self.resync_seconds} s after its "
                        "successful sync, at the same revision",
                        app,
                    )
            else:
                drifting_since.clear()
            return stuck is not None and stuck(app, waited)

        return self.wait(name, done, timeout, what, stuck=stuck_or_drifting)

    def wait_operation_done(self, name: str, revision: str, timeout: float) -> Obj:
        """Until a sync of ``revision`` finished (Succeeded, or Failed after its retries);
        returns the Application either way."""

        def done(app: Obj) -> bool:
            op = operation(app)
            return (op.get("syncResult") or {}).get("revision") == revision and op.get("phase") in (
                "Succeeded",
                "Failed",
                "Error",
            )

        return self.wait(name, done, timeout, f"a sync of {revision[:12]}", fail_fast=False)


def _write_settings(admin: KubeClient) -> None:
    if not admin.exists(f"/api/v1/namespaces/{NAMESPACE}"):
        admin.post("/api/v1/namespaces", {"metadata": {"name": NAMESPACE}})
    admin.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "argocd-cm", "namespace": NAMESPACE, "labels": PART_OF_ARGOCD},
            "data": {},
        },
        field_manager="test-installer",
    )
    admin.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "argocd-secret",
                "namespace": NAMESPACE,
                "labels": PART_OF_ARGOCD,
            },
            "data": {"server.secretkey": base64.b64encode(secrets.token_bytes(32)).decode()},
        },
        field_manager="test-installer",
    )


@contextlib.contextmanager
def start_argocd(
    plane: ControlPlane,
    binaries: dict[str, Path],
    redis_server: str,
    *,
    resync_seconds: int = 10,
) -> Iterator[ArgoCD]:
    """redis, repo server and application controller; stopped (and their folder removed)
    on exit. ArgoCD's CRDs must be installed.

    Args:
        plane: The API server ArgoCD manages (its "in-cluster" destination).
        binaries: ``argocd-application-controller`` and ``argocd-repo-server`` (links to
            the one multi-call binary).
        redis_server: Path of ``redis-server``.
        resync_seconds: The controller's ``--app-resync`` (ArgoCD's default is 180 s):
            how often every Application is compared with git and the cluster.
    """
    workdir = Path(tempfile.mkdtemp(prefix="jc-argocd-"))
    admin = plane.admin()
    argocd = ArgoCD(plane, workdir, resync_seconds, admin)
    try:
        _write_settings(admin)
        kubeconfig = admin.kubeconfig(workdir / "kubeconfig", namespace=NAMESPACE)
        home = workdir / "home"
        (home / "tmp").mkdir(parents=True)
        env = {
            "ARGOCD_FAKE_IN_CLUSTER": "true",
            "KUBECONFIG": str(kubeconfig),
            "HOME": str(home),
            "TMPDIR": str(home / "tmp"),
            "ARGOCD_GPG_ENABLED": "false",
            # Never a proxy for the API server, git or redis on loopback.
            "NO_PROXY": "*",
            "no_proxy": "*",
        }
        redis_port, repo_port, repo_metrics, controller_metrics = (
            free_port(),
            free_port(),
            free_port(),
            free_port(),
        )
        redis = f"{LOOPBACK}:{redis_port}"

        def start(component: Component) -> None:
            argocd.components.append(component)
            try:
                component.start()
            except Exception as error:
                raise RuntimeError(
                    f"{component.name} did not become ready: {error}\n{argocd.logs(60)}"
                ) from error

        start(
            Component(
                "redis",
                [
                    redis_server,
                    "--bind",
                    LOOPBACK,
                    "--port",
                    str(redis_port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(workdir),
                ],
                workdir / "redis.log",
                lambda: _redis_ready(redis_port),
            )
        )
        start(
            Component(
                "argocd-repo-server",
                [
                    str(binaries["argocd-repo-server"]),
                    f"--address={LOOPBACK}",
                    f"--port={repo_port}",
                    f"--metrics-address={LOOPBACK}",
                    f"--metrics-port={repo_metrics}",
                    "--disable-tls",
                    f"--redis={redis}",
                    "--logformat=text",
                ],
                workdir / "repo-server.log",
                lambda: _http_ok(f"http://{LOOPBACK}:{repo_metrics}/healthz"),
                env=env,
                cwd=home,
            )
        )
        start(
            Component(
                "argocd-application-controller",
                [
                    str(binaries["argocd-application-controller"]),
                    f"--repo-server={LOOPBACK}:{repo_port}",
                    "--repo-server-plaintext",
                    f"--redis={redis}",
                    f"--metrics-port={controller_metrics}",
                    f"--app-resync={resync_seconds}",
                    "--app-resync-jitter=0",
                    "--logformat=text",
                ],
                workdir / "application-controller.log",
                lambda: _http_ok(f"http://{LOOPBACK}:{controller_metrics}/metrics"),
                env=env,
                cwd=home,
                timeout=90,
            )
        )
        yield argocd
    finally:
        for component in reversed(argocd.components):
            component.close()
        shutil.rmtree(workdir, ignore_errors=True)


def copy_with(obj: Obj, **changes: Any) -> Obj:
    """A deep copy of ``obj`` with top-level keys replaced."""
    result = copy.deepcopy(obj)
    result.update(changes)
    return result


# ---------------------------------------------------------------------- the product's output


def is_application(obj: Obj) -> bool:
    return bool(
        obj.get("kind") == "Application"
        and str(obj.get("apiVersion", "")).startswith("argoproj.io/")
    )


def load_output(output: Path) -> dict[str, list[Obj]]:
    """Every YAML file under a rendered output folder: relative path -> its objects."""
    return {
        str(path.relative_to(output)): [d for d in yaml.safe_load_all(path.read_text()) if d]
        for path in sorted(output.rglob("*.yaml"))
    }


def _sources(app: Obj) -> list[Obj]:
    spec = app["spec"]
    return [spec["source"]] if "source" in spec else list(spec.get("sources") or [])


def _repo_prefix(output: Path, apps: list[Obj]) -> str:
    """Where ``output`` sits in the repository so that the Applications' ``source.path``
    exists: ``dist/`` for ``dist/prod`` when the output is the checkout's ``dist/``."""
    for app in apps:
        for source in _sources(app):
            parts = Path(source.get("path", ".")).parts
            for i in range(len(parts)):
                if (output / Path(*parts[i:])).is_dir():
                    return str(Path(*parts[:i])) if i else ""
    raise ValueError(f"no Application in {output} has a source.path inside it")


@dataclass
class Deployment:
    """One rendered output (``dist/`` or an example's) deployed through ArgoCD from a git
    repository of its own, moved into namespaces of its own.

    Only names change on the way, never content: every namespace ``N`` becomes
    ``N-<suffix>``; each Application's name and project get the suffix, its
    ``repoURL`` becomes the test repository (ArgoCD cannot reach the real one here).
    """

    argocd: ArgoCD
    repo: GitRepo
    suffix: str
    prefix: str
    applications: list[Obj] = field(default_factory=list)
    renames: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The Application's name (outputs with one Application)."""
        if len(self.applications) != 1:
            raise ValueError(f"{len(self.applications)} Applications: use .applications")
        return str(self.applications[0]["metadata"]["name"])

    @property
    def namespace(self) -> str:
        """The destination namespace of the (only) Application."""
        return str(self.applications[0]["spec"]["destination"]["namespace"])

    def rename(self, objects: list[Obj]) -> list[Obj]:
        """``objects`` moved into this deployment's namespaces (Applications retargeted)."""
        moved = []
        for obj in objects:
            obj = copy.deepcopy(obj)
            meta = obj["metadata"]
            if is_application(obj):
                meta["name"] = f"{meta['name']}-{self.suffix}"
                spec = obj["spec"]
                spec["project"] = f"{spec.get('project', 'default')}-{self.suffix}"
                destination = spec["destination"]
                destination["namespace"] = self.renames.get(
                    destination.get("namespace", ""), destination.get("namespace")
                )
                for source in _sources(obj):
                    source["repoURL"] = self.repo.url
            elif obj["kind"] == "Namespace" and meta["name"] in self.renames:
                meta["name"] = self.renames[meta["name"]]
                labels = meta.get("labels") or {}
                if "kubernetes.io/metadata.name" in labels:
                    labels["kubernetes.io/metadata.name"] = meta["name"]
            elif meta.get("namespace") in self.renames:
                meta["namespace"] = self.renames[meta["namespace"]]
            moved.append(obj)
        return moved

    def files_of(self, output: Path) -> dict[str, str]:
        """The repository files for ``output`` (renamed)."""
        files = {}
        for relative, objects in load_output(output).items():
            files[str(Path(self.prefix) / relative)] = dump_all(self.rename(objects))
        return files

    def publish(self, output: Path, message: str) -> str:
        """Commit ``output`` as the repository's whole content under the prefix."""
        files = self.files_of(output)
        self.applications = [
            o
            for relative, text in files.items()
            for o in yaml.safe_load_all(text)
            if o and is_application(o)
        ]
        return self.repo.commit(files, message, replace=self.prefix or ".")

    def objects(self, path_in_repo: str | None = None) -> list[Obj]:
        """The committed objects (under ``path_in_repo``, default the Application's path)."""
        if path_in_repo is None:
            path_in_repo = _sources(self.applications[0])[0]["path"]
        return [
            o
            for text in self.repo.files(path_in_repo).values()
            for o in yaml.safe_load_all(text)
            if o
        ]

    def projects(self) -> list[Obj]:
        """The documented AppProject of every project the Applications name."""
        by_project: dict[str, list[str]] = {}
        for app in self.applications:
            by_project.setdefault(app["spec"]["project"], []).append(
                app["spec"]["destination"]["namespace"]
            )
        projects = []
        for name, namespaces in by_project.items():
            project = documented_project(name, namespaces[0], self.repo.url)
            project["spec"]["destinations"] = [
                {"server": IN_CLUSTER, "namespace": ns} for ns in sorted(set(namespaces))
            ]
            projects.append(project)
        return projects

    def apply_applications(self) -> None:
        """What the guide says once: apply the Applications (projects first)."""
        for project in self.projects():
            self.argocd.apply(project)
        for app in self.applications:
            self.argocd.apply(app)

    def cleanup(self) -> None:
        """Forget the Applications (nothing they deployed is touched) and their projects,
        then delete the namespaces without waiting."""
        for app in self.applications:
            self.argocd.forget(app["metadata"]["name"])
        for project in self.projects():
            with contextlib.suppress(ApiError):
                self.argocd.admin.delete(f"{PROJECTS}/{project['metadata']['name']}")
        for namespace in self.renames.values():
            with contextlib.suppress(ApiError):
                self.argocd.admin.delete(f"/api/v1/namespaces/{namespace}")


def new_deployment(argocd: ArgoCD, output: Path, workdir: Path, suffix: str) -> Deployment:
    """A repository holding ``output`` (renamed), its first commit made; nothing applied."""
    outputs = load_output(output)
    objects = [o for objs in outputs.values() for o in objs]
    apps = [o for o in objects if is_application(o)]
    if not apps:
        raise ValueError(f"{output} renders no ArgoCD Application")
    namespaces = set()
    for obj in objects:
        if is_application(obj):
            namespaces.add(obj["spec"]["destination"].get("namespace", ""))
        elif obj["kind"] == "Namespace":
            namespaces.add(obj["metadata"]["name"])
        elif obj["metadata"].get("namespace") and obj["metadata"]["namespace"] != NAMESPACE:
            namespaces.add(obj["metadata"]["namespace"])
    namespaces.discard("")
    repo = GitRepo.create(workdir / "repo")
    deployment = Deployment(
        argocd,
        repo,
        suffix,
        _repo_prefix(output, apps),
        renames={ns: f"{ns}-{suffix}" for ns in sorted(namespaces)},
    )
    deployment.publish(output, "the rendered output")
    return deployment
