"""``gis init``: a new project folder from the reference one, ready for a city's own data.

The measuring CRS is given (``--crs``) or found from the data: the CGCS2000 3-degree
Gauss-Kruger zone of the centre of the city's county boundaries (``--counties FILE``, copied
into ``layers/data/``) or of a point (``--near LON,LAT``).  The map spec is derived from the
indicator specs and titled with the city's own name.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import yaml
from pyproj import CRS
from pyproj.exceptions import CRSError

from gis.errors import UsageError
from gis.project.catalog import Catalog, LayerEntry, ProjectSettings, read_catalog
from gis.project.config import read_project, reference_root
from gis.project.georef import GK3_FAMILY, gk3_meridian, gk3_range, gk3_zone, implausible
from gis.project.mapspec import derive_map_spec
from gis.project.overlaps import SUMMED_LEVELS
from gis.project.register import REGISTER_PATH
from gis.project.vocabulary import input_fields

DATA_SUFFIX = {"vector": ".gpkg", "table": ".csv", "raster": ".tif"}

FIELD_NAMES = {
    "id": ("id", "code", "adcode", "gb", "pac", "xzqdm", "county_id", "代码", "编码", "区划代码", "行政区划代码", "县代码", "区县代码"),
    "name": ("name", "name_zh", "name_chn", "xzqmc", "county", "名称", "县名", "区县名称", "区县", "行政区划名称", "行政区名称"),
    "name_en": ("name_en", "name_eng", "ename", "english", "英文名称", "英文名"),
}
"""Column names of county files, per canonical field, tried in order (case-insensitive)."""

SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


@dataclass(frozen=True)
class Counties:
    """A county boundary file as ``gis init`` found it: its layer, its field mapping and its centre."""

    path: Path
    layer: str | None
    fields: dict[str, str]
    lon: float
    lat: float
    crs: str | None = None  # the CRS to assume (the file has none, its coordinates are degrees)


@dataclass(frozen=True)
class Scaffold:
    """What ``gis init`` wrote and how it chose the measuring CRS."""

    files: list[Path]
    crs: str
    crs_from: str
    counties: Counties | None = None
    notes: list[str] = field(default_factory=list)


def is_chinese(text: str) -> bool:
    """Whether ``text`` holds a CJK character."""
    return re.search(r"[\u3400-\u9fff]", text) is not None


def parse_near(text: str) -> tuple[float, float]:
    """``113.6,34.7`` as (lon, lat)."""
    try:
        lon, lat = (float(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        msg = f"--near {text!r} is not LON,LAT; give degrees east and north, e.g. --near 113.6,34.7"
        raise UsageError(msg) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"--near {text}: lon must lie in -180..180 and lat in -90..90 (LON,LAT, longitude first)"
        raise UsageError(msg)
    return lon, lat


def _pick_layer(path: Path) -> str | None:
    """The counties' layer in a file: the only one, else the one named 'counties', else the only polygon layer."""
    try:
        found = [(str(name), str(kind)) for name, kind in pyogrio.list_layers(path)]
    except Exception as exc:  # noqa: BLE001 - any GDAL failure is the same to the user: the file cannot be read
        msg = f"--counties {path}: cannot be read as a vector file ({str(exc).splitlines()[0]})"
        raise UsageError(msg) from None
    if len(found) == 1:
        return found[0][0] if path.suffix.lower() == ".gpkg" else None
    names = [name for name, _ in found]
    if "counties" in names:
        return "counties"
    polygons = [name for name, kind in found if kind and "polygon" in kind.lower()]
    if len(polygons) == 1:
        return polygons[0]
    msg = f"--counties {path} holds several layers ({', '.join(names)}); name the county layer 'counties' or give a file with it alone"
    raise UsageError(msg)


def _field(columns: list[str], canonical: str, given: str | None) -> str | None:
    """The column for a canonical field: the one given (checked), else the first common name found."""
    if given is not None:
        if given not in columns:
            msg = f"--{canonical.replace('_', '-')}-field {given!r} is not a column of the counties file (columns: {', '.join(columns)})"
            raise UsageError(msg)
        return given
    lower = {c.lower(): c for c in columns}
    return next((lower[n.lower()] for n in FIELD_NAMES[canonical] if n.lower() in lower), None)


