"""Choices inside a profile: KubeSpawner's ``profile_options``, typed and checked.

A profile may offer options (a drop-down each on the spawn page), each with its own
choices (``ProfileChoice``) and, optionally, a free-form field (``UnlistedChoice``) whose
value must match a validation regex. KubeSpawner applies the chosen entry's
``kubespawner_override`` on top of the profile's, so a choice can only change what is
safe to change on top of the library's pod: the image, CPU and memory, environment
variables (added, never replacing the profile's) and the default URL.

Reference: https://jupyterhub-kubespawner.readthedocs.io/en/latest/spawner.html
(``profile_list``, ``profile_options``). KubeSpawner checks ``unlisted_choice`` values with
``re.match``, which anchors only the start: the regex here must also anchor the end.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from constructs import Construct

from jupyter_constructs.core.errors import Where, invalid
from jupyter_constructs.core.quantities import parse_cpu, parse_memory
from jupyter_constructs.core.rules import (
    check_bool,
    check_env,
    check_image,
    check_text,
    is_clean_text,
)
from jupyter_constructs.hub.kubespawner_traits import check_templates

#: Option and choice keys: they become HTML form names and ``user_options`` keys
#: (``<option>--unlisted-choice`` for the free-form field), so no ``--`` and no ``profile``.
_KEY = re.compile(r"^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$")
#: Fields a choice may set, by ``kubespawner_override`` key.
_FIELD_TRAITS = {
    "image": "image",
    "cpu_request": "cpu_guarantee",
    "cpu_limit": "cpu_limit",
    "memory_request": "mem_guarantee",
    "memory_limit": "mem_limit",
    "env": "environment",
    "default_url": "default_url",
}


def _check_key(where: Where, what: str, key: Any) -> None:
    if not isinstance(key, str) or not _KEY.match(key) or "--" in key or key == "profile":
        raise invalid(
            where,
            what,
            key,
            allowed="1-63 lowercase letters, digits, '-' and '_', starting and ending with a "
            "letter or digit, without '--', not 'profile' (it names a form field)",
            fix="use a short name like 'image' or 'size'",
        )


def _check_default_url(where: Where, what: str, url: str | None) -> None:
    if url is None:
        return
    if not is_clean_text(url) or not url.startswith("/"):
        raise invalid(
            where,
            what,
            url,
            allowed="a path on the user's server starting with '/', without control "
            "characters or surrounding whitespace",
            fix="e.g. '/lab'",
        )
    check_templates(where, what, url)


@dataclass(frozen=True)
class ProfileChoice:
    """One pre-defined choice of a ``ProfileOption``.

    Fields left ``None`` keep the profile's value.

    Attributes:
        display_name: What users see in the drop-down.
        default: The choice preselected; at most one per option. Default: False (then
            the first choice given is the default).
        image: The notebook image (pinned by tag or digest). Default: the profile's.
        cpu_request: CPU request, cores. Default: the profile's.
        cpu_limit: CPU limit, cores. Default: the profile's.
        memory_request: Memory request, e.g. ``"8Gi"``. Default: the profile's.
        memory_limit: Memory limit. Default: the profile's.
        env: Environment variables added (names the profile does not set). Default: none.
        default_url: The page servers open on, e.g. ``"/lab"``. Default: the profile's.
    """

    display_name: str
    default: bool = False
    image: str | None = None
    cpu_request: str | None = None
    cpu_limit: str | None = None
    memory_request: str | None = None
    memory_limit: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    default_url: str | None = None

    def fields(self) -> set[str]:
        """The fields this choice sets (``_FIELD_TRAITS`` names)."""
        return {f for f in _FIELD_TRAITS if getattr(self, f) not in (None, {})}

    def override(self) -> dict[str, Any]:
        """This choice's ``kubespawner_override`` (KubeSpawner units, as the profile's)."""
        where = "ProfileChoice"
        override: dict[str, Any] = {}
        if self.image is not None:
            override["image"] = self.image
        if self.cpu_request is not None:
            override["cpu_guarantee"] = float(parse_cpu(where, "cpu_request", self.cpu_request))
        if self.cpu_limit is not None:
            override["cpu_limit"] = float(parse_cpu(where, "cpu_limit", self.cpu_limit))
        if self.memory_request is not None:
            override["mem_guarantee"] = parse_memory(where, "memory_request", self.memory_request)
        if self.memory_limit is not None:
            override["mem_limit"] = parse_memory(where, "memory_limit", self.memory_limit)
        if self.env:
            override["environment"] = dict(sorted(self.env.items()))
        if self.default_url is not None:
            override["default_url"] = self.default_url
        return override


@dataclass(frozen=True)
class UnlistedChoice:
    r"""A free-form field of a ``ProfileOption`` (KubeSpawner ``unlisted_choice``) for an image.

    The value a user types replaces ``{value}`` in ``image``; it must match
    ``validation_regex`` (checked by KubeSpawner when the server starts, whether the
    request came from the form or the REST API).

    Attributes:
        display_name: The field's label, e.g. ``"Image"``.
        validation_regex: A regex anchored at both ends (``^...$``), e.g.
            ``r"^quay\\.io/jupyter/[a-z-]+:[0-9a-f-]+$"``: without ``$`` KubeSpawner's
            ``re.match`` accepts anything that merely starts right.
        validation_message: What users see when the value does not match. Default: the
            regex itself.
        image: The image, with ``{value}`` where the typed text goes. Default:
            ``"{value}"`` (the whole image reference).
        display_name_in_choices: The drop-down entry that reveals the field. Default:
            ``"Other..."``.
    """

    display_name: str
    validation_regex: str
    validation_message: str = ""
    image: str = "{value}"
    display_name_in_choices: str = "Other..."

    def entry(self) -> dict[str, Any]:
        """The ``unlisted_choice`` entry."""
        return {
            "enabled": True,
            "display_name": self.display_name,
            "display_name_in_choices": self.display_name_in_choices,
            "validation_regex": self.validation_regex,
            "validation_message": self.validation_message or f"must match {self.validation_regex}",
            "kubespawner_override": {"image": self.image},
        }


@dataclass(frozen=True)
class ProfileOption:
    """One drop-down inside a profile (KubeSpawner ``profile_options`` entry).

    Attributes:
        display_name: The drop-down's label.
        choices: The choices by key (the key is what the REST API's ``user_options``
            carry, e.g. ``{"profile": "gpu", "image": "pytorch"}``); at least one. The
            spawn page lists them in key order (the rendered config's keys are sorted).
        unlisted_choice: A free-form image field. Default: none.
    """

    display_name: str
    choices: Mapping[str, ProfileChoice]
    unlisted_choice: UnlistedChoice | None = None

    def default_choice(self) -> str:
        """The key of the preselected choice: the one marked default, else the first given."""
        return next((k for k, c in self.choices.items() if c.default), next(iter(self.choices)))

    def entry(self) -> dict[str, Any]:
        """The ``profile_options`` entry.

        The default is always explicit: the hub config is rendered with sorted keys, so
        KubeSpawner's own fallback (the first choice) would pick the first in key order.
        """
        default = self.default_choice()
        entry: dict[str, Any] = {
            "display_name": self.display_name,
            "choices": {
                key: {
                    "display_name": choice.display_name,
                    **({"default": True} if key == default else {}),
                    "kubespawner_override": choice.override(),
                }
                for key, choice in self.choices.items()
            },
        }
        if self.unlisted_choice is not None:
            entry["unlisted_choice"] = self.unlisted_choice.entry()
        return entry


def check_options(
    where: Construct,
    options: Mapping[str, ProfileOption],
    *,
    cpu: tuple[Decimal, Decimal],
    memory: tuple[int, int],
    env_names: set[str],
) -> None:
    """Raise unless every option of a profile is valid on top of the profile.

    Args:
        where: The profile (errors name its path).
        options: Its options by key.
        cpu: The profile's CPU (request, limit), cores.
        memory: The profile's memory (request, limit), bytes.
        env_names: Variables the profile sets (a choice may not replace them).

    Raises:
        ConfigurationError: A key, choice or regex is invalid, two options set the same
            field, or a choice's limit is below its request.
    """
    if not isinstance(options, Mapping):
        raise invalid(where, "options", options, allowed="a mapping", fix="give a dict")
    owner: dict[str, str] = {}
    for name, option in options.items():
        _check_key(where, "options key", name)
        what = f"options[{name!r}]"
        if not isinstance(option, ProfileOption):
            raise invalid(where, what, option, allowed="a ProfileOption", fix="wrap it")
        check_text(where, f"{what}.display_name", option.display_name)
        if not isinstance(option.choices, Mapping):
            raise invalid(
                where,
                f"{what}.choices",
                option.choices,
                allowed="a mapping of choice keys to ProfileChoice",
                fix='e.g. choices={"small": ProfileChoice("Small", default=True)}',
            )
        if not option.choices:
            raise invalid(
                where,
                f"{what}.choices",
                dict(option.choices) if isinstance(option.choices, Mapping) else option.choices,
                allowed="at least one ProfileChoice (KubeSpawner needs a default choice, "
                "even with an unlisted_choice)",
                fix="add the choice most users want",
            )
        for key, choice in option.choices.items():
            if not isinstance(choice, ProfileChoice):
                raise invalid(
                    where,
                    f"{what}.choices[{key!r}]",
                    choice,
                    allowed="a ProfileChoice",
                    fix="wrap it",
                )
        defaults = [k for k, c in option.choices.items() if c.default]
        if len(defaults) > 1:
            raise invalid(
                where,
                f"{what} default choices",
                defaults,
                allowed="at most one choice with default=True",
                fix="keep default=True on one choice",
            )
        fields: set[str] = set()
        for key, choice in option.choices.items():
            _check_key(where, f"{what} choice key", key)
            _check_choice(where, f"{what}.choices[{key!r}]", choice, cpu, memory, env_names)
            fields |= choice.fields()
        if option.unlisted_choice is not None:
            _check_unlisted(where, f"{what}.unlisted_choice", option.unlisted_choice)
            fields.add("image")
        for f in sorted(fields - {"env"}):
            if f in owner:
                raise invalid(
                    where,
                    f"{what} field",
                    f,
                    allowed=f"a field no other option sets (option {owner[f]!r} sets {f})",
                    fix="set each field in one option only: which one wins would depend on "
                    "the order KubeSpawner applies them",
                )
            owner[f] = name


def _check_choice(
    where: Construct,
    what: str,
    choice: ProfileChoice,
    cpu: tuple[Decimal, Decimal],
    memory: tuple[int, int],
    env_names: set[str],
) -> None:
    if not isinstance(choice, ProfileChoice):
        raise invalid(where, what, choice, allowed="a ProfileChoice", fix="wrap it")
    check_text(where, f"{what}.display_name", choice.display_name)
    check_bool(where, f"{what}.default", choice.default)
    if choice.image is not None:
        check_image(where, f"{what}.image", choice.image)
    request_cpu = (
        parse_cpu(where, f"{what}.cpu_request", choice.cpu_request)
        if choice.cpu_request is not None
        else cpu[0]
    )
    limit_cpu = (
        parse_cpu(where, f"{what}.cpu_limit", choice.cpu_limit)
        if choice.cpu_limit is not None
        else cpu[1]
    )
    if limit_cpu < request_cpu:
        raise invalid(
            where,
            f"{what}.cpu_limit",
            choice.cpu_limit or str(limit_cpu),
            allowed=f"at least the CPU request {request_cpu}",
            fix="set both cpu_request and cpu_limit on the choice",
        )
    request_memory = (
        parse_memory(where, f"{what}.memory_request", choice.memory_request)
        if choice.memory_request is not None
        else memory[0]
    )
    limit_memory = (
        parse_memory(where, f"{what}.memory_limit", choice.memory_limit)
        if choice.memory_limit is not None
        else memory[1]
    )
    if limit_memory < request_memory:
        raise invalid(
            where,
            f"{what}.memory_limit",
            choice.memory_limit or limit_memory,
            allowed=f"at least the memory request ({request_memory} bytes)",
            fix="set both memory_request and memory_limit on the choice",
        )
    env = check_env(where, f"{what}.env", choice.env)
    check_templates(where, f"{what}.env", env)
    for name in env:
        if name in env_names:
            raise invalid(
                where,
                f"{what}.env",
                name,
                allowed="a variable the profile (or a binding, or the hub) does not set",
                fix="rename it: a choice adds variables, it cannot replace the profile's",
            )
    _check_default_url(where, f"{what}.default_url", choice.default_url)


def _check_unlisted(where: Construct, what: str, unlisted: UnlistedChoice) -> None:
    if not isinstance(unlisted, UnlistedChoice):
        raise invalid(where, what, unlisted, allowed="an UnlistedChoice", fix="wrap it")
    check_text(where, f"{what}.display_name", unlisted.display_name)
    check_text(where, f"{what}.display_name_in_choices", unlisted.display_name_in_choices)
    check_text(where, f"{what}.validation_message", unlisted.validation_message, empty=True)
    regex = unlisted.validation_regex
    try:
        re.compile(regex)
    except (re.error, TypeError) as err:
        raise invalid(
            where,
            f"{what}.validation_regex",
            regex,
            allowed=f"a Python regular expression ({err})",
            fix="fix the expression",
        ) from err
    if not regex.startswith("^") or not (regex.endswith("$") or regex.endswith(r"\Z")):
        raise invalid(
            where,
            f"{what}.validation_regex",
            regex,
            allowed="a regex anchored at both ends, '^...$' (KubeSpawner uses re.match: "
            "without '$' any value that starts right is accepted)",
            fix="wrap it as '^(...)$'",
        )
    if regex in ("^.*$", "^.+$", "^(.*)$", "^(.+)$"):
        raise invalid(
            where,
            f"{what}.validation_regex",
            regex,
            allowed="a regex that limits what users may run (registry, repository, tag)",
            fix=r"e.g. '^quay\.io/jupyter/[a-z-]+:[0-9a-f-]+$'",
        )
    template = unlisted.image
    if not isinstance(template, str) or "{value}" not in template:
        raise invalid(
            where,
            f"{what}.image",
            template,
            allowed="an image template containing '{value}'",
            fix="e.g. '{value}' or 'quay.io/jupyter/scipy-notebook:{value}'",
        )
    try:
        sample = template.format(value="x")
    except (KeyError, IndexError, ValueError) as err:
        raise invalid(
            where,
            f"{what}.image",
            template,
            allowed="'{value}' as the only placeholder (KubeSpawner formats the text with it)",
            fix="double any other brace: '{{' and '}}'",
        ) from err
    del sample


def max_resources(
    options: Mapping[str, ProfileOption],
    cpu: tuple[Decimal, Decimal],
    memory: tuple[int, int],
) -> tuple[tuple[Decimal, Decimal], tuple[int, int]]:
    """The largest CPU and memory (request, limit) any choice gives a server of the profile."""
    cpus, mems = list(cpu), list(memory)
    for option in options.values():
        for choice in option.choices.values():
            for index, value in enumerate((choice.cpu_request, choice.cpu_limit)):
                if value is not None:
                    cpus[index] = max(cpus[index], parse_cpu("ProfileChoice", "cpu", value))
            for index, value in enumerate((choice.memory_request, choice.memory_limit)):
                if value is not None:
                    mems[index] = max(mems[index], parse_memory("ProfileChoice", "memory", value))
    return (cpus[0], cpus[1]), (mems[0], mems[1])


def option_images(options: Mapping[str, ProfileOption]) -> list[str]:
    """The images of every choice (for the pre-puller); unlisted values are unknown."""
    return [
        choice.image
        for option in options.values()
        for choice in option.choices.values()
        if choice.image is not None
    ]
