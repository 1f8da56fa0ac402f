"""``gis init``: a new project folder from the reference one, ready for a city's own data."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from pyproj import CRS
from pyproj.exceptions import CRSError

from gis.errors import UsageError
from gis.project.catalog import read_catalog
from gis.project.config import reference_root
from gis.project.overlaps import SUMMED_LEVELS
from gis.project.vocabulary import input_fields

DATA_SUFFIX = {"vector": ".gpkg", "table": ".csv", "raster": ".tif"}


def _quote(value: object) -> str:
    """A YAML scalar, quoted when needed."""
    return yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=1000).strip().removesuffix("\n...").strip()


def _catalog_text(name: str, crs: str) -> str:
    """The reference catalog rewritten for a new city: each field explained, each file still to provide."""
    reference = read_catalog(reference_root() / "layers" / "catalog.yaml")
    lines = [
        f"# Layer catalog of {name}, written by `gis init` from the reference project.",
        "#",
        "# For each layer: put your file under layers/ (or point `file` at it), set `layer` to the",
        "# layer name inside a GeoPackage, and map each canonical field (left) to your column name",
        "# (right).  Then run `gis check --project .`: it says, layer by layer, what is still missing.",
        "#",
        "# A file without a CRS: add `crs: EPSG:4490` to its layer; a file that declares a wrong one (the",
        "# coordinates do not fit it; `gis check` says so and proposes the likely CRS): `crs` and `crs_override: true`.",
        "",
        "project:",
        f"  name: {_quote(name)}",
        f"  baseline_year: {reference.project.baseline_year}",
        f"  target_year: {reference.project.target_year}",
        f"  data_year: {reference.data_year}          # the year your files describe",
        f"  crs: {crs}            # metric CRS where areas and distances are measured",
        f"  output_crs: {reference.project.output_crs}   # CGCS2000, for the planning GIS",
        "  city:",
        '    id: "000000"          # TODO: your city code',
        f"    name: {_quote(name)}",
        f"  themes: [{', '.join(reference.project.themes)}]   # each spec's theme is one of these",
        "",
        "zones:",
    ]
    for level, zone in reference.zones.items():
        lines.append(f"  {level}:")
        lines.append(f"    layer: {zone.layer}")
        beyond = "stops the run" if level in SUMMED_LEVELS else "is noted (each zone is reported on its own)"
        lines.append(f"    # overlap_tolerance_m2: {zone.overlap_tolerance_m2:g}   # slivers up to this are cut from the later zone; more {beyond}")
    lines += ["", "layers:"]
    for layer, entry in reference.layers.items():
        described = input_fields(layer)
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
                lines.append(f"    #   {year}: {{layer: {layer}_{year}}}")
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
    return "\n".join(lines) + "\n"


def init_project(directory: Path, *, name: str, crs: str) -> list[Path]:
    """Write a new project folder; refuse to overwrite an existing catalog."""
    try:
        parsed = CRS.from_user_input(crs)
    except CRSError:
        msg = f"--crs {crs!r} is not a CRS; give an EPSG code such as EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E)"
        raise UsageError(msg) from None
    if not parsed.is_projected or parsed.axis_info[0].unit_name not in {"metre", "meter"}:
        msg = (f"--crs {crs} is not a projected CRS in metres; areas and distances need one: the local CGCS2000 "
               "3-degree Gauss-Kruger zone, EPSG:4534 (CM 75E) to EPSG:4554 (CM 135E)")
        raise UsageError(msg)
    catalog = directory / "layers" / "catalog.yaml"
    if catalog.exists():
        msg = f"{catalog} exists already; gis init writes new project folders only"
        raise UsageError(msg)
    source = reference_root()
    (directory / "layers" / "data").mkdir(parents=True, exist_ok=True)
    catalog.write_text(_catalog_text(name, crs), encoding="utf-8")
    written = [catalog]
    for folder in ("analyses", "maps"):
        if (source / folder).is_dir():
            shutil.copytree(source / folder, directory / folder, dirs_exist_ok=True)
            written += sorted((directory / folder).glob("*.yaml"))
    readme = directory / "README.md"
    readme.write_text(_README.format(name=name, crs=crs), encoding="utf-8")
    return [*written, readme]


_README = """# {name}

A planning project for the `gis` toolkit, made by `gis init` from the reference project.

1. Put your data under `layers/data/` (or anywhere) and describe it in `layers/catalog.yaml`:
   each layer's file, layer name, and the mapping from the canonical field names to your
   columns; every field is explained in a comment.  Coordinates from Amap or Tencent: set
   `coordinates: gcj02`; from Baidu: `coordinates: bd09`.  A shapefile without .cpg:
   set `encoding: GBK`.
2. `gis check --project .` says layer by layer what is still missing or wrong.
3. `analyses/*.yaml` holds one spec per indicator with its target and plan clause; adjust
   the targets to your own plan.  `maps/*.yaml` sets the web map's layers and colours.
4. `gis run --project . --out out` writes indicators.csv, planning.gpkg, report.html,
   gaps.xlsx and run.json.

Measuring CRS: {crs}.
"""
