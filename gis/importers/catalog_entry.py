"""Writing an imported layer into a project: its file under ``layers/data/`` and its catalog entry.

The catalog is edited as text, so the user's comments and layout stay as they were: a new
entry is appended at the end of ``layers:``; an existing one is replaced in place only when
asked (``replace``).  The whole import is one step: the catalog is validated after writing
(:func:`gis.project.catalog.read_catalog`) and on any error the catalog and the data files are
put back as they were.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import yaml

from gis.errors import ConfigError, UsageError
from gis.project._yaml import load_yaml
from gis.project.catalog import read_catalog
from gis.project.vocabulary import input_fields

OUTPUT_CRS = "EPSG:4490"
"""CGCS2000 longitude/latitude: every imported vector layer is stored in it."""
GPKG_VERSION = "1.2"
"""GeoPackage version of the files written (as ``planning.gpkg``: QGIS 3.22 warns on GDAL's newer default 1.4)."""
DATA_FOLDER = "data"
"""Imported files go to ``layers/data/``."""
_LAYER_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Project:
    """The project folder an import writes into."""

    root: Path

    @property
    def catalog_path(self) -> Path:
        """``layers/catalog.yaml``."""
        return self.root / "layers" / "catalog.yaml"

    def data_path(self, name: str, suffix: str) -> Path:
        """Where an imported layer's file goes: ``layers/data/<name><suffix>``."""
        return self.root / "layers" / DATA_FOLDER / f"{name}{suffix}"

    def catalog_file(self, path: Path) -> str:
        """``path`` as the catalog's ``file`` writes it: relative to ``layers/`` where it can be."""
        try:
            return Path(os.path.relpath(path.resolve(), (self.root / "layers").resolve())).as_posix()
        except ValueError:  # another drive
            return path.resolve().as_posix()

    def layers(self) -> dict[str, Any]:
        """The catalog's ``layers`` as plain data."""
        data = load_yaml(self.catalog_path)[0] or {}
        return dict(data.get("layers") or {})


def open_project(root: Path, names: Sequence[str], *, replace: bool, rename: str = "give another --layer name") -> Project:
    """The project at ``root``, checked before any work: it has a catalog, and each new layer name is free
    (or ``replace`` is given) and a valid name."""
    project = Project(root)
    if not project.catalog_path.is_file():
        msg = f"{project.catalog_path}: no catalog; give --project the project folder (start one with gis init DIR --crs EPSG:CODE)"
        raise UsageError(msg)
    existing = project.layers()
    for name in names:
        if not _LAYER_NAME.match(name):
            msg = f"layer name '{name}' is not allowed; use lower-case letters, digits and _ (e.g. charging_stations)"
            raise UsageError(msg)
        if name in existing and not replace:
            msg = f"{project.catalog_path}: layer '{name}' exists already; {rename}, or --replace to overwrite it"
            raise UsageError(msg)
    return project


def file_date(path: Path) -> str:
    """The date a file was last changed (ISO), the provenance date when none is given."""
    return dt.date.fromtimestamp(path.stat().st_mtime).isoformat()


def write_vector(frame: gpd.GeoDataFrame, path: Path, layer: str, description: str) -> None:
    """Write ``frame`` in CGCS2000 as the only layer of a new GeoPackage 1.2 at ``path``, its fields described."""
    frame = frame.to_crs(OUTPUT_CRS)
    known = input_fields(layer)
    metadata = {"DESCRIPTION": description, **{f"FIELD_{c}": known[c] for c in frame.columns if c in known}}
    if path.exists():
        path.unlink()
    pyogrio.write_dataframe(
        frame, path, layer=layer, driver="GPKG", promote_to_multi=None,
        dataset_options={"VERSION": GPKG_VERSION},
        layer_options={"DESCRIPTION": description, "SPATIAL_INDEX": "YES"},
        layer_metadata=metadata,
    )


# --- the catalog entry as YAML text ---------------------------------------------------------------


def _scalar(value: object) -> str:
    """A YAML scalar, quoted when needed."""
    text = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10_000).strip()
    return text.removesuffix("...").strip()


def _flow(row: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in row.items()) + "}"


def render_entry(name: str, entry: dict[str, Any], indent: str = "  ", row_comments: Sequence[str] = ()) -> list[str]:
    """The lines of one catalog entry under ``layers:``: scalars, mappings in block style, lists of
    mappings one per line (``classes``), with ``row_comments`` after the rows when given."""
    lines = [f"{indent}{name}:"]
    inner = indent * 2
    for key, value in entry.items():
        if isinstance(value, dict):
            lines.append(f"{inner}{key}:")
            lines += [f"{inner}{indent}{k}: {_scalar(v)}" for k, v in value.items()]
        elif isinstance(value, list):
            lines.append(f"{inner}{key}:")
            for i, row in enumerate(value):
                comment = f"   # {row_comments[i]}" if i < len(row_comments) and row_comments[i] else ""
                lines.append(f"{inner}{indent}- {_flow(row) if isinstance(row, dict) else _scalar(row)}{comment}")
        else:
            lines.append(f"{inner}{key}: {_scalar(value)}")
    return lines


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _trim_back(lines: list[str], start: int, end: int, depth: int) -> int:
    """Move ``end`` back over blank lines and comments at ``depth`` or shallower (they introduce what follows)."""
    while end > start and (not lines[end - 1].strip() or (lines[end - 1].lstrip().startswith("#") and _indent_of(lines[end - 1]) <= depth)):
        end -= 1
    return end


