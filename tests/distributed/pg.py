"""A throwaway PostgreSQL server for the coordinator's tests: ``initdb`` into a temporary
directory, ``postgres`` listening on 127.0.0.1 on a free port (and on a unix socket in that
directory) with ``trust`` authentication and no fsync, stopped and deleted at the end.

PostgreSQL refuses to run as root, so under root the server runs as the ``postgres`` system
user (the data directory is made that user's); otherwise it runs as the current user."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

USER = "postgres"                    # the superuser initdb makes, and (under root) the OS user
NEEDED = ("initdb", "postgres")


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``postgres``: ``pg_config --bindir`` if it has
    them (Debian's pg_config may come from libpq-dev alone), else the newest
    /usr/lib/postgresql/*/bin, else PATH."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 timeout=10, check=True).stdout.strip()
            candidates.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    versions.sort(key=lambda p: _version(Path(p).parent.name), reverse=True)
    candidates += [Path(p) for p in versions]
    on_path = [shutil.which(name) for name in NEEDED]
    if all(on_path):
        candidates.append(Path(os.path.realpath(on_path[0])).parent)
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in NEEDED):
            return bindir
    return None


def _version(name: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return (0,)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    bindir: Path
    root: Path                           # temporary: data/, the socket, the log
    port: int = 0
    proc: subprocess.Popen | None = None
    start_seconds: float = 0.0           # initdb plus start-up, for the curious
    _as: dict = field(default_factory=dict)   # subprocess kwargs that drop root

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    def url(self, dbname: str = "postgres") -> str:
        """The SQLAlchemy URL of database ``dbname``."""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={USER} dbname={dbname}"

    def admin(self):
        """An autocommit psycopg connection to the ``postgres`` database."""
        import psycopg
        return psycopg.connect(self.conninfo(), autocommit=True, connect_timeout=10)

    def create_database(self) -> str:
        """A new empty database; its name."""
        name = f"t_{uuid.uuid4().hex}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing any connection a test left open to it."""
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then delete the directory."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def start(bindir: Path, attempts: int = 3) -> PostgresServer:
    """initdb and start a server; raises RuntimeError (with the server's log) if it fails."""
    t0 = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="primordia-pg-"))
    server = PostgresServer(bindir=bindir, root=root)
    try:
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam(USER)
            except KeyError:
                raise RuntimeError(f"running as root and there is no {USER!r} user to run "
                                   "PostgreSQL as") from None
            os.chown(root, pw.pw_uid, pw.pw_gid)
            server._as = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        env = {"PATH": f"{bindir}:/usr/bin:/bin", "LC_ALL": "C", "LANG": "C"}
        init = subprocess.run(
            [str(bindir / "initdb"), "-D", str(server.data), "-U", USER, "--auth=trust",
             "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"],
            cwd=root, env=env, capture_output=True, text=True, timeout=120, **server._as)
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        for _ in range(attempts):     # another process may take the free port first
            server.port = _free_port()
            if _launch(server, env):
                server.start_seconds = time.perf_counter() - t0
                return server
        raise RuntimeError(f"postgres did not start:\n{_tail(server.log)}")
    except BaseException:
        server.stop()
        raise


def _launch(server: PostgresServer, env: dict, timeout: float = 60.0) -> bool:
    """Start ``postgres`` on ``server.port``; True once it accepts connections, False if it
    exited (say, the port was taken)."""
    import psycopg
    settings = {
        "listen_addresses": "127.0.0.1", "port": server.port,
        "unix_socket_directories": str(server.root),
        "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
        "max_connections": 300, "shared_buffers": "64MB",
    }
    args = [str(server.bindir / "postgres"), "-D", str(server.data)]
    for key, value in settings.items():
        args += ["-c", f"{key}={value}"]
    with open(server.log, "ab") as log:
        server.proc = subprocess.Popen(args, cwd=server.root, env=env, stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       **server._as)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            server.proc = None
            return False
        try:       # through our own socket: a TCP answer could come from another server
            psycopg.connect(f"host={server.root} port={server.port} user={USER} "
                            "dbname=postgres", connect_timeout=2).close()
            return True
        except psycopg.OperationalError:
            time.sleep(0.05)
    server.proc.kill()
    server.proc.wait(timeout=10)
    server.proc = None
    raise RuntimeError(f"postgres did not accept connections in {timeout:.0f}s:\n"
                       f"{_tail(server.log)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
