"""Each piece of the scale-out topology as an object that starts, answers its URLs and stops.

```python
scratch = Scratch(path)                          # the folder, free ports, a CA and a server certificate
primary = PostgresPrimary(scratch).start()       # TLS only, scram; role and database stockline; schema
replica = PostgresReplica(scratch, primary).start()    # pg_basebackup -R over a physical slot, hot standby
bouncer = PgBouncer(scratch, primary).start()    # transaction pooling, TLS to clients and to the server
redis = RedisServer(scratch).start()             # no persistence, a password
node = AppNode(scratch, 1, node_environment(...)).start()   # `stockline serve`, ready when /ready is 200
haproxy = HAProxy(scratch, [node, ...]).start()  # roundrobin, health checks on /ready, retries elsewhere
scratch.close()                                  # stops whatever it started, in reverse order
```

Every process runs in a session of its own (a process group: a node's workers, PostgreSQL's
backends die with it), writes its log to `<scratch>/logs/<name>.log`, and is stopped by its
own signal (PostgreSQL: SIGINT, a fast shutdown; the rest SIGTERM), then SIGKILL after a
bound. PostgreSQL and PgBouncer refuse to run as root: when we are root they, and the other
servers, run as the unprivileged `postgres` user, which owns the scratch folder. Nothing here
installs a package: a missing binary raises `MissingPackage`, naming the Debian package.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import io
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from stockline import db
from stockline.config import Settings
from stockline.errors import StocklineError

SERVICE_USER = "postgres"  # the Debian packages' unprivileged user; PostgreSQL refuses root
APP_ROLE = "stockline"
APP_DATABASE = "stockline"
REPLICATION_ROLE = "replicator"
SUPERUSER = "postgres"
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
START_SECONDS = 60.0
STOP_SECONDS = 20.0

# binary -> the Debian package that ships it
PACKAGES = {
    "postgres": "postgresql-15", "initdb": "postgresql-15", "pg_basebackup": "postgresql-15",
    "pgbouncer": "pgbouncer", "haproxy": "haproxy", "redis-server": "redis-server", "openssl": "openssl",
}


class ClusterError(StocklineError):
    """A component could not be set up, did not start, or died."""


class MissingPackage(ClusterError):
    """A binary the topology needs is not installed."""

    def __init__(self, packages: Sequence[str]) -> None:
        self.packages = list(dict.fromkeys(packages))
        names = " ".join(self.packages)
        super().__init__(f"the cluster needs the Debian package(s) {', '.join(self.packages)}, which "
                         f"are not installed: sudo apt-get install -y {names}")


# --- binaries ----------------------------------------------------------------------------

def postgres_bin_dir() -> Path | None:
    """The newest PostgreSQL (15 or later) whose server binaries are installed."""
    found = []
    for folder in glob.glob(PG_BIN_GLOB):
        path = Path(folder)
        with contextlib.suppress(ValueError):
            major = int(path.parent.name)
            needed = ("postgres", "initdb", "pg_basebackup")
            if major >= 15 and all((path / name).exists() for name in needed):
                found.append((major, path))
    if found:
        return max(found)[1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and (Path(initdb).parent / "pg_basebackup").exists() else None


def binary(name: str) -> str:
    """The path of one of the topology's binaries, or MissingPackage."""
    if name in ("postgres", "initdb", "pg_basebackup"):
        folder = postgres_bin_dir()
        if folder is not None:
            return str(folder / name)
    else:
        for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/bin/{name}"):
            if candidate and os.access(candidate, os.X_OK):
                return candidate
    raise MissingPackage([PACKAGES[name]])


def missing_packages() -> list[str]:
    missing = []
    for name, package in PACKAGES.items():
        try:
            binary(name)
        except MissingPackage:
            missing.append(package)
    return list(dict.fromkeys(missing))


def service_account() -> pwd.struct_passwd | None:
    """The user the servers run as: `postgres` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise ClusterError(f"running as root, and there is no unprivileged user {SERVICE_USER!r} to run "
                           "PostgreSQL and PgBouncer as (they refuse root): install postgresql-15, "
                           "which creates it, or run as an ordinary user") from None


def unavailable_reason() -> str | None:
    """Why the topology cannot start on this machine (one line), or None."""
    missing = missing_packages()
    if missing:
        return str(MissingPackage(missing))
    try:
        service_account()
    except ClusterError as exc:
        return str(exc)
    return None


# --- processes ---------------------------------------------------------------------------

def process_start_time(pid: int) -> int | None:
    """The kernel's start time of a live process (clock ticks since boot), None when there is
    no such process or it is a zombie. With the pid it names one process across pid reuse."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def alive(pid: int, started: int | None) -> bool:
    now = process_start_time(pid)
    return now is not None and (started is None or now == started)


