"""The ``gis`` command: sample, check, run."""

from __future__ import annotations

import logging
import math
import shutil
import sys
from pathlib import Path

import click
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gis.errors import GisError, UsageError
from gis.api import load_project
from gis.project.config import reference_root

console = Console(stderr=True)
_LANG = click.option("--lang", type=click.Choice(["both", "zh", "en"]), default="both", show_default=True,
                     help="Labels of the map, report and workbook: Chinese and English, or one of them.")
log = logging.getLogger("gis")


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose > 1 else logging.INFO
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


class GisGroup(click.Group):
    """Turns the package's errors into one line and an exit code; a traceback only with -v."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except GisError as exc:
            if ctx.obj and ctx.obj.get("verbose"):
                raise
            click.echo(f"gis: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("gis: interrupted; earlier outputs are left as they were", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # an error the tool did not foresee: still one line, outputs untouched
            if ctx.obj and ctx.obj.get("verbose"):
                raise
            text = str(exc).splitlines()[0] if str(exc) else ""
            click.echo(f"gis: error: unexpected {type(exc).__name__}: {text}; earlier outputs are untouched; rerun with -v for the traceback", err=True)
            sys.exit(1)


@click.group(cls=GisGroup)
@click.option("-v", "--verbose", count=True, help="More output; tracebacks on errors.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.version_option(package_name="gis-plan")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Spatial gap analysis of a city's energy-saving and emission-reduction plan."""
    ctx.obj = {"verbose": verbose, "quiet": quiet}
    _setup_logging(verbose, quiet)


def _copy_reference(dest: Path) -> None:
    """Copy the reference project's catalog, specs and map specs into ``dest``."""
    source = reference_root()
    (dest / "layers").mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "layers" / "catalog.yaml", dest / "layers" / "catalog.yaml")
    for folder in ("analyses", "maps"):
        if (source / folder).is_dir():
            shutil.copytree(source / folder, dest / folder, dirs_exist_ok=True)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=2025, show_default=True, help="Random seed of the synthetic data.")
@click.option("--scale", type=float, default=1.0, show_default=True, help="Multiplies feature counts and refines rasters.")
def sample(directory: Path, seed: int, scale: float) -> None:
    """Build the Sanmenxia sample project (synthetic data, real county boundaries) in DIRECTORY."""
    if not math.isfinite(scale) or scale <= 0:
        msg = f"--scale must be a positive number, not {scale}"
        raise UsageError(msg)
    from gis.sample import build_sample

    if not (directory / "layers" / "catalog.yaml").exists():
        _copy_reference(directory)
    with console.status("building synthetic sample data"):
        files = build_sample(directory / "layers" / "sample", seed=seed, scale=scale)
    console.print(f"sample data (SYNTHETIC except county boundaries): {len(files)} files in {directory / 'layers' / 'sample'}")


@main.command()
@click.option("--project", "project_dir", type=click.Path(path_type=Path), default=Path("."), show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"), show_default=True,
              help="Folder for data_quality.csv.")
def check(project_dir: Path, out_dir: Path) -> None:
    """Validate catalog, specs and layers before any work; write the data-quality table."""
    from gis.outputs.write import write_quality_table
    from gis.project.check import check_project

    project = load_project(project_dir)
    layers = project.layers()
    findings = check_project(layers)
    quality_path = write_quality_table(layers.notes, out_dir)
    table = Table(title=f"gis check: {project.catalog.project.name}")
    for column in ("layer", "status", "finding"):
        table.add_column(column)
    colours = {"ok": "green", "warning": "yellow", "error": "red"}
    for finding in findings:
        table.add_row(finding.layer, f"[{colours[finding.severity]}]{finding.severity}[/]", finding.message)
    console.print(table)
    console.print(f"{len(project.specs)} indicator specs valid; data-quality table: {quality_path}")
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        for finding in errors:
            click.echo(f"gis: error: {finding.message}", err=True)
        sys.exit(1)


