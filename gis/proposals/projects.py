"""Key projects: the projects not yet completed, largest first, and whether completing them meets
the target (``project_totals``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import geopandas as gpd
import numpy as np

from gis.bilingual import Bilingual
from gis.engines.result import IndicatorResult
from gis.methods.attributes import Blanks, TotalParams, blank_fields, combined, read_layer
from gis.methods.conditions import verdict
from gis.methods.targets import EPSILON
from gis.project.config import ProjectConfig
from gis.project.specs import Spec
from gis.proposals.common import (
    Context,
    Kind,
    KindSettings,
    Part,
    Problem,
    county_of,
    in_zone,
    item_row,
    meets,
    point_layer,
    proposals_layer_name,
    row,
    shortfall_of,
)
from gis.proposals.texts import action, amount, same, say
from gis.values import is_missing


class ProjectTotalsSettings(KindSettings):
    """``kind: project_totals``: the projects not yet completed that would add to the total."""

    kind: Literal["project_totals"]

    def problems(self, project: ProjectConfig, spec: Spec) -> Iterator[Problem]:
        """A total of one field (tonnes of a pollutant)."""
        if not isinstance(TotalParams.model_validate(spec.parameters).field, str):
            yield ("kind",), "kind 'project_totals' lists what projects add to a sum of one field; this total has no 'field'"


def propose_project_totals(ctx: Context, item: IndicatorResult, settings: ProjectTotalsSettings) -> Part:
    """The tonnes still missing and the projects not yet counted, largest first; whether they are enough.

    The projects "not yet completed" are the features of the layer that fail the spec's
    ``where`` (status completed) and carry tonnes of the pollutant.  One whose tonnes are blank
    is left out and said in the proposal's notes; one whose ``where`` a blank leaves open the
    indicator has dealt with (stopped, or left out and said).
    """
    spec, reader, part = item.spec, ctx.reader, Part()
    params = TotalParams.model_validate(spec.parameters)
    layer = spec.inputs["features"]
    zones = [z for _, z in item.rows[item.rows["status"] == "gap"].iterrows()]
    if not zones:
        return part
    frame = read_layer(reader, layer)
    done = verdict(frame, params.where, layer=layer, project=reader)
    frame = frame.loc[~done.possible].copy()  # known not to be completed
    blanks = Blanks(reader, spec, say=False, missing="skip")
    frame = blanks.drop(frame, layer, blank_fields(frame, params.field, layer))
    part.notes += [f"projects not yet completed: {note}" for note in blanks.notes]
    frame["tonnes"] = combined(frame, params.field, layer)
    open_ = frame[frame["tonnes"] > 0].copy()
    if params.zone_field:
        open_["county_id"] = open_[params.zone_field].astype(str)
    elif isinstance(open_, gpd.GeoDataFrame) and not open_.empty:
        open_["county_id"] = county_of(ctx.zones, open_.geometry).values
    else:
        open_["county_id"] = None
    open_ = open_.sort_values(["tonnes", "id"], ascending=[False, True])
    unit = spec.unit
    entry = reader.catalog.layers[layer]
    for zone in zones:
        mine = in_zone(open_, zone, ctx.zones)
        value = float(zone["value"])
        short = shortfall_of(zone)
        if short is None:
            short = float(zone["target"]) - value if zone["comparator"] == ">=" else value - float(zone["target"])
        total = float(mine["tonnes"].sum())
        after = value + total
        enough = bool(meets(after, zone["target"], zone["comparator"]))
        first = int(np.argmax(value + mine["tonnes"].cumsum().to_numpy() >= float(zone["target"]) - EPSILON)) + 1 if enough else 0
        projects = "project" if len(mine) == 1 else "projects"
        outcome = _outcome(len(mine), total, short, float(zone["target"]) - after, unit, first)
        part.rows.append(row(
            item, zone, action(f"完成未完工的重点工程 {len(mine)} 项", f"complete the {len(mine)} {projects} not yet completed"), total, unit, after,
            detail=outcome,
        ))
        running = value
        for rank, (_, project_row) in enumerate(mine.iterrows(), start=1):
            running += float(project_row["tonnes"])
            status = entry.value_name("status", project_row.get("status", "")) or same(project_row.get("status", ""))
            year = project_row.get("year", "")
            when = say(f"，{year}年", f", year {year}") if not is_missing(year) and year != "" else same("")
            part.rows.append(item_row(
                item, zone, action("完成重点工程", "complete the project"), float(project_row["tonnes"]), unit, running, rank=rank,
                item_layer=layer, item_id=str(project_row["id"]), item_name=str(project_row.get("name", project_row["id"])),
                detail=say(f"状态：{status.zh}{when.zh}", f"status {status.en}{when.en}"),
            ))
    if isinstance(open_, gpd.GeoDataFrame) and not open_.empty:
        frame_out = open_.assign(indicator=spec.id, rank=np.arange(1, len(open_) + 1))
        if "status" in frame_out:
            frame_out = frame_out.rename(columns={"status": "project_status"})
        columns = ["id", "indicator", "county_id", "rank", *[c for c in ("name", "sector", "project_status", "year") if c in frame_out], "tonnes"]
        part.layers[proposals_layer_name(spec.id)] = point_layer(frame_out, columns, reader.crs)
    return part


def _outcome(count: int, total: float, short: float, still: float, unit: Bilingual, first: int) -> Bilingual:
    """Whether the ``count`` projects not yet completed (adding ``total``) close the ``short``-fall, in one sentence;
    ``first``: how many of them (largest first) are enough (0: all are not); ``still``: what is left short without new projects."""
    added, gap, rest = amount(total, unit, 1), amount(short, unit, 1), amount(still, unit, 1)
    projects = "project" if count == 1 else "projects"
    if first:
        if count == 1:
            which = say("完成这一项即可", "it is")
        elif first > 1:
            which = say(f"按规模从大到小完成前{first}项即可", f"the first {first} (largest first) are")
        else:
            which = say("完成规模最大的第一项即可", "the first (the largest) is")
        return say(f"未完工的{count}项工程（全部列出）合计{added.zh}，缺口为{gap.zh}：{which.zh}",
                   f"the {count} {projects} not yet completed, all listed, add {added.en} against a shortfall of {gap.en}: {which.en} enough")
    return say(f"未完工的{count}项工程合计仅{added.zh}，缺口为{gap.zh}：仍差{rest.zh}，需新增工程",
               f"the {count} {projects} not yet completed add only {added.en} against a shortfall of {gap.en}: "
               f"{rest.en} still short, new projects needed")


PROJECT_TOTALS = Kind(ProjectTotalsSettings, propose_project_totals, ("total",))
