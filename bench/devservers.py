"""Throwaway servers the benchmarks and the test suite both start: a PostgreSQL cluster and a
free port (tests/support/servers.py re-exports them; bench/ never imports tests/)."""
from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

POSTGRES_USER = "postgres"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_tool(name: str) -> str:
    debian_builds = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    found = shutil.which(name) or next(iter(debian_builds), None)
    if found is None:
        raise RuntimeError(f"{name} not found: install PostgreSQL (apt-get install postgresql)")
    return found


class PostgresServer:
    """A PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 only.

    PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
    Durability is switched off: the data is thrown away anyway, and tests run faster.
    """

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="mbid-pg-"))
        self.data_dir = self.base / "data"
        self.port = free_port()
        self._names = itertools.count(1)
        self._as_root = os.geteuid() == 0

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", POSTGRES_USER, "--"] if self._as_root else []
        result = subprocess.run(prefix + list(command), capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> PostgresServer:
        """Create the cluster and start the server; return self."""
        if self._as_root:
            user = pwd.getpwnam(POSTGRES_USER)
            os.chown(self.base, user.pw_uid, user.pw_gid)
        self._run(_postgres_tool("initdb"), "-D", str(self.data_dir), "-U", POSTGRES_USER,
                  "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(_postgres_tool("pg_ctl"), "-D", str(self.data_dir), "-l",
                  str(self.base / "server.log"), "-w", "-t", "60", "-o", options, "start")
        return self

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of `database` on this server."""
        return f"postgresql+psycopg://{POSTGRES_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "mbid_test") -> str:
        """Create a new empty database and return its SQLAlchemy URL."""
        name = f"{prefix}_{next(self._names)}"
        dsn = f"host=127.0.0.1 port={self.port} user={POSTGRES_USER} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and delete its files."""
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run(_postgres_tool("pg_ctl"), "-D", str(self.data_dir), "-m", "immediate",
                          "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
