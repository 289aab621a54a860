"""The idle culler: stops servers nobody uses, as a hub-managed service with a scoped role."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.rules import check_bool, check_int

SERVICE_NAME = "idle-culler"


@dataclass(frozen=True)
class IdleCuller:
    """Settings of ``jupyterhub-idle-culler`` (shipped in the hub image), run by the hub.

    Reference: https://github.com/jupyterhub/jupyterhub-idle-culler

    Attributes:
        timeout: Stop a server idle for this many seconds. Default: 3600.
        interval: Seconds between checks (``--cull-every``). Default: 600.
        max_age: Stop any server older than this many seconds; 0: no maximum. Default: 0.
        cull_users: Also delete idle users (``--cull-users``). Their homes are kept
            unless ``UserStorage(delete_pvc=True)`` (then the synth warns). Default: False.
        concurrency: Concurrent hub API requests. Default: 10.
        remove_named_servers: Delete idle named servers instead of only stopping them
            (``--remove-named-servers``); their home claims are kept. Default: False.
        cull_admin_users: With ``cull_users``, delete idle admins too
            (``--cull-admin-users``). Default: False (the culler's own default is True).
    """

    timeout: int = 3600
    interval: int = 600
    max_age: int = 0
    cull_users: bool = False
    concurrency: int = 10
    remove_named_servers: bool = False
    cull_admin_users: bool = False

    def check(self, scope: Construct) -> IdleCuller:
        """Return self if every field is valid.

        Args:
            scope: The construct that uses it (errors name its path).

        Raises:
            ConfigurationError: A field is invalid.
        """
        for what in ("timeout", "interval", "concurrency"):
            check_int(
                scope,
                f"IdleCuller.{what}",
                getattr(self, what),
                minimum=1,
                fix="e.g. IdleCuller(timeout=3600)",
            )
        check_int(
            scope,
            "IdleCuller.max_age",
            self.max_age,
            minimum=0,
            fix="0 (no maximum) or seconds, e.g. max_age=86400",
        )
        check_bool(scope, "IdleCuller.cull_users", self.cull_users)
        check_bool(scope, "IdleCuller.remove_named_servers", self.remove_named_servers)
        check_bool(scope, "IdleCuller.cull_admin_users", self.cull_admin_users)
        if self.cull_admin_users and not self.cull_users:
            raise invalid(
                scope,
                "IdleCuller.cull_admin_users",
                True,
                allowed="True only with cull_users=True (it chooses whether admins are among "
                "the users deleted)",
                fix="drop cull_admin_users, or set cull_users=True",
            )
        return self

    def command(self, *, hub_api_url: str) -> list[str]:
        """The command line the hub runs the culler with.

        Args:
            hub_api_url: The hub's API as the culler reaches it: the hub pod's loopback
                (``JupyterHub.loopback_api_url``), as z2jh passes
                ``--url=http://localhost:8081<base_url>hub/api``.
        """
        cmd = [
            "python3",
            "-m",
            "jupyterhub_idle_culler",
            f"--url={hub_api_url}",
            f"--timeout={self.timeout}",
            f"--cull-every={self.interval}",
            f"--concurrency={self.concurrency}",
        ]
        if self.max_age:
            cmd.append(f"--max-age={self.max_age}")
        if self.cull_users:
            cmd.append("--cull-users")
            cmd.append(f"--cull-admin-users={str(self.cull_admin_users).lower()}")
        if self.remove_named_servers:
            cmd.append("--remove-named-servers")
        return cmd

    def scopes(self) -> list[str]:
        """Exactly the JupyterHub scopes the culler needs (its README lists them)."""
        scopes = ["list:users", "read:users:activity", "read:servers", "delete:servers"]
        if self.cull_users:
            scopes.append("admin:users")
        return scopes