def stop_process(pid: int, started: int | None, stop_signal: int, bound: float = STOP_SECONDS,
                 wait: Callable[[float], bool] | None = None) -> str:
    """Signal a process (the leader of its own group), wait up to `bound`, then SIGKILL its
    whole group. Says what happened: 'not running', 'stopped', 'killed'. A process already
    gone is left alone (its pid, and so its group's id, may belong to another process now)."""
    if not alive(pid, started):
        return "not running"
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, stop_signal)
    gone = wait(bound) if wait else _poll(lambda: not alive(pid, started), bound)
    outcome = "stopped"
    if not gone:
        outcome = "killed"
        _kill_group(pid)
        if wait:
            wait(5.0)
        else:
            _poll(lambda: not alive(pid, started), 5.0)
    _kill_group(pid)  # whatever else of its group is left (a worker, a backend), at once
    return outcome


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _poll(condition: Callable[[], bool], seconds: float, every: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(every)


T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], seconds: float, *,
             alive_check: Callable[[], None] | None = None, every: float = 0.1) -> T:
    """Poll `probe` until it returns something other than None (or False); ClusterError after
    `seconds`. `alive_check` raises when the process being waited for has died."""
    deadline = time.monotonic() + seconds
    last: BaseException | None = None
    while True:
        if alive_check:
            alive_check()
        try:
            value = probe()
        except (OSError, psycopg.Error) as exc:
            value, last = None, exc
        if value is not None and value is not False:
            return value
        if time.monotonic() >= deadline:
            detail = ""
            if last is not None:
                text = str(last).strip()
                detail = f" (last: {type(last).__name__}: {text.splitlines()[0] if text else ''})"
            raise ClusterError(f"{what} did not happen within {seconds:.0f} s{detail}")
        time.sleep(every)


