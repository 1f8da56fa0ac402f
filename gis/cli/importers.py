"""``gis import ...``: planners' own data (POI tables, land-use polygons, land-cover rasters, OSM) into a project."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.console import console

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_project = click.option("--project", "project_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
                        show_default=True, help="The project folder (layers/catalog.yaml).")
_replace = click.option("--replace", is_flag=True, help="Overwrite a layer of the same name (its file and catalog entry).")
_source = click.option("--source", default=None, help="Provenance: where the data came from (default: the file and the importer).")
_licence = click.option("--licence", default=None, help="Provenance: the data's licence or terms of use.")
_date = click.option("--date", default=None, metavar="YYYY-MM-DD", help="Provenance: the date of the data (default: the file's).")


@click.group("import")
def import_group() -> None:
    """Import a city's own data as a layer of the project (file under layers/data/, catalog entry with provenance)."""


@import_group.command("poi")
@click.argument("file", type=_FILE)
@_project
@click.option("--layer", required=True, help="Layer name in the catalog, e.g. charging_stations.")
@click.option("--coords", type=click.Choice(["gcj02", "bd09", "wgs84"]), required=True,
              help="Coordinates of the table: gcj02 (Amap, Tencent), bd09 (Baidu) or wgs84 (GPS, OSM; also CGCS2000).")
@click.option("--lon", default=None, metavar="COLUMN", help="Longitude column (default: found by name: 经度, lng, lon, x ...).")
@click.option("--lat", default=None, metavar="COLUMN", help="Latitude column (default: found by name: 纬度, lat, y ...).")
@click.option("--encoding", default=None, help="Text encoding of a CSV (default: UTF-8, else GBK/GB18030).")
@click.option("--sheet", default=None, help="Sheet of an XLSX workbook (default: the first).")
@click.option("--field", "field_options", multiple=True, metavar="CANONICAL=COLUMN",
              help="Map a canonical field to a column, e.g. --field ports=充电桩数 (repeatable; others are found by name).")
@click.option("--title", default=None, help="Title of the layer in the catalog.")
@_source
@_licence
@_date
@_replace
def poi(file: Path, project_dir: Path, layer: str, coords: str, lon: str | None, lat: str | None, encoding: str | None,
        sheet: str | None, field_options: tuple[str, ...], title: str | None, source: str | None, licence: str | None,
        date: str | None, replace: bool) -> None:
    """A POI table (CSV or XLSX) from a web map or a survey: points moved to CGCS2000."""
    from gis.importers.poi import import_poi, parse_field_options

    result = import_poi(
        file, project_dir, layer, coords=coords, lon=lon, lat=lat, encoding=encoding, sheet=sheet,  # type: ignore[arg-type]
        fields=parse_field_options(field_options), title=title, source=source, licence=licence, date=date, replace=replace,
    )
    mapped = ", ".join(f"{k}={v}" for k, v in result.fields.items())
    console.print(f"{result.rows} points of {file.name} ({result.encoding}; lon {result.lon}, lat {result.lat}) -> "
                  f"layer '{layer}' in {result.path}")
    console.print(f"fields: {mapped or '(none mapped)'}")
    if result.generated_ids:
        console.print("ids: none in the table; numbered 1..n in the table's order (map one with --field id=COLUMN)")
    if result.skipped_rows:
        console.print(f"left out {len(result.skipped_rows)} rows without coordinates (rows {', '.join(map(str, result.skipped_rows[:10]))})")
    if result.missing:
        console.print(f"not mapped: {', '.join(result.missing)}; indicators that need them stop: rerun with --field NAME=COLUMN --replace")


@import_group.command("landuse")
@click.argument("file", type=_FILE)
@_project
@click.option("--classes", "table", required=True, help="Classification: gbt21010_2017 (三调) or landuse_2023 (用地用海分类).")
@click.option("--layer", default="landuse", show_default=True, help="Layer name in the catalog.")
@click.option("--source-layer", default=None, help="Layer inside a GeoPackage or File Geodatabase (default: the first).")
@click.option("--code-field", default=None, metavar="COLUMN", help="Column of the class code (default: found by name: DLBM, YDYHFLDM ...).")
@click.option("--id-field", default=None, metavar="COLUMN", help="Column of a unique id (default: BSM when unique, else numbered).")
@click.option("--encoding", default=None, help="Text encoding of a shapefile without .cpg (e.g. gbk).")
@click.option("--crs", default=None, metavar="EPSG:CODE", help="CRS of a file that declares none (e.g. EPSG:4527).")
@click.option("--builtup-field", default=None, metavar="COLUMN",
              help="Column of the 城镇村属性码 (三调 CZCSXM): its parcels of --builtup-codes also become layer 'builtup', "
                   "one polygon per county (default: CZCSXM found by name, when the catalog has no 'builtup' yet).")
@click.option("--builtup-codes", default="201,202", show_default=True, metavar="CODE,...",
              help="城镇村属性码 of the built-up area: 201 城市, 202 建制镇 (add 201A,202A for their separate industrial land).")
