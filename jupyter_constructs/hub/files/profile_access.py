"""Who may use which profile, and under which slugs, enforced in the hub.

Shipped in the hub ConfigMap when a profile has ``allowed_groups``, ``allowed_users`` or
``former_slugs``.

Restricted profiles: ``jupyterhub_config.py`` replaces ``KubeSpawner.profile_list`` with
a ``ProfileFilter``. KubeSpawner calls it both to render the spawn form and in
``load_user_options`` before a server starts (form and REST API alike), so a profile a user
may not use is neither shown nor startable: KubeSpawner refuses its slug as "No such
profile".

Renamed profiles: ``jupyterhub_config.py`` makes the hub's spawner class a subclass from
``renaming_spawner``, whose ``load_user_options`` maps a former slug in the user's options
to the profile's current slug before KubeSpawner validates it. JupyterHub hands a spawner
the options of the request, or, for a start without options (REST API, the "start my
server" button), the user's last stored ones, which name the slug of the day they chose.
"""

from typing import Any


class ProfileFilter:
    """A callable ``profile_list``: the profiles ``spawner.user`` may use.

    Args:
        profiles: The full ``profile_list`` (as rendered at synth).
        access: Profile slug -> ``{"groups": [...], "users": [...]}``; a slug not listed
            is open to everyone.
    """

    def __init__(
        self, profiles: list[dict[str, Any]], access: dict[str, dict[str, list[str]]]
    ) -> None:
        self.profiles = profiles
        self.access = access

    def allows(self, slug: str, user_name: str, groups: set[str]) -> bool:
        """True if the user named ``user_name``, member of ``groups``, may use ``slug``."""
        rule = self.access.get(slug)
        if not rule:
            return True
        return user_name in rule.get("users", ()) or bool(groups & set(rule.get("groups", ())))

    def __call__(self, spawner: Any) -> list[dict[str, Any]]:
        """The profiles of ``spawner``'s user (KubeSpawner deep-copies what it gets)."""
        user = spawner.user
        groups = {group.name for group in getattr(user, "groups", None) or ()}
        allowed = [p for p in self.profiles if self.allows(p["slug"], user.name, groups)]
        hidden = len(self.profiles) - len(allowed)
        if hidden:
            spawner.log.debug("%d profile(s) hidden from user %s", hidden, user.name)
        return allowed


def renaming_spawner(base: type, renames: dict[str, str]) -> type:
    """A subclass of ``base`` (KubeSpawner) that maps former profile slugs to current ones.

    Args:
        base: The spawner class (``kubespawner.KubeSpawner``); its configuration applies
            to the subclass unchanged (traitlets reads the sections of every parent class).
        renames: Former slug -> current slug.

    Returns:
        The subclass (``RenamingSpawner``).
    """

    class RenamingSpawner(base):  # type: ignore[misc]
        async def load_user_options(self: Any) -> Any:
            options = self.user_options or {}
            slug = options.get("profile")
            if isinstance(slug, str) and slug in renames:
                self.log.info(
                    "Profile %s was renamed %s: starting %s for %s",
                    slug,
                    renames[slug],
                    renames[slug],
                    self.user.name,
                )
                self.user_options = {**options, "profile": renames[slug]}
            return await super().load_user_options()

    return RenamingSpawner
