"""Where the hub keeps its state: sqlite on a volume, or an external PostgreSQL."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from constructs import Construct

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.quantities import parse_memory
from jupyter_constructs.core.rules import (
    check_choice,
    check_dns_subdomain,
    check_int,
    check_text,
    is_dns_subdomain,
)
from jupyter_constructs.core.secrets import SecretRef, check_secret

# The hub image's working directory; sqlite lives here on the PVC.
HUB_DATA_DIR = "/srv/jupyterhub"
#: The claim of the sqlite database (z2jh's name too); user pods never mount it.
DATABASE_CLAIM = "hub-db-dir"
_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


@dataclass(frozen=True)
class HubDatabase:
    """The hub database: build it with ``HubDatabase.sqlite_pvc()`` or ``HubDatabase.postgres()``.

    The hub must own its database, which is one reason it runs as exactly one replica.

    Attributes:
        kind: ``"sqlite-pvc"`` or ``"postgres"`` (set by the factory).
        size: The PVC size of sqlite. Default: ``"1Gi"``.
        storage_class: The PVC's StorageClass. Default: the cluster's default.
        host: PostgreSQL host.
        port: PostgreSQL port. Default: 5432.
        database: PostgreSQL database.
        user: PostgreSQL user.
        password: PostgreSQL password, reaching the hub as ``PGPASSWORD``.
        ssl_mode: libpq ``sslmode``. Default: libpq's own default.
    """

    kind: str
    size: str = "1Gi"
    storage_class: str | None = None
    host: str = ""
    port: int = 5432
    database: str = ""
    user: str = ""
    password: SecretRef | None = None
    ssl_mode: str | None = None

    @classmethod
    def sqlite_pvc(cls, *, size: str = "1Gi", storage_class: str | None = None) -> HubDatabase:
        """Sqlite on a ReadWriteOnce PVC mounted at /srv/jupyterhub.

        Default: 1Gi with the cluster's default StorageClass.
        """
        return cls(kind="sqlite-pvc", size=size, storage_class=storage_class)

    @classmethod
    def postgres(
        cls,
        *,
        host: str,
        database: str,
        user: str,
        password: SecretRef,
        port: int = 5432,
        ssl_mode: str | None = None,
    ) -> HubDatabase:
        """An external PostgreSQL. The password reaches the hub as ``PGPASSWORD`` from the Secret.

        Default port 5432; ``ssl_mode`` (libpq sslmode) defaults to libpq's own default.
        """
        return cls(
            kind="postgres",
            host=host,
            port=port,
            database=database,
            user=user,
            password=password,
            ssl_mode=ssl_mode,
        )

    @property
    def uses_volume(self) -> bool:
        """True when the hub needs a PVC for its state."""
        return self.kind == "sqlite-pvc"

    def check(self, scope: Construct) -> None:
        """Raise a ConfigurationError naming ``scope`` if a field is unusable."""
        if self.kind == "sqlite-pvc":
            parse_memory(scope, "HubDatabase.sqlite_pvc size", self.size)
            if self.storage_class is not None:
                check_dns_subdomain(scope, "HubDatabase storage_class", self.storage_class)
            return
        if self.kind != "postgres":
            raise invalid(
                scope,
                "HubDatabase kind",
                self.kind,
                allowed="'sqlite-pvc' or 'postgres'",
                fix="build it with HubDatabase.sqlite_pvc() or HubDatabase.postgres()",
            )
        # The password first: a plain string here is the credential itself, never echoed.
        check_secret(scope, "HubDatabase.postgres password", self.password)
        if not _is_host(self.host):
            raise invalid(
                scope,
                "HubDatabase.postgres host",
                self.host,
                allowed="a DNS name such as 'postgres.db' or an IP address (no scheme, "
                "port or whitespace)",
                fix="pass the PostgreSQL server's host name",
            )
        for what in ("database", "user"):
            value = check_text(scope, f"HubDatabase.postgres {what}", getattr(self, what))
            if any(c.isspace() for c in value):
                raise invalid(
                    scope,
                    f"HubDatabase.postgres {what}",
                    value,
                    allowed="a name without whitespace",
                    fix=f"pass {what}= to HubDatabase.postgres()",
                )
        check_int(
            scope,
            "HubDatabase.postgres port",
            self.port,
            minimum=1,
            maximum=65535,
            fix="pass the PostgreSQL port, usually 5432",
        )
        if self.ssl_mode is not None:
            check_choice(
                scope,
                "HubDatabase.postgres ssl_mode",
                self.ssl_mode,
                _SSL_MODES,
                fix="use a libpq sslmode, e.g. 'require'",
            )

    def db_url(self) -> str:
        """SQLAlchemy URL for ``JupyterHub.db_url``; never contains the password."""
        if self.kind == "sqlite-pvc":
            return f"sqlite:///{HUB_DATA_DIR}/jupyterhub.sqlite"
        user, database = quote(self.user, safe=""), quote(self.database, safe="")
        host = f"[{self.host}]" if ":" in self.host else self.host
        url = f"postgresql+psycopg2://{user}@{host}:{self.port}/{database}"
        return f"{url}?sslmode={self.ssl_mode}" if self.ssl_mode else url

    def secret_env(self) -> dict[str, Any]:
        """Env vars of the hub container that carry the database secret (libpq reads PGPASSWORD)."""
        if self.password is None:
            return {}
        return {"PGPASSWORD": self.password}


def _is_host(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return is_dns_subdomain(value)