@click.option("--no-builtup", is_flag=True, help="Write no 'builtup' layer even when the file has a CZCSXM column.")
@click.option("--title", default=None, help="Title of the layer in the catalog.")
@_source
@_licence
@_date
@_replace
def landuse(file: Path, project_dir: Path, table: str, layer: str, source_layer: str | None, code_field: str | None,
            id_field: str | None, encoding: str | None, crs: str | None, builtup_field: str | None, builtup_codes: str,
            no_builtup: bool, title: str | None, source: str | None, licence: str | None, date: str | None, replace: bool) -> None:
    """Land-use polygons with 三调 (GB/T 21010-2017) or 用地用海 (2023) codes, for method area_share;
    with a 城镇村属性码 column (CZCSXM) also the built-up areas (layer builtup)."""
    from gis.importers.landuse import import_landuse, parse_codes

    result = import_landuse(
        file, project_dir, layer, table=table, source_layer=source_layer, code_field=code_field, id_field=id_field,
        encoding=encoding, crs=crs, title=title, source=source, licence=licence, date=date, replace=replace,
        builtup_field=builtup_field, builtup_codes=parse_codes(builtup_codes), builtup=not no_builtup,
    )
    for note in result.notes:
        console.print(note)
    console.print(f"{result.rows} polygons of {file.name} (codes in '{result.code_field}', table {result.table}) -> layer '{layer}' in {result.path}")
    if result.builtup is not None:
        built = result.builtup
        shown = ", ".join(f"{county} {km2:.3f} km2" for county, km2 in built.areas.items())
        console.print(f"{built.parcels} parcels with {built.field} in {', '.join(built.codes)} -> layer '{built.layer}' in {built.path}: "
                      f"one built-up area per county ({shown})")
        if built.outside:
            console.print(f"left out {built.outside} of those parcels: they overlap no county of the project")
        console.print("zones.builtup of the catalog is left as it was (the specs' 'mask: builtup' reads the layer by name)")
    if result.unmapped:
        shown = ", ".join(f"{code} ({count})" for code, count in list(result.unmapped.items())[:10])
        console.print(f"codes not in the table (counted as land that is not permeable): {shown}")
    if layer == "landuse" and result.table == "gbt21010_2017":
        console.print("the reference spec permeable.share_landuse reads it (method area_share, inputs {features: landuse, mask: builtup})")
    else:
        console.print(f"use it in a spec: method: area_share, inputs: {{features: {layer}, mask: builtup}}, "
                      f"parameters: {{class_field: class_code, classes: {result.table}}}")
    if not result.mask_present:
        console.print("the project has no layer 'builtup' (the mask of the built-up areas): the spec is not assessed until it has; "
                      "give --builtup-field with the 城镇村属性码 column (三调 CZCSXM) --replace, or import the built-up areas")


@import_group.command("landcover")
@click.argument("file", type=_FILE)
@_project
@click.option("--classes", "table", type=click.Choice(["worldcover", "clcd", "globeland30"]), required=True,
              help="The legend of the raster: ESA WorldCover (10 m), CLCD (30 m) or GlobeLand30 (30 m).")
@click.option("--layer", default="landcover", show_default=True, help="Layer name in the catalog.")
@click.option("--link", is_flag=True, help="Point the catalog at the file where it is instead of copying it into layers/data/.")
@click.option("--title", default=None, help="Title of the layer in the catalog.")
@_source
@_licence
@_date
@_replace
def landcover(file: Path, project_dir: Path, table: str, layer: str, link: bool, title: str | None, source: str | None,
              licence: str | None, date: str | None, replace: bool) -> None:
    """A land-cover raster and its class table (permeable, excluded water) for method raster_share."""
    from gis.importers.landcover import import_landcover

    result = import_landcover(file, project_dir, layer, table=table, link=link, title=title, source=source, licence=licence,
                              date=date, replace=replace)
    console.print(f"{file.name} ({result.table}, {result.cell_m:.0f} m cells, {result.crs}) -> layer '{layer}' at {result.path}")
    if result.unknown_codes:
        console.print(f"codes in the raster missing from the table (counted as land that is not permeable): {', '.join(map(str, result.unknown_codes))}")


@import_group.command("osm")
@click.argument("file", type=_FILE)
@_project
@click.option("--only", default=None, metavar="LAYER,...",
              help="Extract only these layers (default all): charging_stations, parking_lots, sewage_plants, roads, waterways, buildings, landuse.")
@click.option("--prefix", default="", help="Prefix of the layer names in the catalog, e.g. osm_ (charging_stations -> osm_charging_stations).")
@_date
@_replace
def osm(file: Path, project_dir: Path, only: str | None, prefix: str, date: str | None, replace: bool) -> None:
    """An OpenStreetMap extract (.osm.pbf): facilities, roads, waterways, buildings and land use (ODbL)."""
    from gis.importers.osm import import_osm

    kinds = [part.strip() for part in only.split(",") if part.strip()] if only else None
    result = import_osm(file, project_dir, kinds=kinds, prefix=prefix, date=date, replace=replace)
    for name, count in result.counts.items():
        console.print(f"{name}: {count} features" + ("" if count else " (none found: no layer written)"))
    if result.broken:
        console.print(f"left out {result.broken} ways or areas whose nodes are missing from the extract (cut at its edge) or broken")
