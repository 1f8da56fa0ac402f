"""Writing output files: where they go, whole or not at all, and the scratch files a killed run leaves.

Scratch folders and files are named ``.gis-<kind>-<pid>-<host>-<random>`` (kind: ``staging``,
``backup`` or ``partial``), so that a later run can tell one whose process is gone from one
still being written, and remove only the former.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from gis.errors import GisError, OutputError, UsageError

log = logging.getLogger("gis")

STAGING, BACKUP, PARTIAL = ".gis-staging-", ".gis-backup-", ".gis-partial-"
"""Name prefixes of a run's staging folder, the backup of the outputs it replaces, and a file being written."""
SCRATCH_NAME = re.compile(r"^\.gis-(?:staging|backup|partial)-(?P<pid>\d+)-(?P<host>[0-9a-f]{6})-")
OLD_STAGING_NAME = re.compile(r"^\.gis-staging-[a-z0-9_]{8}$")
"""A staging folder of an older version (``tempfile.mkdtemp``'s name, no process id): always stale."""
FOREIGN_SCRATCH_AGE_S = 24 * 3600
"""Scratch of another machine (an output folder on a shared drive) is removed only when this old."""


def output_file(path: str | Path, default_name: str) -> Path:
    """``path``, or ``default_name`` inside it when it is a folder; a missing folder is an error."""
    path = Path(path)
    if path.is_dir():
        path = path / default_name
    if not path.parent.is_dir():
        msg = f"{path.parent}: folder not found; create it or choose another --out"
        raise UsageError(msg)
    return path


@cache
def host_tag() -> str:
    """Six hex digits naming this machine in scratch names."""
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]


def scratch_prefix(kind: str, pid: int | None = None) -> str:
    """The start of a scratch name of this process (or of ``pid``): ``.gis-<kind>-<pid>-<host>-``."""
    return f"{kind}{os.getpid() if pid is None else pid}-{host_tag()}-"


def scratch_folder(parent: Path, kind: str) -> Path:
    """A new, empty scratch folder of this process inside ``parent`` (same disk, so moves are renames)."""
    return Path(tempfile.mkdtemp(prefix=scratch_prefix(kind), dir=parent))


def staging_folder(out_dir: Path, unchanged: str) -> Path:
    """A new staging folder of this process in ``out_dir``; an :class:`OutputError` saying ``unchanged`` when it cannot be made."""
    try:
        return scratch_folder(out_dir, STAGING)
    except OSError as exc:
        msg = f"{out_dir}: could not make a staging folder ({reason(exc)}); {fix_for(exc, out_dir / 'x')}; {unchanged}"
        raise OutputError(msg) from exc


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (a process we may not signal counts as running)."""
    if pid == os.getpid():
        return True
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_process_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


if sys.platform == "win32":

    def _windows_process_alive(pid: int) -> bool:
        """OpenProcess and GetExitCodeProcess (``os.kill(pid, 0)`` would end the process on Windows)."""
        import ctypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.get_last_error() == 5  # access denied: it exists
        try:
            code = ctypes.c_ulong()
            return not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)) or code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)


def _is_stale(entry: os.DirEntry[str], old_names: re.Pattern[str] | None) -> bool:
    match = SCRATCH_NAME.match(entry.name)
    if match:
        if match["host"] == host_tag():
            return not process_alive(int(match["pid"]))
        try:
            return time.time() - entry.stat(follow_symlinks=False).st_mtime > FOREIGN_SCRATCH_AGE_S
        except OSError:
            return False
    return bool(OLD_STAGING_NAME.match(entry.name) or (old_names is not None and old_names.match(entry.name)))


def remove_stale_scratch(folder: Path, *, old_names: re.Pattern[str] | None = None) -> list[Path]:
    """Remove the scratch folders and files in ``folder`` left by runs whose process is gone.

    Scratch of a live process (this one included) stays; ``old_names`` also matches scratch of
    an older naming. What cannot be removed stays, quietly. Returns what was removed.
    """
    removed: list[Path] = []
    try:
        entries = [entry for entry in os.scandir(folder) if entry.name.startswith(".")]
    except OSError:
        return removed
    for entry in entries:
        if not _is_stale(entry, old_names):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError as exc:
            log.debug("could not remove %s: %s", path, exc)
            continue
        log.info("removed %s, left by a run that did not finish", path)
        removed.append(path)
    return removed


def reason(exc: BaseException) -> str:
    """The short reason of an error: an OSError's text without its paths."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def fix_for(exc: BaseException, path: Path) -> str:
    """What the planner can do about an error writing or replacing ``path``."""
    number = exc.errno if isinstance(exc, OSError) else None
    if number in (errno.EACCES, errno.EPERM, errno.EBUSY, errno.ETXTBSY):
        return (f"is it open in another program, e.g. Excel? close it (or check that you may change files in {path.parent}) "
                "and run again")
    if number in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
        return f"a folder is in the way of {path.name}: move or rename it and run again"
    if number in (errno.ENOSPC, errno.EDQUOT):
        return f"free some space on the disk of {path.parent} and run again"
    if number == errno.EROFS:
        return "the disk is read-only: choose another --out"
    if isinstance(exc, OSError):
        return f"check {path.parent} and run again"
    return "this is a bug in gis: rerun with -v for the traceback and report it"


