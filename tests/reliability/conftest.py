"""Crash and fault tests: real `punchcard serve` processes killed with SIGKILL, a private
PostgreSQL cluster stopped under load, redeliveries and a schemathesis run over the spec.

`PUNCHCARD_RELIABILITY` picks the depth: `short` (the default, part of `make test`, about a
minute on this 2-core machine) or `full` (`make reliability`, about four). Every process or
cluster a test starts is stopped in a fixture's teardown, so a failing assert never leaves one
behind; the shared PostgreSQL server is only ever asked for scratch databases, never stopped.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx2
import psycopg
import pytest

from punchcard import migrate
from punchcard.db import open_database, session_scope
from punchcard.kit.clock import utcnow
from punchcard.programs import service as programs
from punchcard.programs.domain import ExpiryPolicy, Scope
from tests.conftest import scratch_pg_database
from tests.reliability.workload import RULES

PUNCHCARD = Path(sys.executable).with_name("punchcard")
FULL = os.environ.get("PUNCHCARD_RELIABILITY", "short") == "full"


@dataclass(frozen=True)
class Budget:
    """How hard the reliability-marked tests push; the main suite's variants use their own,
    smaller numbers so that `pytest -m "not reliability"` stays quick."""

    kill_rounds: int  # kill -9 and restart, per backend
    load_per_round: int  # writes acknowledged between two kills, at least
    restart_modes: tuple[str, ...]  # pg_ctl stop modes to survive
    redelivery_examples: int  # hypothesis shuffles per backend
    fuzz_examples: int  # schemathesis examples per operation and phase


BUDGET = (
    Budget(
        kill_rounds=5,
        load_per_round=100,
        restart_modes=("immediate", "fast"),
        redelivery_examples=50,
        fuzz_examples=100,
    )
    if FULL
    else Budget(
        kill_rounds=2,
        load_per_round=15,
        restart_modes=("immediate",),
        redelivery_examples=6,
        fuzz_examples=8,
    )
)


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05
) -> None:
    """Poll `condition` until it holds; fail naming `what` when `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs. Zombies do not count: they hold no socket
    and no lock, and the workers' ones wait for init to reap them, which can take seconds."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        with suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                return True
    return False


class Server:
    """`punchcard serve` in a session of its own: SIGKILL to the process group takes the uvicorn
    workers down with their parent, as a power cut or the OOM killer would."""

    def __init__(self, url: str, log: Path, *, workers: int = 2) -> None:
        self.url = url
        self.log = log
        self.workers = workers
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def start(self) -> None:
        assert self.proc is None, "already running"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUNCHCARD_")}
        command = [
            str(PUNCHCARD),
            "serve",
            "--db",
            self.url,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--no-access-log",
        ]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        self.starts += 1
        wait_until(self.healthy, 60, f"punchcard serve on port {self.port} to answer /health")

    def healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            pytest.fail(f"punchcard serve exited with {self.proc.returncode}:\n{self.log_tail()}")
        try:
            return httpx2.get(f"{self.base_url}/health", timeout=2).status_code == 200
        except httpx2.TransportError:
            return False

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """kill -9 the whole group and wait until none of its processes is left."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        with suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc = None
        wait_until(lambda: not _group_alive(pgid), 30, f"process group {pgid} to die")

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class Tenant:
    """A program in a database of the test's own, with an admin key."""

    url: str
    program_id: int
    api_key: str


def make_tenant(url: str, *, name: str = "reliability") -> Tenant:
    """Migrate the database and create a program and its admin key through the services."""
    handle = open_database(url)
    try:
        migrate.upgrade(handle.engine)
        with session_scope(handle.writer) as session:
            now = utcnow()
            program = programs.create_program(
                session, name=name, now=now, expiry_policy=ExpiryPolicy.NEVER, expiry_value=0
            )
            key = programs.create_api_key(
                session, program_id=program.id, scopes=(Scope.ADMIN,), now=now, name="admin"
            )
    finally:
        handle.dispose()
    return Tenant(url=url, program_id=program.id, api_key=key.api_key)


def put_rules(server: Server, api_key: str) -> None:
    """The workload's rule set, through the API like any merchant."""
    response = httpx2.put(
        f"{server.base_url}/v1/rules",
        json=RULES,
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def ledger_verify(url: str) -> subprocess.CompletedProcess[str]:
    """`punchcard ledger verify` as an operator would run it after a crash."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUNCHCARD_")}
    return subprocess.run(
        [str(PUNCHCARD), "ledger", "verify", "--db", url],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.fixture
def scratch_pg_url() -> Iterator[str]:
    """A database of the test's own on the shared server, dropped afterwards."""
    with scratch_pg_database("punchcard_rel") as url:
        yield url


class ServerFactory(Protocol):
    def __call__(self, url: str, *, workers: int = 2) -> Server: ...


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[ServerFactory]:
    """Make `punchcard serve` processes; every one still running is killed at teardown."""
    made: list[Server] = []

    def make(url: str, *, workers: int = 2) -> Server:
        server = Server(url, tmp_path / f"serve-{len(made)}.log", workers=workers)
        made.append(server)
        return server

    try:
        yield make
    finally:
        for server in made:
            with suppress(Exception):
                server.kill()


# --- a private PostgreSQL cluster, to stop and start under load ---------------------------


def _pg_bindir() -> Path:
    candidates: list[Path] = []
    with suppress(OSError, subprocess.SubprocessError):
        found = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True, timeout=10
        )
        candidates.append(Path(found.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    pytest.fail("initdb and pg_ctl are required (Debian package postgresql) and were not found")


class PrivateCluster:
    """A throw-away PostgreSQL cluster in a temporary folder, on a port of its own.

    initdb refuses to run as root, so as root every server binary runs as the `postgres` user.
    fsync is off: the cluster is stopped to make the database unavailable, not to test disks."""

    def __init__(self) -> None:
        self.bindir = _pg_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="punchcard-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self.as_owner = ["runuser", "-u", "postgres", "--"]

    def _run(self, tool: str, *args: str) -> None:
        with (self.root / "tools.out").open("ab") as out:
            done = subprocess.run(
                [*self.as_owner, str(self.bindir / tool), *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=120,
                check=False,
            )
        if done.returncode != 0:
            log = (self.root / "tools.out").read_text(errors="replace")
            server_log = self.root / "server.log"
            if server_log.exists():
                log += server_log.read_text(errors="replace")
            pytest.fail(f"{tool} {' '.join(args)} exited with {done.returncode}:\n{log[-3000:]}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync", "--no-instructions")  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o",
                  options, "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def postmaster_pid(self) -> int | None:
        with suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().splitlines()[0])
        return None

    def destroy(self) -> None:
        """Stop the cluster if it runs (by pid if pg_ctl fails) and delete every file of it."""
        pid = self.postmaster_pid()
        try:
            if pid is not None:
                try:
                    self.stop("immediate")
                except BaseException:
                    with suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                    raise
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_cluster() -> Iterator[PrivateCluster]:
    cluster = PrivateCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
