"""``plan``: what a change to the app does to the cluster, before it is merged.

Compares two synthesized outputs (the committed ``dist/`` at a git ref, and a fresh
synth) object by object, and says for each object whether it is added, changed or
removed, which fields changed, and whether Kubernetes or ArgoCD can apply the change
in place. Objects are matched by folder (one folder per ArgoCD Application), API
group, kind, namespace and name; the field-level difference is computed by DeepDiff
(https://github.com/seperman/deepdiff).

Findings, by severity:

- ``refused``: the API server refuses the change in place (an immutable field); ArgoCD's
  sync fails on it until someone deletes the object by hand. Checked per kind:

  - Deployment, DaemonSet, ReplicaSet: ``spec.selector``
    (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#label-selector-updates);
  - StatefulSet: any ``spec`` field except ``replicas``, ``ordinals``, ``template``,
    ``updateStrategy``, ``revisionHistoryLimit``, ``persistentVolumeClaimRetentionPolicy``
    and ``minReadySeconds`` (kubernetes ``pkg/apis/apps/validation``);
  - Job (unless ArgoCD recreates it: a hook with ``BeforeHookCreation``, or
    ``Force=true,Replace=true``): ``spec.template``, ``spec.selector``,
    ``spec.completionMode``, ``spec.podFailurePolicy`` and, for a non-indexed Job,
    ``spec.completions`` (kubernetes ``pkg/apis/batch/validation``);
  - PersistentVolumeClaim: every ``spec`` field but ``resources.requests`` and
    ``volumeAttributesClassName``, and a smaller storage request (a claim never shrinks)
    (https://kubernetes.io/docs/concepts/storage/persistent-volumes/#expanding-persistent-volumes-claims);
  - Service: ``spec.clusterIP``/``spec.clusterIPs`` once set, and a change between
    headless (``clusterIP: None``) and not (kubernetes ``pkg/apis/core/validation``);
  - ConfigMap, Secret with ``immutable: true``: data, or ``immutable`` itself;
  - RoleBinding, ClusterRoleBinding: ``roleRef``.

- ``data-loss``: a PersistentVolumeClaim or Namespace leaves git (removed or renamed).
  Our objects carry ``Prune=false``, so ArgoCD keeps the old one, but whatever used it
  now gets a new, empty claim (or namespace) and the data is orphaned.
- ``recreated``: ArgoCD deletes and recreates the object (a hook Job, or
  ``Force=true,Replace=true``); safe for a Job, noted so nobody is surprised.
- ``note``: applies in place but needs something outside git, e.g. a PVC expansion
  needs a StorageClass with ``allowVolumeExpansion: true``; or applies only to what
  comes next, not to what users already have: a new home size, class or access mode
  (existing home claims keep theirs), a profile leaving the list (its running servers
  and its users' last choice still name it), unless the new profile names its slug in
  ``former_slugs``.

``refused`` and ``data-loss`` are dangerous: ``main`` exits 2 when there is one, so CI
can gate merges on it.

Command line (also ``make plan``)::

    python -m jupyter_constructs plan                  # fresh synth of main.py vs HEAD:dist
    python -m jupyter_constructs plan --ref origin/main
    python -m jupyter_constructs plan --old old-dist/ --new new-dist/
    python -m jupyter_constructs plan --app "python app.py" --dist manifests
"""

from __future__ import annotations

import argparse
import difflib
import io
import json
import os
import shlex
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from jupyter_constructs.core.errors import ConfigurationError, invalid
from jupyter_constructs.core.quantities import parse_memory
from jupyter_constructs.core.sync_waves import SYNC_OPTIONS_ANNOTATION

__all__ = [
    "DANGEROUS",
    "Change",
    "Finding",
    "ObjectKey",
    "Plan",
    "format_plan",
    "load_output",
    "main",
    "make_plan",
]

Obj = dict[str, Any]

REFUSED = "refused"
DATA_LOSS = "data-loss"
RECREATED = "recreated"
NOTE = "note"
DANGEROUS = frozenset({REFUSED, DATA_LOSS})
"""Severities that make ``main`` exit 2."""

