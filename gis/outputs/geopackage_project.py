"""The QGIS project of ``planning.gpkg``: the run's layers in groups by theme and indicator, named in Chinese.

Top to bottom: the county outlines, labelled with the county names, the prefecture outlines (a project with
that level: wider, labelled larger and bold) and the city outline; for each theme (the catalog's ``themes``
order and ``theme_names``), for each indicator, its proposals, its gap features, then its zones by prefecture,
by county and by park; the ``city_indicators`` table last, related to the city outline on ``zone_id``
(identifying the city lists every indicator). One indicator is on at the start (the map spec's
``indicators.start``, as the web map; else the first), with the outlines: its zones by county (by prefecture
is a tick away, or on when it has no county layer). Park layers are labelled with the park names; every field
has its Chinese alias.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gis.outputs.folder import CITY_LAYER, CITY_TABLE
from gis.outputs.qgis_project import LabelStyle, ProjectLayer, ProjectRelation, write_qgis_project
from gis.project.catalog import SYNTHETIC_NOTE, Catalog
from gis.project.specs import Spec
from gis.project.vocabulary import output_field

PROJECT_NAME = "planning"
ROLES = ("proposals", "gaps", "prefecture", "county", "park")
"""The order of an indicator's layers in its group, top to bottom."""
ROLE_NAMES = {"prefecture": ("地级市", "by prefecture"), "county": ("县区", "by county"), "park": ("园区", "by park"),
              "gaps": ("缺口", "gap features"), "proposals": ("改进建议", "proposal")}
OUTLINES = ("counties", "prefectures", "city")
"""The outlines above every indicator, top to bottom."""
PREFECTURE_LABELS = LabelStyle(size=11, bold=True, priority=8)
"""The prefecture names: larger and bold, kept where they meet a county's name."""


@dataclass(frozen=True)
class WrittenLayer:
    """A layer as the GeoPackage writer wrote it: what the project needs to show it."""

    table: str
    role: str  # prefecture, county, park, gaps, proposals (an indicator's), counties, prefectures, city, city_table
    frame: pd.DataFrame
    qml: str | None
    geometry: str | None  # polygon, line, point; None for a table
    spec: Spec | None = None


def _aliases(frame: pd.DataFrame) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """Each field's Chinese alias and type, as the dictionary gives them."""
    aliases, fields = {}, []
    for column in frame.columns:
        if column == "geometry":
            continue
        entry = output_field(str(column))
        if entry is not None:
            aliases[str(column)] = entry.zh
            fields.append((str(column), entry.type))
    return aliases, tuple(fields)


def _start(specs: list[Spec], wanted: str | None) -> str | None:
    """The indicator on at the start: the map spec's, when the project has its layers; else the first."""
    ids = [spec.id for spec in specs]
    if wanted in ids:
        return wanted
    return ids[0] if ids else None


