"""Whether coordinates can be in the CRS they declare, and which CRS they fit if not.

Two checks, cheap enough for every layer: :func:`implausible` (degrees in a metric CRS,
metres in a geographic one), and :func:`share_inside` (how much of a layer lies where it
should).  The search for the CRS the coordinates were really made in, :func:`likely_crs`,
runs only when one of them fails: it tries the project's geographic CRS, its metric CRS and
the CGCS2000 Gauss-Kruger zones over the area (3-degree and 6-degree, with and without the
zone number in front of the easting), looked up in the EPSG database by area of use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pyproj import CRS, Proj, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_crs_info
from pyproj.enums import PJType
from pyproj.exceptions import CRSError, ProjError

Bounds = tuple[float, float, float, float]
"""west, south, east, north."""

ZONE_FAMILIES = ("CGCS2000 / 3-degree Gauss-Kruger ", "CGCS2000 / Gauss-Kruger ")
"""Names of the EPSG CRSs Chinese survey data is delivered in, besides lon/lat."""

MARGIN_DEGREES = 0.2
"""How far (in degrees) beyond the area they should cover coordinates still count as fitting."""


def crs_code(crs: CRS) -> str:
    """``EPSG:4546``, or the CRS's name when it has no EPSG code."""
    return _code_of(crs.to_wkt())


@lru_cache(maxsize=64)
def _code_of(wkt: str) -> str:
    """:func:`crs_code` of a CRS by its WKT: the EPSG search of a CRS without a code (a custom Albers) takes
    tens of milliseconds, and a run asks for the same few CRSs many times."""
    crs = CRS.from_wkt(wkt)
    code = crs.to_epsg(min_confidence=90)
    return f"EPSG:{code}" if code else crs.name


def unit_word(crs: CRS) -> str:
    """The unit of the CRS's coordinates, for a message: ``degrees``, ``metres``."""
    if crs.is_geographic:
        return "degrees"
    unit = crs.axis_info[0].unit_name if crs.axis_info else "unknown unit"
    return {"metre": "metres", "meter": "metres"}.get(unit, unit)


def is_metric(crs: CRS) -> bool:
    """Whether the CRS is projected with coordinates in metres."""
    return bool(crs.is_projected) and unit_word(crs) == "metres"


def implausible(bounds: Bounds | np.ndarray, crs: CRS) -> str | None:
    """What the coordinates within ``bounds`` look like when they cannot be in ``crs``, else None.

    Lon/lat never leave [-180, 180] x [-90, 90]; a metric CRS's coordinates almost never all fall
    inside that box (it is 360 m by 180 m around the CRS's origin, usually far off the map).
    """
    west, south, east, north = (float(v) for v in bounds)
    if not np.all(np.isfinite([west, south, east, north])):
        return None
    inside_degrees = max(abs(west), abs(east)) <= 180.0 and max(abs(south), abs(north)) <= 90.0
    if crs.is_geographic and not inside_degrees:
        return "metres" if max(abs(west), abs(east), abs(south), abs(north)) > 1000.0 else "not degrees"
    if is_metric(crs) and inside_degrees:
        return "degrees"
    return None


def example(xy: np.ndarray) -> str:
    """The first coordinate pair, for a message: ``111.2, 34.7`` or ``37480123, 3812345``."""
    if len(xy) == 0:
        return "none"
    x, y = xy[0]
    digits = 0 if max(abs(x), abs(y)) > 1000 else 4
    return f"{x:.{digits}f}, {y:.{digits}f}"


def to_lonlat(xy: np.ndarray, crs: CRS) -> np.ndarray:
    """Points (n x 2) of ``crs`` as lon/lat of its own geographic CRS; inf where they cannot be."""
    if len(xy) == 0:
        return np.zeros((0, 2))
    if crs.is_geographic:
        return np.asarray(xy, dtype=float)
    try:
        transformer = Transformer.from_crs(crs, crs.geodetic_crs or "EPSG:4490", always_xy=True)
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1], errcheck=False)
    except (CRSError, ProjError):
        return np.full((len(xy), 2), np.inf)
    return np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)])


def share_inside(lonlat: np.ndarray, area: Bounds, *, margin: float = MARGIN_DEGREES) -> float:
    """The share of lon/lat points inside ``area`` grown by ``margin`` degrees (0 for no points)."""
    if len(lonlat) == 0:
        return 0.0
    west, south, east, north = area
    lon, lat = lonlat[:, 0], lonlat[:, 1]
    with np.errstate(invalid="ignore"):
        inside = (lon >= west - margin) & (lon <= east + margin) & (lat >= south - margin) & (lat <= north + margin)
    return float(inside.mean())


