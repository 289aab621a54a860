"""Checks that need the whole picture, run when the app is validated (at synth).

cdk8s runs each construct's validations before it writes anything. Registering one
validation per construct costs two round-trips to cdk8s's Node.js process each; this
module registers one per chart and runs every check of that chart from Python.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import cdk8s
import jsii
from constructs import Construct, IValidation

from jupyter_constructs.core.objects import chart_of

__all__ = ["Check", "add_check"]

Check = Callable[[], list[str]]
"""A check: returns its error messages (house format), empty when all is well."""


@jsii.implements(IValidation)
class _ChartChecks:
    def __init__(self) -> None:
        self.checks: list[Check] = []

    def validate(self) -> list[str]:
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
        checks = _CHECKS[chart] = _ChartChecks()
        chart.node.add_validation(checks)
    checks.checks.append(check)
