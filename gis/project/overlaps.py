"""Zones that overlap: found, and either refused or cut so that nothing is counted twice.

The city is the sum of its counties, so a place inside two counties would add its people,
spaces and area twice.  Two zones of one level may overlap by digitising slivers, up to the
level's ``overlap_tolerance_m2``; such a sliver is cut from the zone that comes later in the
file and the cut is noted.  A larger overlap is an error for the levels that are summed or
used as a base (counties, built-up areas) and a warning for parks, which are reported one by
one and never summed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely

from gis.errors import DataError
from gis.project.config import ProjectConfig
from gis.project.quality import QualityLog

SUMMED_LEVELS = ("county", "builtup")
"""Zone levels whose zones are added up or used as a base: an overlap beyond the tolerance is an error."""


@dataclass(frozen=True)
class Overlap:
    """Two zones of one level that share area: the earlier (kept) and the later (cut) in file order."""

    first: int
    second: int
    area_m2: float


def find_overlaps(zones: gpd.GeoDataFrame) -> list[Overlap]:
    """Every pair of zones sharing area (positions in ``zones``, metric CRS), largest first."""
    if len(zones) < 2:
        return []
    geometries = zones.geometry.values
    left, right = zones.sindex.query(geometries, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    areas = shapely.area(shapely.intersection(geometries[left], geometries[right]))
    found = [Overlap(int(a), int(b), float(area)) for a, b, area in zip(left, right, np.asarray(areas), strict=True) if area > 0]
    return sorted(found, key=lambda overlap: -overlap.area_m2)


def _zone_label(zones: gpd.GeoDataFrame, position: int, name_field: str) -> str:
    row = zones.iloc[position]
    name = f" {row[name_field]}" if name_field in zones.columns and isinstance(row[name_field], str) else ""
    return f"'{row['id']}'{name}"


def _area_text(area_m2: float) -> str:
    return f"{area_m2 / 1e6:,.3f} km2" if area_m2 >= 1e5 else f"{area_m2:,.0f} m2"


ZoneLevelName = Literal["county", "prefecture", "park", "builtup"]


def separate_overlaps(project: ProjectConfig, log: QualityLog, level: ZoneLevelName, zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``zones`` of ``level`` with overlaps up to the tolerance cut from the later zone; larger ones refused or noted.

    ``zones`` is the zone layer as read (column ``id``, metric CRS).  Returns a new frame when
    something was cut, else ``zones`` itself.
    """
    setting = project.catalog.zones[level]
    overlaps = find_overlaps(zones)
    if not overlaps:
        return zones
    tolerance = setting.overlap_tolerance_m2
    name = setting.layer
    key = f"zones.{level}.overlap_tolerance_m2"
    large = [overlap for overlap in overlaps if overlap.area_m2 > tolerance]
    if large and level in SUMMED_LEVELS:
        worst = large[0]
        more = f" (and {len(large) - 1} more pairs)" if len(large) > 1 else ""
        msg = (
            f"{project.layer_path(name)}: zones {_zone_label(zones, worst.first, setting.name_field)} and "
            f"{_zone_label(zones, worst.second, setting.name_field)} of layer '{name}' overlap by {_area_text(worst.area_m2)}{more}, "
            f"more than the {tolerance:,.0f} m2 allowed by '{key}' in the catalog; fix the boundaries so that each place "
            f"lies in one {level} (the overlap would be counted twice)"
        )
        raise DataError(msg)
    for overlap in large:
        other = _zone_label(zones, overlap.first, setting.name_field)
        log.note(name, f"overlaps zone {other} by {_area_text(overlap.area_m2)}",
                 "kept as drawn: each zone of this level is reported on its own, none is summed",
                 feature_id=str(zones.iloc[overlap.second]["id"]), field="geometry")
    slivers = [overlap for overlap in overlaps if overlap.area_m2 <= tolerance]
    if not slivers:
        return zones
    geometries = zones.geometry.to_numpy().copy()
    for overlap in slivers:
        geometries[overlap.second] = shapely.difference(geometries[overlap.second], geometries[overlap.first])
        other = _zone_label(zones, overlap.first, setting.name_field)
        log.note(name, f"overlaps zone {other} by {_area_text(overlap.area_m2)} (within '{key}')",
                 "the overlap is cut from this zone, so it is counted once", feature_id=str(zones.iloc[overlap.second]["id"]),
                 field="geometry", severity="info")
    return zones.set_geometry(gpd.GeoSeries(geometries, index=zones.index, crs=zones.crs))