def area_of_use(crs: CRS) -> Bounds | None:
    """The lon/lat bounds where the CRS is meant to be used (EPSG's area of use), if it has one."""
    area = crs.area_of_use
    return None if area is None else (area.west, area.south, area.east, area.north)


@lru_cache(maxsize=32)
def _zone_codes(area: Bounds) -> tuple[str, ...]:
    """EPSG codes of the CGCS2000 Gauss-Kruger CRSs whose area of use meets ``area`` (lon/lat)."""
    west, south, east, north = area
    try:
        infos = query_crs_info(
            auth_name="EPSG", pj_types=PJType.PROJECTED_CRS, contains=False,
            area_of_interest=AreaOfInterest(max(west, -180.0), max(south, -90.0), min(east, 180.0), min(north, 90.0)),
        )
    except (CRSError, ProjError, ValueError):
        return ()
    return tuple(f"{info.auth_name}:{info.code}" for info in infos if info.name.startswith(ZONE_FAMILIES) and not info.deprecated)


def candidates(project_crs: CRS, area: Bounds) -> list[CRS]:
    """The CRSs worth trying for coordinates that should lie in ``area`` (lon/lat), likeliest first:
    the project's metric CRS, its geographic CRS, then the Gauss-Kruger zones over the area."""
    found: list[CRS] = [project_crs]
    if project_crs.geodetic_crs is not None:
        found.append(project_crs.geodetic_crs)
    rounded = tuple(round(v, 1) for v in area)
    for code in _zone_codes((rounded[0], rounded[1], rounded[2], rounded[3])):
        crs = CRS.from_user_input(code)
        if all(crs != other for other in found):
            found.append(crs)
    return found


@dataclass(frozen=True)
class Fit:
    """A CRS the coordinates fit: the share of them it puts where they should be."""

    crs: CRS
    share: float
    swapped: bool = False

    @property
    def code(self) -> str:
        """``EPSG:4490``."""
        return crs_code(self.crs)

    def describe(self) -> str:
        """``EPSG:4490 (China Geodetic Coordinate System 2000)``, and whether x and y are exchanged."""
        text = f"{self.code} ({self.crs.name})"
        return f"{text} with x and y exchanged (latitude first)" if self.swapped else text


def likely_crs(xy: np.ndarray, declared: CRS | None, area: Bounds, tried: list[CRS]) -> Fit | None:
    """The CRS of ``tried`` that puts most of the points ``xy`` (n x 2, as stored) inside ``area``
    (lon/lat), if it puts more than half there and is not the ``declared`` CRS; a geographic CRS
    is also tried with x and y exchanged.  Ties go to the earlier CRS of ``tried``."""
    xy = np.asarray(xy, dtype=float)
    if len(xy) == 0:
        return None
    best: Fit | None = None
    for crs in tried:
        for swapped in (False, True) if crs.is_geographic else (False,):
            points = xy[:, ::-1] if swapped else xy
            if implausible((points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max()), crs):
                continue
            share = share_inside(to_lonlat(points, crs), area)
            if best is None or share > best.share + 1e-9:
                best = Fit(crs, share, swapped)
    if best is None or best.share <= 0.5 or (not best.swapped and declared is not None and best.crs == declared):
        return None
    return best


def sample_points(xy: np.ndarray, limit: int = 500) -> np.ndarray:
    """At most ``limit`` of the points, evenly spread over the array (so the search stays cheap)."""
    if len(xy) <= limit:
        return xy
    return xy[np.linspace(0, len(xy) - 1, limit).astype(int)]


# --- the CGCS2000 3-degree Gauss-Kruger zone of an area ---------------------------------------------

GK3_FAMILY = "CGCS2000 / 3-degree Gauss-Kruger CM "
"""Name of the CGCS2000 3-degree zones without the zone number in the easting (EPSG:4534 to EPSG:4554)."""

ZONE_HALF_WIDTH_DEGREES = 1.5
"""A 3-degree zone reaches 1.5 degrees either side of its central meridian (CM)."""

ZONE_MARGIN_DEGREES = 0.5
"""How far beyond a zone's edge data may reach before ``gis check`` warns (distortion grows with the
square of the distance from the CM: about 0.04 % in length at 2 degrees, latitude 35)."""