def http_status(url: str, timeout: float = 2.0, headers: Mapping[str, str] | None = None) -> int | None:
    """The status of GET url, None when nothing answered."""
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 - our own http URLs
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def http_text(url: str, timeout: float = 2.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our own http URLs
        return response.read().decode()


def _log_tail(path: Path, chars: int = 2000) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return text[-chars:]


def _url(user: str, password: str, port: int, database: str) -> str:
    # the passwords are token_urlsafe: no character needs escaping in a URL
    return f"postgresql://{user}:{password}@127.0.0.1:{port}/{database}?sslmode=require"


def _password() -> str:
    return secrets.token_urlsafe(24)


# --- the scratch folder --------------------------------------------------------------------

@dataclass(frozen=True)
class Certificates:
    """A self-made CA and a server certificate for 127.0.0.1 / localhost it signed."""

    ca_cert: Path
    cert: Path
    key: Path


class Scratch:
    """A folder for one topology: its data, configuration, logs and certificates; free
    loopback ports; what was started, to stop it again in reverse order."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).resolve()
        self.account = service_account()
        self.path.mkdir(parents=True, exist_ok=True)
        self.logs = self.path / "logs"
        self.logs.mkdir(exist_ok=True)
        self.own(self.path, self.logs)
        self._check_reachable()
        self._ports: set[int] = set()
        self._started: list[Component] = []
        self.certs = self._make_certificates(self.path / "tls")

    # the unprivileged account ----------------------------------------------------------
    def as_service(self) -> dict[str, Any]:
        """Popen arguments that run a process as the service account (nothing when we are it)."""
        if self.account is None:
            return {}
        return {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}

    def service_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "HOME": str(self.path),
               "LC_ALL": "C", "LANG": "C"}
        return env | dict(extra or {})

    def own(self, *paths: Path) -> None:
        if self.account is None:
            return
        for path in paths:
            os.chown(path, self.account.pw_uid, self.account.pw_gid)

    def _check_reachable(self) -> None:
        if self.account is None:
            return
        probe = subprocess.run(["test", "-w", str(self.path), "-a", "-x", str(self.path)],  # noqa: S603, S607
                               **self.as_service(), check=False, env=self.service_env())
        if probe.returncode != 0:
            raise ClusterError(f"user {self.account.pw_name!r} cannot reach {self.path}: every folder "
                               "above it must be searchable by that user (use a folder under /tmp)")

    def run(self, argv: Sequence[str], what: str, *, log: str, as_service: bool = True,
            env: Mapping[str, str] | None = None, timeout: float = 120.0) -> None:
        """Run a setup command to completion, its output appended to a log; ClusterError when it fails."""
        path = self.logs / f"{log}.log"
        with open(path, "ab") as out:
            out.write(f"$ {' '.join(argv)}\n".encode())
            out.flush()
            try:
                done = subprocess.run(  # noqa: S603 - our own binaries and arguments, no shell
                    list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    cwd=self.path, env=env or self.service_env(),
                    **(self.as_service() if as_service else {}), timeout=timeout, check=False)
            except subprocess.TimeoutExpired:
                raise ClusterError(f"{what} took longer than {timeout:.0f} s (log: {path})") from None
        if done.returncode != 0:
            raise ClusterError(f"{what} failed with status {done.returncode} (log: {path}):\n"
                               f"{_log_tail(path, 1500)}")

    def _make_certificates(self, folder: Path) -> Certificates:
        certs = Certificates(folder / "ca.crt", folder / "server.crt", folder / "server.key")
        if certs.cert.exists() and certs.key.exists():
            return certs
        folder.mkdir(exist_ok=True)
        openssl = binary("openssl")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        (folder / "server.ext").write_text(
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
            "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.path)}
        steps = [
            [openssl, "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "30",
             "-subj", "/CN=Stockline scratch CA"],
            [openssl, "req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1"],
            [openssl, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "30", "-out", "server.crt", "-extfile", "server.ext"],
        ]
        for argv in steps:
            done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, check=False)  # noqa: S603
            if done.returncode != 0:
                raise ClusterError(f"openssl could not make the scratch certificates: "
                                   f"{done.stderr.decode(errors='replace').strip()}")
        for name in ("ca.key", "server.key"):
            (folder / name).chmod(0o600)
        # PostgreSQL wants its key owned by the user it runs as, readable by nobody else
        self.own(folder, *folder.iterdir())
        folder.chmod(0o700)
        return certs

    # ports and the components started ----------------------------------------------------
    def free_port(self) -> int:
        """A loopback port nothing listens on now, not handed out before by this scratch."""
        while True:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            if port not in self._ports:
                self._ports.add(port)
                return port

    def track(self, component: Component) -> None:
        """Remember a started component; one started again keeps its place in the order."""
        if component not in self._started:
            self._started.append(component)

    @property
    def components(self) -> list[Component]:
        return list(self._started)

    def close(self) -> None:
        """Stop everything started here, the last started first. Never raises for one
        component that will not stop: it is killed, and the rest still stop."""
        errors = []
        for component in reversed(self._started):
            try:
                component.stop()
            except Exception as exc:  # keep stopping the others
                errors.append(f"{component.name}: {exc}")
        self._started.clear()
        if errors:
            print("cluster: trouble stopping " + "; ".join(errors), file=sys.stderr)

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- one process -------------------------------------------------------------------------

class Component:
    """One server process of the topology."""

    stop_signal: int = signal.SIGTERM
    stop_seconds: float = STOP_SECONDS
    as_service = True  # run as the unprivileged account (when we are root)

    def __init__(self, scratch: Scratch, name: str) -> None:
        self.scratch = scratch
        self.name = name
        self.process: subprocess.Popen[bytes] | None = None
        self.started: int | None = None

    @property
    def log_path(self) -> Path:
        return self.scratch.logs / f"{self.name}.log"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _spawn(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        if self.running():
            raise ClusterError(f"{self.name} is already running (pid {self.pid})")
        with open(self.log_path, "ab") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(argv)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(  # noqa: S603 - our own binaries and arguments, no shell
                list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, cwd=self.scratch.path,
                env=dict(env) if env is not None else self.scratch.service_env(),
                **(self.scratch.as_service() if self.as_service else {}))
        self.started = process_start_time(self.process.pid)
        self.scratch.track(self)

    def check_alive(self) -> None:
        """ClusterError, with the log's end, when the process has exited."""
        if self.process is None:
            raise ClusterError(f"{self.name} was never started")
        code = self.process.poll()
        if code is not None:
            raise ClusterError(f"{self.name} exited with status {code}; its log ({self.log_path}) ends:\n"
                               f"{_log_tail(self.log_path)}")

    def _wait(self, seconds: float) -> bool:
        assert self.process is not None
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self) -> str:
        """Stop (idempotent): the component's signal, SIGKILL after `stop_seconds`."""
        if self.process is None or self.process.poll() is not None:  # poll() reaps it
            return "not running"
        return stop_process(self.process.pid, self.started, self.stop_signal, self.stop_seconds,
                            wait=self._wait)

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash."""
        if self.process is None or self.process.poll() is not None:
            return
        _kill_group(self.process.pid)
        self._wait(10.0)

    def record(self) -> dict[str, Any]:
        """What the state file keeps of this component (enough to stop it from another process)."""
        return {"name": self.name, "pid": self.pid, "started": self.started,
                "stop_signal": signal.Signals(self.stop_signal).name, "log": str(self.log_path),
                **self.describe()}

    def describe(self) -> dict[str, Any]:
        return {}


# --- PostgreSQL --------------------------------------------------------------------------

class _Postgres(Component):
    stop_signal = signal.SIGINT  # fast shutdown: roll back open transactions, then stop
    stop_seconds = 30.0

    def __init__(self, scratch: Scratch, name: str, passwords: dict[str, str]) -> None:
        super().__init__(scratch, name)
        self.data_dir = scratch.path / name
        self.port = scratch.free_port()
        self.passwords = passwords

    @property
    def url(self) -> str:
        """The app role, TLS required: what the app and the seed use."""
        return _url(APP_ROLE, self.passwords[APP_ROLE], self.port, APP_DATABASE)

    @property
    def admin_url(self) -> str:
        """The superuser, TLS required, for setup and inspection."""
        return _url(SUPERUSER, self.passwords[SUPERUSER], self.port, APP_DATABASE)

    def describe(self) -> dict[str, Any]:
        return {"port": self.port, "url": self.url, "data_dir": str(self.data_dir)}

    def _spawn_postgres(self, *settings: str) -> None:
        argv = [binary("postgres"), "-D", str(self.data_dir), "-c", f"port={self.port}"]
        for setting in settings:
            argv += ["-c", setting]
        self._spawn(argv)

    def admin(self, database: str = "postgres") -> psycopg.Connection:
        """A superuser connection (autocommit), to the database `postgres` unless told."""
        return psycopg.connect(db.with_database(self.admin_url, database), autocommit=True, connect_timeout=5,
                               application_name="stockline-cluster")

    def _wait_accepting(self) -> None:
        def probe() -> bool:
            with psycopg.connect(self.admin_url, connect_timeout=2, application_name="stockline-cluster"):
                return True

        wait_for(f"{self.name} accepting TLS connections on port {self.port}", probe, START_SECONDS,
                 alive_check=self.check_alive, every=0.1)


class PostgresPrimary(_Postgres):
    """The primary: TLS only (hostssl, scram-sha-256), the role and database `stockline`
    (schema applied over a direct connection as its owner), a replication role, and the
    app's session limits set on the role (PgBouncer 1.18 drops the `options` startup
    parameter, so the role carries lock_timeout, statement_timeout and
    idle_in_transaction_session_timeout)."""

    def __init__(self, scratch: Scratch, name: str = "primary", *, settings: Settings | None = None,
                 apply_schema: bool = True) -> None:
        super().__init__(scratch, name, {SUPERUSER: _password(), APP_ROLE: _password(),
                                         REPLICATION_ROLE: _password()})
        self.settings = settings or Settings.from_env({})
        self.apply_schema = apply_schema

    @property
    def replication_conninfo(self) -> str:
        return (f"host=127.0.0.1 port={self.port} user={REPLICATION_ROLE} "
                f"password={self.passwords[REPLICATION_ROLE]} sslmode=require")

    def start(self) -> PostgresPrimary:
        fresh = not (self.data_dir / "PG_VERSION").exists()
        if fresh:
            self._initdb()
        self._spawn_postgres()
        self._wait_accepting()
        if fresh:
            self._create_roles()
            if self.apply_schema:
                with db.connect(self.url) as conn:  # directly, never through PgBouncer
                    db.apply_schema(conn)
        return self

    def _initdb(self) -> None:
        pwfile = self.scratch.path / ".pwfile"
        pwfile.write_text(self.passwords[SUPERUSER] + "\n")
        pwfile.chmod(0o600)
        self.scratch.own(pwfile)
        try:
            self.scratch.run([binary("initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
                              "-A", "scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C",
                              "--no-sync"],
                             "initdb", log=self.name)
        finally:
            pwfile.unlink(missing_ok=True)
        certs = self.scratch.certs
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write(f"""
# --- stockline cluster ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
cluster_name = '{self.name}'
max_connections = 200
ssl = on
ssl_cert_file = '{certs.cert}'
ssl_key_file = '{certs.key}'
ssl_min_protocol_version = 'TLSv1.2'
password_encryption = 'scram-sha-256'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
max_slot_wal_keep_size = '2GB'
hot_standby = on
hot_standby_feedback = on
log_line_prefix = '%m [%p] %q%u@%d '
""")
        (self.data_dir / "pg_hba.conf").write_text(f"""\
