"""The kinds of proposal, the check of every spec's ``proposal:`` block, and the proposals of a run.

A spec asks for a proposal with a ``proposal:`` block naming its kind; a spec without one has
none. The block is the settings of that kind (a pydantic union told apart by ``kind``): a key
the kind does not take, a value out of range, a misspelt layer name (close to a catalog layer's)
or an indicator the project lacks is a :class:`~gis.errors.ConfigError` naming the spec file, the
line and the key, raised when the project loads.  A layer the catalog simply lacks is no error: an
indicator not assessed gets no proposal, and a proposal does without a candidate, station or
population layer the project lacks, saying so in its notes.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import geopandas as gpd
import pandas as pd
from pydantic import Field, ModelWrapValidatorHandler, RootModel, ValidationError, model_validator
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from gis.engines.result import RunResult
from gis.errors import DataError, GisError
from gis.project._yaml import key_error, validate
from gis.project.config import ProjectConfig
from gis.project.specs import Spec
from gis.proposals.charging import COVERAGE_SITES, FAST_CHARGING, PARKING_SPACES, CoverageSettings, FastSettings, ParkingSettings
from gis.proposals.columns import PROPOSAL_COLUMNS
from gis.proposals.common import Context, Kind, KindSettings, Part, Proposals, not_assessed
from gis.proposals.heating import COAL_BOILERS, CoalSettings
from gis.proposals.permeable import PERMEABLE_BLOCKS, PermeableSettings
from gis.proposals.projects import PROJECT_TOTALS, ProjectTotalsSettings
from gis.proposals.sewage import SEWER_EXTENSIONS, SewerSettings

log = logging.getLogger("gis")

KINDS: dict[str, Kind[Any]] = {
    kind.name: kind
    for kind in (COVERAGE_SITES, PARKING_SPACES, FAST_CHARGING, COAL_BOILERS, PERMEABLE_BLOCKS, SEWER_EXTENSIONS, PROJECT_TOTALS)
}
"""Each kind of proposal by name: its settings, its function, the methods it acts on."""

ProposalSettings = Annotated[
    CoverageSettings | ParkingSettings | FastSettings | CoalSettings | PermeableSettings | SewerSettings | ProjectTotalsSettings,
    Field(discriminator="kind"),
]
"""The settings of any kind: a ``proposal:`` block."""


def _kinds_text() -> str:
    return ", ".join(sorted(KINDS))


def _as_written(error: ErrorDetails) -> InitErrorDetails:
    """A validation error of the union keyed as the block is written (pydantic puts the kind in front of the key)."""
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        tag = error.get("ctx", {}).get("tag")
        text = "unknown kind '{tag}' (kinds: {kinds})" if tag is not None else "no kind given (kinds: {kinds})"
        problem = PydanticCustomError("proposal_kind", text, {"tag": tag, "kinds": _kinds_text()})
        return {"type": problem, "loc": ("kind",), "input": error["input"]}
    loc = error["loc"]
    details: InitErrorDetails = {"type": error["type"], "loc": loc[1:] if loc and loc[0] in KINDS else loc, "input": error["input"]}
    if "ctx" in error:
        details["ctx"] = error["ctx"]
    return details


class ProposalBlock(RootModel[ProposalSettings]):
    """A spec's ``proposal:`` block: the settings of its kind; errors name the keys as written."""

    @model_validator(mode="wrap")
    @classmethod
    def _keys_as_written(cls, data: Any, handler: ModelWrapValidatorHandler[ProposalBlock]) -> ProposalBlock:
        try:
            return handler(data)
        except ValidationError as exc:
            raise ValidationError.from_exception_data(exc.title, [_as_written(e) for e in exc.errors()]) from None


def proposal_kind(spec: Spec) -> str | None:
    """The proposal kind a spec names (``proposal.kind``); None when it has no ``proposal:`` block."""
    if spec.proposal is None:
        return None
    kind = spec.proposal.get("kind")
    if kind not in KINDS:
        text = f"unknown kind '{kind}'" if kind is not None else "no kind given"
        msg = f"spec '{spec.id}': key 'proposal.kind': {text} (kinds: {_kinds_text()})"
        raise DataError(msg)
    return str(kind)


def proposal_settings(project: ProjectConfig, spec: Spec) -> KindSettings | None:
    """The settings of a spec's ``proposal:`` block, checked against its kind, the spec and the project.

    None without a block. A problem is a :class:`ConfigError` naming the spec file, the line and the key.
    """
    if spec.proposal is None:
        return None
    path = project.spec_path(spec.id)
    settings: KindSettings = validate(ProposalBlock, spec.proposal, path, at=("proposal",)).root
    for key, text in KINDS[settings.kind].problems(project, spec, settings):
        raise key_error(path, ("proposal", *key), text)
    return settings


def validate_proposals(project: ProjectConfig) -> None:
    """Check every spec's ``proposal:`` block (the first problem is raised); see :func:`proposal_settings`."""
    for spec in project.specs:
        proposal_settings(project, spec)


def propose(result: RunResult) -> Proposals:
    """For every gap of ``result`` a proposal can act on: what would close it and the value after.

    Indicators without a ``proposal:`` block are passed over, and so are those not assessed
    (said in the notes); a proposal whose inputs are
    missing or wrong (a block that fails its check, a layer that cannot be read) is skipped with
    a note and a log line.
    """
    ctx = Context(result, {r.spec.id: r for r in result.results})
    rows: list[dict[str, Any]] = []
    layers: dict[str, gpd.GeoDataFrame] = {}
    notes: list[str] = []
    for item in result.results:
        try:
            settings = proposal_settings(result.project, item.spec)
            if settings is None:
                continue
            if not_assessed(item):
                reason = str(item.rows["status_note"].iloc[0]).split(";")[0].removeprefix("not assessed: ")
                notes.append(f"{item.spec.id}: not assessed ({reason}); no proposal")
                continue
            part: Part = KINDS[settings.kind].propose(ctx, item, settings)
        except (GisError, OSError) as exc:
            text = f"{item.spec.id}: proposal skipped ({exc})"
            log.warning("proposals: %s", text)
            notes.append(text)
            continue
        for note in part.notes:
            log.info("proposals: %s: %s", item.spec.id, note)
        notes += [f"{item.spec.id}: {note}" for note in part.notes]
        rows += part.rows
        layers.update({name: frame for name, frame in part.layers.items() if not frame.empty})
    table = pd.DataFrame(rows, columns=PROPOSAL_COLUMNS)
    if not table.empty:
        table["meets_target"] = table["meets_target"].astype("boolean")
        table["rank"] = table["rank"].astype("Int64")
    return Proposals(table=table, layers=layers, notes=notes)