@contextmanager
def replaced_whole(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write; it replaces ``path`` only if the block succeeds.

    An error writing or replacing it is an :class:`OutputError` naming ``path``; ``path`` is then as it was.
    Stale partial files of killed runs in the same folder are removed first.
    """
    remove_stale_scratch(path.parent)
    if path.is_dir() and not path.is_symlink():
        msg = f"{path}: a folder is in the way of the file; move or rename it and run again; nothing was written"
        raise OutputError(msg)
    try:
        handle, staging = tempfile.mkstemp(prefix=f"{scratch_prefix(PARTIAL)}{path.stem}-", suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        msg = f"{path}: could not be written ({reason(exc)}); {fix_for(exc, path)}; {path} is as it was"
        raise OutputError(msg) from exc
    os.close(handle)
    try:
        yield Path(staging)
        os.chmod(staging, 0o644)  # mkstemp makes 0600; outputs are shared like the others
        os.replace(staging, path)
    except OSError as exc:
        if isinstance(exc, GisError):
            raise
        msg = f"{path}: could not be written ({reason(exc)}); {fix_for(exc, path)}; {path} is as it was"
        raise OutputError(msg) from exc
    finally:
        if os.path.exists(staging):
            os.unlink(staging)


def write_text_whole(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all (:func:`replaced_whole`); returns ``path``."""
    with replaced_whole(path) as staging:
        staging.write_text(text, encoding="utf-8")
    return path


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def replace_together(moves: Sequence[tuple[Path | None, Path]], folder: Path, *, unchanged: str) -> None:
    """Move each ``source`` onto its ``target`` (inside ``folder``): all of them, or none.

    A ``source`` of None removes its ``target`` with the swap (an output this run does not make
    must not stay behind looking like part of it), and a failure puts it back with the rest.

    First every existing target is moved aside into a backup folder in ``folder``, then every
    source is moved in; a failure in either step puts back what had moved, and the backup is
    deleted at the end. ``unchanged`` says what is on disk after a failure (e.g. "nothing of
    this run was written; out holds run X as before"). Raises :class:`OutputError` naming the
    file, the reason and the fix; if putting back fails too, it says where the earlier files are.
    """
    for _, target in moves:
        if target.is_dir() and not target.is_symlink():
            msg = f"{target}: a folder is in the way of an output file; move or rename it and run again; {unchanged}"
            raise OutputError(msg)
    try:
        backup = scratch_folder(folder, BACKUP)
    except OSError as exc:
        msg = f"{folder}: could not make the backup folder of the swap ({reason(exc)}); {fix_for(exc, folder / 'x')}; {unchanged}"
        raise OutputError(msg) from exc
    aside: list[tuple[Path, Path]] = []  # (target, where its earlier file is kept)
    placed: list[Path] = []
    failed: tuple[Path, str, OSError] | None = None
    try:
        for _, target in moves:
            if os.path.lexists(target):
                kept = backup / f"{len(aside)}-{target.name}"
                try:
                    os.replace(target, kept)
                except OSError as exc:
                    failed = (target, "replaced", exc)
                    raise
                aside.append((target, kept))
        for source, target in moves:
            if source is None:
                continue
            try:
                os.replace(source, target)
            except OSError as exc:
                failed = (target, "written", exc)
                raise
            placed.append(target)
    except BaseException as exc:
        problem = _put_back(placed, aside)
        if problem is not None:
            raise OutputError(_mixed_message(folder, backup, failed, exc, problem)) from exc
        shutil.rmtree(backup, ignore_errors=True)
        if failed is None:
            raise
        target, verb, error = failed
        msg = f"{target}: could not be {verb} ({reason(error)}); {fix_for(error, target)}; {unchanged}"
        raise OutputError(msg) from exc
    shutil.rmtree(backup, ignore_errors=True)


def _put_back(placed: list[Path], aside: list[tuple[Path, Path]]) -> tuple[Path, OSError] | None:
    """Remove what was moved in, move the earlier files back; the first failure, if any."""
    problem: tuple[Path, OSError] | None = None
    for target in reversed(placed):
        try:
            _remove(target)
        except OSError as exc:
            problem = problem or (target, exc)
    for target, kept in reversed(aside):
        try:
            os.replace(kept, target)
        except OSError as exc:
            problem = problem or (target, exc)
    return problem


def _mixed_message(folder: Path, backup: Path, failed: tuple[Path, str, OSError] | None, exc: BaseException,
                   problem: tuple[Path, OSError]) -> str:
    """The message when putting the earlier files back failed: what is where, and what to do."""
    kept = backup.with_name(f"gis-earlier-outputs-{time.strftime('%Y%m%dT%H%M%S')}")
    try:
        os.replace(backup, kept)  # a visible name, which no later run removes
    except OSError:
        kept = backup
    first = f"{failed[0]}: could not be {failed[1]} ({reason(failed[2])})" if failed else f"{folder}: interrupted ({reason(exc)})"
    return (f"{first}, and putting the earlier files back failed too ({problem[0]}: {reason(problem[1])}); "
            f"{folder} now holds part of this run and part of the earlier one; the earlier files not put back are in {kept}: "
            f"move them back into {folder}, or run again")