def project_layers(written: list[WrittenLayer], catalog: Catalog, *, start: str | None, synthetic: bool) -> list[ProjectLayer]:
    """The project's layers top to bottom (see the module's docstring)."""
    project = catalog.project
    note = f" — {SYNTHETIC_NOTE}" if synthetic else ""
    by_spec: dict[str, list[WrittenLayer]] = {}
    specs: dict[str, Spec] = {}
    for layer in written:
        if layer.spec is not None and layer.role in ROLES:
            by_spec.setdefault(layer.spec.id, []).append(layer)
            specs[layer.spec.id] = layer.spec
    themes = list(project.themes)
    ordered = sorted(specs.values(), key=lambda s: (themes.index(s.theme) if s.theme in themes else len(themes), s.id))
    shown = _start(ordered, start)
    province = _is_province(catalog)
    layers: list[ProjectLayer] = []
    for role in OUTLINES:  # outlines above every indicator; the counties and prefectures labelled with their names
        for layer in written:
            if layer.role != role:
                continue
            aliases, fields = _aliases(layer.frame)
            if role == "counties":
                name, abstract = "县区界线", f"County outlines and names{note}"
            elif role == "prefectures":
                name, abstract = "地级市界线", f"Prefecture outlines and names{note}"
            else:
                city = str(layer.frame["zone_name"].iloc[0]) if not layer.frame.empty else CITY_LAYER
                area = ("省域", "province") if province else ("市域", "city")
                name, abstract = f"{city} {area[0]}", f"The {area[1]}'s outline ({CITY_TABLE}: every indicator's {area[1]} row){note}"
            layers.append(ProjectLayer(
                table=layer.table, name=name, abstract=abstract, group=(), geometry=layer.geometry, qml=layer.qml,
                visible=True, label_field="zone_name" if role in ("counties", "prefectures") else None, aliases=aliases,
                fields=fields, display_field="zone_name", label_style=PREFECTURE_LABELS if role == "prefectures" else LabelStyle()))
    for spec in ordered:
        theme = project.theme_name(spec.theme)
        mine = sorted(by_spec[spec.id], key=lambda w: ROLES.index(w.role))
        by_county = any(layer.role == "county" for layer in mine)
        for layer in mine:
            zh, en = ROLE_NAMES[layer.role]
            aliases, fields = _aliases(layer.frame)
            zoned = layer.role in ("prefecture", "county", "park")
            on = spec.id == shown and not (layer.role == "prefecture" and by_county)  # one level of fills at a time
            layers.append(ProjectLayer(
                table=layer.table, name=f"{spec.title.zh} · {zh}",
                abstract=f"{spec.title.en}: {en} (plan clause {spec.clause}). {spec.text('definition', 'en')}{note}",
                group=(theme.zh, spec.title.zh), geometry=layer.geometry, qml=layer.qml, visible=on,
                label_field="zone_name" if layer.role == "park" else None, aliases=aliases, fields=fields,
                display_field="zone_name" if zoned else ("name" if "name" in layer.frame.columns else None)))
    for layer in written:
        if layer.role == "city_table":
            aliases, fields = _aliases(layer.frame)
            layers.append(ProjectLayer(
                table=layer.table, name=city_table_name(province=province),
                abstract=f"Every indicator's {'province' if province else 'city'} row: value, target, status, shortfall{note}",
                group=(), geometry=None, qml=None, visible=False, label_field=None, aliases=aliases, fields=fields,
                display_field="title_zh"))
    return layers


def _is_province(catalog: Catalog) -> bool:
    """Whether the project's top zone is a province: its catalog has prefectures beneath it."""
    return "prefecture" in catalog.zones


def city_table_name(*, province: bool) -> str:
    """The Chinese name of the ``city_indicators`` table: 全市各指标, or 全省各指标 above prefectures."""
    return "全省各指标" if province else "全市各指标"


def write_project(path: Path, written: list[WrittenLayer], catalog: Catalog, *, crs: str, start: str | None, synthetic: bool) -> None:
    """Store the run's QGIS project (named ``planning``) in the GeoPackage ``path``."""
    layers = project_layers(written, catalog, start=start, synthetic=synthetic)
    tables = {layer.table for layer in layers}
    province = _is_province(catalog)
    relations = []
    if CITY_LAYER in tables and CITY_TABLE in tables:
        relations.append(ProjectRelation(id="city_indicators", name=city_table_name(province=province), referencing_table=CITY_TABLE,
                                         referenced_table=CITY_LAYER, referencing_field="zone_id", referenced_field="zone_id"))
    city = catalog.project.city
    title = f"{city.name} {catalog.project.target_year} 规划指标差距 / {city.name_en or city.name} plan gaps".strip()
    levels = "prefecture, county and park" if province else "county and park"
    abstract = (f"Layers of a gis run: each indicator of the plan by {levels}, its gap features and proposals. "
                "English titles and meanings are in each layer's metadata." + (f" {SYNTHETIC_NOTE}." if synthetic else ""))
    write_qgis_project(path, project_name=PROJECT_NAME, title=title, abstract=abstract, crs=crs, layers=layers, relations=relations)