def _format_value(value: float, unit: str) -> str:
    return f"{value:.1%}" if unit == "share" else f"{value:,.4g} {unit}"


def _print_gaps(indicators: pd.DataFrame, synthetic: bool) -> None:
    """One line per indicator with a gap: the city (or top) row and the zones that fall short."""
    counts = indicators["status"].value_counts().to_dict()
    summary = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("met", "gap", "no_data", "no_target"))
    table = Table(title=f"Gaps against the 2025 targets ({summary} rows)")
    for column in ("indicator", "city", "target", "shortfall (city)", "zones with a gap"):
        table.add_column(column, overflow="fold")
    for indicator, rows in indicators.groupby("indicator", sort=True):
        gaps = rows[rows["status"] == "gap"]
        if gaps.empty:
            continue
        city = rows[rows["zone_type"] == "city"].iloc[0]
        unit = city["unit"]
        city_value = "n/a" if pd.isna(city["value"]) else _format_value(city["value"], unit)
        target = "" if pd.isna(city["target"]) else f"{city['comparator']} {_format_value(city['target'], unit).removesuffix(' ' + unit)}"
        shortfall = f"{city['shortfall']:,.6g} {city['shortfall_unit']}" if city["status"] == "gap" else city["status"]
        zones = gaps[gaps["zone_type"] != "city"]
        names = ", ".join(f"{name} ({short:,.4g})" for name, short in zip(zones["zone_name"], zones["shortfall"], strict=True))
        table.add_row(str(indicator), city_value, target, shortfall, names)
    console.print(table)
    if synthetic:
        console.print("[bold yellow]Inputs include SYNTHETIC sample data: the numbers show the method, not Sanmenxia.[/]")


@main.command()
@click.option("--project", "project_dir", type=click.Path(path_type=Path), default=Path("."), show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"), show_default=True)
@click.option("--only", multiple=True, help="Run only this indicator id (repeatable).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="local: one process; dask: a Dask distributed cluster (see README).")
@click.option("--scheduler", default=None, metavar="tcp://HOST:8786",
              help="With --engine dask: a running scheduler (default: start a local cluster).")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="With --engine dask and no --scheduler: worker processes of the local cluster.")
@_LANG
@click.pass_context
def run(ctx: click.Context, project_dir: Path, out_dir: Path, only: tuple[str, ...], engine: str,
        scheduler: str | None, workers: int, lang: str) -> None:
    """Run every analysis of a project and write indicators.csv, planning.gpkg and run.json."""
    from gis.engines.local import run_project
    from gis.outputs.write import write_outputs

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

        if engine == "dask":
            from gis.engines.dask import run_project_dask

            result = run_project_dask(project, scheduler=scheduler, workers=workers, only=list(only) or None, on_step=step)
        else:
            if scheduler:
                msg = "--scheduler goes with --engine dask"
                raise UsageError(msg)
            result = run_project(project, only=list(only) or None, on_step=step)
        progress.update(task, description="writing outputs", completed=total + 1)
        record = write_outputs(result, out_dir, lang=lang)
    if not ctx.obj["quiet"]:
        _print_gaps(result.indicators, result.synthetic)
        console.print(f"run {record['run_id']}: {len(result.results)} indicators written to {out_dir}/ ({', '.join(record['outputs'])})")


def _print_frame(frame: pd.DataFrame, title: str, output_format: str) -> None:
    """A DataFrame as a rich table on the console, or as CSV on standard output."""
    if output_format == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
        return
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column), overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*["" if pd.isna(v) else f"{v:.6g}" if isinstance(v, float) else str(v) for v in row])
    Console().print(table)


_DB = click.option("--db", "db_url", default=None, metavar="postgresql://USER@HOST:PORT/DB",
                   help="Read the runs from PostGIS instead of an output folder (password: PGPASSWORD or ~/.pgpass).")
