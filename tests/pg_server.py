"""A throwaway PostgreSQL server for tests: initdb into a temporary folder, listen on 127.0.0.1, stop after.

Uses the server binaries of Debian's ``postgresql`` package (``make postgres-deps`` installs them). As root,
the server runs as the ``postgres`` system user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["missing_reason", "postgres_server"]


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(Path(p).parts[-3]))
    return versions[-1] if versions else None


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


def missing_reason() -> str | None:
    """Why no test server can start here, or None when it can."""
    if _binary("initdb") is None or _binary("pg_ctl") is None:
        return (
            "PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's postgresql package "
            "(make postgres-deps, or: sudo apt-get install -y postgresql)"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a 'postgres' system user to run the server as"
        if shutil.which("runuser") is None:
            return "running as root without runuser to start the server as the 'postgres' user"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server on 127.0.0.1 and yield its URL (``postgresql://agentrec@127.0.0.1:PORT/postgres``)."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    assert initdb and pg_ctl, missing_reason()
    root = Path(tempfile.mkdtemp(prefix="agentrec-pg-"))
    data, log = root / "data", root / "server.log"
    as_user = _run_as()
    if as_user:
        entry = pwd.getpwnam("postgres")
        os.chown(root, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    try:
        subprocess.run(
            [*as_user, initdb, "-D", str(data), "-U", "agentrec", "--auth=trust", "-E", "UTF8", "--no-sync"], **run
        )
        opts = f"-h 127.0.0.1 -p {port} -k {root} -F -c fsync=off -c full_page_writes=off"
        start = [pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", opts, "start"]
        subprocess.run([*as_user, *start], **run)
        try:
            yield f"postgresql://agentrec@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True)
    except subprocess.CalledProcessError as exc:
        detail = log.read_text() if log.is_file() else ""
        raise RuntimeError(f"test PostgreSQL failed: {exc.stderr or exc.stdout}\n{detail}") from exc
    finally:
        shutil.rmtree(root, ignore_errors=True)
