"""Which platform service bindings reach which profiles of a hub, and the checks on them.

The hub owns this registry (``JupyterHub.add_binding``, ``profile.add_binding``); the
bindings themselves are add-ons (``jupyter_constructs.addons.bindings``). Rules, each
with its message: a binding is bound to the whole hub or to profiles, not both; each
target once; names unique per hub; no two bindings set one variable on a profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from jupyter_constructs.core.errors import ConfigurationError, invalid
from jupyter_constructs.hub.profiles import NotebookProfile, UserPodBinding


class NamedBinding(UserPodBinding, Protocol):
    """A binding as the registry sees it: its pods' environment, volumes and name."""

    @property
    def name(self) -> str:
        """The binding's name, unique per hub."""
        ...


class HubBindings:
    """The bindings of one hub: hub-wide ones and those of single profiles."""

    def __init__(self, hub_path: str) -> None:
        self._hub_path = hub_path
        self._all: list[NamedBinding] = []  # in the order bound
        self._hub_wide: list[NamedBinding] = []
        self._profiles: dict[NamedBinding, list[NotebookProfile]] = {}

    def __contains__(self, binding: object) -> bool:
        return binding in self._all

    @property
    def all(self) -> list[NamedBinding]:
        """Every binding, in the order bound."""
        return list(self._all)

    @property
    def hub_wide(self) -> list[NamedBinding]:
        """Bindings of every profile."""
        return list(self._hub_wide)

    def check_new(
        self,
        binding: NamedBinding,
        profile: NotebookProfile | None,
        profiles: Sequence[NotebookProfile],
    ) -> None:
        """Raise if ``binding`` may not be bound to ``profile`` (``None``: the hub).

        Args:
            binding: The binding.
            profile: The profile, or ``None`` for every profile.
            profiles: The hub's profiles now.

        Raises:
            ConfigurationError: One of the rules of the module docstring is broken.
        """
        if profile is None:
            if binding in self._hub_wide:
                raise invalid(
                    self._hub_path,
                    "binding",
                    binding.node.path,
                    allowed="each binding once",
                    fix="remove the second add_binding call",
                )
            if binding in self._profiles:
                bound_to = ", ".join(p.slug for p in self._profiles[binding])
                raise _one_target(binding, self._hub_path, bound_to)
        elif binding in self._hub_wide:
            raise _one_target(binding, profile.node.path, "the hub")
        for other in self._all:
            if other is not binding and other.name == binding.name:
                raise invalid(
                    binding.node.path,
                    "binding name",
                    binding.name,
                    allowed=f"a name no other binding of the hub uses ({other.node.path} has it)",
                    fix="pass name= to one of them",
                )
        for target in profiles if profile is None else [profile]:
            clash = _clash(binding, target, self.of(target))
            if clash:
                raise ConfigurationError(clash)

    def add(self, binding: NamedBinding, profile: NotebookProfile | None) -> None:
        """Record ``binding`` for ``profile`` (``None``: every profile); checked before."""
        if binding not in self._all:
            self._all.append(binding)
        if profile is None:
            self._hub_wide.append(binding)
        else:
            self._profiles.setdefault(binding, []).append(profile)

    def of(self, profile: NotebookProfile) -> list[NamedBinding]:
        """Bindings reaching ``profile``'s servers: hub-wide ones, then its own."""
        own = [b for b in self._all if profile in self._profiles.get(b, [])]
        return [*self._hub_wide, *(b for b in own if b not in self._hub_wide)]

    def profiles_of(self, binding: NamedBinding) -> list[NotebookProfile] | None:
        """The profiles ``binding`` is bound to; ``None`` when it is bound hub-wide."""
        if binding in self._hub_wide:
            return None
        return list(self._profiles.get(binding, []))

    def errors(self, profiles: Sequence[NotebookProfile]) -> list[str]:
        """Variables set twice on a profile, profiles added later included."""
        errors = []
        for binding in self._all:
            targets = profiles if binding in self._hub_wide else self._profiles[binding]
            for profile in targets:
                clash = _clash(binding, profile, self.of(profile))
                if clash:
                    errors.append(clash)
        return errors


def _one_target(binding: NamedBinding, target: str, bound_to: str) -> ConfigurationError:
    return invalid(
        binding.node.path,
        "binding target",
        target,
        allowed=f"one target per binding: it is already bound to {bound_to}",
        fix="bind it to the hub (every profile) or to profiles, not both",
    )


def _clash(binding: NamedBinding, profile: NotebookProfile, others: Sequence[NamedBinding]) -> str:
    mine = set(binding.environment())
    for other in others:
        if other is binding:
            continue
        shared = sorted(mine & set(other.environment()))
        if shared:
            return str(
                invalid(
                    binding.node.path,
                    "environment variable",
                    shared[0],
                    allowed=f"a variable no other binding of profile {profile.slug!r} "
                    f"sets ({other.node.path} sets it)",
                    fix="bind only one binding of each service to a profile; bind the "
                    "other one to another profile",
                )
            )
    return ""
