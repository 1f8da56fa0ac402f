"""The history of runs kept in an output folder, and what changed between two runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gis.errors import DataError, UsageError
from gis.outputs.folder import current_year, damaged, read_record, read_table
from gis.outputs.summary import plan_targets

HISTORY_DIR = "history"
KEY = ["indicator", "zone_type", "zone_id"]


def history_root(out_dir: Path) -> Path:
    """Where earlier runs' tables and records are kept: ``OUT/history/RUN_ID/``."""
    return out_dir / HISTORY_DIR


@dataclass(frozen=True)
class KeptRuns:
    """The runs kept in an output folder: one row per readable run, and why each other one cannot be read."""

    table: pd.DataFrame
    """Run id, times, project, synthetic, and its plan targets (all levels) with those met and short; oldest first."""
    unreadable: dict[str, str] = field(default_factory=dict)
    """Run id (its folder's name) → a one-line message naming the damaged file and the fix."""

    def run_ids(self) -> list[str]:
        """Every kept run, readable or not, oldest first (an unreadable one by the time in its id)."""
        started = dict(zip(self.table["run_id"], self.table["started"].astype(str), strict=True))
        started.update({run_id: _time_in_id(run_id) for run_id in self.unreadable})
        return sorted(started, key=lambda run_id: (started[run_id], run_id))


def _time_in_id(run_id: str) -> str:
    """The start time a run id begins with (``20250101T120000Z-…``) as ISO text, for ordering."""
    stamp = run_id.split("-", 1)[0]
    if len(stamp) == 16 and stamp[8] == "T":
        return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}"
    return run_id


def entry_fix(folder: Path) -> str:
    """The fix for a damaged history entry: remove it (the run can no longer be compared)."""
    return f"delete the folder {folder}: that run can no longer be compared"


def read_entry(folder: Path) -> tuple[dict, pd.DataFrame]:
    """The record and the full indicators table of one kept run; a damaged file is a DataError naming it."""
    fix = entry_fix(folder)
    for name in ("run.json", "indicators.csv"):
        if not (folder / name).is_file():
            raise damaged(folder / name, "missing: the run was not kept whole", fix)
    record = read_record(folder / "run.json", fix)
    table = read_table(folder / "indicators.csv", record, dtype={"zone_id": str}, fix=fix)
    return record, table


def scan_runs(out_dir: Path) -> KeptRuns:
    """Every run kept under ``out_dir/history/``; a damaged entry is listed in ``unreadable``, not raised."""
    rows, unreadable = [], {}
    root = history_root(out_dir)
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        try:
            record, table = read_entry(folder)
            targets = plan_targets(current_year(table, record.get("data_year")))
            status = targets["status"].value_counts()
            project = record.get("project") or {}
            rows.append(
                {
                    "run_id": record["run_id"],
                    "started": str(record.get("started", _time_in_id(record["run_id"]))),
                    "finished": str(record.get("finished", "")),
                    "project": project.get("name", "") if isinstance(project, dict) else "",
                    "synthetic": record.get("synthetic", False),
                    "targets": len(targets),
                    "targets_met": int(status.get("met", 0)),
                    "targets_gap": int(status.get("gap", 0)),
                }
            )
        except DataError as exc:
            unreadable[folder.name] = str(exc)
        except KeyError as exc:
            unreadable[folder.name] = str(damaged(folder / "indicators.csv", f"no column {exc}", entry_fix(folder)))
    columns = ["run_id", "started", "finished", "project", "synthetic", "targets", "targets_met", "targets_gap"]
    return KeptRuns(pd.DataFrame(rows, columns=columns).sort_values("started", ignore_index=True), unreadable)


def list_runs(out_dir: Path) -> pd.DataFrame:
    """One row per readable kept run, oldest first: run id, times, project, synthetic, and its plan targets (counted
    at the level the plan sets them, :func:`~gis.outputs.summary.plan_targets`), met and short."""
    return scan_runs(out_dir).table


def resolve_run(run_ids: list[str], wanted: str, where: str) -> str:
    """A run id from a full id, a unique prefix, ``latest`` or ``previous``."""
    if not run_ids:
        msg = f"{where}: no runs kept yet; run `gis run` first"
        raise UsageError(msg)
    if wanted == "latest":
        return run_ids[-1]
    if wanted == "previous":
        if len(run_ids) < 2:
            msg = f"{where}: only one run kept, there is no previous run"
            raise UsageError(msg)
        return run_ids[-2]
    matches = [run_id for run_id in run_ids if run_id.startswith(wanted)]
    if len(matches) != 1:
        reason = "matches no run" if not matches else f"matches {len(matches)} runs"
        msg = f"{where}: run '{wanted}' {reason}; list them with `gis history`"
        raise UsageError(msg)
    return matches[0]


def read_run_indicators(out_dir: Path, run_id: str) -> pd.DataFrame:
    """The indicators table of one kept run (its data year); a damaged entry is a DataError naming the file."""
    record, table = read_entry(history_root(out_dir) / run_id)
    return current_year(table, record.get("data_year"))


def diff_indicators(before: pd.DataFrame, after: pd.DataFrame, *, changed_only: bool = True) -> pd.DataFrame:
    """Per indicator and zone: value, status and shortfall in both runs, and the change in value.

    Rows only in one run show as ``added`` or ``removed``.
    """
    columns = ["value", "status", "shortfall", "unit", "shortfall_unit", "zone_name"]
    merged = before[KEY + columns].merge(after[KEY + columns], on=KEY, how="outer", suffixes=("_a", "_b"), indicator=True)
    merged["change"] = merged["value_b"] - merged["value_a"]
    merged["zone_name"] = merged["zone_name_b"].fillna(merged["zone_name_a"])
    merged["unit"] = merged["unit_b"].fillna(merged["unit_a"])
    merged["shortfall_unit"] = merged["shortfall_unit_b"].fillna(merged["shortfall_unit_a"])
    kind = {"left_only": "removed", "right_only": "added", "both": "same"}
    merged["row"] = merged["_merge"].astype(str).map(kind)
    both = merged["row"] == "same"
    value_changed = ~np.isclose(merged["value_a"], merged["value_b"], rtol=1e-9, atol=1e-12, equal_nan=True)
    shortfall_changed = ~np.isclose(merged["shortfall_a"], merged["shortfall_b"], rtol=1e-9, atol=1e-12, equal_nan=True)
    status_changed = merged["status_a"].astype(str) != merged["status_b"].astype(str)
    merged.loc[both & (value_changed | shortfall_changed | status_changed), "row"] = "changed"
    out = merged[
        [*KEY, "zone_name", "row", "value_a", "value_b", "change", "unit", "status_a", "status_b",
         "shortfall_a", "shortfall_b", "shortfall_unit"]
    ].sort_values(KEY, ignore_index=True)
    return out[out["row"] != "same"].reset_index(drop=True) if changed_only else out
