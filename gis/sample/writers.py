"""Writers of the sample files: GeoPackage 1.2 (EPSG:4490), CSV, tiled GeoTIFF (EPSG:4546).

Each file is written under a temporary name and renamed, so a failed run leaves no half file;
GeoPackage timestamps are pinned so the same seed gives the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
from rasterio.transform import Affine

from gis.sample._common import LANDCOVER_CLASSES, METRIC_CRS, OUTPUT_CRS


def _partial(path: Path) -> Path:
    """A temporary sibling of *path* keeping its extension (GDAL picks drivers by it)."""
    return path.with_name(f".{path.stem}.partial{path.suffix}")


def write_gpkg(path: Path, layers: Sequence[tuple[str, gpd.GeoDataFrame]]) -> Path:
    """Write the layers (reprojected to EPSG:4490) into a GeoPackage 1.2, atomically."""
    tmp = _partial(path)
    tmp.unlink(missing_ok=True)
    key = "OGR_CURRENT_DATE"  # fixed timestamps: same seed => same bytes
    previous = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: "2025-12-31T00:00:00Z"})
    try:
        for i, (name, gdf) in enumerate(layers):
            out = gdf if gdf.crs is not None and gdf.crs.equals(OUTPUT_CRS) else gdf.to_crs(OUTPUT_CRS)
            pyogrio.write_dataframe(
                out, tmp, layer=name, driver="GPKG", promote_to_multi=False,
                dataset_options={"VERSION": "1.2"} if i == 0 else None,
            )
        os.replace(tmp, path)
    finally:
        pyogrio.set_gdal_config_options({key: previous})
        for extra in (tmp, tmp.with_name(tmp.name + "-journal"), tmp.with_name(tmp.name + "-wal"),
                      tmp.with_name(tmp.name + "-shm")):
            extra.unlink(missing_ok=True)
    return path


def write_csv(path: Path, df: pd.DataFrame) -> Path:
    tmp = _partial(path)
    try:
        df.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_raster(path: Path, data: np.ndarray, transform: Affine, *, nodata: float) -> Path:
    """Tiled, deflate-compressed single-band GeoTIFF in EPSG:4546, atomically."""
    tmp = _partial(path)
    profile = {
        "driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1,
        "dtype": data.dtype.name, "crs": METRIC_CRS, "transform": transform, "nodata": nodata,
        "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "deflate",
        "predictor": 3 if data.dtype.kind == "f" else 2, "zlevel": 6,
    }
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(data, 1)
            if data.dtype == np.uint8:
                dst.update_tags(1, **{f"CLASS_{k}": v for k, v in LANDCOVER_CLASSES.items()})
                dst.set_band_description(1, "land cover class")
            else:
                dst.set_band_description(1, "persons per cell")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
