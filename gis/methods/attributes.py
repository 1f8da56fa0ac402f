"""Attribute measures: ratios of sums, shares of features, totals, features inside a coverage.

Every measure returns a :class:`Measurement`: one row per zone with an extensive numerator
and denominator (sums that add up from counties to the city) and the value derived from
them, plus the gap features that explain the zone values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import BaseModel, ConfigDict, Field

from gis.errors import DataError
from gis.methods.conditions import first_blank, is_blank, numbers_of, verdict
from gis.methods.zones import (
    UNASSIGNED,
    UNASSIGNED_NAME,
    Zones,
    in_counties,
    label_rows,
    needs_counties,
    sum_by_zone,
    summed_from_counties,
    sums_per_level,
)
from gis.project.layers import LayerReader
from gis.project.specs import Condition, MissingValues, Spec

SHOWN_IDS = 5
"""How many feature ids an error about blank values names."""


class Params(BaseModel):
    """Base of the per-method parameter models."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


@dataclass
class Measurement:
    """What a method measured.

    ``kind`` is "ratio" when value = numerator / denominator (a share: its shortfall is the
    numerator still missing) and "amount" when the value is a quantity itself.
    """

    rows: pd.DataFrame
    kind: Literal["ratio", "amount"]
    gaps: gpd.GeoDataFrame | None = None
    notes: list[str] = field(default_factory=list)


def _field_of(frame: pd.DataFrame, column: str, layer: str) -> pd.Series:
    if column not in frame.columns:
        msg = f"layer '{layer}' has no field '{column}'; map it under 'layers.{layer}.fields' in the catalog"
        raise DataError(msg)
    return frame[column]


def numeric(frame: pd.DataFrame, column: str, layer: str) -> pd.Series:
    """A numeric column, NaN where blank (a blank is missing, never 0); text that is not a number is an error naming the feature.

    Measures leave out or stop on the blanks first (:class:`Blanks`), so what they sum has none.
    """
    values = numbers_of(_field_of(frame, column, layer), column, layer, frame)
    negative = values < 0
    if negative.any():
        row = frame.loc[negative].iloc[0]
        msg = f"layer '{layer}' feature '{row['id']}' field '{column}': {row[column]} is negative; quantities cannot be below 0"
        raise DataError(msg)
    return values.astype(float)


def field_names(fields: str | list[str] | None) -> list[str]:
    """The fields a ``combined`` setting reads, without their sign (``[vehicles, -emergency_vehicles]``)."""
    if fields is None:
        return []
    return [name.lstrip("-") for name in ([fields] if isinstance(fields, str) else fields)]


def blank_fields(frame: pd.DataFrame, fields: str | list[str] | None, layer: str) -> pd.Series:
    """Per feature the first of ``fields`` that is blank, "" when none is."""
    out = pd.Series("", index=frame.index, dtype=object)
    for name in field_names(fields):
        blank = is_blank(_field_of(frame, name, layer))
        out = out.where((out != "") | ~blank, name)
    return out


def combined(frame: pd.DataFrame, fields: str | list[str] | None, layer: str) -> pd.Series:
    """Sum of fields per row, a leading '-' subtracting (``[vehicles, -emergency_vehicles]``); count when None."""
    if fields is None:
        return pd.Series(1.0, index=frame.index)
    total = pd.Series(0.0, index=frame.index)
    for name in [fields] if isinstance(fields, str) else fields:
        sign = -1.0 if name.startswith("-") else 1.0
        total = total + sign * numeric(frame, name.lstrip("-"), layer)
    return total


