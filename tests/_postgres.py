"""A real, throw-away PostgreSQL server for tests: initdb + pg_ctl on a free loopback port.

initdb refuses to run as root, so as root the server runs as the ``postgres`` system user
(created by the distribution's postgresql package) through ``subprocess``'s ``user=``;
otherwise it runs as the current user. Authentication is ``trust`` on 127.0.0.1 only.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SEARCH = ("/usr/local/bin", "/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin")


def find_binary(name: str) -> str | None:
    """``name`` on PATH or in the usual PostgreSQL install locations (newest version first)."""
    found = shutil.which(name)
    if found:
        return found
    for pattern in SEARCH:
        for d in sorted(glob.glob(pattern), reverse=True):
            if os.access(Path(d) / name, os.X_OK):
                return str(Path(d) / name)
    return None


def why_unavailable() -> str | None:
    """``None`` when a server can be started here, else the reason (used as skip reason)."""
    missing = [b for b in ("initdb", "pg_ctl", "postgres") if find_binary(b) is None]
    if missing:
        return (
            f"PostgreSQL binaries not found ({', '.join(missing)}); install them, e.g. "
            "`apt-get install -y postgresql`"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and no 'postgres' user to run initdb as"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    """A running server; ``url`` is a SQLAlchemy URL for its ``postgres`` database."""

    data_dir: Path
    port: int
    user: str | None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://pr2prod@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        _run(
            [
                find_binary("pg_ctl") or "pg_ctl",
                "-D",
                str(self.data_dir / "data"),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
            self.user,
            check=False,
        )
        shutil.rmtree(self.data_dir, ignore_errors=True)


def start_server() -> PostgresServer:
    """initdb a fresh cluster in a temp dir and start it on a free port (waits until ready)."""
    user = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="pr2prod-pg-"))
    if user is not None:
        info = pwd.getpwnam(user)
        os.chown(root, info.pw_uid, info.pw_gid)
    data = root / "data"
    _run(
        [
            find_binary("initdb") or "initdb",
            "-D",
            str(data),
            "-U",
            "pr2prod",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
        ],
        user,
    )
    last_error = ""
    for _ in range(3):
        port = free_port()
        opts = f"-p {port} -h 127.0.0.1 -k {root} -c fsync=off -c full_page_writes=off"
        proc = _run(
            [
                find_binary("pg_ctl") or "pg_ctl",
                "-D",
                str(data),
                "-l",
                str(root / "server.log"),
                "-o",
                opts,
                "-w",
                "-t",
                "60",
                "start",
            ],
            user,
            check=False,
        )
        if proc.returncode == 0:
            return PostgresServer(root, port, user)
        last_error = proc.stdout + proc.stderr
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"PostgreSQL did not start:\n{last_error}")


def _run(cmd: list[str], user: str | None, check: bool = True) -> subprocess.CompletedProcess[str]:
    kwargs: dict[str, object] = {}
    if user is not None:
        info = pwd.getpwnam(user)
        kwargs = {"user": info.pw_uid, "group": info.pw_gid, "extra_groups": [], "cwd": "/tmp"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=120, check=False, **kwargs
    )  # type: ignore[arg-type]
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return proc
