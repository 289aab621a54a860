"""PostgreSQL 15 (Debian's ``postgresql`` package): one server per test session.

The server runs from a fresh cluster in a temporary folder, with password (scram)
authentication on loopback, and each test gets a database of its own
(``PostgresServer.new_database``), so tests share the server, never their data.
PostgreSQL refuses to run as root: as root, the folder belongs to ``postgres`` and the
binaries run as that user.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.process import LOOPBACK, Service, free_port, run_tool, start

if TYPE_CHECKING:
    import psycopg

#: Major version: Debian 12's ``postgresql`` package (what .ci/run installs).
VERSION = "15"
BIN = Path("/usr/lib/postgresql") / VERSION / "bin"
START_TIMEOUT = 90.0
USER = "notebook"


@dataclass(frozen=True)
class Postgres:
    """Where a test's database is, and how to log in (the ``notebook`` superuser)."""

    host: str
    port: int
    user: str
    password: str
    database: str

    def env(self, sslmode: str = "disable") -> dict[str, str]:
        """The ``PG*`` variables a postgres binding sets."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGDATABASE": self.database,
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGSSLMODE": sslmode,
        }


@dataclass
class PostgresServer:
    """A running server; ``admin`` logs in to its ``postgres`` database."""

    admin: Postgres
    service: Service

    def new_database(self) -> Postgres:
        """A new, empty database for one test (or one module)."""
        name = f"test_{secrets.token_hex(6)}"
        with self._connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return replace(self.admin, database=name)

    def drop_database(self, database: Postgres) -> None:
        """Drop a database made by ``new_database`` (sessions still open are ended)."""
        import psycopg

        with contextlib.suppress(psycopg.Error), self._connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database.database}" WITH (FORCE)')

    def _connect(self) -> psycopg.Connection[Any]:
        import psycopg

        a = self.admin
        return psycopg.connect(
            host=a.host,
            port=a.port,
            user=a.user,
            password=a.password,
            dbname=a.database,
            autocommit=True,
            connect_timeout=10,
        )


def _require_binaries() -> None:
    if not (BIN / "initdb").exists() or not (BIN / "postgres").exists():
        pytest.fail(
            f"PostgreSQL {VERSION} server binaries are missing ({BIN}): "
            "apt-get install postgresql (.ci/run does this)"
        )
    version = run_tool([BIN / "postgres", "--version"])
    if f"(PostgreSQL) {VERSION}." not in version:
        pytest.fail(f"expected PostgreSQL {VERSION}, found: {version.strip()}")


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start PostgreSQL on a free loopback port; stop it and delete its files afterwards."""
    _require_binaries()
    as_root = os.geteuid() == 0
    # Not under pytest's temporary folder: its parents are private to root, and the
    # server runs as ``postgres``. The unix socket lives here too (short path).
    base = Path(tempfile.mkdtemp(prefix="pgtest-"))
    data, pwfile = base / "data", base / "pwfile"
    password = secrets.token_urlsafe(16)
    pwfile.write_text(password + "\n")
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(base, "postgres")
        shutil.chown(pwfile, "postgres")
    try:
        subprocess.run(
            [
                *prefix,
                str(BIN / "initdb"),
                f"--pgdata={data}",
                f"--username={USER}",
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--no-sync",
                "--encoding=UTF8",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        admin = Postgres(LOOPBACK, free_port(), USER, password, "postgres")

        def accepts_logins() -> bool:
            import psycopg

            try:
                psycopg.connect(
                    host=admin.host,
                    port=admin.port,
                    user=admin.user,
                    password=admin.password,
                    dbname=admin.database,
                    connect_timeout=2,
                ).close()
            except psycopg.OperationalError:
                return False
            return True

        service = start(
            f"PostgreSQL {VERSION}",
            # -F: no fsync (throwaway data); -k: the unix socket in our folder.
            [BIN / "postgres", "-D", data, "-h", LOOPBACK, "-p", str(admin.port), "-k", base, "-F"],
            ready=accepts_logins,
            log_path=base / "server.log",
            timeout=START_TIMEOUT,
            user="postgres",
            # SIGINT is PostgreSQL's "fast" shutdown: it does not wait for open sessions.
            stop_signal=signal.SIGINT,
        )
        try:
            yield PostgresServer(admin, service)
        finally:
            service.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)