class Blanks:
    """What one indicator does with the blank values its features need (a number it sums or compares).

    The spec's ``missing_values``: ``stop`` makes the first such blank an error naming the
    layer, the field and the features; ``skip`` leaves those features out (numerator and
    denominator: the whole feature), records each as a data-quality note and sums them up in
    :attr:`notes`.  ``say=False`` (the proposals, reading what the indicator has already said)
    leaves the data-quality log alone; ``missing`` overrides the spec (a proposal leaves a
    candidate with a blank out rather than stop).
    """

    def __init__(self, project: LayerReader, spec: Spec, *, say: bool = True, missing: MissingValues | None = None) -> None:
        self.project, self.spec, self.say = project, spec, say
        self.missing: MissingValues = missing or spec.missing_values
        self.left_out: dict[tuple[str, str], list[str]] = {}

    def drop(self, frame: pd.DataFrame, layer: str, blank: pd.Series) -> pd.DataFrame:
        """``frame`` without the features whose ``blank`` names a field ("" where nothing is blank)."""
        hit = blank != ""
        if not hit.any():
            return frame
        if self.missing == "stop":
            raise DataError(self._stop_message(frame.loc[hit], layer, blank[hit]))
        for feature_id, field_name in zip(frame.loc[hit, "id"].astype(str), blank[hit], strict=True):
            ids = self.left_out.setdefault((layer, str(field_name)), [])
            if feature_id in ids:
                continue
            ids.append(feature_id)
            if self.say:
                self.project.note(layer, f"blank {field_name} (no value)",
                                  f"left out of {self.spec.id} (missing_values: skip)", feature_id=feature_id, field=str(field_name))
        return frame.loc[~hit]

    def _stop_message(self, rows: pd.DataFrame, layer: str, blank: pd.Series) -> str:
        counts = blank.value_counts(sort=False)
        field_name = str(blank.iloc[0])
        ids = rows.loc[blank == field_name, "id"].astype(str).tolist()
        shown = ", ".join(ids[:SHOWN_IDS]) + (", ..." if len(ids) > SHOWN_IDS else "")
        others = [f"'{name}' ({count})" for name, count in counts.items() if name != field_name]
        also = f"; blank too: {', '.join(others)}" if others else ""
        what = "feature" if len(ids) == 1 else "features"
        return (
            f"{self.project.layer_path(layer)}: layer '{layer}' field '{field_name}' is blank in {len(ids)} {what} ({shown}){also}; "
            f"indicator {self.spec.id} needs its value and a blank is not 0: fill the values, or set 'missing_values: skip' "
            f"in analyses/{self.spec.id}.yaml to leave those features out"
        )

    @property
    def notes(self) -> list[str]:
        """One note per layer and field: how many features were left out for a blank in it."""
        return [
            f"{len(ids)} {'feature' if len(ids) == 1 else 'features'} of {layer} left out: blank {field_name}"
            for (layer, field_name), ids in self.left_out.items()
        ]


