"""Checks that need the whole picture, run when the app is validated (at synth).

cdk8s runs each construct's validations before it writes anything. Registering one
validation per construct costs two round-trips to cdk8s's Node.js process each; this
module registers one per chart and runs every check of that chart from Python.

Every chart with a check also refuses two objects that would land in the same file of its
output folder (cdk8s writes ``<Kind>.<name>.k8s.yaml`` and the second silently replaces
the first), and ``validate_app`` runs every check of an app from Python, so a failed
check is a ``ConfigurationError`` (cdk8s itself would raise a jsii ``RuntimeError``).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable

import cdk8s
import jsii
from constructs import Construct, IValidation

from jupyter_constructs.core.errors import ConfigurationError, invalid
from jupyter_constructs.core.objects import KubeObject, chart_namespace, chart_of, path_of

__all__ = ["Check", "add_check", "duplicate_objects", "validate_app", "validation_error"]

Check = Callable[[], list[str]]
"""A check: returns its error messages (house format), empty when all is well."""

_FILE_NAME = re.compile(r"[^0-9a-zA-Z-_.]")
VALIDATION_FAILED = "Validation failed with the following errors:"
"""How cdk8s starts the message of a failed validation (``App.synth``)."""


@jsii.implements(IValidation)
class _ChartChecks:
    def __init__(self, chart: cdk8s.Chart) -> None:
        self.chart = weakref.ref(chart)
        self.checks: list[Check] = [lambda: duplicate_objects(chart)]
        # Set by validate_app when every check just passed: cdk8s's own validation, which
        # synth runs right after, then need not run them again.
        self.passed = False

    def validate(self) -> list[str]:
        if self.passed:
            self.passed = False
            return []
        return [error for check in self.checks for error in check()]


_CHECKS: weakref.WeakKeyDictionary[cdk8s.Chart, _ChartChecks] = weakref.WeakKeyDictionary()


def add_check(scope: Construct, check: Check) -> None:
    """Run ``check`` when ``scope``'s chart is validated, after every ``add_*`` call.

    Args:
        scope: A construct; its chart runs the check.
        check: Returns error messages; any message fails the synth.
    """
    chart = chart_of(scope)
    checks = _CHECKS.get(chart)
    if checks is None:
        checks = _CHECKS[chart] = _ChartChecks(chart)
        chart.node.add_validation(checks)
    checks.checks.append(check)


def check_count(scope: Construct) -> int:
    """How many checks ``scope``'s chart has (for ``drop_checks_after``)."""
    checks = _CHECKS.get(chart_of(scope))
    return len(checks.checks) if checks is not None else 1


def drop_checks_after(scope: Construct, count: int) -> None:
    """Forget the checks of ``scope``'s chart added after it had ``count`` (a rollback)."""
    checks = _CHECKS.get(chart_of(scope))
    if checks is not None:
        del checks.checks[count:]


def _object_facts(obj: cdk8s.ApiObject) -> tuple[str, str, str | None]:
    if isinstance(obj, KubeObject):
        if obj._cluster_scoped:
            return obj.object_kind, obj.name, None
        return obj.object_kind, obj.name, obj._namespace or chart_namespace(obj)
    return obj.kind, obj.name, obj.metadata.namespace


def duplicate_objects(chart: cdk8s.Chart) -> list[str]:
    """Two objects of ``chart`` that would be written to one file, or be one object.

    cdk8s writes each object of a chart's folder to ``<Kind>.<name>.k8s.yaml``: two objects
    of one kind and name (in one namespace: the same object twice; in two: the same file)
    would silently leave only the last. Objects of nested charts count with their parent.

    Args:
        chart: The chart (one output folder).

    Returns:
        One message (house format) per clash, naming both construct paths.
    """
    seen: dict[str, tuple[str, str | None, str]] = {}
    errors = []
    for node in chart.node.find_all():
        if not isinstance(node, cdk8s.ApiObject):
            continue
        kind, name, namespace = _object_facts(node)
        key = _FILE_NAME.sub("", f"{kind}.{name}")
        path = path_of(node)
        if key not in seen:
            seen[key] = (path, namespace, name)
            continue
        first, first_namespace, _ = seen[key]
        same = (
            "the same object twice"
            if first_namespace == namespace
            else (
                "one output file for two objects "
                f"(namespaces {first_namespace!r} and {namespace!r})"
            )
        )
        errors.append(
            str(
                invalid(
                    path,
                    f"duplicate {kind}",
                    name,
                    allowed=f"one {kind} named {name!r} per output folder: {first} renders it "
                    f"too, which makes {same}",
                    fix="rename one of them (name=...), or put it in another chart",
                )
            )
        )
    return errors


def _ref(construct: object) -> object:
    # jsii may hand out a new proxy for an object created in JavaScript (cdk8s.Testing.app()),
    # so identity is its reference id.
    return getattr(getattr(construct, "__jsii_ref__", None), "ref", None) or id(construct)


def validate_app(app: Construct) -> None:
    """Run every check registered for the charts under ``app``; raise if any fails.

    ``synthesize`` calls it before ``app.synth()``, so a failed check is a
    ``ConfigurationError`` with the checks' own messages. When every check passes, the
    next cdk8s validation of those charts (the one ``app.synth()`` runs) skips them.

    Args:
        app: The app (or any construct above the charts to check).

    Raises:
        ConfigurationError: One or more checks failed (one message per line).
    """
    root = _ref(app.node.root)
    errors = []
    ran = []
    for chart, checks in list(_CHECKS.items()):
        if _ref(chart.node.root) == root:
            checks.passed = False
            errors += checks.validate()
            ran.append(checks)
    if errors:
        raise ConfigurationError("\n".join(errors))
    for checks in ran:  # the synth that follows need not run them again
        checks.passed = True


def validation_error(error: BaseException) -> ConfigurationError | None:
    """The ``ConfigurationError`` for a cdk8s validation failure (jsii ``RuntimeError``).

    Args:
        error: What ``app.synth()`` raised.

    Returns:
        A ``ConfigurationError`` whose message lists the failed validations (house format
        where they come from this library), or ``None`` when ``error`` is something else.
    """
    text = str(error)
    if not isinstance(error, RuntimeError) or VALIDATION_FAILED not in text:
        return None
    body = text.split(VALIDATION_FAILED, 1)[1]
    # cdk8s lists "[<path>] <message>" and then a JavaScript stack ("    at ...").
    lines = []
    for line in body.strip().splitlines():
        stripped = line.strip()
        if stripped.startswith("at ") or not stripped:
            break
        match = re.match(r"\[([^\]]*)\] (.*)", stripped)
        if match is None:
            lines.append(stripped)
            continue
        path, message = match.groups()
        # The library's messages start with the path already (house format).
        lines.append(message if message.startswith(f"{path}:") else f"{path}: {message}")
    return ConfigurationError("\n".join(lines) or text)
