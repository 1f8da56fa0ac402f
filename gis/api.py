"""The Python API for analysts in notebooks.

>>> import gis
>>> project = gis.load_project("path/to/city")
>>> project.check()                      # findings, as a DataFrame
>>> result = project.run()               # or project.run(engine="dask")
>>> result.indicators                    # one row per indicator and zone
>>> result.gaps                          # every gap feature, one GeoDataFrame
>>> result.map()                         # a folium map, shown inline in Jupyter
>>> result.report("report.html"); result.to_geopackage("planning.gpkg"); result.save("out")
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from gis.errors import UsageError
from gis.methods.registry import validate_specs
from gis.project.check import check_project
from gis.project.config import ProjectConfig, read_project
from gis.project.layers import LayerReader
from gis.project.mapspec import project_map_spec, validate_map_specs
from gis.project.quality import quality_table
from gis.proposals import propose, validate_proposals

if TYPE_CHECKING:
    import folium

    from gis.engines.result import RunResult
    from gis.outputs.folder import RunOutputs
    from gis.outputs.i18n import Lang

# The writers of the outputs (the workbook's openpyxl, the report's jinja2, the map's folium) are imported by the
# methods that write them: loading and checking a project never pays for them.

ENGINES = ("local", "dask")
log = logging.getLogger("gis")


@dataclass(frozen=True)
class Project(ProjectConfig):
    """A loaded city project: its configuration (never changed by a run), and the ways to check and run it."""

    def layers(self) -> LayerReader:
        """A fresh reader of the project's layers (canonical fields, repaired, in the metric CRS) with its own log."""
        return LayerReader(self)

    def check(self) -> pd.DataFrame:
        """Validate every layer as a run would; the findings (severity, layer, message) as a DataFrame."""
        findings = check_project(self.layers())
        return pd.DataFrame([dataclasses.asdict(f) for f in findings], columns=["severity", "layer", "message"])

    def run(self, *, engine: str = "local", scheduler: str | None = None, only: list[str] | None = None) -> Result:
        """Run the indicators (``engine="dask"`` for a Dask cluster); each run has its own data-quality log."""
        return run(self, engine=engine, scheduler=scheduler, only=only)


def load_project(path: str | Path) -> Project:
    """Read a project folder and check every spec (method, inputs, fields, proposal) and every map spec
    (``maps/*.yaml``: indicator ids, layers) against the specs and the catalog, before any work.

    A problem is a :class:`gis.ConfigError` naming the file, the line and the key; what the map will leave out
    (indicators not assessed, optional layers the catalog lacks) is logged.
    """
    config = read_project(path)
    validate_specs(config)
    validate_proposals(config)
    for note in validate_map_specs(config):
        log.info("map: %s", note)
    return Project(**{f.name: getattr(config, f.name) for f in dataclasses.fields(ProjectConfig)})


def run(project: ProjectConfig, *, engine: str = "local", scheduler: str | None = None, only: list[str] | None = None,
        workers: int = 2, on_step: Callable[[str], None] | None = None) -> Result:
    """Run the project's indicators on the local engine or on Dask; ``on_step`` is told each step's name as it starts."""
    if engine == "local":
        from gis.engines.local import run_project

        if scheduler:
            msg = "a scheduler goes with engine 'dask'"
            raise UsageError(msg)
        return Result(run_project(project, only=only, on_step=on_step))
    if engine == "dask":
        from gis.engines.dask import run_project_dask  # distributed is heavy: imported only for a Dask run

        return Result(run_project_dask(project, scheduler=scheduler, workers=workers, only=only, on_step=on_step))
    msg = f"engine {engine!r} is not known; use {' or '.join(repr(e) for e in ENGINES)}"
    raise UsageError(msg)


class Result:
    """What a run computed, with the ways to look at it and to hand it on."""

    def __init__(self, run: RunResult) -> None:
        self.run = run
        self._saved: Path | None = None

    def __repr__(self) -> str:
        counts = self.indicators["status"].value_counts().to_dict()
        return f"<gis.Result {self.run.project.name}: {len(self.run.results)} indicators, {counts.get('gap', 0)} gaps>"

    @cached_property
    def indicators(self) -> pd.DataFrame:
        """One row per indicator and zone (the columns of ``indicators.csv``)."""
        return self.run.indicators

    @cached_property
    def gaps(self) -> gpd.GeoDataFrame:
        """Every gap feature of every indicator, with an ``indicator`` column, in the project's metric CRS."""
        frames = [r.gaps for r in self.run.results if r.gaps is not None and not r.gaps.empty]
        if not frames:
            return gpd.GeoDataFrame({"indicator": []}, geometry=[], crs=self.run.project.crs)
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=self.run.project.crs)

    @cached_property
    def proposals(self) -> pd.DataFrame:
        """For every gap the run can act on, what would close it (the rows of ``proposals.csv``)."""
        return propose(self.run).table

    @property
    def data_quality(self) -> pd.DataFrame:
        """What was wrong in the inputs and what this run did about it."""
        return quality_table(self.run.notes)

    def save(self, out_dir: str | Path, *, pdf: bool = True) -> dict:
        """Write every output (as ``gis run`` does) into ``out_dir``; return the run record.

        ``pdf=False`` writes the report and the brief as HTML only (``gis run --no-pdf``).  A run of some
        indicators only (``run(only=...)``) writes its numbers (indicators.csv, data_quality.csv,
        planning.gpkg, run.json), into ``out_dir/only/`` when ``out_dir`` holds a whole run."""
        from gis.outputs.write import run_folder, write_outputs

        folder = run_folder(self.run, Path(out_dir))
        record = write_outputs(self.run, folder, pdf=pdf)
        self._saved = folder
        return record

    def _outputs(self) -> RunOutputs:
        """The run's files: where it was saved, else a scratch folder kept as long as this object."""
        from gis.outputs.folder import read_run

        if self._saved is None:
            scratch = tempfile.mkdtemp(prefix="gis-result-")
            weakref.finalize(self, shutil.rmtree, scratch, ignore_errors=True)
            self.save(scratch, pdf=False)  # a scratch folder for the views: nobody prints from it
        assert self._saved is not None
        return read_run(self._saved)

    def map(self, *, basemap: str | None = None, lang: Lang = "both") -> folium.Map:
        """The web map as a folium map (displays inline in Jupyter)."""
        from gis.outputs.webmap import build_map  # folium is heavy: imported when a map is asked for

        spec = project_map_spec(self.run.project).spec
        return build_map(self._outputs(), spec, layers=self.run.layers, basemap=basemap, lang=lang)

    def report(self, path: str | Path, *, lang: Lang = "both") -> Path:
        """Write the HTML report to ``path`` (``lang``: both, zh or en)."""
        from gis.outputs.report import write_report

        return write_report(self._outputs(), Path(path), layers=self.run.layers, lang=lang)

    def to_geopackage(self, path: str | Path) -> Path:
        """Write the planning GeoPackage (CGCS2000, styled) to ``path``, replacing an existing file."""
        target = Path(path)
        shutil.copy2(self._outputs().geopackage, target)
        return target
