"""Listings of a project for people: its layers and its targets, as a table, CSV or Markdown."""

from __future__ import annotations

import pandas as pd

from gis.project.config import ProjectConfig
from gis.project.specs import Spec


def _target_text(spec: Spec, baseline_year: int | None = None) -> str:
    """The target in one line: '>= 70% or +5 points over the baseline_2020 baseline', '<= -16 % vs 2020; by zone: B -10 %'."""
    target = spec.target
    if target is None:
        return "no number in the plan"
    share = spec.unit == "share"

    def show(value: float) -> str:
        return f"{value:.0%}" if share else f"{value:g} {spec.unit}"

    def points(amount: float) -> str:
        amount = amount * 100 if share else amount
        return f"{amount:+g} point{'s' if abs(amount) != 1 else ''}" if share else f"{amount:+g}"

    baseline = f"the {target.baseline_layer} baseline" if target.baseline_layer else (
        f"the {baseline_year} value" if baseline_year is not None else "the baseline-year value")
    parts = []
    if target.value_by_zone_type:
        parts.append(", ".join(f"{level} {target.comparator} {show(v)}" for level, v in target.value_by_zone_type.items()))
    elif target.value is not None:
        parts.append(f"{target.comparator} {show(target.value)}")
    if target.increase is not None:
        parts.append(f"{points(target.increase)} over {baseline}")
    if target.change is not None:
        versus = f"the {target.baseline_layer} baseline" if target.baseline_layer else (baseline_year or "the baseline year")
        parts.append(f"{target.comparator} {target.change * 100:+g} % vs {versus}")
    text = " or ".join(parts)
    if target.by_zone:
        kind = target.figure_kinds[0]

        def own(figure: float) -> str:
            if kind == "value":
                return f"{target.comparator} {show(figure)}"
            return f"{figure * 100:+g} %" if kind == "change" else points(figure)

        text += "; by zone: " + ", ".join(f"{zone} {own(figure)}" for zone, figure in target.by_zone.items())
    return text


def targets_table(project: ProjectConfig) -> pd.DataFrame:
    """One row per indicator: id, titles, method, target, levels, clause."""
    rows = [
        {
            "id": spec.id,
            "indicator": spec.title.en,
            "指标": spec.title.zh,
            "method": spec.method,
            "target": _target_text(spec, project.catalog.project.baseline_year),
            "year": spec.target.year if spec.target else "",
            "reported for": ", ".join(spec.zone_types),
            "target for": ", ".join(spec.target.zone_types) if spec.target else "",
            "clause": spec.clause,
        }
        for spec in sorted(project.specs, key=lambda s: (s.theme, s.id))
    ]
    return pd.DataFrame(rows)


def layers_table(project: ProjectConfig) -> pd.DataFrame:
    """One row per catalog layer: name, kind, geometry, file, source, synthetic, and whether the file exists."""
    rows = []
    for name, entry in project.catalog.layers.items():
        rows.append(
            {
                "layer": name,
                "title": entry.title or "",
                "kind": entry.kind,
                "geometry": entry.geometry or "",
                "file": entry.file + (f" ({entry.layer})" if entry.layer else ""),
                "present": project.layer_path(name).exists(),
                "synthetic": entry.synthetic,
                "source": entry.provenance.source,
            }
        )
    return pd.DataFrame(rows)


def render(frame: pd.DataFrame, output_format: str) -> str:
    """A frame as CSV or as a Markdown table (pipes in cells escaped)."""
    if output_format == "csv":
        return frame.to_csv(index=False)
    if output_format != "md":
        msg = f"unknown format {output_format!r}"
        raise ValueError(msg)

    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"
