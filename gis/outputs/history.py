"""The history of runs kept in an output folder, and what changed between two runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from gis.errors import UsageError
from gis.outputs.folder import current_year

HISTORY_DIR = "history"
KEY = ["indicator", "zone_type", "zone_id"]


def history_root(out_dir: Path) -> Path:
    """Where earlier runs' tables and records are kept: ``OUT/history/RUN_ID/``."""
    return out_dir / HISTORY_DIR


def list_runs(out_dir: Path) -> pd.DataFrame:
    """One row per kept run, oldest first: run id, times, project, synthetic, met and gap counts."""
    rows = []
    root = history_root(out_dir)
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        record_path, table_path = folder / "run.json", folder / "indicators.csv"
        if not (record_path.exists() and table_path.exists()):
            continue
        record = json.loads(record_path.read_text(encoding="utf-8"))
        status = current_year(pd.read_csv(table_path), record.get("data_year"))["status"].value_counts()
        rows.append(
            {
                "run_id": record["run_id"],
                "started": record["started"],
                "finished": record["finished"],
                "project": record["project"]["name"],
                "synthetic": record.get("synthetic", False),
                "met": int(status.get("met", 0)),
                "gap": int(status.get("gap", 0)),
            }
        )
    columns = ["run_id", "started", "finished", "project", "synthetic", "met", "gap"]
    return pd.DataFrame(rows, columns=columns).sort_values("started", ignore_index=True)


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
    """The indicators table of one kept run (its data year)."""
    folder = history_root(out_dir) / run_id
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    return current_year(pd.read_csv(folder / "indicators.csv", dtype={"zone_id": str}), record.get("data_year"))


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