# TLS only: a plain connection matches nothing but the reject lines
# TYPE    DATABASE     USER          ADDRESS        METHOD
hostssl   {APP_DATABASE:<12} {APP_ROLE:<13} 127.0.0.1/32   scram-sha-256
hostssl   replication  {REPLICATION_ROLE:<13} 127.0.0.1/32   scram-sha-256
hostssl   all          {SUPERUSER:<13} 127.0.0.1/32   scram-sha-256
hostnossl all          all           0.0.0.0/0      reject
hostnossl replication  all           0.0.0.0/0      reject
""")

    def _create_roles(self) -> None:
        limits = {
            "lock_timeout": f"{self.settings.db_lock_timeout}s",
            "statement_timeout": f"{self.settings.db_statement_timeout}s",
            "idle_in_transaction_session_timeout": f"{self.settings.db_statement_timeout}s",
        }
        with self.admin() as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(APP_ROLE), sql.Literal(self.passwords[APP_ROLE])))
            conn.execute(sql.SQL("CREATE ROLE {} REPLICATION LOGIN PASSWORD {}").format(
                sql.Identifier(REPLICATION_ROLE), sql.Literal(self.passwords[REPLICATION_ROLE])))
            for name, value in limits.items():
                conn.execute(sql.SQL("ALTER ROLE {} SET {} = {}").format(
                    sql.Identifier(APP_ROLE), sql.Identifier(name), sql.Literal(value)))
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(APP_DATABASE), sql.Identifier(APP_ROLE)))

    def _wait_accepting(self) -> None:
        # the database `stockline` does not exist yet on a fresh cluster: probe `postgres`
        def probe() -> bool:
            with psycopg.connect(db.with_database(self.admin_url, "postgres"), connect_timeout=2):
                return True

        wait_for(f"{self.name} accepting TLS connections on port {self.port}", probe, START_SECONDS,
                 alive_check=self.check_alive, every=0.1)

    def current_lsn(self) -> str:
        with self.admin() as conn:
            return conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]

    def replication(self) -> list[dict[str, Any]]:
        """pg_stat_replication, one dict per standby."""
        with self.admin() as conn:
            cursor = conn.execute("SELECT application_name, state, sync_state, sent_lsn::text, "
                                  "replay_lsn::text FROM pg_stat_replication")
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class PostgresReplica(_Postgres):
    """A streaming hot standby: pg_basebackup -R over a physical replication slot."""

    def __init__(self, scratch: Scratch, primary: PostgresPrimary, name: str = "replica") -> None:
        super().__init__(scratch, name, primary.passwords)
        self.primary = primary
        self.slot = name.replace("-", "_")

    def describe(self) -> dict[str, Any]:
        return super().describe() | {"slot": self.slot}

    def start(self) -> PostgresReplica:
        if not (self.data_dir / "PG_VERSION").exists():
            with self.primary.admin() as conn:
                conn.execute("SELECT pg_create_physical_replication_slot(%s) WHERE NOT EXISTS "
                             "(SELECT 1 FROM pg_replication_slots WHERE slot_name = %s)",
                             (self.slot, self.slot))
            self.scratch.run([binary("pg_basebackup"), "-D", str(self.data_dir),
                              "-d", self.primary.replication_conninfo, "-R", "-X", "stream", "-S", self.slot,
                              "-c", "fast", "--no-sync", "-w"], "pg_basebackup", log=self.name)
        self._spawn_postgres(f"cluster_name={self.name}", "hot_standby=on")
        self._wait_accepting()
        self.wait_streaming()
        return self

    def wait_streaming(self, seconds: float = 30.0) -> None:
        def streaming() -> bool:
            return any(row["application_name"] == self.name and row["state"] == "streaming"
                       for row in self.primary.replication())

        wait_for(f"{self.name} streaming from {self.primary.name}", streaming, seconds,
                 alive_check=self.check_alive, every=0.1)

    def pause_replay(self) -> None:
        """Stop applying WAL (it is still received): artificial lag, until resume_replay()."""
        with self.admin() as conn:
            conn.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        with self.admin() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")

    def replayed_lsn(self) -> str:
        with self.admin() as conn:
            return conn.execute("SELECT pg_last_wal_replay_lsn()::text").fetchone()[0]

    def replay_lag_bytes(self) -> int:
        """How far replay is behind the primary's current WAL position, in bytes."""
        target = self.primary.current_lsn()
        with self.admin() as conn:
            return int(conn.execute("SELECT pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn())",
                                    (target,)).fetchone()[0])

    def wait_replayed(self, lsn: str | None = None, seconds: float = 30.0) -> None:
        """Wait until the replica has replayed `lsn` (default: the primary's position now)."""
        target = lsn or self.primary.current_lsn()

        def caught_up() -> bool:
            with self.admin() as conn:
                return conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)).fetchone()[0]

        wait_for(f"{self.name} replaying up to {target}", caught_up, seconds, alive_check=self.check_alive)


