"""A throwaway real PostgreSQL server for tests and local work, from Debian's packages.

    python deploy/local/postgres.py      # start one, print its URL, stop on Ctrl-C

initdb into a temporary directory, start on a free loopback port with durability
switched off (it is thrown away), stop and delete it afterwards. PostgreSQL refuses
to run as root: as root the server runs as the `postgres` user Debian creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class ServerError(RuntimeError):
    pass


def find_bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ServerError(
        "PostgreSQL server binaries not found: install Debian's 'postgresql' package (make test does this as "
        "root)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="register-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.as_root = os.geteuid() == 0
        self.started = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.log.read_text()[-3000:] if self.log.exists() else ""
            raise ServerError(
                f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n{log}"
            )
        return result

    def start(self) -> str:
        """Start the server (again, after `pause`, on the same data and port)."""
        os.chmod(self.base, 0o755)
        if self.as_root:
            shutil.chown(self.base, "postgres", "postgres")
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c max_connections=100"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "start",
        )
        self.started = True
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self.url
            except OSError:
                time.sleep(0.2)
        raise ServerError(f"PostgreSQL did not accept connections on port {self.port}")

    def start_standby_of(self, primary: PostgresServer) -> str:
        """Start this server as a streaming hot standby of `primary` (a base backup of it, recovery
        configured by `pg_basebackup -R`): read-only, replaying the primary's changes as they come."""
        os.chmod(self.base, 0o755)
        if self.as_root:
            shutil.chown(self.base, "postgres", "postgres")
        if not (self.data / "PG_VERSION").exists():
            self._run(
                str(self.bindir / "pg_basebackup"),
                "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                "-D", str(self.data), "-R", "-X", "stream", "--no-sync", "--checkpoint=fast",
            )  # fmt: skip
        return self.start()

    def pause(self) -> None:
        """Stop the server as a crash would (every connection cut), keeping its data, so `start` brings the
        same server back."""
        if self.started:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self.started = False

    def _initdb(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )

    def pg_dump(self, database: str) -> str:
        """The database as plain SQL text, as a backup would hold it."""
        result = subprocess.run(
            [
                str(self.bindir / "pg_dump"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "--no-owner",
                database,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise ServerError(f"pg_dump failed: {result.stderr}")
        return result.stdout

    def stop(self) -> None:
        try:
            self.pause()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


if __name__ == "__main__":
    from running import serve_until_stopped

    serve_until_stopped(PostgresServer())