_HOOK = "argocd.argoproj.io/hook"
_HOOK_DELETE_POLICY = "argocd.argoproj.io/hook-delete-policy"
_STATEFULSET_MUTABLE = frozenset(
    {
        "replicas",
        "ordinals",
        "template",
        "updateStrategy",
        "revisionHistoryLimit",
        "persistentVolumeClaimRetentionPolicy",
        "minReadySeconds",
    }
)
_JOB_IMMUTABLE = ("template", "selector", "completionMode", "podFailurePolicy")
_PVC_MUTABLE = (("resources", "requests"), ("volumeAttributesClassName",))


@dataclass(frozen=True, order=True)
class ObjectKey:
    """Identifies an object across two outputs.

    Attributes:
        folder: The output folder (one per ArgoCD Application), e.g. ``"prod"``.
        group: The API group (``""`` for the core group); the version is not part of it.
        kind: The kind.
        namespace: The namespace (``""`` for cluster-scoped objects).
        name: The name.
    """

    folder: str
    group: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


@dataclass(frozen=True)
class Finding:
    """Something about a change worth knowing before it is merged.

    Attributes:
        severity: ``"refused"``, ``"data-loss"``, ``"recreated"`` or ``"note"``.
        field: The field concerned, e.g. ``"spec.selector"`` (``""`` for the object).
        message: What happens and what to do.
    """

    severity: str
    field: str
    message: str

    @property
    def dangerous(self) -> bool:
        """True for ``refused`` and ``data-loss``."""
        return self.severity in DANGEROUS


@dataclass(frozen=True)
class Change:
    """One object that differs between the two outputs.

    Attributes:
        key: The object.
        action: ``"added"``, ``"changed"`` or ``"removed"``.
        fields: For a change: ``(field, old, new)`` per changed leaf, DeepDiff's view.
        findings: What the change leads to.
    """

    key: ObjectKey
    action: str
    fields: tuple[tuple[str, Any, Any], ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def dangerous(self) -> bool:
        """True when a finding is dangerous."""
        return any(f.dangerous for f in self.findings)


@dataclass(frozen=True)
class Plan:
    """Every difference between two outputs, in a stable order."""

    changes: tuple[Change, ...] = field(default_factory=tuple)

    @property
    def dangerous(self) -> list[Change]:
        """The changes that will not apply in place or that lose data."""
        return [c for c in self.changes if c.dangerous]

    def count(self, action: str) -> int:
        """How many objects are ``action`` (``"added"``, ``"changed"``, ``"removed"``)."""
        return sum(1 for c in self.changes if c.action == action)


# -- reading outputs ------------------------------------------------------------------

#: libyaml's safe loader when PyYAML was built with it (ten times faster), else PyYAML's.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_output(root: str | Path) -> dict[ObjectKey, Obj]:
    """Every object under ``root`` (a synthesized output such as ``dist/``), by key.

    Objects directly under ``root`` are in folder ``""``; the others in the name of the
    first folder below ``root``.

    Raises:
        ConfigurationError: ``root`` is not a folder, or two files hold the same object.
    """
    base = Path(root)
    if not base.is_dir():
        raise invalid(
            "plan",
            "output folder",
            str(base),
            allowed="a folder of synthesized manifests",
            fix="synthesize first, or pass the folder that holds them",
        )
    objects: dict[ObjectKey, Obj] = {}
    for path in sorted(base.rglob("*.y*ml")):
        relative = path.relative_to(base)
        folder = relative.parts[0] if len(relative.parts) > 1 else ""
        for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER):
            if not isinstance(doc, dict) or "kind" not in doc:
                continue
            key = _key(folder, doc)
            if key in objects:
                raise invalid(
                    "plan",
                    f"output {base}: object defined twice",
                    str(key),
                    allowed="each object once per folder",
                    fix=f"remove the duplicate from {path}",
                )
            objects[key] = doc
    return objects


def _key(folder: str, obj: Obj) -> ObjectKey:
    api_version = str(obj.get("apiVersion", ""))
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    meta = obj.get("metadata") or {}
    return ObjectKey(
        folder, group, str(obj["kind"]), str(meta.get("namespace", "")), str(meta.get("name"))
    )


# -- the plan -------------------------------------------------------------------------