_SCHEMA = click.option("--schema", default="planning", show_default=True, help="PostGIS schema of the exported runs.")


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"), show_default=True)
@_DB
@_SCHEMA
@click.option("--format", "output_format", type=click.Choice(["table", "csv"]), default="table", show_default=True)
def history(out_dir: Path, db_url: str | None, schema: str, output_format: str) -> None:
    """List the runs kept in an output folder (or exported to a PostGIS schema)."""
    if db_url:
        from gis.outputs.postgis import list_runs as list_db_runs
        from gis.outputs.postgis import redact_url

        runs = list_db_runs(db_url, schema=schema)
        where = f"{redact_url(db_url)} schema {schema}"
    else:
        from gis.outputs.history import list_runs

        runs = list_runs(out_dir)
        where = str(out_dir)
    if runs.empty:
        msg = f"{where}: no runs kept yet; run `gis run` (and `gis export`) first"
        raise UsageError(msg)
    if output_format == "table":
        runs = runs.assign(**{c: runs[c].astype(str).str[:19].str.replace("T", " ") for c in ("started", "finished")})
    _print_frame(runs, f"Runs kept in {where}", output_format)


@main.command()
@click.argument("run_a")
@click.argument("run_b", default="latest")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"), show_default=True)
@_DB
@_SCHEMA
@click.option("--all", "show_all", is_flag=True, help="Also list rows that did not change.")
@click.option("--format", "output_format", type=click.Choice(["table", "csv"]), default="table", show_default=True)
def diff(run_a: str, run_b: str, out_dir: Path, db_url: str | None, schema: str, show_all: bool, output_format: str) -> None:
    """What changed per indicator and zone between RUN_A and RUN_B (ids, prefixes, 'previous', 'latest')."""
    from gis.outputs.history import diff_indicators, list_runs, read_run_indicators, resolve_run
    from gis.outputs.folder import current_year

    if db_url:
        from gis.outputs.postgis import list_runs as list_db_runs
        from gis.outputs.postgis import read_indicators, redact_url

        runs = list_db_runs(db_url, schema=schema).sort_values("started")
        where = f"{redact_url(db_url)} schema {schema}"

        def read(run_id: str) -> pd.DataFrame:
            return current_year(read_indicators(db_url, run_id, schema=schema), None)
    else:
        runs, where = list_runs(out_dir), str(out_dir)

        def read(run_id: str) -> pd.DataFrame:
            return read_run_indicators(out_dir, run_id)

    run_ids = runs["run_id"].tolist()
    first = resolve_run(run_ids, run_a, where)
    second = resolve_run(run_ids, run_b, where)
    changes = diff_indicators(read(first), read(second), changed_only=not show_all)
    if output_format == "csv":
        _print_frame(changes, "", "csv")
        return
    _print_frame(_readable_diff(changes), f"{first} → {second}: {len(changes)} rows", "table")


def _readable_diff(changes: pd.DataFrame) -> pd.DataFrame:
    """The diff with value, status and shortfall each as 'before → after', shares in percent."""

    def show(value: float, unit: str) -> str:
        if pd.isna(value):
            return "–"
        return f"{value:.1%}" if unit == "share" else f"{value:,.4g}"

    rows = []
    for row in changes.itertuples(index=False):
        rows.append(
            {
                "indicator": row.indicator,
                "zone": row.zone_name,
                "value": f"{show(row.value_a, row.unit)} → {show(row.value_b, row.unit)}",
                "status": f"{row.status_a} → {row.status_b}" if row.row != "added" else f"(new) {row.status_b}",
                "shortfall": f"{show(row.shortfall_a, '')} → {show(row.shortfall_b, '')} {row.shortfall_unit if isinstance(row.shortfall_unit, str) else ''}".strip(),
            }
        )
    return pd.DataFrame(rows, columns=["indicator", "zone", "value", "status", "shortfall"])


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"), show_default=True)
@_LANG
def report(out_dir: Path, lang: str) -> None:
    """Rebuild report.html and gaps.xlsx from an existing run, without recomputing."""
    from gis.outputs.report import write_report
    from gis.outputs.folder import read_run
    from gis.outputs.workbook import write_workbook

    run = read_run(out_dir)
    paths = [write_report(run, out_dir / "report.html", lang=lang), write_workbook(run, out_dir / "gaps.xlsx", lang=lang)]
    console.print(f"rebuilt {', '.join(str(p) for p in paths)} from run {run.record['run_id']}")


