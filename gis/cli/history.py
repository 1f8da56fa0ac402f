"""Commands on the runs kept in an output folder or in PostGIS: history, diff, export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from gis.cli.console import console, print_frame
from gis.cli.options import db_option, format_option, out_option, schema_option
from gis.errors import DataError, UsageError

if TYPE_CHECKING:
    import pandas as pd


@click.command()
@out_option()
@db_option
@schema_option
@format_option("csv")
def history(out_dir: Path, db_url: str | None, schema: str, output_format: str) -> None:
    """List the runs kept in an output folder (or exported to a PostGIS schema)."""
    if db_url:
        from gis.outputs.postgis import list_runs as list_db_runs
        from gis.outputs.postgis import redact_url

        runs = list_db_runs(db_url, schema=schema)
        where = f"{redact_url(db_url)} schema {schema}"
    else:
        from gis.outputs.history import scan_runs

        kept = scan_runs(out_dir)
        runs, where = kept.table, str(out_dir)
        if kept.unreadable:  # the readable runs are still worth listing: warn about each other one
            if runs.empty:
                raise DataError("; ".join(kept.unreadable.values()))
            for message in kept.unreadable.values():
                click.echo(f"gis: warning: {message}; not listed", err=True)
    if runs.empty:
        msg = f"{where}: no runs kept yet; run `gis run` (and `gis export`) first"
        raise UsageError(msg)
    if output_format == "table":
        runs = runs.assign(**{c: runs[c].astype(str).str[:19].str.replace("T", " ") for c in ("started", "finished")})
    print_frame(runs, f"Runs kept in {where}", output_format)


@click.command()
@click.argument("run_a")
@click.argument("run_b", default="latest")
@out_option()
@db_option
@schema_option
@click.option("--all", "show_all", is_flag=True, help="Also list rows that did not change.")
@format_option("csv")
def diff(run_a: str, run_b: str, out_dir: Path, db_url: str | None, schema: str, show_all: bool, output_format: str) -> None:
    """What changed per indicator and zone between RUN_A and RUN_B (ids, prefixes, 'previous', 'latest')."""
    from gis.outputs.folder import current_year
    from gis.outputs.history import diff_indicators, read_run_indicators, resolve_run, scan_runs

    if db_url:
        from gis.outputs.postgis import list_runs as list_db_runs
        from gis.outputs.postgis import read_indicators, redact_url

        run_ids = list_db_runs(db_url, schema=schema).sort_values("started")["run_id"].tolist()
        where = f"{redact_url(db_url)} schema {schema}"

        def read(run_id: str) -> pd.DataFrame:
            return current_year(read_indicators(db_url, run_id, schema=schema), None)
    else:
        run_ids, where = scan_runs(out_dir).run_ids(), str(out_dir)  # a damaged run is named when asked for

        def read(run_id: str) -> pd.DataFrame:
            return read_run_indicators(out_dir, run_id)

    first = resolve_run(run_ids, run_a, where)
    second = resolve_run(run_ids, run_b, where)
    changes = diff_indicators(read(first), read(second), changed_only=not show_all)
    if output_format == "csv":
        print_frame(changes, "", "csv")
        return
    print_frame(readable_diff(changes), f"{first} → {second}: {len(changes)} rows", "table")


def readable_diff(changes: pd.DataFrame) -> pd.DataFrame:
    """The diff with value, status and shortfall each as 'before → after', shares in percent."""
    import pandas as pd

    from gis.outputs.text import format_bare

    rows = []
    for row in changes.itertuples(index=False):
        unit = row.shortfall_unit if isinstance(row.shortfall_unit, str) else ""
        rows.append(
            {
                "indicator": row.indicator,
                "zone": row.zone_name,
                "value": f"{format_bare(row.value_a, row.unit)} → {format_bare(row.value_b, row.unit)}",
                "status": f"{row.status_a} → {row.status_b}" if row.row != "added" else f"(new) {row.status_b}",
                "shortfall": f"{format_bare(row.shortfall_a, '')} → {format_bare(row.shortfall_b, '')} {unit}".strip(),
            }
        )
    return pd.DataFrame(rows, columns=["indicator", "zone", "value", "status", "shortfall"])


@click.command()
@out_option()
@click.option("--to", "to", required=True, metavar="TARGET",
              help="Where to: postgresql://USER@HOST:PORT/DB (PostGIS; password from PGPASSWORD or ~/.pgpass, never printed), "
                   "PATH.gdb (File Geodatabase, ArcGIS and SuperMap) or PATH.zip (zipped Shapefiles).")
@schema_option
@click.option("--encoding", type=click.Choice(["utf-8", "gbk"], case_sensitive=False), default=None,
              help="Text encoding of zipped Shapefiles (.zip only): utf-8 (the default) or gbk (.cpg 936).")
@click.pass_context
def export(ctx: click.Context, out_dir: Path, to: str, schema: str, encoding: str | None) -> None:
    """Write a run's layers and tables to PostGIS (one transaction; earlier runs stay), a File Geodatabase or zipped Shapefiles."""
    from gis.outputs.folder import read_run

    kind = export_kind(to)
    if encoding is not None and kind != "shapefiles":
        msg = f"--encoding is for zipped Shapefiles (--to PATH.zip), not {to}; leave it out"
        raise UsageError(msg)
    if kind != "postgis" and ctx.get_parameter_source("schema") is not click.core.ParameterSource.DEFAULT:
        msg = f"--schema is for PostGIS (--to postgresql://...), not {to}; leave it out"
        raise UsageError(msg)
    run = read_run(out_dir)
    if kind == "postgis":
        from gis.outputs.postgis import export_run

        line = export_run(run, to, schema=schema).line()
    elif kind == "filegdb":
        from gis.outputs.filegdb import export_filegdb

        line = export_filegdb(run, Path(to)).line()
    else:
        from gis.outputs.shapefile import export_shapefiles

        line = export_shapefiles(run, Path(to), encoding=encoding or "utf-8").line()
    console.print(line, highlight=False, soft_wrap=True)


def export_kind(to: str) -> str:
    """What ``gis export --to`` writes: postgis, filegdb or shapefiles; anything else is a UsageError."""
    if to.startswith(("postgresql://", "postgres://")):
        return "postgis"
    suffix = Path(to.rstrip("/\\")).suffix.lower()
    if suffix == ".gdb":
        return "filegdb"
    if suffix == ".zip":
        return "shapefiles"
    msg = (f"--to {to}: not a target gis export knows; give postgresql://USER@HOST:PORT/DB (PostGIS), "
           "PATH.gdb (File Geodatabase) or PATH.zip (zipped Shapefiles)")
    raise UsageError(msg)