def read_counties(path: Path, *, id_field: str | None = None, name_field: str | None = None) -> Counties:
    """Find the layer, the id and name columns and the lon/lat centre of a county boundary file in any CRS."""
    layer = _pick_layer(path)
    frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    if frame.empty:
        msg = f"--counties {path}: no features"
        raise UsageError(msg)
    columns = [c for c in frame.columns if c != "geometry"]
    fields: dict[str, str] = {}
    for canonical, given in (("id", id_field), ("name", name_field), ("name_en", None)):
        column = _field(columns, canonical, given)
        if column is None and canonical != "name_en":
            msg = (f"--counties {path}: no {canonical} column found (columns: {', '.join(columns)}); "
                   f"give it with --{canonical}-field COLUMN")
            raise UsageError(msg)
        if column is not None:
            fields[canonical] = column
    assumed = None
    if frame.crs is None:
        if implausible(frame.total_bounds, CRS.from_user_input("EPSG:4326")):
            msg = f"--counties {path} has no CRS and its coordinates are not degrees; give the file its CRS (a .prj), or use --near LON,LAT"
            raise UsageError(msg)
        assumed = "EPSG:4490"
        frame = frame.set_crs(assumed)
    west, south, east, north = frame.to_crs("EPSG:4490").total_bounds
    return Counties(path, layer, fields, float(west + east) / 2, float(south + north) / 2, assumed)


def choose_crs(crs: str | None, counties: Counties | None, near: str | None) -> tuple[str, str]:
    """The measuring CRS and how it was chosen: ``--crs`` wins, else the zone of the counties' centre, else of ``--near``."""
    if crs is not None:
        return crs, "given with --crs"
    if counties is not None:
        lon, lat, source = counties.lon, counties.lat, f"the centre of {counties.path.name}"
    elif near is not None:
        lon, lat = parse_near(near)
        source = "--near"
    else:
        msg = ("give the measuring CRS: --counties FILE (your county boundaries, any CRS: the zone of their centre is chosen "
               "and the file copied in), --near LON,LAT (a point in the city), or --crs EPSG:CODE (the CGCS2000 "
               f"3-degree Gauss-Kruger zone whose central meridian is nearest the city, {gk3_range()})")
        raise UsageError(msg)
    code = gk3_zone(lon)
    if code is None:
        msg = f"{lon:.2f}E, {lat:.2f}N is outside the CGCS2000 3-degree zones ({gk3_range()}); give --crs EPSG:CODE"
        raise UsageError(msg)
    return code, f"{GK3_FAMILY}{gk3_meridian(lon)}E, the zone of {source} ({lon:.2f}E, {lat:.2f}N)"


def _quote(value: object) -> str:
    """A YAML scalar, quoted when needed."""
    return yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=1000).strip().removesuffix("\n...").strip()


def _names(name: str, name_zh: str | None) -> tuple[str, str, str | None]:
    """The project's name, its Chinese name and the city's English name (None when only a Chinese name is known)."""
    zh = name_zh or name
    return name, zh, None if is_chinese(name) else name


