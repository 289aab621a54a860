"""Synthesize into ``dist/`` all or nothing, one folder per environment.

Layout (``cdk8s.YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE``)::

    dist/
      argocd/                      the Applications, one per environment (chart "argocd")
        Application.jupyterhub-prod.k8s.yaml
        Application.jupyterhub-staging.k8s.yaml
      prod/                        what Application jupyterhub-prod deploys (path: dist/prod)
        Namespace.jupyter.k8s.yaml
        Deployment.jupyter-hub-deployment-c8...k8s.yaml
        ...
      staging/                     the same for staging (path: dist/staging)

- One top-level chart per environment, whose id is the environment name
  (``Environment.chart``), gives one folder per environment. One file per resource keeps
  git diffs and reviews to the objects that changed, and a file name
  (``<Kind>.<name>.k8s.yaml``) says what it holds. ArgoCD reads each folder with
  ``directory.recurse: true``; the order of files does not matter to it (sync waves do).
- The Applications live in ``dist/argocd/``, which no Application here deploys: an
  Application inside the folder it syncs would manage itself. Apply ``dist/argocd/``
  once by hand (``kubectl apply -n argocd -f dist/argocd/``) or point a parent
  app-of-apps Application at it.
- ``FILE_PER_RESOURCE`` would put every environment into one flat folder, and
  ``FILE_PER_CHART`` one file per environment (every change rewrites one big file).
- cdk8s names the folders ``0000-prod``, ``0001-...`` instead of ``prod`` as soon as a
  chart is nested in another chart or a construct depends on one in another chart. The
  numbers shift when a chart is added, which would silently break every Application
  path, so ``synthesize`` refuses that output.

Atomicity: ``synthesize`` writes into a temporary folder beside ``dist/``
(``.dist-new-*``) and only when building and synthesizing both succeeded it renames
``dist/`` away (``.dist-old-*``), renames the new folder to ``dist/`` and deletes the old
one. Any exception leaves ``dist/`` exactly as it was and removes the temporary folder.
If the process is killed between the two renames, ``dist/`` is missing and the previous
output is in ``.dist-old-*``; rename it back (both names are git-ignored).

Note: the cdk8s CLI (``cdk8s synth``) deletes its output folder *before* it runs the app,
so run ``python main.py`` directly to keep the guarantee above.

Example ``main.py``::

    ENVIRONMENTS = (
        Environment("staging", cluster="staging",
                    destination_server="https://staging.example.com:6443",
                    values={"domain": "jupyter.staging.example.com"}),
        Environment("prod", cluster="in-cluster", values={"domain": "jupyter.example.com"}),
    )

    def build(app: cdk8s.App) -> None:
        argocd = cdk8s.Chart(app, ARGOCD_FOLDER)
        for env in ENVIRONMENTS:
            chart = env.chart(app, namespace="jupyter")
            ...  # JupyterHub(chart, "hub", domain=env.values["domain"], ...)
            env.add_application(argocd, repo_url=REPO_URL, destination_namespace="jupyter")

    if __name__ == "__main__":
        main(build)
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
import tempfile
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn, Unpack

import cdk8s
from constructs import Construct

from jupyter_constructs.core.checks import validate_app, validation_error
from jupyter_constructs.core.errors import ConfigurationError, invalid
from jupyter_constructs.core.objects import path_of
from jupyter_constructs.core.rules import (
    DNS_LABEL,
    MANIFEST_TEXT_ALLOWED,
    YAML_UNSAFE,
    check_bool,
    check_dns_label,
    check_labels,
    unsafe_character,
)
from jupyter_constructs.delivery.argocd import ApplicationOptions, ArgoCdApplication
from jupyter_constructs.delivery.gitops import apply_sync_waves

ARGOCD_FOLDER = "argocd"
"""Chart id, hence output folder, of the Applications (``dist/argocd/``)."""

OUTPUT_TYPE = cdk8s.YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE
"""How ``synthesize`` lays out files: one folder per chart, one file per resource."""

TRACEBACK_ENV = "JUPYTER_CONSTRUCTS_TRACEBACK"
"""Set to ``1`` to make ``main`` print the full traceback of a failed synth."""

_SERVER = re.compile(r"\Ahttps://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%/-]*)?\Z")


@dataclass(frozen=True)
class Environment:
    """One deployment target: a folder of ``dist/`` and the Application that syncs it.

    Attributes:
        name: A DNS label: the chart id, the folder ``dist/<name>/`` and the suffix of the
            Application name.
        cluster: The cluster's name as registered in ArgoCD (a DNS label; documentation
            and labels only, ArgoCD targets ``destination_server``).
        destination_server: API server URL. Default: ``https://kubernetes.default.svc``,
            the cluster ArgoCD itself runs in.
        values: Per-environment settings read by your build function (domain, sizes,
            ...). Default: none. Stored read-only.

    Raises:
        ConfigurationError: A field is invalid.
    """

    name: str
    cluster: str
    destination_server: str = "https://kubernetes.default.svc"
    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for what, value in (("environment name", self.name), ("cluster name", self.cluster)):
            if not isinstance(value, str) or not DNS_LABEL.match(value):
                raise invalid(
                    "Environment",
                    what,
                    value,
                    allowed="a DNS-1123 label: 1-63 lowercase letters, digits and '-', "
                    "starting and ending with a letter or digit",
                    fix="use a short name like 'prod' or 'staging'",
                )
        if self.name == ARGOCD_FOLDER:
            raise invalid(
                "Environment",
                "environment name",
                self.name,
                allowed=f"any DNS label except {ARGOCD_FOLDER!r}, the Applications' own folder",
                fix="rename the environment, e.g. 'ops'",
            )
        if not isinstance(self.destination_server, str) or not _SERVER.match(
            self.destination_server
        ):
            raise invalid(
                "Environment",
                "destination_server",
                self.destination_server,
                allowed="the https:// API server URL of a cluster registered in ArgoCD",
                fix="copy the server URL from 'argocd cluster list'",
            )
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    def path(self, dist: str = "dist") -> str:
        """Repository-relative folder of this environment, e.g. ``dist/prod``."""
        return f"{dist.rstrip('/')}/{self.name}"

    def chart(
        self,
        app: cdk8s.App,
        *,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
        disable_resource_name_hashes: bool = False,
    ) -> cdk8s.Chart:
        """The top-level chart of this environment (id = ``name``, folder ``dist/<name>/``).

        Args:
            app: The app.
            namespace: The chart's namespace (``cdk8s.Chart(namespace=...)``), a DNS label.
                Default: none (a hub needs one).
            labels: Labels on every object of the chart. Default: none.
            disable_resource_name_hashes: Generated names without cdk8s's hash suffix.
                Default: False.

        Returns:
            The chart.

        Raises:
            ConfigurationError: The namespace or a label is invalid.
        """
        where = f"Environment {self.name!r}"
        if namespace is not None:
            check_dns_label(where, "chart namespace", namespace)
        if labels is not None:
            check_labels(where, "chart labels", labels)
        check_bool(where, "disable_resource_name_hashes", disable_resource_name_hashes)
        return cdk8s.Chart(
            app,
            self.name,
            namespace=namespace,
            labels=dict(labels) if labels is not None else None,
            disable_resource_name_hashes=disable_resource_name_hashes,
        )

    def add_application(
        self,
        scope: Construct,
        *,
        repo_url: str,
        destination_namespace: str,
        app_name: str = "jupyterhub",
        dist: str = "dist",
        **options: Unpack[ApplicationOptions],
    ) -> ArgoCdApplication:
        """Create the Application ``<app_name>-<name>`` that syncs ``dist/<name>``.

        Args:
            scope: A construct of the ``ARGOCD_FOLDER`` chart.
            repo_url: The repository holding ``dist/``.
            destination_namespace: The namespace the Application deploys into.
            app_name: Prefix of the Application's name. Default: ``"jupyterhub"``.
            dist: The repository folder of the output. Default: ``"dist"``.
            **options: Other options of ``ArgoCdApplication`` (``ApplicationOptions``:
                ``target_revision``, ``project``...).

        Returns:
            The Application.
        """
        return ArgoCdApplication(
            scope,
            self.name,
            name=f"{app_name}-{self.name}",
            repo_url=repo_url,
            path=self.path(dist),
            destination_namespace=destination_namespace,
            destination_server=self.destination_server,
            **options,
        )


def _check_folders(app: cdk8s.App, outdir: Path) -> None:
    expected = {cdk8s.Names.to_dns_label(chart) for chart in app.charts}
    written = {p.name for p in outdir.iterdir() if p.is_dir()}
    if written != expected:
        raise invalid(
            "synthesize",
            "chart folders",
            sorted(written),
            allowed=f"one folder per top-level chart, named after it: {sorted(expected)}",
            fix="do not nest charts and do not add dependencies between constructs of "
            "different charts (cdk8s then numbers the folders, e.g. '0000-prod', and the "
            "numbers move whenever a chart is added)",
        )


def _swap_into_place(new: Path, outdir: Path) -> None:
    if not (outdir.exists() or outdir.is_symlink()):
        new.rename(outdir)
        return
    if not outdir.is_dir() or outdir.is_symlink():
        raise invalid(
            "synthesize",
            "outdir",
            str(outdir),
            allowed="a directory (or nothing) at that path",
            fix="move the file away or choose another outdir",
        )
    old = outdir.with_name(f".{outdir.name}-old-{uuid.uuid4().hex[:12]}")
    outdir.rename(old)
    try:
        new.rename(outdir)
    except BaseException:
        old.rename(outdir)
        raise
    shutil.rmtree(old)


def _unsafe_strings(value: Any, at: str = "") -> list[tuple[str, str]]:
    """``(JSON path, string)`` of every string under ``value`` (keys too) YAML cannot carry."""
    if isinstance(value, str):
        return [(at or ".", value)] if unsafe_character(value) else []
    found = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and unsafe_character(key):
                found.append((f"{at}.{key!r} (a key)", key))
            found += _unsafe_strings(item, f"{at}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found += _unsafe_strings(item, f"{at}[{index}]")
    return found


def _check_manifest_text(app: cdk8s.App, written: Path) -> None:
    """Refuse output that YAML parsers would refuse or read differently.

    One more net under the checks where values enter, for any value the library passed
    through unchecked. cdk8s writes DEL, C1 control characters, U+2028/U+2029 and
    U+FFFE/U+FFFF unescaped; kubectl and ArgoCD (go-yaml) refuse such a file ("control
    characters are not allowed") or fold the line breaks into spaces. Only when a written
    file holds one are the objects walked, to name the construct and field it came from.

    Raises:
        ConfigurationError: A written manifest holds such a character.
    """
    if not any(
        unsafe_character(path.read_text(encoding="utf-8")) for path in written.rglob("*.yaml")
    ):
        return
    errors = []
    for node in app.node.find_all():
        if not isinstance(node, cdk8s.ApiObject):
            continue
        for at, value in _unsafe_strings(node.to_json()):
            kind = getattr(node, "object_kind", None) or node.kind
            start = max(0, YAML_UNSAFE.search(value).start() - 30)  # type: ignore[union-attr]
            error = invalid(
                path_of(node),
                f"{kind} {node.name} field {at}",
                value if len(value) <= 80 else f"...{value[start : start + 60]}...",
                allowed=MANIFEST_TEXT_ALLOWED,
                fix=f"remove the character {unsafe_character(value)} from the value you passed",
            )
            errors.append(str(error))
    raise ConfigurationError("\n".join(errors) or f"{written}: {MANIFEST_TEXT_ALLOWED}")


def synthesize(build: Callable[[cdk8s.App], None], *, outdir: str | Path = "dist") -> Path:
    """Run ``build(app)`` and ``app.synth()``, then replace ``outdir`` in one step.

    On any exception, raised by ``build``, by construct validation or by the synth
    itself, ``outdir`` is left untouched, the temporary folder is removed and the
    exception propagates. See the module docstring for the layout.

    Args:
        build: Adds charts to the ``cdk8s.App`` it receives (one top-level chart per
            output folder).
        outdir: The folder to replace. Default: ``"dist"``.

    Returns:
        ``outdir``.

    Raises:
        ConfigurationError: The output would not have one folder per top-level chart, or
            ``outdir`` is a file; a validation failed (the library's checks and any other
            construct's ``node.add_validation``); or ``build`` raised it.
    """
    target = Path(outdir)
    target.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(prefix=f".{target.name}-new-", dir=target.parent))
    try:
        app = cdk8s.App(outdir=str(new), yaml_output_type=OUTPUT_TYPE)
        build(app)
        apply_sync_waves(app)
        # The library's checks run here, from Python, so a failure is a ConfigurationError;
        # cdk8s runs every validation again in synth (yours too) and raises a RuntimeError.
        validate_app(app)
        try:
            app.synth()
        except RuntimeError as err:
            converted = validation_error(err)
            if converted is None:
                raise
            raise converted from None
        _check_folders(app, new)
        _check_manifest_text(app, new)
        # mkdtemp creates 0700; the output is meant to be read (and committed) by others.
        new.chmod(0o755)
        _swap_into_place(new, target)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    return target


def main(build: Callable[[cdk8s.App], None], *, outdir: str | Path | None = None) -> NoReturn:
    """Entry point for ``main.py``: synthesize and print a summary, or one line and exit 1.

    Set ``JUPYTER_CONSTRUCTS_TRACEBACK=1`` to also print the traceback.

    Args:
        build: Adds charts to the app (see ``synthesize``).
        outdir: Default: ``$CDK8S_OUTDIR`` (set by the cdk8s CLI) or ``dist``.

    Raises:
        SystemExit: Always: 0 after a synth, 1 after an error.
    """
    target = Path(outdir or os.environ.get("CDK8S_OUTDIR") or "dist")
    try:
        synthesize(build, outdir=target)
    except Exception as exc:
        if os.environ.get(TRACEBACK_ENV) == "1":
            traceback.print_exc()
        print(failure_line(exc, target), file=sys.stderr)
        stop_cdk8s_cli()
        raise SystemExit(1) from None
    from jupyter_constructs.delivery.summary import synth_summary

    print(synth_summary(target), end="")  # folders, object counts, what changed against git
    raise SystemExit(0)


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _cdk8s_cli_pid() -> int | None:
    """The ``cdk8s synth`` process that runs this app, if any (Linux ``/proc`` only)."""
    pid: int | None = os.getppid()
    for _ in range(3):  # the CLI runs the app through a shell
        if pid is None or pid <= 1:
            return None
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        words = [Path(a.decode(errors="replace")).name for a in argv]
        if "synth" in words and any(w == "cdk8s" or w.startswith("cdk8s-cli") for w in words):
            return pid
        pid = _parent_of(pid)
    return None


def stop_cdk8s_cli() -> None:
    """End the ``cdk8s synth`` process that runs this app, quietly (exit code 130).

    The cdk8s CLI answers an app that exits non-zero with its own error and a Node.js
    stack trace under the app's one-line message. After a failed synth the app has said
    everything, so it interrupts the CLI (SIGINT: Node.js exits at once, printing
    nothing, with a non-zero code). Does nothing outside the CLI.
    """
    pid = _cdk8s_cli_pid()
    if pid is not None:
        sys.stderr.flush()
        os.kill(pid, signal.SIGINT)


def failure_line(error: BaseException, outdir: str | Path) -> str:
    """The one line a failed synth prints: the folder kept, the exception type, the message.

    Args:
        error: What ``synthesize`` raised.
        outdir: The output folder that was left as it was (shown relative to the working
            directory when it is inside it, with a trailing ``/``).

    Returns:
        ``synth failed, dist/ left unchanged: ConfigurationError: <message on one line>``.
    """
    path = Path(outdir)
    try:
        shown = str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        shown = str(path)
    message = " ".join(str(error).split())
    return f"synth failed, {shown.rstrip('/')}/ left unchanged: {type(error).__name__}: {message}"
