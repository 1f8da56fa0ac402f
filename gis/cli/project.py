"""Commands that make and inspect a project folder: sample, init, check, layers, targets."""

from __future__ import annotations

import math
import shutil
import sys
from pathlib import Path

import click
from rich.table import Table

from gis.api import load_project
from gis.cli.console import console, print_listing
from gis.cli.options import format_option, project_option
from gis.errors import UsageError
from gis.project.config import reference_root


def _copy_reference(dest: Path) -> None:
    """Copy the reference project's catalog, specs and map specs into ``dest``."""
    source = reference_root()
    (dest / "layers").mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "layers" / "catalog.yaml", dest / "layers" / "catalog.yaml")
    for folder in ("analyses", "maps"):
        if (source / folder).is_dir():
            shutil.copytree(source / folder, dest / folder, dirs_exist_ok=True)


@click.command()
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


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default=None, help="The city or project name (default: the folder name).")
@click.option("--crs", required=True, metavar="EPSG:CODE",
              help="Metric CRS where areas and distances are measured: the city's own CGCS2000 3-degree Gauss-Kruger zone "
                   "in metres, the one whose central meridian (CM) is nearest the city; EPSG:4534 (CM 75E) to EPSG:4554 "
                   "(CM 135E), e.g. EPSG:4547 for CM 114E.")
def init(directory: Path, name: str | None, crs: str) -> None:
    """Start a new project folder from the reference one."""
    from gis.project.scaffold import init_project

    written = init_project(directory, name=name or directory.resolve().name, crs=crs)
    console.print(f"new project in {directory}: {len(written)} files; next: put your data in {directory / 'layers' / 'data'} "
                  f"and run `gis check --project {directory}`")


@click.command()
@project_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out") / "check",
              show_default=True,
              help="Folder for data_quality.csv; a folder holding a run's outputs gets it in its check/ subfolder.")
def check(project_dir: Path, out_dir: Path) -> None:
    """Validate catalog, specs and layers before any work; write the data-quality table.

    The table never replaces a run's own data_quality.csv: given a run's output folder, it goes to OUT/check/.
    """
    from gis.outputs.write import check_table_folder, write_quality_table
    from gis.project.check import check_project

    project = load_project(project_dir)
    layers = project.layers()
    findings = check_project(layers)
    quality_path = write_quality_table(layers.notes, check_table_folder(out_dir))
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


@click.command()
@project_option
@format_option("csv", "md")
def layers(project_dir: Path, output_format: str) -> None:
    """List the catalog: each layer, its file, source and whether the data is there."""
    from gis.outputs.tables import layers_table

    project = load_project(project_dir)
    print_listing(layers_table(project), f"Layers of {project.catalog.project.name}", output_format)


@click.command()
@project_option
@format_option("csv", "md")
def targets(project_dir: Path, output_format: str) -> None:
    """List the indicators and their targets (--format md gives the README's table)."""
    from gis.outputs.tables import targets_table

    project = load_project(project_dir)
    print_listing(targets_table(project), f"Targets of {project.catalog.project.name}", output_format)
