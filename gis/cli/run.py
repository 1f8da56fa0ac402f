"""``gis run``: every analysis of a project, its outputs, and the gaps on the console."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from gis.cli.console import console
from gis.cli.options import lang_option, out_option, pdf_option, project_option
from gis.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from gis.bilingual import Lang

log = logging.getLogger("gis")


COUNTIES_LISTED = 8
"""Counties named in a row of the gap table above prefectures (largest shortfall first; every one is in gaps.xlsx)."""


def print_gaps(indicators: pd.DataFrame, *, target_year: int, project_name: str, synthetic: bool) -> None:
    """One line per indicator with a gap: the city (or top) row and the zones that fall short; then one line
    listing the indicators not assessed, each with the layer it lacks.

    Above prefectures (a province) the top row is the province's, the prefectures short have a column of
    their own before the counties, and the counties are counted with the largest shortfalls named."""
    from gis.outputs.summary import assessed_line, has_prefectures, headline, top_words
    from gis.outputs.text import format_bare, format_number, format_value
    from gis.values import is_missing

    counts = indicators["status"].value_counts().to_dict()
    rows = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("met", "gap", "no_data", "no_target", "not_assessed") if k != "not_assessed" or k in counts)
    console.print(f"[bold]Plan targets {target_year}[/]: {escape(headline(indicators))}", highlight=False)
    levels = has_prefectures(indicators)
    top = top_words(indicators)[1]
    table = Table(title=f"Gaps against the {target_year} targets", caption=f"zone rows: {rows}")
    below = "zones with a gap" if not levels else "counties with a gap" if not (indicators["zone_type"] == "park").any() else "counties, parks with a gap"
    columns = [
        "indicator", top, "target", f"shortfall ({top})", *(["prefectures with a gap"] if levels else []), below
    ]
    for column in columns:
        table.add_column(column, overflow="fold")
    for indicator, rows in indicators.groupby("indicator", sort=True):
        gaps = rows[rows["status"] == "gap"]
        if gaps.empty:
            continue
        city = rows[rows["zone_type"] == "city"].iloc[0]
        unit = city["unit"]
        city_value = "n/a" if is_missing(city["value"]) else format_value(city["value"], unit)
        target = "" if is_missing(city["target"]) else f"{city['comparator']} {format_bare(city['target'], unit)}"
        shortfall = f"{format_number(city['shortfall'])} {city['shortfall_unit']}" if city["status"] == "gap" else city["status"]
        zones = gaps[~gaps["zone_type"].isin(["city", "prefecture"])]
        places = [_named(gaps[gaps["zone_type"] == "prefecture"])] if levels else []
        counted = rows[rows["zone_type"].isin(zones["zone_type"].unique()) & rows["status"].isin(["met", "gap", "no_data"])]
        places.append(_named(zones, most=COUNTIES_LISTED, of=len(counted)) if levels else _named(zones))
        table.add_row(str(indicator), city_value, target, shortfall, *places)
    console.print(table)
    line = assessed_line(indicators)
    if line:
        console.print(line, highlight=False)
    if synthetic:
        console.print(f"[bold yellow]Inputs include SYNTHETIC sample data: the numbers show the method, not {project_name}.[/]")


def _named(gaps: pd.DataFrame, *, most: int | None = None, of: int = 0) -> str:
    """The zones of ``gaps`` with their shortfalls, the unit said once; with ``most``, 'N of M short:' and the ``most``
    largest shortfalls, then how many more."""
    import pandas as pd

    from gis.outputs.text import zone_shortfalls

    if gaps.empty:
        return ""
    unit = gaps["shortfall_unit"].dropna().iloc[0] if gaps["shortfall_unit"].notna().any() else ""
    if most is None:
        return zone_shortfalls(list(zip(gaps["zone_name"], gaps["shortfall"], strict=True)), unit)
    order = pd.to_numeric(gaps["shortfall"], errors="coerce").sort_values(ascending=False, kind="stable", na_position="last").index
    shown = gaps.loc[order[:most]]
    listed = zone_shortfalls(list(zip(shown["zone_name"], shown["shortfall"], strict=True)), unit)
    more = f"; +{len(gaps) - most} more in gaps.xlsx" if len(gaps) > most else ""
    return f"{len(gaps)} of {of} short: {listed}{more}"


@click.command()
@project_option
@out_option()
@click.option("--only", multiple=True, help="Run only this indicator id (repeatable).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="local: one process; dask: a Dask distributed cluster (see README).")
@click.option("--scheduler", default=None, metavar="tcp://HOST:8786",
              help="With --engine dask: a running scheduler (default: start a local cluster).")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="With --engine dask and no --scheduler: worker processes of the local cluster.")
@lang_option
@pdf_option
@click.pass_context
def run(ctx: click.Context, project_dir: Path, out_dir: Path, only: tuple[str, ...], engine: str,
        scheduler: str | None, workers: int, lang: Lang, pdf: bool) -> None:
    """Run every analysis of a project and write indicators.csv, planning.gpkg and run.json."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from gis.api import load_project
    from gis.api import run as run_analyses
    from gis.outputs.plan_coverage import coverage_line, plan_coverage
    from gis.outputs.write import is_partial, run_folder, write_outputs

    if scheduler and engine != "dask":
        msg = "--scheduler goes with --engine dask"
        raise UsageError(msg)
    project = load_project(project_dir)
    total = len(only) if only else len(project.specs)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
        console=console, disable=ctx.obj["quiet"] or not console.is_terminal,
    ) as progress:
        task = progress.add_task("zones", total=total + 1)

        def step(name: str) -> None:
            progress.update(task, description=name, advance=0 if name == "zones" else 1)
            log.debug("step %s", name)

        result = run_analyses(project, engine=engine, scheduler=scheduler, only=list(only) or None, workers=workers, on_step=step).run
        progress.update(task, description="writing outputs", completed=total + 1)
        partial = is_partial(result)
        folder = run_folder(result, out_dir)
        record = write_outputs(result, folder, lang=lang, pdf=pdf)
    if not ctx.obj["quiet"]:
        print_gaps(result.indicators, target_year=project.catalog.project.target_year, project_name=project.name,
                   synthetic=result.synthetic)
        if not partial:
            console.print(coverage_line(plan_coverage(project.register, result.indicators)), highlight=False)
        console.print(f"run {record['run_id']}: {len(result.results)} indicators written to {folder}/ ({', '.join(record['outputs'])})",
                      highlight=False)
        if partial:
            kept = f"; {out_dir}/ keeps the whole run" if folder != out_dir else ""
            console.print(f"a partial run (--only): its numbers only, no proposals, map or report ('gis map --out {folder}' "
                          f"and 'gis report --out {folder}' make them){kept}", highlight=False)