def gk3_meridian(lon: float) -> int:
    """The central meridian of the 3-degree zone holding ``lon`` (a multiple of 3)."""
    return int(3 * round(lon / 3.0))


@lru_cache(maxsize=1)
def _gk3_codes() -> dict[int, str]:
    """EPSG code of each CGCS2000 3-degree zone (no zone number in the easting), by central meridian, from pyproj's database."""
    codes: dict[int, str] = {}
    for info in query_crs_info(auth_name="EPSG", pj_types=PJType.PROJECTED_CRS):
        suffix = info.name.removeprefix(GK3_FAMILY)
        if info.name.startswith(GK3_FAMILY) and suffix.endswith("E") and suffix[:-1].isdigit() and not info.deprecated:
            codes[int(suffix[:-1])] = f"{info.auth_name}:{info.code}"
    return codes


def gk3_zone(lon: float) -> str | None:
    """``EPSG:4547``: the CGCS2000 3-degree Gauss-Kruger zone whose CM is nearest ``lon``; None outside China's zones."""
    return _gk3_codes().get(gk3_meridian(lon))


def gk3_range() -> str:
    """The zones there are, for a message: ``EPSG:4534 (CM 75E) to EPSG:4554 (CM 135E)``."""
    codes = _gk3_codes()
    low, high = min(codes), max(codes)
    return f"{codes[low]} (CM {low}E) to {codes[high]} (CM {high}E)"


def central_meridian(crs: CRS) -> float | None:
    """The central meridian of a transverse Mercator CRS (Gauss-Kruger, UTM); None for another projection."""
    operation = crs.coordinate_operation
    if not crs.is_projected or operation is None or "transverse mercator" not in operation.method_name.lower():
        return None
    for param in operation.params:
        if param.name == "Longitude of natural origin":
            return float(param.value)
    return None


def zone_half_width(crs: CRS) -> float:
    """How far a zone of ``crs``'s family reaches from its CM: 1.5 degrees for a 3-degree zone, else 3 (6-degree, UTM)."""
    return ZONE_HALF_WIDTH_DEGREES if "3-degree" in crs.name else 2 * ZONE_HALF_WIDTH_DEGREES


def distortion(crs: CRS, lon: float, lat: float) -> tuple[float, float]:
    """At (lon, lat) in ``crs``: the scale error of lengths (0.0004 is 0.04 %) and the grid's rotation from north, in degrees."""
    factors = Proj(crs).get_factors(lon, lat, errcheck=False)
    return abs(float(factors.meridional_scale) - 1.0), abs(float(factors.meridian_convergence))


def zone_mismatch(crs: CRS, bounds: Bounds, *, margin: float = ZONE_MARGIN_DEGREES) -> tuple[str, str] | None:
    """When the data within ``bounds`` (lon/lat) reach more than ``margin`` degrees beyond the zone of the metric
    ``crs`` (CM plus or minus its half-width): what is wrong, and the zone that fits their centre; else None."""
    meridian = central_meridian(crs)
    west, south, east, north = bounds
    if meridian is None or not np.all(np.isfinite(bounds)):
        return None
    half = zone_half_width(crs)
    far_lon = west if abs(west - meridian) > abs(east - meridian) else east
    reach = abs(far_lon - meridian)
    if reach <= half + margin:
        return None
    far_lat = south if abs(south) > abs(north) else north
    scale, rotation = distortion(crs, far_lon, far_lat)
    centre = (west + east) / 2.0
    problem = (f"the data reach {far_lon:.2f}E, {reach:.2f} degrees from the central meridian {meridian:g}E of "
               f"{crs_code(crs)}, beyond its zone ({meridian - half:g}E to {meridian + half:g}E): lengths there are "
               f"{scale * 100:.2g} % too long, areas {((1 + scale) ** 2 - 1) * 100:.2g} %, and north is turned by {rotation:.2f} degrees")
    fitting = gk3_zone(centre)
    if fitting is None or CRS.from_user_input(fitting) == crs:
        return problem, "measured anyway; choose a metric CRS centred on the city"
    fit_scale, fit_rotation = distortion(CRS.from_user_input(fitting), far_lon, far_lat)
    action = (f"measured anyway; set 'project.crs: {fitting}' ({GK3_FAMILY}{gk3_meridian(centre)}E, the zone of the "
              f"city's centre {centre:.2f}E) in the catalog: there {fit_scale * 100:.2g} % and {fit_rotation:.2f} degrees")
    return problem, action
