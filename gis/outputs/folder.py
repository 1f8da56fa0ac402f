"""Reading a finished run back from its output folder (for maps, reports and exports)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from gis.errors import DataError, UsageError
from gis.outputs.plan_coverage import PLAN_COVERAGE_COLUMNS
from gis.proposals.columns import PROPOSAL_COLUMNS

RUN_FILES = ("indicators.csv", "planning.gpkg", "run.json")
CITY_LAYER = "city"  # the city's outline in the GeoPackage (gis.outputs.geopackage writes it)
CITY_TABLE = "city_indicators"  # every indicator's city row
ZONE_LEVELS = ("city", "prefecture", "county", "park")
"""The zone levels of an indicator's layers (``<id>.prefecture``, ``<id>.county``...), top to bottom: the order of
its rows in :meth:`RunOutputs.read_layer`."""


@dataclass(frozen=True)
class RunOutputs:
    """The outputs of one run: its table, its GeoPackage and its record."""

    out_dir: Path
    written: dict[str, pd.DataFrame] = field(default_factory=dict, compare=False, repr=False)
    """Layers as this process wrote them to the GeoPackage (as they read back), so the views of a
    run being written need not read its layers again."""
    _read: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def record(self) -> dict:
        """The parsed ``run.json``; a damaged one is a :class:`DataError` naming it."""
        return read_record(self.out_dir / "run.json", rerun_fix(self.out_dir))

    @cached_property
    def indicator_history(self) -> pd.DataFrame:
        """Every row of ``indicators.csv``: the data year and the earlier years given (ids kept as text)."""
        return read_table(self.out_dir / "indicators.csv", self.record, dtype={"zone_id": str}, fix=rerun_fix(self.out_dir))

    @cached_property
    def indicators(self) -> pd.DataFrame:
        """The rows of the data year: one per indicator and zone."""
        return current_year(self.indicator_history, self.record.get("data_year"))

    @cached_property
    def plan_coverage(self) -> pd.DataFrame:
        """The rows of ``plan_coverage.csv`` (the plan register as the run read it); empty for a run without one."""
        path = self.out_dir / "plan_coverage.csv"
        if not path.exists():
            return pd.DataFrame(columns=PLAN_COVERAGE_COLUMNS)
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")

    @cached_property
    def proposals(self) -> pd.DataFrame:
        """The rows of ``proposals.csv``; empty (with its columns) for a run written before proposals existed."""
        path = self.out_dir / "proposals.csv"
        if not path.exists():
            return pd.DataFrame(columns=PROPOSAL_COLUMNS)
        text = {"zone_id": str, "item_id": str, "item_name": str, "item_layer": str, "zone_name": str}
        frame = read_table(path, self.record, dtype=text, fix=rerun_fix(self.out_dir))
        flags = frame["meets_target"].map(lambda v: v if isinstance(v, bool) else {"True": True, "False": False}.get(str(v)))
        frame["meets_target"] = flags.astype("boolean")
        frame["rank"] = pd.to_numeric(frame["rank"], errors="coerce").astype("Int64")
        return frame

    @cached_property
    def proposal_layers(self) -> list[str]:
        """The ``<indicator>.proposals`` layers of the GeoPackage, in the order written."""
        return [name for name in self.layers if name.endswith(".proposals")]

    @property
    def geopackage(self) -> Path:
        """Path of ``planning.gpkg``."""
        return self.out_dir / "planning.gpkg"

    @cached_property
    def layers(self) -> list[str]:
        """Layer names in the GeoPackage; a damaged one is a :class:`DataError` naming it."""
        check_geopackage(self.geopackage, rerun_fix(self.out_dir))
        try:
            return [str(name) for name, _ in pyogrio.list_layers(self.geopackage)]
        except (pyogrio.errors.DataSourceError, OSError) as exc:
            raise damaged(self.geopackage, unreadable(exc), rerun_fix(self.out_dir)) from exc

    def _level_layers(self, indicator: str) -> list[str]:
        return [f"{indicator}.{level}" for level in ZONE_LEVELS if f"{indicator}.{level}" in self.layers]

    @cached_property
    def _city_rows(self) -> pd.DataFrame:
        """Every indicator's city row (the ``city_indicators`` table) with the city's polygon; empty in a run without them."""
        if CITY_TABLE not in self.layers or CITY_LAYER not in self.layers:
            return gpd.GeoDataFrame({"indicator": pd.Series(dtype=object)}, geometry=[], crs=None)
        rows, city = self._file_layer(CITY_TABLE), self._file_layer(CITY_LAYER)
        outline = city[["zone_id", "geometry"]]
        merged = pd.DataFrame(rows).merge(outline, on="zone_id", how="inner")
        return gpd.GeoDataFrame(merged, geometry="geometry", crs=city.crs)

    def _city_part(self, indicator: str) -> gpd.GeoDataFrame | None:
        """An indicator's city row with the city polygon, as an ``<id>.city`` layer held it; None when it has none."""
        if f"{indicator}.city" in self.layers:  # a run written before the city was kept once
            return None
        rows = self._city_rows[self._city_rows["indicator"] == indicator]
        return None if rows.empty else rows.reset_index(drop=True)

    def has_layer(self, name: str) -> bool:
        """Whether ``name`` is a layer, or an indicator with zone rows (``<id>.prefecture``, ``<id>.county``, ``<id>.park``,
        its city row)."""
        return name in self.layers or bool(self._level_layers(name)) or self._city_part(name) is not None

    def read_layer(self, name: str) -> gpd.GeoDataFrame:
        """A layer of the GeoPackage in the output CRS (CGCS2000); an indicator id gives its zones at every level, in
        :data:`ZONE_LEVELS` order (a view showing one level picks it by ``zone_type``)."""
        if name not in self._read:
            self._read[name] = self._load_layer(name)
        return self._read[name].copy()

    def _file_layer(self, layer: str) -> gpd.GeoDataFrame:
        if layer in self.written:
            return self.written[layer]
        try:
            return gpd.read_file(self.geopackage, layer=layer, engine="pyogrio")
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
                pyogrio.errors.GeometryError, OSError) as exc:
            raise damaged(self.geopackage, unreadable(exc), rerun_fix(self.out_dir), layer=layer) from exc

    def _load_layer(self, name: str) -> gpd.GeoDataFrame:
        if name in self.layers:
            return self._file_layer(name)
        parts = [self._file_layer(layer) for layer in self._level_layers(name)]
        city = self._city_part(name)
        if city is not None:
            parts.insert(0, city)
        if not parts:
            msg = f"{self.geopackage}: no layer '{name}'"
            raise UsageError(msg)
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=parts[0].crs)

    @property
    def synthetic(self) -> bool:
        """Whether the run used synthetic inputs."""
        return bool(self.record.get("synthetic"))


