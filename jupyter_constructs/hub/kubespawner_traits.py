"""KubeSpawner's configurable traits and its template expansion rule, checked at synth.

KubeSpawner is not a run-time dependency of the library: its trait names and value kinds
come from ``hub.traits`` (generated from KubeSpawner 7.0.0, the version in the pinned hub
image); tests/hub/test_traits.py compares them with the real class.
"""

from __future__ import annotations

import string
from typing import Any

from jupyter_constructs.core.errors import Where, invalid
from jupyter_constructs.hub.traits import TRAITS

KUBESPAWNER_VERSION = "7.0.0"

KUBESPAWNER_TRAITS = frozenset(TRAITS["KubeSpawner"])
"""Every configurable trait of ``kubespawner.KubeSpawner``."""

TEMPLATE_FIELDS = frozenset(
    {
        "userid",
        "unescaped_username",
        "unescaped_servername",
        "hubnamespace",
        "username",
        "servername",
        "user_server",
        "safe_username",
        "safe_servername",
        "safe_user_server",
        "escaped_username",
        "escaped_servername",
        "escaped_user_server",
        "pod_name",
        "pvc_name",
        "namespace",
    }
)
"""The fields ``KubeSpawner._expand_user_properties`` fills in (KubeSpawner 7.0.0)."""

_FORMATTER = string.Formatter()


def is_template(value: str) -> bool:
    """True when KubeSpawner can expand ``value`` (``str.format`` with ``TEMPLATE_FIELDS``).

    KubeSpawner runs ``template.format(**fields)`` on every string of ``environment``,
    ``volumes``, ``volume_mounts``, ``init_containers``, ``extra_containers``,
    ``extra_labels``, ``extra_annotations``, ``extra_pod_config`` and more, when the user
    presses Start: a stray ``{`` or ``}`` or an unknown field fails the spawn there.
    Literal braces are written ``{{`` and ``}}``.
    """
    try:
        for _, field, spec, conversion in _FORMATTER.parse(value):
            if field is None:
                continue
            if field not in TEMPLATE_FIELDS or spec or conversion:
                return False
    except ValueError:
        return False
    return True


def check_templates(where: Where, what: str, value: Any) -> Any:
    """Return ``value`` if every string in it (recursively) is a valid KubeSpawner template.

    Raises:
        ConfigurationError: A string has an unbalanced brace or names an unknown field.
    """
    if isinstance(value, str):
        if not is_template(value):
            raise invalid(
                where,
                what,
                value,
                allowed="text KubeSpawner can expand: '{' and '}' only around one of "
                + ", ".join(sorted(TEMPLATE_FIELDS))
                + " (KubeSpawner formats these strings when a server starts)",
                fix="write a literal brace as '{{' or '}}'",
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            check_templates(where, f"{what}[{key!r}]", item)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_templates(where, f"{what}[{index}]", item)
    return value


def expand_sample(value: Any) -> Any:
    """``value`` with every template field replaced by a valid sample (for rule checks).

    A field expands to a DNS label (``jovyan``), so a template that is valid for every
    user is checked by checking the sample.
    """
    if isinstance(value, str):
        return value.format(**dict.fromkeys(TEMPLATE_FIELDS, "jovyan"))
    if isinstance(value, dict):
        return {k: expand_sample(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [expand_sample(v) for v in value]
    return value
