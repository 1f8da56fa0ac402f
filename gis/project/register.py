"""The plan register (``analyses/plan/register.yaml``): every item of the plan and the specs that assess it.

Not an indicator spec: only ``analyses/*.yaml`` are. A project without the file has no register
(its ``plan_coverage.csv`` has the columns and no rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gis.project._yaml import key_error, load_yaml, validate

REGISTER_PATH = Path("analyses") / "plan" / "register.yaml"
"""Where a project keeps its register, relative to the project folder."""

Assessment = Literal["assessed", "approximated", "not_assessed"]


class PlanItem(BaseModel):
    """One target or measure of the plan, and how the specs assess it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item: int = Field(ge=1)
    clause: str = Field(min_length=1)
    title_zh: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    target: str = ""
    kind: Literal["P", "Z", "N", "Z/P", "N/P"]
    assessment: Assessment
    indicators: tuple[str, ...] = ()
    reason: str = ""

    @model_validator(mode="after")
    def _links_match_assessment(self) -> PlanItem:
        if self.assessment == "not_assessed":
            if self.indicators:
                msg = "an item not assessed links no indicators; remove 'indicators' or set assessment to approximated"
                raise ValueError(msg)
            if not self.reason.strip():
                msg = "an item not assessed needs a reason (no data, not spatial, a policy without a measure)"
                raise ValueError(msg)
        elif not self.indicators:
            msg = f"an item {self.assessment} names the specs that assess it in 'indicators'"
            raise ValueError(msg)
        if self.assessment == "approximated" and not self.reason.strip():
            msg = "an approximated item states its reading in 'reason'"
            raise ValueError(msg)
        return self


class PlanRegister(BaseModel):
    """The items of the plan, in the order of the plan."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    items: tuple[PlanItem, ...] = Field(min_length=1)


def read_register(root: Path, spec_ids: Iterable[str]) -> PlanRegister | None:
    """Read ``root/analyses/plan/register.yaml`` when present, its links checked against ``spec_ids``.

    An error names the file, the line and the key: a missing field, a repeated item number, an
    indicator id that no spec of ``analyses/`` has.
    """
    path = root / REGISTER_PATH
    if not path.is_file():
        return None
    data, node = load_yaml(path)
    register = validate(PlanRegister, data, path, node)
    known = set(spec_ids)
    seen: dict[int, int] = {}
    for i, item in enumerate(register.items):
        if item.item in seen:
            msg = f"item {item.item} is listed twice (also items.{seen[item.item]}); give every item its own number"
            raise key_error(path, ("items", i, "item"), msg, node)
        seen[item.item] = i
        for j, indicator in enumerate(item.indicators):
            if indicator not in known:
                names = ", ".join(sorted(known))
                msg = f"no spec '{indicator}' in analyses/ (known: {names}); name a spec's id or mark the item not_assessed"
                raise key_error(path, ("items", i, "indicators", j), msg, node)
    return register