# --- PgBouncer ---------------------------------------------------------------------------

class PgBouncer(Component):
    """Transaction pooling in front of the primary. TLS required from clients (the scratch
    certificate) and to the server; scram-sha-256 against a userlist holding the app role's
    password (PgBouncer logs in to PostgreSQL with it); `options` and `extra_float_digits`
    ignored (PgBouncer 1.18 refuses startup parameters it does not know). An admin user
    `pgbouncer` for the console (SHOW POOLS): `.admin_url`."""

    ADMIN_USER = "pgbouncer"

    def __init__(self, scratch: Scratch, primary: PostgresPrimary, name: str = "pgbouncer", *,
                 pool_size: int = 20) -> None:
        super().__init__(scratch, name)
        self.primary = primary
        self.port = scratch.free_port()
        self.pool_size = pool_size
        self.admin_password = _password()
        self.folder = scratch.path / name

    @property
    def url(self) -> str:
        return _url(APP_ROLE, self.primary.passwords[APP_ROLE], self.port, APP_DATABASE)

    @property
    def admin_url(self) -> str:
        return _url(self.ADMIN_USER, self.admin_password, self.port, "pgbouncer")

    def describe(self) -> dict[str, Any]:
        return {"port": self.port, "url": self.url}

    def _configure(self) -> Path:
        self.folder.mkdir(exist_ok=True)
        userlist = self.folder / "userlist.txt"
        userlist.write_text(f'"{APP_ROLE}" "{self.primary.passwords[APP_ROLE]}"\n'
                            f'"{self.ADMIN_USER}" "{self.admin_password}"\n')
        userlist.chmod(0o600)
        certs = self.scratch.certs
        ini = self.folder / "pgbouncer.ini"
        ini.write_text(f"""\
[databases]
{APP_DATABASE} = host=127.0.0.1 port={self.primary.port} dbname={APP_DATABASE}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {userlist}
admin_users = {self.ADMIN_USER}
stats_users = {self.ADMIN_USER}
pool_mode = transaction
max_client_conn = 2000
default_pool_size = {self.pool_size}
reserve_pool_size = 5
reserve_pool_timeout = 2
ignore_startup_parameters = extra_float_digits,options
client_tls_sslmode = require
client_tls_cert_file = {certs.cert}
client_tls_key_file = {certs.key}
server_tls_sslmode = require
server_login_retry = 1
query_wait_timeout = 15
server_connect_timeout = 5
log_connections = 0
log_disconnections = 0
stats_period = 10
""")
        self.scratch.own(self.folder, userlist, ini)
        return ini

    def start(self) -> PgBouncer:
        ini = self._configure()
        self._spawn([binary("pgbouncer"), str(ini)])
        self._wait_serving()
        return self

    def _wait_serving(self) -> None:
        def probe() -> bool:
            with psycopg.connect(self.url, connect_timeout=2, prepare_threshold=None) as conn:
                return conn.execute("SELECT 1").fetchone()[0] == 1

        wait_for(f"{self.name} serving on port {self.port}", probe, START_SECONDS,
                 alive_check=self.check_alive, every=0.1)

    def restart(self) -> PgBouncer:
        """Stop (every client and server connection breaks) and start again on the same port."""
        self.stop()
        return self.start()

    def show(self, what: str = "POOLS") -> list[dict[str, Any]]:
        """SHOW <what> on the admin console."""
        if not what.replace("_", "").isalpha():
            raise ValueError(f"not a SHOW command: {what!r}")
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5,
                             prepare_threshold=None) as conn:
            cursor = conn.execute(f"SHOW {what}", prepare=False)
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# --- Redis -------------------------------------------------------------------------------

