"""Land-cover rasters (ESA WorldCover, CLCD, GlobeLand30) with their ready class tables, for ``raster_share``.

The raster is copied into ``layers/data/`` (or pointed at where it is, ``link``) and its catalog
entry gets the legend's ``classes`` (code, name, permeable, excluded), each with the basis of its
flags as a comment.  The codes present are sampled (a decimated read) to name codes the legend lacks.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioIOError

from gis.errors import DataError
from gis.importers.catalog_entry import NewLayer, file_date, install, open_project, provenance, staged
from gis.importers.classes import landcover_table

SAMPLE_CELLS = 2048
"""The codes present are read from at most this many rows and columns (a decimated read)."""


@dataclass
class LandCoverImport:
    """What an import of a land-cover raster did."""

    layer: str
    path: Path
    table: str
    crs: str
    cell_m: float
    unknown_codes: list[int] = field(default_factory=list)


def inspect(path: Path) -> tuple[str, float, set[int]]:
    """The raster's CRS, cell size (m, about) and the codes seen in a decimated read (nodata left out)."""
    try:
        with rasterio.open(path) as dataset:
            if dataset.crs is None:
                msg = f"{path}: the raster declares no CRS; assign one (gdal_edit.py -a_srs EPSG:4326 for WorldCover tiles)"
                raise DataError(msg)
            factor = max(1, int(np.ceil(max(dataset.height, dataset.width) / SAMPLE_CELLS)))
            shape = (max(1, dataset.height // factor), max(1, dataset.width // factor))
            values = dataset.read(1, out_shape=shape, masked=True)
            res = abs(dataset.res[0])
            cell = res * 111_320.0 if dataset.crs.is_geographic else res
            crs = dataset.crs.to_string()
    except RasterioIOError as exc:
        msg = f"{path}: not a readable raster ({str(exc).splitlines()[0]})"
        raise DataError(msg) from None
    codes = {int(v) for v in np.unique(values.compressed())}
    return crs, cell, codes


def import_landcover(
    path: Path, project_dir: Path, layer: str, *, table: str, link: bool = False, title: str | None = None,
    source: str | None = None, licence: str | None = None, date: str | None = None, replace: bool = False,
) -> LandCoverImport:
    """Copy (or link) a land-cover raster into the project and write its catalog entry with the legend's classes."""
    legend = landcover_table(table)
    project = open_project(project_dir, [layer], replace=replace)
    crs, cell, codes = inspect(path)
    files: dict[Path, Path] = {}
    if link:
        final = path
    else:
        final = project.data_path(layer, path.suffix.lower() or ".tif")
        shutil.copy2(path, staged(final))
        files[staged(final)] = final
    classes = legend.land_classes()
    entry = {
        "title": title or f"Land cover ({legend.title})",
        "file": project.catalog_file(final),
        "kind": "raster",
        "provenance": provenance(source or f"{legend.source}; file {path.name}", licence or legend.licence, date or file_date(path)),
        "classes": [c.model_dump(exclude_defaults=True) for c in classes],
    }
    install(project, [NewLayer(layer, entry, files, row_comments=legend.basis())])
    unknown = sorted(codes - {c.code for c in classes})
    return LandCoverImport(layer=layer, path=final, table=legend.name, crs=crs, cell_m=cell, unknown_codes=unknown)
