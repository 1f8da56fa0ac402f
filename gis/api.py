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

import shutil
import tempfile
import weakref
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

if TYPE_CHECKING:
    import folium

    from gis.engines.local import RunResult
    from gis.project.config import Project
    from gis.outputs.folder import RunOutputs


class Result:
    """What a run computed, with the ways to look at it and to hand it on."""

    def __init__(self, run: RunResult) -> None:
        self.run = run
        self._saved: Path | None = None

    def __repr__(self) -> str:
        counts = self.indicators["status"].value_counts().to_dict()
        return f"<gis.Result {self.run.project.catalog.project.name}: {len(self.run.results)} indicators, {counts.get('gap', 0)} gaps>"

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
        from gis.proposals.core import propose

        return propose(self.run).table

    @property
    def data_quality(self) -> pd.DataFrame:
        """What was wrong in the inputs and what the run did about it."""
        from gis.outputs.write import quality_table

        return quality_table(self.run.project.notes)

    def save(self, out_dir: str | Path) -> dict:
        """Write every output (as ``gis run`` does) into ``out_dir``; return the run record."""
        from gis.outputs.write import write_outputs

        record = write_outputs(self.run, Path(out_dir))
        self._saved = Path(out_dir)
        return record

    def _outputs(self) -> RunOutputs:
        """The run's files: where it was saved, else a scratch folder kept as long as this object."""
        from gis.outputs.folder import read_run

        if self._saved is None:
            scratch = tempfile.mkdtemp(prefix="gis-result-")
            weakref.finalize(self, shutil.rmtree, scratch, ignore_errors=True)
            self.save(scratch)
        return read_run(self._saved)

    def map(self, *, basemap: str | None = None, lang: str = "both") -> folium.Map:
        """The web map as a folium map (displays inline in Jupyter)."""
        from gis.project.mapspec import MapSpec, find_map_spec, read_map_spec
        from gis.outputs.webmap import build_map

        spec_path = find_map_spec(self.run.project.root)
        spec = read_map_spec(spec_path) if spec_path else MapSpec()
        return build_map(self._outputs(), spec, project=self.run.project, basemap=basemap, lang=lang)

    def report(self, path: str | Path, *, lang: str = "both") -> Path:
        """Write the HTML report to ``path`` (``lang``: both, zh or en)."""
        from gis.outputs.report import write_report

        return write_report(self._outputs(), Path(path), project=self.run.project, lang=lang)

    def to_geopackage(self, path: str | Path) -> Path:
        """Write the planning GeoPackage (CGCS2000, styled) to ``path``, replacing an existing file."""
        target = Path(path)
        shutil.copy2(self._outputs().geopackage, target)
        return target


def check_project(project: Project) -> pd.DataFrame:
    """Validate every layer; the findings as a DataFrame (severity, layer, message)."""
    from gis.project.check import check_project as run_checks

    return pd.DataFrame([f.__dict__ for f in run_checks(project)], columns=["severity", "layer", "message"])


def run(project: Project, *, engine: str = "local", scheduler: str | None = None, only: list[str] | None = None) -> Result:
    """Run the project's indicators on the local engine or on Dask."""
    if engine == "local":
        from gis.engines.local import run_project

        return Result(run_project(project, only=only))
    if engine == "dask":
        from gis.engines.dask import run_project_dask

        return Result(run_project_dask(project, scheduler=scheduler, only=only))
    from gis.errors import UsageError

    msg = f"engine {engine!r} is not known; use 'local' or 'dask'"
    raise UsageError(msg)