def with_entry(text: str, name: str, entry_lines_of: Any, path: Path) -> str:
    """``text`` of a catalog with the entry ``name`` appended to ``layers:`` or replaced in place.

    ``entry_lines_of(indent)`` gives the entry's lines for the indentation the catalog uses.
    """
    lines = text.splitlines()
    header = next((i for i, line in enumerate(lines) if re.match(r"^layers:\s*(#.*)?$", line)), None)
    if header is None:
        msg = f"{path}: no block 'layers:' at the start of a line; the catalog needs one (entries indented under it)"
        raise ConfigError(msg)
    end = next((i for i in range(header + 1, len(lines)) if _is_content(lines[i]) and _indent_of(lines[i]) == 0), len(lines))
    end = _trim_back(lines, header + 1, end, 0)
    first = next((lines[i] for i in range(header + 1, end) if _is_content(lines[i])), None)
    depth = _indent_of(first) if first is not None else 2
    new = list(entry_lines_of(" " * depth))
    own = re.compile(rf"^ {{{depth}}}['\"]?{re.escape(name)}['\"]?:\s*(#.*)?$")
    start = next((i for i in range(header + 1, end) if own.match(lines[i])), None)
    if start is None:
        spacer = [""] if end > header + 1 and lines[end - 1].strip() else []
        lines[end:end] = spacer + new
    else:
        stop = next((i for i in range(start + 1, end) if _is_content(lines[i]) and _indent_of(lines[i]) <= depth), end)
        stop = _trim_back(lines, start + 1, stop, depth)
        lines[start:stop] = new
    return "\n".join(lines) + "\n"


# --- one import as one step ------------------------------------------------------------------------


@dataclass
class NewLayer:
    """A layer an import adds: its name, the entry to write, and the files it brings (staged -> final)."""

    name: str
    entry: dict[str, Any]
    files: dict[Path, Path] = field(default_factory=dict)
    row_comments: list[str] = field(default_factory=list)


def staged(final: Path) -> Path:
    """The temporary name a file is written to before the import is committed."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return final.with_name(f".importing.{final.name}")


@contextmanager
def _kept(paths: Sequence[Path]) -> Iterator[dict[Path, Path]]:
    """Set existing files aside (``.bak``) for the block; put them back if it fails, remove the copies if not."""
    backups: dict[Path, Path] = {}
    for path in paths:
        if path.exists():
            backup = path.with_name(f".bak.{path.name}")
            shutil.copy2(path, backup)
            backups[path] = backup
    try:
        yield backups
    except BaseException:
        for path, backup in backups.items():
            os.replace(backup, path)
        raise
    for backup in backups.values():
        backup.unlink(missing_ok=True)


def install(project: Project, layers: Sequence[NewLayer]) -> None:
    """Move the staged files into place and write the catalog entries, then validate the catalog;
    on any error everything is put back as it was and the error raised (naming the rollback)."""
    finals = [final for layer in layers for final in layer.files.values()]
    _check_file_users(project, layers)
    created = [final for final in finals if not final.exists()]
    try:
        with _kept([project.catalog_path, *finals]):
            for layer in layers:
                for source, final in layer.files.items():
                    os.replace(source, final)
            text = project.catalog_path.read_text(encoding="utf-8")
            for layer in layers:
                text = with_entry(text, layer.name, lambda indent, layer=layer: render_entry(layer.name, layer.entry, indent, layer.row_comments),
                                  project.catalog_path)
            _write_text(project.catalog_path, text)
            try:
                read_catalog(project.catalog_path)
            except ConfigError as exc:
                msg = f"{exc} (after importing; the catalog and the data files are back as they were)"
                raise ConfigError(msg) from None
    except BaseException:
        for final in created:
            final.unlink(missing_ok=True)
        raise
    finally:
        for layer in layers:
            for source in layer.files:
                with suppress(FileNotFoundError):
                    source.unlink()


def _check_file_users(project: Project, layers: Sequence[NewLayer]) -> None:
    """Refuse to overwrite a file another catalog layer reads."""
    existing = project.layers()
    names = {layer.name for layer in layers}
    for layer in layers:
        for final in layer.files.values():
            written = project.catalog_file(final)
            for other, entry in existing.items():
                if other not in names and isinstance(entry, dict) and entry.get("file") == written:
                    msg = f"{final}: layer '{other}' of the catalog reads this file; give another --layer name or move '{other}'"
                    raise UsageError(msg)


def _write_text(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.writing")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def provenance(source: str, licence: str, date: str, citation: str | None = None) -> dict[str, Any]:
    """The provenance block of an imported layer: observed data (``synthetic: false``)."""
    block: dict[str, Any] = {"source": source, "licence": licence, "date": date, "synthetic": False}
    if citation:
        block["citation"] = citation
    return block
