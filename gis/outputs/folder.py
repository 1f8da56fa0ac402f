"""Reading a finished run back from its output folder (for maps, reports and exports)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from gis.errors import UsageError
from gis.proposals import PROPOSAL_COLUMNS

RUN_FILES = ("indicators.csv", "planning.gpkg", "run.json")
ZONE_LEVELS = ("city", "county", "park")


@dataclass(frozen=True)
class RunOutputs:
    """The outputs of one run: its table, its GeoPackage and its record."""

    out_dir: Path
    written: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, compare=False, repr=False)
    """Layers as this process wrote them to the GeoPackage (as they read back), so the views of a
    run being written need not read its layers again."""
    _read: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def record(self) -> dict:
        """The parsed ``run.json``."""
        return json.loads((self.out_dir / "run.json").read_text(encoding="utf-8"))

    @cached_property
    def indicator_history(self) -> pd.DataFrame:
        """Every row of ``indicators.csv``: the data year and the earlier years given (ids kept as text)."""
        return pd.read_csv(self.out_dir / "indicators.csv", dtype={"zone_id": str}, encoding="utf-8")

    @cached_property
    def indicators(self) -> pd.DataFrame:
        """The rows of the data year: one per indicator and zone."""
        return current_year(self.indicator_history, self.record.get("data_year"))

    @cached_property
    def proposals(self) -> pd.DataFrame:
        """The rows of ``proposals.csv``; empty (with its columns) for a run written before proposals existed."""
        path = self.out_dir / "proposals.csv"
        if not path.exists():
            return pd.DataFrame(columns=PROPOSAL_COLUMNS)
        text = {"zone_id": str, "item_id": str, "item_name": str, "item_layer": str, "zone_name": str}
        frame = pd.read_csv(path, dtype=text, encoding="utf-8")
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
        """Layer names in the GeoPackage."""
        return [str(name) for name, _ in pyogrio.list_layers(self.geopackage)]

    def _level_layers(self, indicator: str) -> list[str]:
        return [f"{indicator}.{level}" for level in ZONE_LEVELS if f"{indicator}.{level}" in self.layers]

    def has_layer(self, name: str) -> bool:
        """Whether ``name`` is a layer, or an indicator with zone layers (``<id>.city``, ``<id>.county``, ...)."""
        return name in self.layers or bool(self._level_layers(name))

    def read_layer(self, name: str) -> gpd.GeoDataFrame:
        """A layer of the GeoPackage in the output CRS (CGCS2000); an indicator id gives its zones at every level."""
        if name not in self._read:
            self._read[name] = self._load_layer(name)
        return self._read[name].copy()

    def _file_layer(self, layer: str) -> gpd.GeoDataFrame:
        if layer in self.written:
            return self.written[layer]
        return gpd.read_file(self.geopackage, layer=layer, engine="pyogrio")

    def _load_layer(self, name: str) -> gpd.GeoDataFrame:
        if name in self.layers:
            return self._file_layer(name)
        parts = [self._file_layer(layer) for layer in self._level_layers(name)]
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
    """Open an output folder written by ``gis run``; fail clearly when something is missing."""
    folder = Path(out_dir)
    missing = [name for name in RUN_FILES if not (folder / name).exists()]
    if missing:
        msg = f"{folder}: no complete run here (missing {', '.join(missing)}); run `gis run --out {folder}` first"
        raise UsageError(msg)
    return RunOutputs(folder)
