"""Opening and inspecting a project's rasters: errors that name the file, findings said once per run."""

from __future__ import annotations

from pathlib import Path

import rasterio
from rasterio.errors import RasterioIOError

from gis.errors import DataError
from gis.project.layers import LayerReader


def open_raster(path: Path, layer: str) -> rasterio.DatasetReader:
    """Open a raster, or fail with a message naming the file and the fix."""
    if not path.exists():
        msg = f"{path}: raster '{layer}' not found; fix 'layers.{layer}.file' in the catalog"
        raise DataError(msg)
    try:
        dataset = rasterio.open(path)
    except RasterioIOError as exc:
        msg = f"{path}: raster '{layer}' cannot be opened ({exc}); replace the file"
        raise DataError(msg) from None
    if dataset.crs is None:
        dataset.close()
        msg = f"{path}: raster '{layer}' has no CRS; assign the CRS it was made in (gdal_edit.py -a_srs EPSG:...)"
        raise DataError(msg)
    return dataset


def is_metric(dataset: rasterio.DatasetReader) -> bool:
    """Whether the raster's cells are measured in metres (so a cell's area is known)."""
    return bool(dataset.crs.is_projected) and abs(dataset.crs.linear_units_factor[1] - 1.0) < 1e-9


def inspect_raster(project: LayerReader, layer: str) -> None:
    """Record, once per run, what a run should say about a raster: no nodata, another CRS."""
    if layer in project.inspected_rasters:
        return
    project.inspected_rasters.add(layer)
    with open_raster(project.layer_path(layer), layer) as dataset:
        if dataset.nodata is None:
            project.note(layer, "no nodata value declared", "every cell counted as data", field="raster")
        if dataset.crs != rasterio.crs.CRS.from_user_input(project.crs):
            action = "zones reprojected to it" if is_metric(dataset) else f"classes warped (nearest) to {project.crs} for cell areas"
            project.note(layer, f"raster in {dataset.crs.to_string()}", action, field="raster", severity="info")
