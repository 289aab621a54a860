"""Named servers: several servers per user, each with a name (JupyterHub ``allow_named_servers``).

Reference: https://jupyterhub.readthedocs.io/en/stable/howto/configuration/config-user-env.html
(named servers) and KubeSpawner's ``{user_server}`` template field (``username--servername``
for a named server, the user name alone for the default server).
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.rules import check_bool

#: The default home claim name template (``UserStorage``) and its per-server form. For the
#: default server ``{user_server}`` is ``{username}``: its home keeps its claim.
DEFAULT_CLAIM_TEMPLATE = "claim-{username}"
PER_SERVER_CLAIM_TEMPLATE = "claim-{user_server}"


@dataclass(frozen=True)
class NamedServers:
    """Let users run several named servers (JupyterHub ``allow_named_servers``).

    Attributes:
        limit_per_user: Most named servers a user may have, running or stopped
            (``named_server_limit_per_user``); 0: no limit. Default: 3.
        home_per_server: Each named server gets its own home claim
            (``claim-{user_server}``: ``claim-alice--work``), the default server keeping
            ``claim-{username}``. With False every server of a user mounts the one home
            claim, which needs a ``ReadWriteMany`` home (``UserStorage(access_mode=...)``)
            or a shared home: a ``ReadWriteOnce`` claim attaches to one node only, so a
            second server on another node would never start. Default: True (dynamic homes
            only; shared and no homes are the same for every server).
    """

    limit_per_user: int = 3
    home_per_server: bool = True

    def check(self, scope: Construct) -> NamedServers:
        """Return self if every field is valid.

        Raises:
            ConfigurationError: ``limit_per_user`` is negative or not a whole number.
        """
        limit = self.limit_per_user
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise invalid(
                scope,
                "NamedServers.limit_per_user",
                limit,
                allowed="a whole number >= 0 (0: no limit)",
                fix="e.g. NamedServers(limit_per_user=3)",
            )
        check_bool(scope, "NamedServers.home_per_server", self.home_per_server)
        return self

    def hub_traits(self) -> dict[str, object]:
        """The ``JupyterHub`` traits."""
        return {"allow_named_servers": True, "named_server_limit_per_user": self.limit_per_user}
