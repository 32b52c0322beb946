"""A throwaway PostgreSQL server for tests and benchmarks: initdb + pg_ctl in a temp directory.

Uses Debian's `postgresql` package (binaries under /usr/lib/postgresql/<version>/bin). initdb and
pg_ctl refuse to run as root, so as root the server runs as the `postgres` user (else `nobody`)
in a temporary directory handed over to that user.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.processes import free_port

USER = "faithgate"  # the database superuser initdb creates (trust auth on loopback only)


def find_bindir() -> Path | None:
    """The newest PostgreSQL bin directory that has initdb and pg_ctl."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    return None


def _run_as() -> tuple[list[str], pwd.struct_passwd | None]:
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        try:
            account = pwd.getpwnam(name)
        except KeyError:
            continue
        if shutil.which("runuser"):
            return ["runuser", "-u", name, "--"], account
        return [
            "setpriv",
            f"--reuid={account.pw_uid}",
            f"--regid={account.pw_gid}",
            "--clear-groups",
        ], account
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists")


class PgServer:
    """A running server; url(db) gives a SQLAlchemy URL, create/drop_database manage test DBs."""

    def __init__(self, root: Path, bindir: Path, port: int, prefix: list[str]) -> None:
        self.root, self.bindir, self.port, self._prefix = root, bindir, port, prefix
        self.running = True

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of one database on this server."""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=USER, dbname="postgres", autocommit=True
        ) as c:
            c.execute(sql)

    def create_database(self, name: str) -> str:
        """Create a database (name: letters, digits, _) and return its URL."""
        assert name.replace("_", "").isalnum()
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing any connection still open to it."""
        assert name.replace("_", "").isalnum()
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def pids(self) -> list[int]:
        """The postmaster and every process it started (backends, checkpointer, walwriter…)."""
        head = (self.root / "data" / "postmaster.pid").read_text().splitlines()[0]
        master = int(head)
        found = [master]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == master:
                found.append(int(stat.parent.name))
        return found

    def pause(self) -> None:
        """SIGSTOP every server process: connections stay open and nothing answers (a stall)."""
        for pid in self.pids():
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT what pause() stopped."""
        for pid in self.pids():
            os.kill(pid, signal.SIGCONT)

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*self._prefix, str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), *args],
            capture_output=True,
            timeout=90,
            cwd=self.root,
            check=True,
        )

    def halt(self) -> None:
        """Stop the server like a crash (immediate), keeping its data for restart()."""
        self._pg_ctl("-m", "immediate", "-w", "stop")

    def restart(self) -> None:
        """Start a halt()ed server again on the same port, with its data."""
        flags = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-l", str(self.root / "server.log"), "-o", flags, "-w", "-t", "60", "start")

    def stop(self) -> None:
        """Stop the server (immediate: the data is thrown away) and delete its directory."""
        if self.running:
            self.running = False
            subprocess.run(
                [
                    *self._prefix,
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.root / "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(self.root, ignore_errors=True)


def _log_tail(root: Path) -> str:
    try:
        return (root / "server.log").read_text(errors="replace")[-2000:]
    except OSError:
        return ""


def start(*, fsync: bool = False) -> PgServer:
    """Start a fresh server on a free loopback port; RuntimeError says why it could not.

    fsync=False (tests) skips disk flushes, which is safe for throwaway data and much faster;
    benchmarks pass fsync=True to measure what a real deployment would see.
    """
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install -y postgresql)")
    prefix, account = _run_as()
    root = Path(tempfile.mkdtemp(prefix="faithgate-pg-"))
    if account is not None:
        os.chown(root, account.pw_uid, account.pw_gid)
    root.chmod(0o700)
    data = root / "data"
    initdb = [
        *prefix,
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        USER,
        "--auth=trust",
        "-E",
        "UTF8",
        "--locale=C",
    ]
    out = subprocess.run(
        [*initdb, "--no-sync"], capture_output=True, text=True, timeout=120, cwd=root
    )
    if out.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {out.stderr.strip() or out.stdout.strip()}")
    last_error = ""
    for _ in range(3):  # a free port can be taken between probing and binding: try another
        port = free_port()
        flags = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync={'on' if fsync else 'off'}"
        )
        if not fsync:
            flags += " -c full_page_writes=off -c synchronous_commit=off"
        started = subprocess.run(
            [
                *prefix,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(root / "server.log"),
                "-o",
                flags,
                "-w",
                "-t",
                "60",
                "start",
            ],
            capture_output=True,
            text=True,
            timeout=90,
            cwd=root,
        )
        if started.returncode == 0:
            server = PgServer(root, bindir, port, prefix)
            atexit.register(server.stop)
            return server
        last_error = started.stderr.strip() + "\n" + _log_tail(root)
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"pg_ctl start failed: {last_error}")


def database_url(backend: str, folder: Path, pg_server: Any, prefix: str) -> Iterator[str]:
    """A fresh database on `backend` ("sqlite" in `folder`, or "postgresql" on `pg_server`,
    a callable giving the session's PgServer), dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'faithgate.db'}"
        return
    server = pg_server()
    name = prefix + uuid.uuid4().hex[:16]
    url = server.create_database(name)
    yield url
    server.drop_database(name)