def _catalog_text(name: str, crs: str, *, name_zh: str | None = None, crs_from: str = "",
                  counties: Counties | None = None) -> str:
    """The reference catalog rewritten for a new city: each field explained, each file still to provide."""
    reference = read_catalog(reference_root() / "layers" / "catalog.yaml")
    name, zh, english = _names(name, name_zh)
    county_layer = reference.zones["county"].layer
    lines = [
        f"# Layer catalog of {zh if zh == name else f'{zh} ({name})'}, written by `gis init` from the reference project.",
        "#",
        "# For each layer: put your file under layers/ (or point `file` at it), set `layer` to the",
        "# layer name inside a GeoPackage, and map each canonical field (left) to your column name",
        "# (right).  Then run `gis check --project .`: it says, layer by layer, what is still missing.",
        "#",
        "# A file without a CRS: add `crs: EPSG:4490` to its layer; a file that declares a wrong one (the",
        "# coordinates do not fit it; `gis check` says so and proposes the likely CRS): `crs` and `crs_override: true`.",
        "",
        "project:",
        f"  name: {_quote(name)}              # titles, banners and console lines use these two names",
        f"  name_zh: {_quote(zh)}",
        f"  baseline_year: {reference.project.baseline_year}",
        f"  target_year: {reference.project.target_year}",
        f"  data_year: {reference.data_year}          # the year your files describe",
        f"  crs: {crs}            # metric CRS where areas and distances are measured" + (f"; {crs_from}" if crs_from else ""),
        f"  output_crs: {reference.project.output_crs}   # CGCS2000, for the planning GIS",
        "  city:",
        '    id: "000000"          # TODO: your city code',
        f"    name: {_quote(zh)}",
        *([f"    name_en: {_quote(english)}"] if english else []),
        f"  themes: [{', '.join(reference.project.themes)}]   # each spec's theme is one of these",
        *_theme_names(reference.project),
        "",
        "zones:",
    ]
    for level, zone in reference.zones.items():
        beyond = "stops the run" if level in SUMMED_LEVELS else "is noted (each zone is reported on its own)"
        block = [
            f"  {level}:",
            f"    layer: {zone.layer}",
            f"    # overlap_tolerance_m2: {zone.overlap_tolerance_m2:g}   # slivers up to this are cut from the later zone; more {beyond}",
        ]
        if level != "county":
            plural = {"park": "parks", "builtup": "built-up areas"}.get(level, level)
            lines.append(f"  # {plural} as zones of their own: uncomment once the catalog has layer '{zone.layer}'")
            block = _commented(block)
        lines += block
    lines += ["", "layers:"]
    templates: list[str] = [
        "",
        "  # Layers still to provide.  Each entry below is a template: uncomment it (remove the leading",
        "  # '# ') and point `file` and `fields` at your data, or let `gis import` write the entry.  A",
        "  # layer left out is fine: the indicators that read it are reported as not assessed.",
    ]
    for layer, entry in reference.layers.items():
        described = input_fields(layer)
        if layer == county_layer and counties is not None:
            lines += _counties_lines(layer, entry.title, counties, described)
            continue
        block = _entry_lines(layer, entry, reference, described)
        if layer == county_layer:
            lines += block
        else:
            templates += _commented(block)
    return "\n".join([*lines, *templates]) + "\n"


def _commented(block: list[str]) -> list[str]:
    """``block`` as YAML comments that uncomment by removing the leading '# '."""
    return [f"# {line}" for line in block]


def _entry_lines(layer: str, entry: LayerEntry, reference: Catalog, described: dict[str, str]) -> list[str]:
    """The catalog entry of one reference layer, each field explained, its file still to provide."""
    lines: list[str] = []
    lines.append(f"  {layer}:")
    if entry.title:
        lines.append(f"    title: {_quote(entry.title)}")
    lines.append(f"    file: data/{layer}{DATA_SUFFIX[entry.kind]}")
    if entry.kind == "vector":
        lines.append(f"    layer: {layer}")
    if entry.years:
        baseline = reference.project.baseline_year
        lines.append(f"    # years:              # the layer as it stood in earlier years ({baseline} baseline, ...), for the trajectory")
        for year in entry.years:
            source = f"layer: {layer}_{year}" if entry.kind == "vector" else f"file: data/{layer}_{year}{DATA_SUFFIX[entry.kind]}"
            lines.append(f"    #   {year}: {{{source}}}")
    lines.append(f"    kind: {entry.kind}")
    if entry.geometry:
        lines.append(f"    geometry: {entry.geometry}")
    if entry.may_be_empty:
        lines.append("    may_be_empty: true     # no features is a real answer here (none exist), not a broken export")
    if entry.reference:
        lines.append("    reference: true        # surveyed positions: the yardstick for web-map (GCJ-02) offsets in point layers")
    if entry.fields:
        lines.append(f"    id_field: {entry.id_field}")
        lines.append("    fields:                # canonical name: your column")
        for canonical in entry.fields:
            comment = described.get(canonical, "")
            lines.append(f"      {canonical}: {canonical}" + (f"   # {comment}" if comment else ""))
    if entry.classes:
        lines.append("    classes:              # each code of your raster: name, permeable, excluded (water)")
        for cls in entry.classes:
            flags = "".join(
                [", permeable: true" if cls.permeable else "", ", excluded: true" if cls.excluded else ""]
            )
            lines.append(f"      - {{code: {cls.code}, name: {_quote(cls.name)}{flags}}}")
    lines += [
        "    provenance:",
        "      source: TODO who made the data and how",
        "      licence: TODO",
        '      date: "TODO"',
        "      synthetic: false",
    ]
    return lines