def current_year(rows: pd.DataFrame, data_year: int | None) -> pd.DataFrame:
    """The rows of the data year (all rows of tables written before years were kept)."""
    if "year" not in rows.columns:
        return rows
    year = data_year if data_year is not None else rows["year"].max()
    return rows[rows["year"] == year].reset_index(drop=True)


def read_run(out_dir: str | Path) -> RunOutputs:
    """Open an output folder written by ``gis run``; fail clearly when something is missing or damaged.

    ``run.json``, ``indicators.csv`` and the GeoPackage's header and layer list are read here, so a
    damaged file is a :class:`DataError` naming it before anything is written from it.
    """
    folder = Path(out_dir)
    missing = [name for name in RUN_FILES if not (folder / name).exists()]
    if missing:
        msg = f"{folder}: no complete run here (missing {', '.join(missing)}); run `gis run --out {folder}` first"
        raise UsageError(msg)
    run = RunOutputs(folder)
    run.indicator_history  # noqa: B018 - read now: reads run.json too
    run.layers  # noqa: B018 - checks the GeoPackage
    return run


def rerun_fix(out_dir: Path) -> str:
    """The fix for a damaged output file: write the run again."""
    return f"run `gis run --out {out_dir}` again to rewrite the outputs"


def damaged(path: Path, why: str, fix: str, *, layer: str | None = None) -> DataError:
    """The error for an output file that cannot be read back: names it (and the layer), why, and the fix."""
    where = f"{path}: layer '{layer}'" if layer else str(path)
    return DataError(f"{where}: {why}; {fix}")


def unreadable(exc: BaseException) -> str:
    """Why a file cannot be read, in a few words."""
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    else:
        text = str(exc).split(";")[0].splitlines()[0] if str(exc) else type(exc).__name__
    return f"cannot be read, damaged or cut short ({text})"


def read_record(path: Path, fix: str) -> dict:
    """A run's ``run.json`` as a dict with a ``run_id``; anything else is a :class:`DataError` naming the file and ``fix``."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        why = f"not valid JSON, damaged or cut short ({exc.msg}: line {exc.lineno}, column {exc.colno})"
        raise damaged(path, why, fix) from exc
    except UnicodeDecodeError as exc:
        raise damaged(path, f"not UTF-8 text, damaged or cut short (a bad byte at {exc.start:,})", fix) from exc
    except OSError as exc:
        raise damaged(path, unreadable(exc), fix) from exc
    if not isinstance(record, dict) or not isinstance(record.get("run_id"), str):
        raise damaged(path, "no 'run_id': not the record of a run", fix)
    return record


def read_table(path: Path, record: dict, *, dtype: dict, fix: str) -> pd.DataFrame:
    """A CSV table of a run, checked whole: it ends with a line break and has the rows ``run.json`` counted."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(size - 1, 0))
            last = handle.read(1)
    except OSError as exc:
        raise damaged(path, unreadable(exc), fix) from exc
    if last != b"\n":
        raise damaged(path, "empty (0 bytes)" if size == 0 else "cut short: its last line is incomplete", fix)
    try:
        frame = pd.read_csv(path, dtype=dtype, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise damaged(path, unreadable(exc), fix) from exc
    expected = (record.get("table_rows") or {}).get(path.name)
    if isinstance(expected, int) and len(frame) != expected:
        raise damaged(path, f"cut short or changed: {len(frame)} rows where run.json counted {expected}", fix)
    return frame


SQLITE_MAGIC = b"SQLite format 3\x00"


def check_geopackage(path: Path, fix: str) -> None:
    """Fail with a :class:`DataError` naming ``path`` unless it starts as a GeoPackage and is as long as its header says."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise damaged(path, unreadable(exc), fix) from exc
    if not header.startswith(SQLITE_MAGIC) or len(header) < 100:
        raise damaged(path, "not a GeoPackage (no SQLite header): damaged or overwritten", fix)
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if header[24:28] == header[92:96] and size < page_size * pages:  # the page count is valid when these agree
        raise damaged(path, f"cut short: {size:,} of the {page_size * pages:,} bytes its header counts", fix)