class RedisServer(Component):
    """redis-server on a free loopback port: no persistence (no RDB, no AOF), a password."""

    def __init__(self, scratch: Scratch, name: str = "redis") -> None:
        super().__init__(scratch, name)
        self.port = scratch.free_port()
        self.password = _password()
        self.folder = scratch.path / name

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def describe(self) -> dict[str, Any]:
        return {"port": self.port, "url": self.url}

    def start(self) -> RedisServer:
        self.folder.mkdir(exist_ok=True)
        self.scratch.own(self.folder)
        self._spawn([binary("redis-server"), "--bind", "127.0.0.1", "--port", str(self.port),
                     "--requirepass", self.password, "--save", "", "--appendonly", "no",
                     "--dir", str(self.folder), "--daemonize", "no", "--protected-mode", "yes",
                     "--logfile", ""])
        wait_for(f"{self.name} answering PING on port {self.port}", self.ping, START_SECONDS,
                 alive_check=self.check_alive, every=0.05)
        return self

    def command(self, *args: str) -> bytes:
        """One command over a raw connection (AUTH first); the reply's first line."""
        def encode(parts: Iterable[str]) -> bytes:
            items = list(parts)
            out = [f"*{len(items)}\r\n".encode()]
            for part in items:
                raw = part.encode()
                out.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
            return b"".join(out)

        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
            conn.sendall(encode(["AUTH", self.password]) + encode(args))
            reply = b""
            while reply.count(b"\r\n") < 2:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                reply += chunk
        lines = reply.split(b"\r\n")
        if not lines[0].startswith(b"+OK"):
            raise ClusterError(f"redis refused AUTH: {lines[0]!r}")
        return lines[1]

    def ping(self) -> bool:
        return self.command("PING") == b"+PONG"