_FORMAT = click.option("--format", "output_format", type=click.Choice(["table", "csv", "md"]), default="table", show_default=True)


def _print_listing(frame: pd.DataFrame, title: str, output_format: str) -> None:
    from gis.outputs.tables import render

    if output_format == "table":
        _print_frame(frame, title, "table")
    else:
        click.echo(render(frame, output_format), nl=False)


@main.command()
@click.option("--project", "project_dir", type=click.Path(path_type=Path), default=Path("."), show_default=True)
@_FORMAT
def layers(project_dir: Path, output_format: str) -> None:
    """List the catalog: each layer, its file, source and whether the data is there."""
    from gis.outputs.tables import layers_table

    project = load_project(project_dir)
    _print_listing(layers_table(project), f"Layers of {project.catalog.project.name}", output_format)


@main.command()
@click.option("--project", "project_dir", type=click.Path(path_type=Path), default=Path("."), show_default=True)
@_FORMAT
def targets(project_dir: Path, output_format: str) -> None:
    """List the indicators and their 2025 targets (--format md gives the README's table)."""
    from gis.outputs.tables import targets_table

    project = load_project(project_dir)
    _print_listing(targets_table(project), f"Targets of {project.catalog.project.name}", output_format)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default=None, help="The city or project name (default: the folder name).")
@click.option("--crs", default="EPSG:4546", show_default=True, help="Metric CRS for measuring (your local Gauss-Kruger zone).")
def init(directory: Path, name: str | None, crs: str) -> None:
    """Start a new project folder from the reference one."""
    from gis.project.scaffold import init_project

    written = init_project(directory, name=name or directory.resolve().name, crs=crs)
    console.print(f"new project in {directory}: {len(written)} files; next: put your data in {directory / 'layers' / 'data'} "
                  f"and run `gis check --project {directory}`")


@main.command("map")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"), show_default=True)
@click.option("--spec", "map_spec", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A map spec (default: the project's maps/plan.yaml).")
@click.option("--basemap", type=click.Choice(["none", "osm", "tianditu"]), default=None,
              help="Background tiles (default: the map spec's; tianditu reads TIANDITU_KEY).")
@_LANG
def map_command(out_dir: Path, map_spec: Path | None, basemap: str | None, lang: str) -> None:
    """Rebuild map.html from an existing run, without recomputing."""
    from gis.outputs.folder import read_run
    from gis.outputs.webmap import write_map

    run = read_run(out_dir)
    path = write_map(run, out_dir / "map.html", map_spec_path=map_spec, basemap=basemap, lang=lang)
    console.print(f"rebuilt {path} from run {run.record['run_id']}")


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"), show_default=True)
@click.option("--to", "url", required=True, metavar="postgresql://USER@HOST:PORT/DB",
              help="The PostGIS database (password: PGPASSWORD or ~/.pgpass; never printed).")
@_SCHEMA
def export(out_dir: Path, url: str, schema: str) -> None:
    """Write a run's layers and tables to PostGIS, in one transaction; earlier runs stay."""
    from gis.outputs.postgis import export_run
    from gis.outputs.folder import read_run

    summary = export_run(read_run(out_dir), url, schema=schema)
    console.print(f"exported run {summary.run_id} to {summary.target} schema {summary.schema}: "
                  f"{len(summary.tables)} tables, {summary.rows} rows")