def ratios(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is 0."""
    return numerator / denominator.where(denominator > 0)


def ratio_value(numerator: float, denominator: float) -> float:
    """One zone's numerator / denominator, NaN where the denominator is 0 (the rule of :func:`with_ratio`)."""
    return numerator / denominator if denominator > 0 else math.nan


def with_ratio(rows: pd.DataFrame) -> pd.DataFrame:
    """Add value = numerator / denominator (NaN where the denominator is 0)."""
    rows = rows.copy()
    rows["value"] = ratios(rows["numerator"], rows["denominator"])
    return rows


def read_layer(project: LayerReader, layer: str) -> pd.DataFrame:
    """Every feature of a vector or table layer."""
    return project.read_table(layer) if project.entry(layer).kind == "table" else project.read_vector(layer)


def read_features(
    project: LayerReader, layer: str, where: Condition | None, blanks: Blanks, *, numbers: str | list[str] | None = None
) -> pd.DataFrame:
    """The features of a vector or table layer that meet ``where``, with every field of ``numbers`` given (not blank).

    A feature whose answer to ``where`` or whose ``numbers`` a blank leaves open is stopped on
    or left out, as the spec says (``blanks``); features that fail ``where`` are not looked at.
    """
    frame = read_layer(project, layer)
    chosen = verdict(frame, where, layer=layer, project=project)
    blank = first_blank(chosen.blank, blank_fields(frame, numbers, layer)).where(chosen.possible, "")
    frame = blanks.drop(frame, layer, blank)
    return frame.loc[chosen.met[frame.index]].copy()


def sums_by_attribute(
    project: LayerReader, frame: pd.DataFrame, columns: list[str], zone_field: str, zones: Zones, levels: Sequence[str], layer: str
) -> pd.DataFrame:
    """Sums per county for a table whose rows name their county, and the city as their sum.

    A county id not in the county layer stops the run (a typo), unless the catalog says the inputs
    reach beyond the counties (``zones.county.inputs_beyond``): then its rows are summed in the
    ``unassigned`` row, as features outside every county are.
    """
    counties = zones.level("county")
    if zone_field not in frame.columns:
        msg = f"layer '{layer}' has no field '{zone_field}' naming the county; map it in the catalog"
        raise DataError(msg)
    ids = frame[zone_field].astype(str)
    grouped = frame.groupby(ids)[columns].sum()
    county = grouped.reindex(counties["zone_id"], fill_value=0.0)
    county.index.name = "zone_id"
    out = []
    unknown = sorted(set(ids) - set(counties["zone_id"]))
    if unknown and not project.inputs_beyond:
        msg = (f"layer '{layer}' field '{zone_field}': '{unknown[0]}' is no county id of the county layer; use one of "
               f"{', '.join(counties['zone_id'])} (or, if the table covers more than the counties on purpose, set "
               f"'zones.county.inputs_beyond: true' in {project.catalog_path})")
        raise DataError(msg)
    if unknown:
        _note_unknown_ids(project, layer, zone_field, unknown)
        rest = pd.DataFrame([grouped.loc[unknown].sum()], index=pd.Index([UNASSIGNED], name="zone_id")).reset_index()
        rest.insert(0, "zone_type", UNASSIGNED)
        rest.insert(2, "zone_name", UNASSIGNED_NAME)
        out.append(rest)
    above = dict(summed_from_counties(county, zones, levels))
    for level in levels:
        if level == "county":
            out.append(label_rows(county.reset_index(), zones, "county"))
        elif level in above:
            out.append(label_rows(above[level].reset_index(), zones, level))
    return pd.concat(out, ignore_index=True)


def _note_unknown_ids(project: LayerReader, layer: str, zone_field: str, unknown: list[str]) -> None:
    """Say once per run (not once per indicator reading the table) which county ids of a table are beyond the counties."""
    problem = f"{len(unknown)} county ids beyond the counties (zones.county.inputs_beyond)"
    if any(note.layer == layer and note.field == zone_field and note.problem.startswith(problem) for note in project.notes):
        return
    shown = ", ".join(unknown[:SHOWN_IDS]) + (", ..." if len(unknown) > SHOWN_IDS else "")
    project.note(layer, f"{problem}: {shown}", "their rows are summed in the 'unassigned' row, not in any county or the city",
                 field=zone_field, severity="info")


# --- ratio of sums -------------------------------------------------------------------------


class RatioParams(Params):
    """Parameters of ``method: ratio``: a sum of one field over the sum of another per zone."""

    where: Condition | None = None
    numerator: str | list[str] | None = Field(None, description="field(s) summed; None: count of features")
    numerator_where: Condition | None = Field(None, description="only features meeting this add to the numerator")
    denominator: str | list[str] | None = Field(None, description="None: the number of features")
    zone_field: str | None = Field(None, description="for tables: the field holding the county id")
    label_fields: list[str] = Field(default_factory=lambda: ["name"])


def ratio_features(project: LayerReader, layer: str, params: RatioParams, blanks: Blanks) -> pd.DataFrame:
    """The features a ratio counts (``where``), each with its ``numerator`` and ``denominator``.

    A blank the ratio needs (in ``where``, in ``numerator_where``, in a numerator field of a
    feature that may count, in a denominator field, in the ``zone_field`` of a table) stops the
    run or leaves the feature out (``blanks``).
    """
    frame = read_layer(project, layer)
    chosen = verdict(frame, params.where, layer=layer, project=project)
    counted = verdict(frame, params.numerator_where, layer=layer, project=project)
    blank = first_blank(
        chosen.blank,
        counted.blank,
        blank_fields(frame, params.numerator, layer).where(counted.possible, ""),
        blank_fields(frame, params.denominator, layer),
        blank_fields(frame, params.zone_field, layer),
    ).where(chosen.possible, "")
    frame = blanks.drop(frame, layer, blank)
    frame = frame.loc[chosen.met[frame.index]].copy()
    frame["numerator"] = combined(frame, params.numerator, layer).where(counted.met[frame.index], 0.0)
    frame["denominator"] = combined(frame, params.denominator, layer)
    return frame


def measure_ratio(project: LayerReader, zones: Zones, spec: Spec, params: RatioParams) -> Measurement:
    """Share = sum(numerator) / sum(denominator) per zone; the city from the county sums."""
    layer = spec.inputs["features"]
    blanks = Blanks(project, spec)
    frame = ratio_features(project, layer, params, blanks)
    impossible = frame["numerator"] > frame["denominator"] + 1e-9
    if spec.unit == "share" and impossible.any():  # a share cannot pass 1; an intensity (tce per 10,000 yuan) can
        row = frame.loc[impossible].iloc[0]
        msg = (
            f"layer '{layer}' feature '{row['id']}': numerator {row['numerator']:g} exceeds denominator "
            f"{row['denominator']:g} ({params.numerator} > {params.denominator}); correct the values"
        )
        raise DataError(msg)
    columns = ["numerator", "denominator"]
    if params.zone_field:
        rows = sums_by_attribute(project, frame, columns, params.zone_field, zones, spec.zone_types, layer)
    else:
        rows = sums_per_level(frame, columns, zones, spec.zone_types, project=project)
    # parks are no partition of the city: a park holding nothing the ratio counts is not reported
    rows = rows.loc[~((rows["zone_type"] == "park") & (rows["denominator"] == 0))].reset_index(drop=True)
    gaps = None
    if isinstance(frame, gpd.GeoDataFrame) and spec.target is not None and spec.target.value is not None:
        threshold = spec.target.value
        own = ratios(frame["numerator"], frame["denominator"])
        below = frame.loc[own < threshold - 1e-12].copy()
        below["value"] = own[below.index]
        below["shortfall"] = np.ceil((threshold * below["denominator"] - below["numerator"]).round(9))
        keep = ["id", *[c for c in params.label_fields if c in below.columns], "numerator", "denominator", "value", "shortfall"]
        gaps = gpd.GeoDataFrame(below[keep], geometry=below.geometry, crs=frame.crs)
    return Measurement(rows=with_ratio(rows), kind="ratio", gaps=in_counties(gaps, zones), notes=blanks.notes)


# --- totals --------------------------------------------------------------------------------


class TotalParams(Params):
    """Parameters of ``method: total``: a sum (or count) of features against a city total."""

    where: Condition | None = None
    field: str | None = Field(None, description="None: count the features")
    zone_field: str | None = None
    label_fields: list[str] = Field(default_factory=lambda: ["name"], description="fields named on each gap feature")


def measure_total(project: LayerReader, zones: Zones, spec: Spec, params: TotalParams) -> Measurement:
    """Sum of a field (or count) per zone; the city from the county sums.

    Under a ceiling (``<=``) every counted feature is part of the excess: those features are the
    gap list (the coal boilers still to close, the water bodies still to clean)."""
    layer = spec.inputs["features"]
    blanks = Blanks(project, spec)
    needed = [name for name in (params.field, params.zone_field) if name is not None]
    frame = read_features(project, layer, params.where, blanks, numbers=needed)
    frame["numerator"] = combined(frame, params.field, layer)
    if params.zone_field:
        rows = sums_by_attribute(project, frame, ["numerator"], params.zone_field, zones, spec.zone_types, layer)
    else:
        rows = sums_per_level(frame, ["numerator"], zones, spec.zone_types, project=project)
    rows["denominator"] = np.nan
    rows["value"] = rows["numerator"]
    gaps = None
    ceiling = spec.target is not None and spec.target.comparator == "<="
    if ceiling and isinstance(frame, gpd.GeoDataFrame) and not frame.empty:
        keep = ["id", *[c for c in params.label_fields if c in frame.columns and c != "id"], "numerator"]
        gaps = gpd.GeoDataFrame(frame[keep].rename(columns={"numerator": "value"}), geometry=frame.geometry, crs=frame.crs)
    return Measurement(rows=rows, kind="amount", gaps=in_counties(gaps, zones), notes=blanks.notes)


# --- features inside the coverage of another layer -----------------------------------------


class WithinParams(Params):
    """Parameters of ``method: within``: features of one layer within a distance of another."""

    where: Condition | None = None
    coverage_where: Condition | None = None
    distance_m: float = Field(ge=0)
    group_field: str | None = Field(None, description="field of the coverage layer named on each gap feature")
    label_fields: list[str] = Field(default_factory=lambda: ["name"])


def measure_within(project: LayerReader, zones: Zones, spec: Spec, params: WithinParams) -> Measurement:
    """Count per zone of the features within ``distance_m`` of the coverage layer; they are the gap list."""
    layer, cover_layer = spec.inputs["features"], spec.inputs["coverage"]
    blanks = Blanks(project, spec)
    frame = read_features(project, layer, params.where, blanks)
    cover = read_features(project, cover_layer, params.coverage_where, blanks)
    if cover.empty or frame.empty:
        inside = frame.iloc[0:0].copy()
        inside["distance_m"] = pd.Series(dtype=float)
    else:
        nearest = gpd.sjoin_nearest(frame, cover[[*([params.group_field] if params.group_field else []), "geometry"]],
                                    how="left", distance_col="distance_m")
        nearest = nearest[~nearest.index.duplicated(keep="first")]
        inside = nearest.loc[nearest["distance_m"] <= params.distance_m].drop(columns=["index_right"])
    inside["numerator"] = 1.0
    rows = sums_per_level(inside, ["numerator"], zones, spec.zone_types, project=project)
    rows["denominator"] = np.nan
    rows["value"] = rows["numerator"]
    keep = ["id", *[c for c in params.label_fields if c in inside.columns]]
    keep += [c for c in (params.group_field, "distance_m") if c and c in inside.columns]
    gaps = gpd.GeoDataFrame(inside[keep], geometry=inside.geometry, crs=project.crs)
    return Measurement(rows=rows, kind="amount", gaps=in_counties(gaps, zones), notes=blanks.notes)


# --- presence of facilities in zones -------------------------------------------------------


class PresenceParams(Params):
    """Parameters of ``method: presence``: which zones (parks) hold any of a facility layer."""

    zone_where: Condition | None = None
    facilities_where: Condition | None = None
    min_length_m: float = Field(0.0, ge=0, description="lines: the length inside a zone that counts as present")


def measure_presence(project: LayerReader, zones: Zones, spec: Spec, params: PresenceParams) -> Measurement:
    """Per zone 1 when facilities are present, 0 when not; higher levels: the share of such zones."""
    zone_layer, facility_layer = spec.inputs["zones"], spec.inputs["facilities"]
    blanks = Blanks(project, spec)
    units = read_features(project, zone_layer, params.zone_where, blanks)
    facilities = read_features(project, facility_layer, params.facilities_where, blanks)
    lines = set(facilities.geometry.geom_type) <= {"LineString", "MultiLineString"}
    amount = pd.Series(0.0, index=units.index)
    if not facilities.empty and not units.empty:
        merged = shapely.union_all(facilities.geometry.values)
        pieces = units.geometry.intersection(merged)
        amount = pieces.length if lines else pieces.apply(lambda g: float(shapely.get_num_geometries(g)))
    threshold = params.min_length_m if lines else 0.0
    units["numerator"] = (amount > threshold).astype(float) if lines else (amount > 0).astype(float)
    units["denominator"] = 1.0
    units["present_amount"] = amount
    own = units.rename(columns={"id": "zone_id"})
    frames = []
    county: pd.DataFrame | None = None
    for level in spec.zone_types:
        if level == "park" and "park" in zones.levels:
            frames.append(label_rows(own[["zone_id", "numerator", "denominator"]], zones, "park").dropna(subset=["numerator"]))
        elif needs_counties([level]):  # a zone counts where its representative point lies; the levels above sum the counties
            if county is None:
                points = units.copy()
                points["geometry"] = units.geometry.representative_point()
                county = sum_by_zone(points, ["numerator", "denominator"], zones.level("county"), project=project)
            sums = county if level == "county" else dict(summed_from_counties(county, zones, [level])).get(level)
            if sums is not None:
                frames.append(label_rows(sums.reset_index(), zones, level))
    gaps_frame = units.loc[units["numerator"] == 0]
    keep = ["id", *[c for c in ("name", "kind") if c in gaps_frame.columns], "present_amount"]
    gaps = gpd.GeoDataFrame(gaps_frame[keep], geometry=gaps_frame.geometry, crs=project.crs)
    return Measurement(rows=with_ratio(pd.concat(frames, ignore_index=True)), kind="ratio", gaps=in_counties(gaps, zones), notes=blanks.notes)
