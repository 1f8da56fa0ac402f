"""A throwaway PostgreSQL cluster with PostGIS for the export tests.

Debian's binaries (``/usr/lib/postgresql/*/bin``, installed by ``.ci/install-postgis``) make a
cluster in a temporary folder, listening on a free port of 127.0.0.1 only, with its unix socket
in that folder. Logins over TCP need a password (scram-sha-256), which the tests pass through
PGPASSWORD. As root the cluster runs as the ``postgres`` system user: initdb refuses root.
Without the binaries the tests are skipped, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest

SUPERUSER = "postgres"
DATABASE = "gis_test"
NO_POSTGIS_DATABASE = "gis_test_plain"
START_TIMEOUT_S = 60
PG_LIB = Path("/usr/lib/postgresql")  # Debian: one folder per major version
PG_SHARE = Path("/usr/share/postgresql")


@dataclass(frozen=True)
class Cluster:
    """A running test cluster."""

    port: int
    password: str
    host: str = "127.0.0.1"
    user: str = SUPERUSER
    plain_dbname: str = NO_POSTGIS_DATABASE  # a database without PostGIS

    def url(self, dbname: str = DATABASE, *, password: str | None = None, port: int | None = None) -> str:
        """``postgresql://user[:password]@127.0.0.1:port/dbname``."""
        secret = f":{password}" if password is not None else ""
        return f"postgresql://{self.user}{secret}@{self.host}:{port or self.port}/{dbname}"

    @staticmethod
    def free_port() -> int:
        """A TCP port of 127.0.0.1 that nothing listens on now."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])


def _unavailable(reason: str) -> NoReturn:
    """Skip, or fail in CI where the PostGIS tests must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostGIS tests cannot run in CI: {reason}; run .ci/install-postgis first", pytrace=False)
    pytest.skip(f"PostGIS tests skipped: {reason} (install them with .ci/install-postgis)")


def _binaries() -> Path:
    """The newest Debian PostgreSQL bin folder that has initdb, pg_ctl and the PostGIS extension."""
    versions = [folder for folder in PG_LIB.glob("*/bin") if folder.parent.name.isdigit()]
    for folder in sorted(versions, key=lambda p: int(p.parent.name), reverse=True):
        control = PG_SHARE / folder.parent.name / "extension" / "postgis.control"
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists() and control.exists():
            return folder
    _unavailable("no /usr/lib/postgresql/*/bin/initdb with PostGIS (packages postgresql-15, postgresql-15-postgis-3)")


def _run(command: list[str], *, as_user: str | None, cwd: Path, log: Path | None = None) -> None:
    """Run a server command (as ``as_user`` through runuser when given); fail with its output and log."""
    full = ["runuser", "-u", as_user, "--", *command] if as_user else command
    result = subprocess.run(full, cwd=cwd, capture_output=True, text=True, timeout=START_TIMEOUT_S + 30, check=False)
    if result.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log and log.exists() else ""
        output = (result.stderr.strip() or result.stdout.strip()) + (f"\nserver log:\n{tail}" if tail else "")
        pytest.fail(f"{Path(command[0]).name} failed ({result.returncode}): {output}", pytrace=False)


@pytest.fixture(scope="session")
def postgis_cluster() -> Iterator[Cluster]:
    """Start a throwaway cluster with a PostGIS database; stop and delete it afterwards."""
    bin_dir = _binaries()
    as_user = None
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root but there is no `postgres` system user to run the server")
        as_user = "postgres"
    root = Path(tempfile.mkdtemp(prefix="gis-postgis-", dir="/tmp" if as_user else None))  # postgres must reach it
    if as_user:
        os.chown(root, account.pw_uid, account.pw_gid)
    root.chmod(0o700)
    password = uuid.uuid4().hex
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n", encoding="utf-8")
    if as_user:
        os.chown(pwfile, account.pw_uid, account.pw_gid)
    data, log = root / "data", root / "server.log"
    cluster = Cluster(port=Cluster.free_port(), password=password)
    try:
        _run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, f"--pwfile={pwfile}", "--auth-local=trust",
             "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"],
            as_user=as_user, cwd=root,
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {root} -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off -c max_connections=20"
        )
        _run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", str(START_TIMEOUT_S), "start"],
            as_user=as_user, cwd=root, log=log,
        )
        admin = f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{cluster.port}"
        with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
            conn.execute(f"CREATE DATABASE {NO_POSTGIS_DATABASE}")
        with psycopg.connect(f"{admin}/{DATABASE}", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        yield cluster
    finally:
        if (data / "postmaster.pid").exists():
            _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], as_user=as_user, cwd=root)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgis_url(postgis_cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> str:
    """URL of the PostGIS test database; its password is in PGPASSWORD, as libpq reads it."""
    monkeypatch.setenv("PGPASSWORD", postgis_cluster.password)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent/.pgpass")  # ignore the developer's own ~/.pgpass
    for name in ("PGSERVICE", "PGSERVICEFILE", "PGOPTIONS"):
        monkeypatch.delenv(name, raising=False)
    return postgis_cluster.url()


@pytest.fixture
def schema() -> str:
    """A schema name of its own for each test."""
    return f"planning_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def sample_out(sample_run: tuple[Path, Path]) -> Path:
    """The output folder of the shared sample run (a tenth of the scale, seed 7); read it, or copy it to change it."""
    return sample_run[1]
