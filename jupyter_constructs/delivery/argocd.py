"""The ArgoCD Application that deploys a synthesized folder of ``dist/`` from git.

The Application (``argoproj.io/v1alpha1``) belongs in its own output
folder (``dist/argocd/``, see ``synth.py``), never in the folder it deploys: an
Application that deploys itself fights its parent for ownership.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TypedDict

from constructs import Construct

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.objects import adopt
from jupyter_constructs.core.rules import check_bool, check_dns_label, check_dns_subdomain
from jupyter_constructs.crds.argoproj import Application

if TYPE_CHECKING:
    from jupyter_constructs.crds.argoproj.application import ApplicationSpecSyncPolicy

RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io/foreground"
"""Finalizer that makes deleting the Application delete what it deployed (cascade),
except objects with the sync option ``Delete=false``. The domain-qualified spelling
(ArgoCD 2.4+) draws no API server warning, unlike the bare
``resources-finalizer.argocd.argoproj.io``."""

# https://host/path, ssh://[user@]host[:port]/path, or scp-like user@host:path.
_HTTPS_REPO = re.compile(r"\Ahttps://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%/+-]*)?\Z")
_SSH_REPO = re.compile(r"\Assh://([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+(:[0-9]+)?/[A-Za-z0-9._~/+-]+\Z")
_SCP_REPO = re.compile(r"\A[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~/+-]+\Z")
_PATH_SEGMENT = re.compile(r"\A[A-Za-z0-9_][A-Za-z0-9._-]*\Z")
_REVISION = re.compile(r"\A[A-Za-z0-9_][A-Za-z0-9._/+-]{0,254}\Z")
_DURATION = re.compile(r"\A(?:[0-9]+[hms])+\Z")
_DURATION_PART = re.compile(r"([0-9]+)([hms])")
_SERVER = re.compile(r"\Ahttps://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%/-]*)?\Z")


class ApplicationOptions(TypedDict, total=False):
    """The optional settings of ``ArgoCdApplication`` (``Environment.add_application``).

    Each key is the ``ArgoCdApplication`` parameter of the same name; see its docstring
    for meanings and defaults.
    """

    target_revision: str
    project: str
    argocd_namespace: str
    sync_wave: int
    automated: bool
    prune: bool
    self_heal: bool
    retry_limit: int
    backoff_duration: str
    backoff_factor: int
    backoff_max_duration: str
    create_namespace: bool
    server_side_apply: bool


def _seconds(duration: str) -> int:
    scale = {"h": 3600, "m": 60, "s": 1}
    return sum(int(n) * scale[unit] for n, unit in _DURATION_PART.findall(duration))


class ArgoCdApplication(Construct):
    """An ArgoCD Application that syncs one folder of synthesized manifests from git.

    The source is a plain directory (``directory.recurse: true``) at ``path`` in
    ``repo_url`` at ``target_revision``: exactly what ``synthesize`` writes, no Helm, no
    Kustomize. Everything below is on by default and each can be turned off:

    - ``automated=True``: ArgoCD syncs every new commit without a click, with
      ``prune=True`` (objects removed from git are deleted) and ``self_heal=True``
      (manual edits in the cluster are reverted). With ``automated=False`` the other two
      are ignored and every sync is manual.
    - Retry: ``retry_limit=5`` attempts, waiting ``backoff_duration="10s"`` times
      ``backoff_factor=2`` per attempt, at most ``backoff_max_duration="3m"``.
    - Sync options: ``ServerSideApply=true`` (``server_side_apply=True``: the Grafana
      dashboard and hub config ConfigMaps can exceed the 256 KiB
      ``last-applied-configuration`` annotation that client-side apply writes, and
      server-side apply tracks field owners so controllers' fields are not fought over),
      ``PruneLast=true`` (deletions happen after the new objects are healthy),
      ``ApplyOutOfSyncOnly=true`` (large apps sync only what changed), and
      ``CreateNamespace=true`` only when ``create_namespace=True`` (default False: our
      charts render the Namespace themselves, with its Pod Security labels, in wave -3).
    - Annotation ``argocd.argoproj.io/sync-wave: "-2"`` (``sync_wave``): ordering among
      sibling Applications of an app-of-apps parent.
    - No resources finalizer (``cascade_delete=False``): deleting the Application, on
      purpose or by an app-of-apps refactor that renames or moves it, leaves everything
      it deployed running, and the next Application that syncs the same folder adopts
      it without an outage. With ``cascade_delete=True`` the finalizer
      ``resources-finalizer.argocd.argoproj.io/foreground`` makes the deletion delete
      the workloads too.

    Data safety, whatever the options: the objects that hold user data (the namespace,
    with the home PVCs KubeSpawner creates in it, the hub database PVC, the shared data
    PVC) carry the sync options ``Delete=false,Prune=false`` (``core.sync_waves``), so
    neither a cascading deletion nor ``prune=True`` removes them. Supported: ArgoCD 2.14
    or later (``Delete=false`` needs 2.7, ``argocd.argoproj.io/ignore-healthcheck``
    2.14). The name may not be the destination namespace: ArgoCD's label tracking (its
    default before 3.0) would take the user pods, which carry
    ``app.kubernetes.io/instance: <namespace>`` and are not in git, for the
    Application's own and prune them
    (https://argo-cd.readthedocs.io/en/stable/user-guide/resource_tracking/).

    Args:
        scope: The ``argocd`` chart (never the folder it deploys).
        id: Construct id.
        name: The Application's name (a DNS label, not ``destination_namespace``).
        repo_url: The repository: https://, ssh:// or ``git@host:path``.
        path: The folder in the repository, e.g. ``"dist/prod"``.
        destination_namespace: The namespace it deploys into.
        target_revision: The git ref followed. Default: ``"main"``.
        project: The ArgoCD project. Default: ``"default"``.
        destination_server: The cluster's API server. Default:
            ``"https://kubernetes.default.svc"``, the cluster ArgoCD runs in.
        argocd_namespace: Where the Application object lives. Default: ``"argocd"``.
        sync_wave: Its wave in the parent Application. Default: -2.
        automated: Sync every commit. Default: True.
        prune: Delete what left git (with ``automated``). Default: True.
        self_heal: Revert edits made in the cluster (with ``automated``). Default: True.
        retry_limit: Sync attempts. Default: 5.
        backoff_duration: First wait between attempts. Default: ``"10s"``.
        backoff_factor: Multiplier of the wait. Default: 2.
        backoff_max_duration: Longest wait. Default: ``"3m"``.
        create_namespace: ``CreateNamespace=true``. Default: False: the operator
            creates the namespace before the first sync (from its file in the synthesized
            folder, with its Pod Security labels), because the credential Secrets the hub
            reads must be created in it before the hub starts.
        server_side_apply: ``ServerSideApply=true``. Default: True.
        cascade_delete: Add the resources finalizer (see above). Default: False.

    Raises:
        ConfigurationError: A value is invalid.

    Example::

        ArgoCdApplication(chart, "jupyterhub", name="jupyterhub",
                          repo_url="https://github.com/example/platform.git",
                          path="dist/prod", destination_namespace="jupyter")

    Reference: https://argo-cd.readthedocs.io/en/stable/user-guide/auto_sync/ and
    https://argo-cd.readthedocs.io/en/stable/user-guide/sync-options/
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        repo_url: str,
        path: str,
        destination_namespace: str,
        target_revision: str = "main",
        project: str = "default",
        destination_server: str = "https://kubernetes.default.svc",
        argocd_namespace: str = "argocd",
        sync_wave: int = -2,
        automated: bool = True,
        prune: bool = True,
        self_heal: bool = True,
        retry_limit: int = 5,
        backoff_duration: str = "10s",
        backoff_factor: int = 2,
        backoff_max_duration: str = "3m",
        create_namespace: bool = False,
        server_side_apply: bool = True,
        cascade_delete: bool = False,
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        check_dns_label(self, "Application name", name)
        check_dns_subdomain(self, "project", project)
        check_dns_label(self, "destination namespace", destination_namespace)
        if name == destination_namespace:
            # Label tracking (ArgoCD's default before 3.0) takes every object whose
            # app.kubernetes.io/instance equals the Application's name for its own. The hub
            # gives that label the namespace's name, and KubeSpawner puts it on every user
            # pod, which git never lists: a sync with prune would delete running servers.
            raise invalid(
                self,
                "Application name",
                name,
                allowed="a name other than the destination namespace "
                f"({destination_namespace!r}): with ArgoCD's label tracking (the default "
                "before ArgoCD 3.0) an Application owns every object labelled "
                "app.kubernetes.io/instance=<its name>, and the hub labels its user pods, "
                "which are not in git, with the namespace's name, so prune would delete them",
                fix=f"name it differently, e.g. 'jupyterhub-{destination_namespace}'",
            )
        check_dns_label(self, "ArgoCD namespace", argocd_namespace)
        self._check_repo_url(repo_url)
        self._check_path(path)
        self._check_revision(target_revision)
        self._check_server(destination_server)
        for what, flag in (
            ("automated", automated),
            ("prune", prune),
            ("self_heal", self_heal),
            ("create_namespace", create_namespace),
            ("server_side_apply", server_side_apply),
            ("cascade_delete", cascade_delete),
        ):
            check_bool(self, what, flag)
        self._check_int("sync_wave", sync_wave, minimum=None)
        self._check_int("retry_limit", retry_limit, minimum=0)
        self._check_int("backoff_factor", backoff_factor, minimum=1)
        for what, value in (
            ("backoff_duration", backoff_duration),
            ("backoff_max_duration", backoff_max_duration),
        ):
            self._check_duration(what, value)
        if _seconds(backoff_max_duration) < _seconds(backoff_duration):
            raise invalid(
                self,
                "backoff_max_duration",
                backoff_max_duration,
                allowed=f"a duration at least as long as backoff_duration ({backoff_duration!r})",
                fix="raise backoff_max_duration or lower backoff_duration",
            )

        self.name = name
        self.path = path
        self.repo_url = repo_url
        self.target_revision = target_revision

        sync_options = []
        if server_side_apply:
            sync_options.append("ServerSideApply=true")
        sync_options += ["PruneLast=true", "ApplyOutOfSyncOnly=true"]
        if create_namespace:
            sync_options.append("CreateNamespace=true")

        sync_policy: ApplicationSpecSyncPolicy = {
            "retry": {
                "limit": retry_limit,
                "backoff": {
                    "duration": backoff_duration,
                    "factor": backoff_factor,
                    "maxDuration": backoff_max_duration,
                },
            },
            "syncOptions": sync_options,
        }
        if automated:
            sync_policy["automated"] = {"prune": prune, "selfHeal": self_heal}
        self.application = Application(
            self,
            "Resource",
            name=name,
            namespace=argocd_namespace,
            finalizers=[RESOURCES_FINALIZER] if cascade_delete else None,
            wave=sync_wave,
            spec={
                "project": project,
                "source": {
                    "repoURL": repo_url,
                    "path": path,
                    "targetRevision": target_revision,
                    "directory": {"recurse": True},
                },
                "destination": {
                    "server": destination_server,
                    "namespace": destination_namespace,
                },
                "syncPolicy": sync_policy,
            },
        )

    def _check_repo_url(self, value: str) -> None:
        if not isinstance(value, str) or not (
            _HTTPS_REPO.match(value) or _SSH_REPO.match(value) or _SCP_REPO.match(value)
        ):
            raise invalid(
                self,
                "repo_url",
                value,
                allowed="an https:// URL ('https://github.com/org/repo.git'), an ssh:// URL, "
                "or the scp-like SSH form ('git@github.com:org/repo.git')",
                fix="copy the clone URL of the repository that holds dist/",
            )

    def _check_path(self, value: str) -> None:
        segments = value.split("/") if isinstance(value, str) else []
        if not segments or not all(_PATH_SEGMENT.match(s) for s in segments):
            raise invalid(
                self,
                "path",
                value,
                allowed="a relative path inside the repository such as 'dist/prod': "
                "segments of letters, digits, '.', '_' and '-', no leading '/', "
                "no '.' or '..' segment, no trailing '/'",
                fix="give the synthesized folder relative to the repository root",
            )

    def _check_revision(self, value: str) -> None:
        if not isinstance(value, str) or not _REVISION.match(value) or ".." in value:
            raise invalid(
                self,
                "target_revision",
                value,
                allowed="a branch, tag or commit such as 'main', 'v1.2.0' or 'HEAD'",
                fix="name the git ref ArgoCD should follow",
            )

    def _check_server(self, value: str) -> None:
        if not isinstance(value, str) or not _SERVER.match(value):
            raise invalid(
                self,
                "destination_server",
                value,
                allowed="the https:// API server URL of a cluster registered in ArgoCD "
                "('https://kubernetes.default.svc' is the cluster ArgoCD runs in)",
                fix="copy the server URL from 'argocd cluster list'",
            )

    def _check_int(self, what: str, value: int, *, minimum: int | None) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or (minimum is not None and value < minimum)
        ):
            allowed = "an integer" if minimum is None else f"an integer >= {minimum}"
            raise invalid(self, what, value, allowed=allowed, fix=f"pass {what} as {allowed}")

    def _check_duration(self, what: str, value: str) -> None:
        if not isinstance(value, str) or not _DURATION.match(value) or _seconds(value) == 0:
            raise invalid(
                self,
                what,
                value,
                allowed="a positive duration in hours, minutes and seconds such as "
                "'10s', '3m' or '1m30s'",
                fix=f"write {what} with a unit, e.g. '10s'",
            )