# --- the app -----------------------------------------------------------------------------

def node_environment(*, primary: PostgresPrimary, bouncer: PgBouncer, replica: PostgresReplica | None = None,
                     redis: RedisServer | None = None, secret_key: str, metrics_token: str | None = None,
                     extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """What every node is started with: the pool through PgBouncer (no prepared statements),
    reads that tolerate lag on the replica, LISTEN on the primary directly (notifications do
    not cross transaction pooling), Redis, production mode behind a trusted local proxy."""
    env = {
        "STOCKLINE_ENV": "production",
        "DATABASE_URL": bouncer.url,
        "DB_PREPARE": "0",
        "DATABASE_LISTEN_URL": primary.url,
        "SECRET_KEY": secret_key,
        "TRUSTED_PROXIES": "127.0.0.1",
    }
    if replica is not None:
        env["DATABASE_READ_URL"] = replica.url
    if redis is not None:
        env["REDIS_URL"] = redis.url
    if metrics_token:
        env["METRICS_TOKEN"] = metrics_token
    return env | dict(extra or {})


_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "TZ")


class AppNode(Component):
    """`stockline serve --workers 1 --no-init` on a free port (the schema is applied on the
    primary, never through PgBouncer); ready when GET /ready answers 200."""

    as_service = False  # the app needs no privilege to drop, and runs from our virtualenv

    def __init__(self, scratch: Scratch, index: int, env: Mapping[str, str], *, workers: int = 1,
                 access_log: bool = False) -> None:
        super().__init__(scratch, f"node{index}")
        self.index = index
        self.port = scratch.free_port()
        self.env = dict(env)
        self.workers = workers
        self.access_log = access_log
        self.data_dir = scratch.path / "nodes" / self.name

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def describe(self) -> dict[str, Any]:
        return {"port": self.port, "url": self.url}

    def start(self, ready_within: float = START_SECONDS) -> AppNode:
        self._spawn_only()
        self.wait_ready(ready_within)
        return self

    def _spawn_only(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        base = {key: os.environ[key] for key in _PASSED_THROUGH if key in os.environ}
        env = base | {"STOCKLINE_DATA_DIR": str(self.data_dir)} | self.env
        argv = [sys.executable, "-m", "stockline.cli", "serve", "--host", "127.0.0.1",
                "--port", str(self.port), "--workers", str(self.workers), "--no-demo", "--no-init"]
        if not self.access_log:
            argv.append("--no-access-log")
        self._spawn(argv, env=env)  # cwd: the scratch folder, so no stray .env is read

    def wait_ready(self, seconds: float = START_SECONDS) -> None:
        """Wait until GET /ready answers 200 (ClusterError, with the log, if the node dies)."""
        wait_for(f"{self.name} answering /ready on port {self.port}",
                 lambda: http_status(f"{self.url}/ready") == 200, seconds,
                 alive_check=self.check_alive, every=0.1)

    @property
    def stop_seconds(self) -> float:  # type: ignore[override]
        return float(self.env.get("GRACEFUL_SHUTDOWN_SECONDS", 30)) + 5.0


# --- HAProxy -----------------------------------------------------------------------------

class HAProxy(Component):
    """Round robin over the nodes, health-checked on GET /ready every 0.5 s (down after 2
    failures, up after 2 successes). A request whose node fails before answering is retried
    on another node (up to 3 times): always when the connection could not be made; when the
    node took the request and then died or timed out, only for idempotent methods and for
    requests carrying an Idempotency-Key (the app replays those safely). Answers are never
    retried on their status: a 503 from the app already says Retry-After, and a POST replayed
    on a 500 could do its work twice. Idle server connections are reused (http-reuse safe).
    A stats page at `.stats_url` (CSV: `.server_states()`)."""

    RETRY_ON = "conn-failure empty-response response-timeout"

    def __init__(self, scratch: Scratch, nodes: Sequence[AppNode], name: str = "haproxy", *,
                 port: int | None = None) -> None:
        super().__init__(scratch, name)
        self.nodes = list(nodes)
        self.port = port or scratch.free_port()
        self.stats_port = scratch.free_port()
        self.config = scratch.path / "haproxy.cfg"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stats_url(self) -> str:
        return f"http://127.0.0.1:{self.stats_port}/"

    def describe(self) -> dict[str, Any]:
        return {"port": self.port, "url": self.url, "stats_url": self.stats_url}

    def _configure(self) -> None:
        servers = "\n".join(f"    server {node.name} 127.0.0.1:{node.port} check" for node in self.nodes)
        self.config.write_text(f"""\
global
    maxconn 4096
    log stdout format raw local0 info
    tune.bufsize 65536

defaults
    mode http
    log global
    option httplog
    option dontlognull
    option forwardfor
    timeout connect 1s
    timeout client 65s
    timeout server 65s
    timeout http-request 10s
    timeout http-keep-alive 60s
    timeout queue 10s
    timeout check 2s
    retries 3
    option redispatch 1
    retry-on {self.RETRY_ON}

frontend stockline
    bind 127.0.0.1:{self.port}
    default_backend nodes

backend nodes
    balance roundrobin
    http-reuse safe
    option httpchk GET /ready
    http-check expect status 200
    acl idempotent method GET HEAD OPTIONS PUT DELETE
    acl keyed req.hdr(idempotency-key) -m found
    http-request disable-l7-retry unless idempotent or keyed
    default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 2 on-marked-down shutdown-sessions
{servers}

listen stats
    bind 127.0.0.1:{self.stats_port}
    stats enable
    stats uri /
    stats refresh 2s
    stats show-legends
""")
        self.scratch.own(self.config)

    def start(self) -> HAProxy:
        self._configure()
        haproxy = binary("haproxy")
        check = subprocess.run([haproxy, "-c", "-q", "-f", str(self.config)],  # noqa: S603
                               capture_output=True, check=False)
        if check.returncode != 0:
            reason = check.stderr.decode(errors="replace").strip()
            raise ClusterError(f"haproxy rejects {self.config}: {reason}")
        self._spawn([haproxy, "-db", "-f", str(self.config)])
        wait_for(f"{self.name} stats page on port {self.stats_port}",
                 lambda: http_status(self.stats_url) == 200, START_SECONDS, alive_check=self.check_alive)
        return self

    def server_states(self) -> dict[str, str]:
        """Each node's state as HAProxy sees it: 'UP', 'DOWN', 'UP 1/2', 'no check', ..."""
        rows = csv.reader(io.StringIO(http_text(f"{self.stats_url};csv").lstrip("# ")))
        header = next(rows)
        pxname, svname, status = (header.index(key) for key in ("pxname", "svname", "status"))
        return {row[svname]: row[status] for row in rows if len(row) > status and row[pxname] == "nodes"
                and row[svname] not in ("FRONTEND", "BACKEND")}

    def wait_state(self, node: str, state: str, seconds: float = 15.0) -> None:
        """Wait until HAProxy reports `node` in `state` ('UP' or 'DOWN')."""
        wait_for(f"haproxy marking {node} {state}", lambda: self.server_states().get(node) == state, seconds,
                 alive_check=self.check_alive, every=0.1)
