"""Writing an output file: where it goes, and whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gis.errors import UsageError


def output_file(path: str | Path, default_name: str) -> Path:
    """``path``, or ``default_name`` inside it when it is a folder; a missing folder is an error."""
    path = Path(path)
    if path.is_dir():
        path = path / default_name
    if not path.parent.is_dir():
        msg = f"{path.parent}: folder not found; create it or choose another --out"
        raise UsageError(msg)
    return path


@contextmanager
def replaced_whole(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write; it replaces ``path`` only if the block succeeds."""
    handle, staging = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    try:
        yield Path(staging)
        os.chmod(staging, 0o644)  # mkstemp makes 0600; outputs are shared like the others
        os.replace(staging, path)
    finally:
        if os.path.exists(staging):
            os.unlink(staging)