def make_plan(old: Mapping[ObjectKey, Obj], new: Mapping[ObjectKey, Obj]) -> Plan:
    """Compare two outputs (``load_output``) and judge every difference.

    Args:
        old: What is deployed (the committed output).
        new: What the change would deploy.

    Returns:
        The plan: one ``Change`` per object added, changed or removed.
    """
    changes = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before is None and after is not None:
            changes.append(Change(key, "added"))
        elif after is None and before is not None:
            changes.append(Change(key, "removed", findings=tuple(_removal_findings(key))))
        elif before is not None and after is not None and before != after:
            fields = _changed_fields(before, after)
            findings = tuple(_change_findings(key, before, after, [f for f, _, _ in fields]))
            changes.append(Change(key, "changed", tuple(fields), findings))
    return Plan(tuple(changes))


def _path(parts: Sequence[Any]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _json_document(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def _changed_fields(before: Any, after: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """``(field, old, new)`` per changed leaf, DeepDiff's tree view.

    A JSON document held in a string (a hub config file in a ConfigMap) is compared
    field by field too (``field > inner.field``).
    """
    from deepdiff import DeepDiff  # imported when two objects differ: it is slow to load

    diff = DeepDiff(before, after, view="tree")
    fields = []
    for report in diff.values():
        for level in report:
            old = None if type(level.t1).__name__ == "NotPresent" else level.t1
            new = None if type(level.t2).__name__ == "NotPresent" else level.t2
            path = _path(level.path(output_format="list"))
            where = f"{prefix} > {path}" if prefix else path
            old_doc, new_doc = _json_document(old), _json_document(new)
            if old_doc is not None and new_doc is not None:
                fields += _changed_fields(old_doc, new_doc, where)
            else:
                fields.append((where, old, new))
    return sorted(fields, key=lambda f: f[0])


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


def _options(obj: Obj) -> set[str]:
    raw = ((obj.get("metadata") or {}).get("annotations") or {}).get(SYNC_OPTIONS_ANNOTATION, "")
    return {o.strip() for o in str(raw).split(",") if o.strip()}


def _recreated_by_argocd(obj: Obj) -> str | None:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if _HOOK in annotations and "BeforeHookCreation" in annotations.get(_HOOK_DELETE_POLICY, ""):
        return "an ArgoCD hook with hook-delete-policy BeforeHookCreation"
    if {"Force=true", "Replace=true"} <= _options(obj):
        return "sync options Force=true,Replace=true"
    return None


def _removal_findings(key: ObjectKey) -> list[Finding]:
    if key.group == "" and key.kind == "PersistentVolumeClaim":
        return [
            Finding(
                DATA_LOSS,
                "",
                "the claim leaves git (removed or renamed): with Prune=false ArgoCD keeps "
                "it and reports it as requiring pruning, but nothing mounts it any more; a "
                "renamed claim starts empty. Keep the name, or copy the data over first",
            )
        ]
    if key.group == "" and key.kind == "Namespace":
        return [
            Finding(
                DATA_LOSS,
                "",
                "the namespace leaves git: with Prune=false ArgoCD keeps it, but deleting "
                "it by hand deletes every user's home PVC (KubeSpawner's, not in git) with "
                "it. Keep the namespace, or move the users' claims first",
            )
        ]
    return []


def _change_findings(key: ObjectKey, before: Obj, after: Obj, fields: list[str]) -> list[Finding]:
    spec_fields = [f for f in fields if _under(f, "spec")]
    kind = (key.group, key.kind)
    findings: list[Finding] = []

    def refused(path: str, why: str) -> None:
        changed = [f for f in fields if _under(f, path)]
        if changed:
            findings.append(Finding(REFUSED, path, why))

    if kind in (("apps", "Deployment"), ("apps", "DaemonSet"), ("apps", "ReplicaSet")):
        refused(
            "spec.selector",
            f"{key.kind} spec.selector is immutable: the sync fails. Keep the selector "
            f"labels, or delete the {key.kind} by hand in the same change (its pods go "
            "down until the new one is ready)",
        )
    elif kind == ("apps", "StatefulSet"):
        for path in sorted({".".join(f.split(".")[:2]).split("[")[0] for f in spec_fields}):
            if path.split(".")[1] not in _STATEFULSET_MUTABLE:
                refused(
                    path,
                    f"StatefulSet {path} is immutable (only replicas, ordinals, template, "
                    "updateStrategy, revisionHistoryLimit, persistentVolumeClaimRetentionPolicy "
                    "and minReadySeconds change in place): delete it with --cascade=orphan "
                    "and let the new one adopt the pods",
                )
    elif kind == ("batch", "Job"):
        how = _recreated_by_argocd(after)
        if how is not None:
            if spec_fields:
                findings.append(
                    Finding(RECREATED, "spec", f"ArgoCD deletes and recreates the Job ({how})")
                )
        else:
            immutable = list(_JOB_IMMUTABLE)
            if (after.get("spec") or {}).get("completionMode") != "Indexed":
                immutable.append("completions")
            for name in immutable:
                refused(
                    f"spec.{name}",
                    f"Job spec.{name} is immutable: the sync fails. Make the Job an ArgoCD "
                    "hook with hook-delete-policy BeforeHookCreation, or give it a new name",
                )
    elif kind == ("", "PersistentVolumeClaim"):
        findings += _claim_findings(before, after, spec_fields)
    elif kind == ("", "Service"):
        findings += _service_findings(before, after)
    elif kind == ("", "ConfigMap") and HUB_CONFIG_KEY in (after.get("data") or {}):
        findings += _home_findings(before, after)
    elif kind in (("", "ConfigMap"), ("", "Secret")) and before.get("immutable") is True:
        data = [f for f in fields if f.split(".")[0].split("[")[0] in _DATA_FIELDS]
        if data:
            findings.append(
                Finding(
                    REFUSED,
                    data[0].split(".")[0],
                    f"the {key.kind} is immutable (immutable: true): its data (and "
                    "immutable itself) cannot change. Give it a new name and point its "
                    "users at it",
                )
            )
    elif kind in (
        ("rbac.authorization.k8s.io", "RoleBinding"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ):
        refused(
            "roleRef",
            f"{key.kind} roleRef is immutable: the sync fails. Give the binding a new name",
        )
    return findings


_DATA_FIELDS = ("data", "binaryData", "stringData", "immutable")

#: The hub ConfigMap's file of rendered traits (``hub.config``).
HUB_CONFIG_KEY = "hub_config.json"
#: The home volume's name in user pods (``hub.storage.HOME_VOLUME``).
_HOME_VOLUME = "home"


def _spawner_traits(config_map: Obj) -> dict[str, Any]:
    try:
        config = json.loads((config_map.get("data") or {}).get(HUB_CONFIG_KEY) or "{}")
    except ValueError:
        return {}
    traits = (config.get("traits") or {}).get("KubeSpawner") or {}
    return traits if isinstance(traits, dict) else {}


def _has_home(traits: dict[str, Any]) -> bool:
    """Whether user servers mount a home (a claim per user, or a home volume)."""
    if traits.get("storage_pvc_ensure"):
        return True
    sources = [traits] + [
        p.get("kubespawner_override") or {} for p in traits.get("profile_list") or []
    ]
    for source in sources:
        volumes = source.get("volumes") or []
        names = volumes.keys() if isinstance(volumes, dict) else [v.get("name") for v in volumes]
        if _HOME_VOLUME in names:
            return True
    return False


def _home_findings(before: Obj, after: Obj) -> list[Finding]:
    """Changes of the hub config that lose users' homes, or hide them.

    KubeSpawner makes the home claims, so they are not in git: no object of the plan
    shows them, only the hub config's traits do.
    """
    old, new = _spawner_traits(before), _spawner_traits(after)
    findings = []
    if old.get("delete_pvc") is False and new.get("delete_pvc") is not False:
        findings.append(
            Finding(
                DATA_LOSS,
                "KubeSpawner.delete_pvc",
                "deleting a user (by an admin, or the idle culler with cull_users) now "
                "deletes their home claim and every file in it. Keep delete_pvc=False",
            )
        )
    if _has_home(old) and not _has_home(new):
        findings.append(
            Finding(
                DATA_LOSS,
                "KubeSpawner.volumes",
                "user servers no longer mount their home: users start without their files "
                "(the claims stay, unmounted). Keep the home storage mode",
            )
        )
    for trait in ("pvc_name_template", "slug_scheme"):
        if _has_home(old) and old.get(trait) != new.get(trait) and _has_home(new):
            findings.append(
                Finding(
                    DATA_LOSS,
                    f"KubeSpawner.{trait}",
                    f"{trait} changes the name of users' home claims: a user whose claim "
                    "name the hub has not remembered gets a new, empty home. Keep it",
                )
            )
    if old.get("storage_pvc_ensure") and new.get("storage_pvc_ensure"):
        findings += _home_size_findings(old, new)
    if _culls_users(after) and not _culls_users(before):
        findings.append(
            Finding(
                NOTE,
                "JupyterHub.services.idle-culler",
                "the idle culler now deletes idle users from the hub: their API tokens, "
                "stored profile choice and remembered home claim name go with them"
                + (
                    " (their home claims stay: delete_pvc is False)"
                    if new.get("delete_pvc") is False
                    else ""
                )
                + ". A user idle for the culler's timeout has to create their tokens again",
            )
        )
    renamed = _profile_renames(after)
    gone = sorted(_profile_slugs(old) - _profile_slugs(new) - set(renamed))
    if gone:
        findings.append(
            Finding(
                NOTE,
                "KubeSpawner.profile_list",
                f"profile(s) {', '.join(gone)} leave the list (removed or renamed): servers "
                "running them keep their old profile label, so the NetworkPolicies that "
                "select by profile (internet access, platform bindings) stop matching them "
                "until they restart; and a user whose last choice was one of them and who "
                "starts without choosing again (the REST API without options) fails with 'No such "
                "profile'. To rename a profile, name its old slug in the new one's "
                'former_slugs (add_profile(..., former_slugs=("old",))): its policies keep '
                "selecting the running servers and the hub starts the renamed profile for a "
                "stored choice; or change display_name only and keep the slug",
            )
        )
    return findings


def _home_size_findings(old: dict[str, Any], new: dict[str, Any]) -> list[Finding]:
    """What a new home size, class or access mode does to existing users' claims."""
    findings = []
    before, after = (
        _storage({"spec": {"resources": {"requests": {"storage": t.get("storage_capacity")}}}})
        for t in (old, new)
    )
    if before is not None and after is not None and after > before:
        findings.append(
            Finding(
                NOTE,
                "KubeSpawner.storage_capacity",
                f"home claims of {old['storage_capacity']} are grown to "
                f"{new['storage_capacity']} at each user's next start where their "
                "StorageClass allows volume expansion; elsewhere they stay as they are and "
                "the hub logs a warning (docs/user-servers.md)",
            )
        )
    elif before is not None and after is not None and after < before:
        findings.append(
            Finding(
                NOTE,
                "KubeSpawner.storage_capacity",
                f"only new users get {new['storage_capacity']}: existing home claims keep "
                f"{old['storage_capacity']} (a volume cannot shrink)",
            )
        )
    for trait in ("storage_class", "storage_access_modes"):
        if old.get(trait) != new.get(trait):
            findings.append(
                Finding(
                    NOTE,
                    f"KubeSpawner.{trait}",
                    f"only new users get the new {trait}: existing home claims keep theirs "
                    "(fixed once a claim exists); moving a home means copying its files",
                )
            )
    return findings


def _profile_renames(config_map: Obj) -> dict[str, str]:
    """The hub config's ``profile_renames``: former slug -> current slug."""
    try:
        config = json.loads((config_map.get("data") or {}).get(HUB_CONFIG_KEY) or "{}")
    except ValueError:
        return {}
    renames = config.get("profile_renames")
    return {str(k): str(v) for k, v in renames.items()} if isinstance(renames, dict) else {}


def _culls_users(config_map: Obj) -> bool:
    """Whether the hub config runs the idle culler with ``--cull-users``."""
    try:
        config = json.loads((config_map.get("data") or {}).get(HUB_CONFIG_KEY) or "{}")
    except ValueError:
        return False
    services = ((config.get("traits") or {}).get("JupyterHub") or {}).get("services") or []
    return any(
        "--cull-users" in (service.get("command") or [])
        for service in services
        if isinstance(service, dict)
    )


def _profile_slugs(traits: dict[str, Any]) -> set[str]:
    profiles = traits.get("profile_list") or []
    return {str(p["slug"]) for p in profiles if isinstance(p, dict) and p.get("slug")}


def _storage(obj: Obj) -> int | None:
    value = (((obj.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    try:
        return parse_memory("plan", "storage", str(value))
    except ConfigurationError:
        return None


def _claim_findings(before: Obj, after: Obj, spec_fields: list[str]) -> list[Finding]:
    findings = []
    for path in spec_fields:
        relative = tuple(path.split(".")[1:])
        if not any(relative[: len(m)] == m for m in _PVC_MUTABLE):
            findings.append(
                Finding(
                    REFUSED,
                    path.split("[")[0],
                    "a PersistentVolumeClaim's spec is immutable except its storage request: "
                    "the sync fails. Keep the claim as it is; a new storage class or access "
                    "mode needs a new claim and a copy of the data",
                )
            )
            break
    old_size, new_size = _storage(before), _storage(after)
    if old_size is not None and new_size is not None:
        if new_size < old_size:
            findings.append(
                Finding(
                    REFUSED,
                    "spec.resources.requests.storage",
                    "a claim never shrinks: the API server refuses a smaller storage request",
                )
            )
        elif new_size > old_size:
            findings.append(
                Finding(
                    NOTE,
                    "spec.resources.requests.storage",
                    "expanding a claim needs a StorageClass with allowVolumeExpansion: true "
                    "and a bound claim; otherwise the sync fails",
                )
            )
    return findings


def _cluster_ip(obj: Obj) -> str | None:
    value = (obj.get("spec") or {}).get("clusterIP")
    return None if value is None else str(value)


def _service_findings(before: Obj, after: Obj) -> list[Finding]:
    old_ip, new_ip = _cluster_ip(before), _cluster_ip(after)
    old_ips = (before.get("spec") or {}).get("clusterIPs")
    new_ips = (after.get("spec") or {}).get("clusterIPs")
    if (old_ip == "None") != (new_ip == "None"):
        return [
            Finding(
                REFUSED,
                "spec.clusterIP",
                "a Service cannot change between headless (clusterIP: None) and not: the "
                "sync fails. Give the Service a new name",
            )
        ]
    if (old_ip and new_ip and old_ip != new_ip) or (old_ips and new_ips and old_ips != new_ips):
        return [
            Finding(
                REFUSED,
                "spec.clusterIP",
                "a Service's cluster IP is immutable once set: the sync fails. Leave "
                "clusterIP out of the manifest, or recreate the Service",
            )
        ]
    return []


# -- output ---------------------------------------------------------------------------


def _short(value: Any, limit: int = 60) -> str:
    text = (
        repr(value)
        if not isinstance(value, dict | list)
        else yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    )
    return text if len(text) <= limit else text[: limit - 3] + "..."


_SYMBOL = {"added": "+", "changed": "~", "removed": "-"}


def format_plan(plan: Plan, *, old_label: str, new_label: str, max_fields: int = 8) -> str:
    """The plan as text: per folder, per object, then a summary line.

    Args:
        plan: The plan.
        old_label: What ``old`` is, e.g. ``"dist/ at HEAD"``.
        new_label: What ``new`` is, e.g. ``"a fresh synth of main.py"``.
        max_fields: Changed fields listed per object before "... and N more". Default: 8.

    Returns:
        The text, ending with a newline.
    """
    lines = [f"plan: {old_label} -> {new_label}"]
    folder = None
    for change in plan.changes:
        if change.key.folder != folder:
            folder = change.key.folder
            lines.append(f"  {folder or '.'}/")
        lines.append(f"    {_SYMBOL[change.action]} {change.key}")
        shown = change.fields[:max_fields]
        for path, old, new in shown:
            if isinstance(old, str) and isinstance(new, str) and "\n" in old + new:
                lines.append(f"        {path}: (text)")
                lines += [
                    f"          {line}"
                    for line in difflib.unified_diff(
                        old.splitlines(), new.splitlines(), lineterm="", n=0
                    )
                    if not line.startswith(("---", "+++", "@@"))
                ][:max_fields]
            elif old is None:
                lines.append(f"        {path}: (added) {_short(new)}")
            elif new is None:
                lines.append(f"        {path}: (removed) {_short(old)}")
            else:
                lines.append(f"        {path}: {_short(old)} -> {_short(new)}")
        if len(change.fields) > max_fields:
            lines.append(f"        ... and {len(change.fields) - max_fields} more fields")
        for finding in change.findings:
            mark = "!!" if finding.dangerous else "--"
            where = f" {finding.field}" if finding.field else ""
            lines.append(f"        {mark} {finding.severity}{where}: {finding.message}")
    dangerous = plan.dangerous
    summary = (
        f"{plan.count('added')} to add, {plan.count('changed')} to change, "
        f"{plan.count('removed')} to remove"
    )
    if not plan.changes:
        summary = "no changes"
    if dangerous:
        summary += f"; {len(dangerous)} DANGEROUS (will not apply in place or lose data)"
    lines.append(summary)
    return "\n".join(lines) + "\n"


# -- command line ---------------------------------------------------------------------


def _git(args: Sequence[str], cwd: Path) -> bytes:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise invalid(
            "plan",
            "git command",
            f"git {' '.join(args)}",
            allowed=f"a command that succeeds (git said: {message[-1] if message else '-'})",
            fix="run inside the repository and name a ref that exists (HEAD, origin/main)",
        )
    return result.stdout


def export_ref(ref: str, folder: str, destination: Path, *, cwd: Path) -> Path:
    """Extract ``folder`` as it is at git ``ref`` into ``destination``; returns the copy.

    A ref where the folder does not exist yet gives an empty folder (a first deployment).
    """
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd).decode().strip())
    prefix = (cwd.resolve() / folder).relative_to(top.resolve()).as_posix()
    _git(["rev-parse", "--verify", f"{ref}^{{commit}}"], cwd)
    target = destination / Path(folder).name
    target.mkdir(parents=True, exist_ok=True)
    listing = _git(["ls-tree", "-r", "--name-only", ref, "--", prefix], top).decode()
    if not listing.strip():
        return target
    archive = _git(["archive", "--format=tar", ref, "--", prefix], top)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            relative = Path(member.name).relative_to(prefix)
            out = target / relative
            out.parent.mkdir(parents=True, exist_ok=True)
            extracted = tar.extractfile(member)
            assert extracted is not None
            out.write_bytes(extracted.read())
    return target


def synthesize_fresh(app: str, destination: Path, *, cwd: Path) -> Path:
    """Run the app command with ``CDK8S_OUTDIR`` set to a folder in ``destination``.

    Raises:
        ConfigurationError: The app failed (its last output lines are in the message).
    """
    outdir = destination / "dist"
    env = {**os.environ, "CDK8S_OUTDIR": str(outdir)}
    result = subprocess.run(
        shlex.split(app), cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or not outdir.is_dir():
        tail = " ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
        raise invalid(
            "plan",
            "app",
            app,
            allowed=f"a command that synthesizes into $CDK8S_OUTDIR (exit "
            f"{result.returncode}: {tail})",
            fix="make the synth pass first (make synth), or pass --app",
        )
    return outdir


def main(argv: Iterable[str] | None = None) -> int:
    """``python -m jupyter_constructs plan``: print the plan; exit 2 if it is dangerous.

    Args:
        argv: Arguments after ``plan``. Default: ``sys.argv[2:]``.

    Returns:
        0 when nothing dangerous changes, 2 when something will not apply in place or
        loses data, 1 when the plan could not be made.
    """
    parser = argparse.ArgumentParser(
        prog="python -m jupyter_constructs plan",
        description="Compare a fresh synth with the committed output, object by object, "
        "and flag changes that will not apply in place or that lose data (exit 2).",
    )
    parser.add_argument(
        "--app",
        default=f"{shlex.quote(sys.executable)} main.py",
        help="command that synthesizes into $CDK8S_OUTDIR (default: this Python, main.py)",
    )
    parser.add_argument("--dist", default="dist", help="the committed output folder (dist)")
    parser.add_argument(
        "--ref", default="HEAD", help="git ref of the committed output (default: HEAD)"
    )
    parser.add_argument("--old", type=Path, help="compare from this folder instead of --ref")
    parser.add_argument("--new", type=Path, help="compare to this folder instead of a synth")
    args = parser.parse_args(list(sys.argv[2:] if argv is None else argv))
    cwd = Path.cwd()
    try:
        with tempfile.TemporaryDirectory(prefix="jc-plan-") as scratch:
            work = Path(scratch)
            if args.old is not None:
                old_dir, old_label = args.old, f"{args.old}"
            else:
                old_dir = export_ref(args.ref, args.dist, work / "old", cwd=cwd)
                old_label = f"{args.dist}/ at {args.ref}"
            if args.new is not None:
                new_dir, new_label = args.new, f"{args.new}"
            else:
                new_dir = synthesize_fresh(args.app, work / "new", cwd=cwd)
                new_label = f"a fresh synth ({args.app})"
            plan = make_plan(load_output(old_dir), load_output(new_dir))
    except ConfigurationError as error:
        print(" ".join(str(error).split()), file=sys.stderr)
        return 1
    print(format_plan(plan, old_label=old_label, new_label=new_label), end="")
    return 2 if plan.dangerous else 0
