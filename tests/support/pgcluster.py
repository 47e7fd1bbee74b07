"""A throwaway PostgreSQL server of the test's own, to stop and start at will (a database outage drill).

initdb + pg_ctl on a free loopback port, in a temporary folder owned by the `postgres` user
(PostgreSQL refuses to run as root). It starts in about a second. Tests that need it skip with the
reason when the binaries or the user are missing, unless WILDWATCH_REQUIRE_POSTGRES=1 (CI).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayCluster:
    """`with ThrowawayCluster() as pg: pg.url ... pg.stop() ... pg.start()`; removed on exit."""

    def __init__(self):
        self.bin = _bin_dir()
        problem = None
        if self.bin is None:
            problem = "PostgreSQL server binaries (initdb, pg_ctl) not found"
        elif os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                problem = "running as root and there is no `postgres` user to run PostgreSQL as"
        if problem:
            if os.environ.get("WILDWATCH_REQUIRE_POSTGRES") == "1":
                pytest.fail(f"WILDWATCH_REQUIRE_POSTGRES=1 but {problem}")
            pytest.skip(problem)
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="wildwatch-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.root)

    def __enter__(self) -> "ThrowawayCluster":
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        result = self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "--no-sync")
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed: {result.stderr[-2000:]}")
        self.start()
        return self

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} -c fsync=off"
        result = self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"),
                           "-w", "start")
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {result.stderr[-2000:]}")

    def stop(self) -> None:
        """Fast shutdown: open connections are cut, as when a server goes down under a client."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def __exit__(self, *exc_info) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
