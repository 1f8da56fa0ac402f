"""Data-quality findings: what was wrong in the inputs and what the tool did about it.

A :class:`QualityLog` belongs to one run (or one ``gis check``), never to the project: reading
the same project twice gives two logs with the same findings, not one log with both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import pandas as pd

Severity = Literal["error", "warning", "info"]
QUALITY_COLUMNS = ["severity", "layer", "feature_id", "field", "problem", "action"]
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class QualityNote:
    """One data-quality finding: what was wrong and what the tool did about it."""

    layer: str
    feature_id: str
    field: str
    problem: str
    action: str
    severity: str = "warning"  # "info": said for the record (a reprojection); "warning": data was wrong; "error": refused


@dataclass
class QualityLog:
    """The findings of one run, in the order they were made."""

    notes: list[QualityNote] = field(default_factory=list)

    def note(self, layer: str, problem: str, action: str, *, feature_id: str = "", field: str = "", severity: str = "warning") -> None:
        """Record a finding."""
        self.notes.append(QualityNote(layer, feature_id, field, problem, action, severity))

    def add_year(self, year: int, notes: list[QualityNote]) -> None:
        """Take the findings made while reading an earlier ``year``'s layers, tagged with the year."""
        for note in notes:
            self.notes.append(QualityNote(note.layer, note.feature_id, note.field, f"({year}) {note.problem}", note.action, note.severity))


def quality_table(notes: list[QualityNote]) -> pd.DataFrame:
    """The data-quality table: one row per finding, errors then warnings then information."""
    frame = pd.DataFrame([asdict(note) for note in notes], columns=QUALITY_COLUMNS)
    return frame.sort_values(
        ["severity", "layer"], key=lambda c: c.map(_SEVERITY_ORDER) if c.name == "severity" else c, kind="stable", ignore_index=True
    )
