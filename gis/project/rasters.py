"""Opening and inspecting a project's rasters: errors that name the file, findings said once per run."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import rasterio
import shapely
from pyproj import CRS
from rasterio.errors import RasterioError, RasterioIOError
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds

from gis.errors import DataError
from gis.project.georef import crs_code, example, implausible, unit_word
from gis.project.layers import LayerReader

READ_CHUNK_CELLS = 1 << 22
"""Cells read at a time when a raster is checked for damaged blocks."""


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


def _gdal_messages(exc: BaseException) -> list[str]:
    """The first lines of a failed read's chain of causes, outermost first (GDAL's own messages are the causes)."""
    messages: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(messages) < 10:
        text = str(seen).strip()
        if text and "see previous exception" not in text.lower():
            messages.append(text.splitlines()[0])
        seen = seen.__cause__ or seen.__context__
    return messages or [type(exc).__name__]


def unreadable(path: Path, layer: str, exc: BaseException, block: tuple[int, int] | None = None,
               rows: tuple[int, int] | None = None) -> DataError:
    """The error of a raster whose cells cannot be read (a damaged tile): the file, the tile and the fix.

    ``block`` is the raster's block size (rows, columns), to say where a damaged tile lies in cells;
    ``rows`` the rows being read, said when GDAL does not name the tile.
    """
    messages = _gdal_messages(exc)
    where = f" in rows {rows[0]} to {rows[1] - 1}" if rows else ""
    for text in messages:
        found = re.search(r"IReadBlock failed at X offset (\d+), Y offset (\d+)", text)
        if found:
            column, row = int(found.group(1)), int(found.group(2))
            cells = f"; cells from column {column * block[1]}, row {row * block[0]}" if block else ""
            where = f" at tile {column}, {row} (tile column, row{cells})"
            break
    reason = re.sub(r"^.*?, band \d+: ", "", messages[-1])
    return DataError(f"{path}: raster '{layer}' cannot be read{where}: {reason}; the file is damaged: replace it (export or download it again)")


@contextmanager
def reading(path: Path, layer: str, block: tuple[int, int] | None = None) -> Iterator[None]:
    """Turn a failed read of a raster's cells (inside zonal statistics, a warp) into :func:`unreadable`."""
    try:
        yield
    except RasterioIOError as exc:
        raise unreadable(path, layer, exc, block) from exc


def inspect_raster(project: LayerReader, layer: str, *, every_cell: bool = False) -> None:
    """Check, once per run, that a raster is where it should be and overlaps the study area; record what a
    run should say about it: no nodata, another CRS.

    ``every_cell`` (``gis check``) also reads every cell over the study area, so that a damaged tile is
    found before any work.  A run does not: that would read the raster twice, and a tile a measurement
    needs and cannot read stops it anyway, named the same way (:func:`reading`), before anything is written.
    """
    if layer in project.inspected_rasters:
        return
    project.inspected_rasters.add(layer)
    path = project.layer_path(layer)
    with open_raster(path, layer) as dataset:
        if dataset.nodata is None:
            project.note(layer, "no nodata value declared", "every cell counted as data", field="raster")
        if dataset.crs != rasterio.crs.CRS.from_user_input(project.crs):
            action = "zones reprojected to it" if is_metric(dataset) else f"classes warped (nearest) to {project.crs} for cell areas"
            project.note(layer, f"raster in {dataset.crs.to_string()}", action, field="raster", severity="info")
        window = _study_window(project, layer, path, dataset)
        if every_cell:
            _check_readable(path, layer, dataset, window)


def _corners(dataset: rasterio.DatasetReader) -> np.ndarray:
    """A grid of 5 x 5 points over the raster's extent, in its CRS (for the likely-CRS search)."""
    west, south, east, north = dataset.bounds
    xs, ys = np.meshgrid(np.linspace(west, east, 5), np.linspace(north, south, 5))
    return np.column_stack([xs.ravel(), ys.ravel()])


def _study_window(project: LayerReader, layer: str, path: Path, dataset: rasterio.DatasetReader) -> Window:
    """The cells of the raster over the study area; an error naming the likely CRS when there are none
    (coordinates that cannot be in the declared CRS, or an extent away from the study area)."""
    declared = CRS.from_user_input(dataset.crs.to_wkt())
    looks = implausible(dataset.bounds, declared)
    if looks is None:
        window = _window_over(project.study_area(), project.crs, dataset)
        if window is not None:
            return window
    points = _corners(dataset)
    fit = project.fitting_crs(layer, points, declared)
    if looks is not None:
        what = f"has coordinates like {example(points)} ({looks}) but declares {crs_code(declared)} ({unit_word(declared)})"
    else:
        west, south, east, north = dataset.bounds
        what = (f"does not overlap the study area: it covers x {west:.6g} to {east:.6g}, y {south:.6g} to {north:.6g} "
                f"in the CRS it declares, {crs_code(declared)}")
    if fit is None:
        fix = "its corners fit no CRS near the study area; check its CRS and extent, or replace the file"
    else:
        fix = f"its corners fit {fit.describe()}; assign it (gdal_edit.py -a_srs {fit.code} {path}) or replace the file"
    raise DataError(f"{path}: raster '{layer}' {what}; {fix}")


def _window_over(study: shapely.Geometry, crs: str, dataset: rasterio.DatasetReader) -> Window | None:
    """The raster's cells over the bounds of ``study`` (in ``crs``), None when the raster does not overlap it."""
    try:
        covered = transform_bounds(dataset.crs, crs, *dataset.bounds)
        if not np.all(np.isfinite(covered)) or not shapely.intersects(shapely.box(*covered), study):
            return None
        bounds = transform_bounds(crs, dataset.crs, *shapely.bounds(study).tolist())
        window = from_bounds(*bounds, transform=dataset.transform).round_offsets().round_lengths()
        return window.intersection(Window(0, 0, dataset.width, dataset.height))
    except RasterioError:  # a WindowError when they do not intersect
        return None


def _check_readable(path: Path, layer: str, dataset: rasterio.DatasetReader, window: Window) -> None:
    """Read the cells of ``window`` (band 1), a few rows of blocks at a time: a damaged tile fails here,
    named, rather than deep inside zonal statistics."""
    block_rows, block_columns = dataset.block_shapes[0]
    width, height = int(window.width), int(window.height)
    if width <= 0 or height <= 0:
        return
    step = max(block_rows, READ_CHUNK_CELLS // max(1, width) // block_rows * block_rows)
    top, bottom = int(window.row_off), int(window.row_off) + height
    for row in range(top, bottom, step):
        try:
            dataset.read(1, window=Window(int(window.col_off), row, width, min(step, bottom - row)))
        except RasterioIOError as exc:
            raise unreadable(path, layer, exc, (block_rows, block_columns), (row, min(row + step, bottom))) from None
