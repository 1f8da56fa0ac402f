"""The QGIS project of ``planning.gpkg``: the run's layers in groups by theme and indicator, named in Chinese.

Top to bottom: the county outlines, labelled with the county names, and the city outline; for each theme
(the catalog's ``themes`` order and ``theme_names``), for each indicator, its proposals, its gap features,
then its zones by county and by park; the ``city_indicators`` table last, related to the city outline on
``zone_id`` (identifying the city lists every indicator). One indicator is on at the start (the map spec's
``indicators.start``, as the web map; else the first), with the outlines. Park layers are labelled with the park names; every field has its Chinese alias.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gis.outputs.folder import CITY_LAYER, CITY_TABLE
from gis.outputs.qgis_project import ProjectLayer, ProjectRelation, write_qgis_project
from gis.project.catalog import SYNTHETIC_NOTE, Catalog
from gis.project.specs import Spec
from gis.project.vocabulary import output_field

PROJECT_NAME = "planning"
ROLES = ("proposals", "gaps", "county", "park")
"""The order of an indicator's layers in its group, top to bottom."""
ROLE_NAMES = {"county": ("县区", "by county"), "park": ("园区", "by park"), "gaps": ("缺口", "gap features"),
              "proposals": ("改进建议", "proposal")}


@dataclass(frozen=True)
class WrittenLayer:
    """A layer as the GeoPackage writer wrote it: what the project needs to show it."""

    table: str
    role: str  # county, park, gaps, proposals (an indicator's), counties, city, city_table
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
    layers: list[ProjectLayer] = []
    for role in ("counties", "city"):  # outlines above every indicator; the counties labelled with their names
        for layer in written:
            if layer.role != role:
                continue
            aliases, fields = _aliases(layer.frame)
            if role == "counties":
                name, abstract = "县区界线", f"County outlines and names{note}"
            else:
                city = str(layer.frame["zone_name"].iloc[0]) if not layer.frame.empty else CITY_LAYER
                name, abstract = f"{city} 市域", f"The city's outline ({CITY_TABLE}: every indicator's city row){note}"
            layers.append(ProjectLayer(
                table=layer.table, name=name, abstract=abstract, group=(), geometry=layer.geometry, qml=layer.qml,
                visible=True, label_field="zone_name" if role == "counties" else None, aliases=aliases, fields=fields,
                display_field="zone_name"))
    for spec in ordered:
        theme = project.theme_name(spec.theme)
        for layer in sorted(by_spec[spec.id], key=lambda w: ROLES.index(w.role)):
            zh, en = ROLE_NAMES[layer.role]
            aliases, fields = _aliases(layer.frame)
            zoned = layer.role in ("county", "park")
            layers.append(ProjectLayer(
                table=layer.table, name=f"{spec.title.zh} · {zh}",
                abstract=f"{spec.title.en}: {en} (plan clause {spec.clause}). {spec.text('definition', 'en')}{note}",
                group=(theme.zh, spec.title.zh), geometry=layer.geometry, qml=layer.qml, visible=spec.id == shown,
                label_field="zone_name" if layer.role == "park" else None, aliases=aliases, fields=fields,
                display_field="zone_name" if zoned else ("name" if "name" in layer.frame.columns else None)))
    for layer in written:
        if layer.role == "city_table":
            aliases, fields = _aliases(layer.frame)
            layers.append(ProjectLayer(
                table=layer.table, name="全市各指标", abstract=f"Every indicator's city row: value, target, status, shortfall{note}",
                group=(), geometry=None, qml=None, visible=False, label_field=None, aliases=aliases, fields=fields,
                display_field="title_zh"))
    return layers


def write_project(path: Path, written: list[WrittenLayer], catalog: Catalog, *, crs: str, start: str | None, synthetic: bool) -> None:
    """Store the run's QGIS project (named ``planning``) in the GeoPackage ``path``."""
    layers = project_layers(written, catalog, start=start, synthetic=synthetic)
    tables = {layer.table for layer in layers}
    relations = []
    if CITY_LAYER in tables and CITY_TABLE in tables:
        relations.append(ProjectRelation(id="city_indicators", name="全市各指标", referencing_table=CITY_TABLE,
                                         referenced_table=CITY_LAYER, referencing_field="zone_id", referenced_field="zone_id"))
    city = catalog.project.city
    title = f"{city.name} {catalog.project.target_year} 规划指标差距 / {city.name_en or city.name} plan gaps".strip()
    abstract = ("Layers of a gis run: each indicator of the plan by county and park, its gap features and proposals. "
                "English titles and meanings are in each layer's metadata." + (f" {SYNTHETIC_NOTE}." if synthetic else ""))
    write_qgis_project(path, project_name=PROJECT_NAME, title=title, abstract=abstract, crs=crs, layers=layers, relations=relations)