def _counties_lines(layer: str, title: str | None, counties: Counties, described: dict[str, str]) -> list[str]:
    """The catalog entry of the county file ``gis init`` copied in."""
    lines = [f"  {layer}:"]
    if title:
        lines.append(f"    title: {_quote(title)}")
    lines.append(f"    file: data/{_quote(counties.path.name)}      # copied by gis init --counties")
    if counties.layer:
        lines.append(f"    layer: {_quote(counties.layer)}")
    lines += ["    kind: vector", "    geometry: Polygon"]
    if counties.crs:
        lines.append(f"    crs: {counties.crs}        # the file has no CRS; its coordinates are lon/lat")
    lines += ["    id_field: id", "    fields:                # canonical name: your column (found by gis init; check them)"]
    for canonical, column in counties.fields.items():
        comment = described.get(canonical, "")
        lines.append(f"      {canonical}: {_quote(column)}" + (f"   # {comment}" if comment else ""))
    lines += [
        "    provenance:",
        f"      source: TODO who made {_quote(counties.path.name)} and how",
        "      licence: TODO",
        '      date: "TODO"',
        "      synthetic: false",
    ]
    return lines


def _map_text(directory: Path) -> str:
    """The map spec of the new project: its title, every indicator, the colours; its coverage areas, facility and
    context layers are left to be derived at each run from the specs and the catalog as it then is."""
    config = read_project(directory)
    spec = derive_map_spec(config)
    title = spec.title
    assert title is not None
    dumped = spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)

    def block(data: dict[str, Any]) -> list[str]:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120).splitlines()

    lines = [
        f"# Web map of {title.zh if title.zh == title.en else f'{title.zh} ({title.en})'}, written by `gis init` from the",
        "# project's indicator specs.  `gis run` (and `gis map`) draw out/map.html from this file; `gis check`",
        "# checks every indicator id and layer it names against analyses/ and layers/catalog.yaml.",
        "# Every key is optional (a missing key keeps its default); delete this file to have the map derived",
        "# from the specs at each run.  Colours are #rrggbb; values in the data's unit (shares as fractions 0..1).",
        "",
        f"title: {{zh: {_quote(title.zh)}, en: {_quote(title.en)}}}",
        "",
        "basemap: none            # none (offline), osm (OpenStreetMap tiles), tianditu (needs TIANDITU_KEY)",
        "",
        "indicators:",
        "  include: all           # or a list of indicator ids, in the order of the layer control",
        "  exclude: []",
        "  # start: some.indicator   # the one layer shown when the page opens; default the first",
        "  # styles: {some.indicator: {colour_by: value, classes: [0.25, 0.5]}}   # auto | status | value",
        "",
        "gaps: {include: all, show: start}        # <id>.gaps layers; show: start | all | none",
        "proposals: {include: all, show: start}   # <id>.proposals layers",
        "",
        "# coverage:, facilities: and context: are not written here: at each run the map derives them from the",
        "# specs that run and the layers the catalog has (so a layer you import appears on the map).  Write them",
        "# here to choose yourself; the reference project's maps/plan.yaml shows every key.",
        "",
        "# Colours and labels of the statuses, the value ramp, and the popup labels of the canonical fields.",
        *block({key: dumped[key] for key in ("status", "value_colours", "field_labels") if key in dumped}),
    ]
    return "\n".join(lines) + "\n"


