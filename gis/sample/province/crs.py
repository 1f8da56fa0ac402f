"""The measuring CRS of the province sample: an Albers equal-area conic on CGCS2000.

Henan spans 110.35-116.65 E, 31.38-36.37 N.  One 3-degree Gauss-Kruger zone is 3 degrees wide:
the zone of the province's centre (CM 114 E, EPSG:4547, what ``gis init --near 113.5,33.9`` picks)
leaves the western counties 3.65 degrees from its central meridian, where areas come out about 0.3 %
too large and grid north is turned by 2 degrees (``gis check`` warns about it).  An Albers
equal-area conic with standard parallels at 1/6 and 5/6 of the latitude span (32.2 N, 35.6 N)
and its central meridian mid-province (113.5 E) keeps every area exact and lengths within
0.05 % across the province.  There is no EPSG code for it, so the catalog holds its WKT.
"""

from __future__ import annotations

from pyproj import CRS
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import AlbersEqualAreaConversion

METRIC_NAME = "CGCS2000 / Albers Henan"
METRIC_CRS = ProjectedCRS(
    AlbersEqualAreaConversion(latitude_first_parallel=32.2, latitude_second_parallel=35.6,
                              latitude_false_origin=0.0, longitude_false_origin=113.5),
    name=METRIC_NAME, geodetic_crs=CRS.from_epsg(4490),
)
"""Albers equal-area conic on CGCS2000: standard parallels 32.2 N and 35.6 N, central meridian 113.5 E, metres."""
METRIC_WKT = METRIC_CRS.to_wkt()
"""The same as WKT2 (what the catalog, the GeoTIFFs and the generator use)."""