def init_project(directory: Path, *, name: str, crs: str | None = None, name_zh: str | None = None,
                 counties: Path | None = None, near: str | None = None, id_field: str | None = None,
                 name_field: str | None = None) -> Scaffold:
    """Write a new project folder; refuse to overwrite an existing catalog.

    The measuring CRS is ``crs``, else the 3-degree zone of the centre of the ``counties`` file (copied into
    ``layers/data/`` and named in the catalog), else of ``near`` (``LON,LAT``).
    """
    catalog = directory / "layers" / "catalog.yaml"
    if catalog.exists():
        msg = f"{catalog} exists already; gis init writes new project folders only"
        raise UsageError(msg)
    found = read_counties(counties, id_field=id_field, name_field=name_field) if counties is not None else None
    crs, crs_from = choose_crs(crs, found, near)
    try:
        parsed = CRS.from_user_input(crs)
    except CRSError:
        msg = f"--crs {crs!r} is not a CRS; give an EPSG code such as EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E)"
        raise UsageError(msg) from None
    if not parsed.is_projected or parsed.axis_info[0].unit_name not in {"metre", "meter"}:
        msg = (f"--crs {crs} is not a projected CRS in metres; areas and distances need one: the local CGCS2000 "
               "3-degree Gauss-Kruger zone, EPSG:4534 (CM 75E) to EPSG:4554 (CM 135E)")
        raise UsageError(msg)
    source = reference_root()
    data = directory / "layers" / "data"
    data.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if found is not None:
        parts = [found.path.with_suffix(s) for s in SHAPEFILE_PARTS] if found.path.suffix.lower() == ".shp" else [found.path]
        for part in parts:
            if part.exists():
                written.append(Path(shutil.copy2(part, data / part.name)))
    catalog.write_text(_catalog_text(name, crs, name_zh=name_zh, crs_from=crs_from, counties=found), encoding="utf-8")
    written.append(catalog)
    shutil.copytree(source / "analyses", directory / "analyses", dirs_exist_ok=True)
    written += sorted((directory / "analyses").glob("*.yaml"))
    if (directory / REGISTER_PATH).is_file():
        written.append(directory / REGISTER_PATH)  # the reference register, to adjust to the city's own plan
    plan = directory / "maps" / "plan.yaml"
    plan.parent.mkdir(exist_ok=True)
    plan.write_text(_map_text(directory), encoding="utf-8")
    readme = directory / "README.md"
    _, zh, _ = _names(name, name_zh)
    heading = zh if zh == name else f"{zh} {name}"
    readme.write_text(_README.format(name=heading, crs=crs, crs_from=crs_from), encoding="utf-8")
    return Scaffold([*written, plan, readme], crs, crs_from, found)


_README = """# {name}

A planning project for the `gis` toolkit, made by `gis init` from the reference project.

1. Put your data under `layers/data/` (or anywhere) and describe it in `layers/catalog.yaml`:
   each layer's file, layer name, and the mapping from the canonical field names to your
   columns; every field is explained in a comment.  Coordinates from Amap or Tencent: set
   `coordinates: gcj02`; from Baidu: `coordinates: bd09`.  A shapefile without .cpg:
   set `encoding: GBK`.
2. `gis check --project .` says layer by layer what is still missing or wrong.
3. `analyses/*.yaml` holds one spec per indicator with its target and plan clause; adjust
   the targets to your own plan.  `maps/plan.yaml` sets the web map's title, layers and
   colours; `gis check` checks every indicator and layer it names (delete it to have the
   map derived from the specs).  `analyses/plan/register.yaml` lists the plan's items and the
   specs that assess each one; adjust it to your own plan (an id it names must be a spec).
4. `gis run --project . --out out` writes indicators.csv, plan_coverage.csv, planning.gpkg,
   report.html, gaps.xlsx and run.json.

Measuring CRS: {crs} ({crs_from}).  `gis check` warns when your data reach well beyond
its zone (central meridian plus or minus 1.5 degrees) and names the zone that fits; change
`project.crs` in `layers/catalog.yaml` to it.
"""


def _theme_names(project: ProjectSettings) -> list[str]:
    """The ``theme_names`` lines of the reference catalog: what the outputs call each theme, in both languages."""
    names = [(theme, project.theme_name(theme)) for theme in project.themes if theme in project.theme_names]
    if not names:
        return []
    lines = ["  theme_names:            # what the outputs call each theme, in Chinese and English"]
    lines += [f"    {theme}: {{zh: {_quote(name.zh)}, en: {_quote(name.en)}}}" for theme, name in names]
    return lines
