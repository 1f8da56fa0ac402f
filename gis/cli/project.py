"""Commands that make and inspect a project folder: sample, init, check, layers, targets."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import click
from rich.table import Table

from gis.cli.console import console, print_listing
from gis.cli.options import format_option, project_option
from gis.errors import UsageError
from gis.sample.regions import DEFAULT_REGION, REGIONS, region_of

# The project's modules (and what they import) are imported by the commands that use them: `gis --help` needs none.


def _own_project(directory: Path) -> bool:
    """Whether ``directory`` holds a project whose catalog points at its own files (``gis init``), none at the sample's."""
    catalog = directory / "layers" / "catalog.yaml"
    if not catalog.is_file():
        return False
    from gis.project.catalog import read_catalog

    return not any(Path(e.file).parts[:1] == ("sample",) for e in read_catalog(catalog).layers.values())


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--region", type=click.Choice(list(REGIONS)), default=DEFAULT_REGION, show_default=True,
              help="; ".join(f"{name}: {region.help}" for name, region in REGIONS.items()) + ".")
@click.option("--seed", type=int, default=2025, show_default=True, help="Random seed of the synthetic data.")
@click.option("--scale", type=float, default=1.0, show_default=True,
              help="Multiplies feature counts; below 1 also coarsens the rasters of a tiled region (land cover 10 m / "
                   "sqrt(scale), e.g. 0.01 gives 100 m for a quick variant).")
@click.option("--tile", type=click.IntRange(min=512), default=None, metavar="CELLS",
              help="A region whose rasters are made in tiles: cells per side of a tile, a multiple of 512 (default 4096, "
                   "about 1.2 GB at peak; 2048 needs less memory).  Changes the memory used, not the data.")
def sample(directory: Path, region: str, seed: int, scale: float, tile: int | None) -> None:
    """Build a sample project (synthetic data, real county boundaries) in DIRECTORY: the reference city, or with
    --region another sample (henan: the whole province).

    A folder made by `gis init` is refused: its catalog points at your own files in layers/data/, so the sample
    would never be read there; build the sample in a folder of its own to see a worked example.
    """
    chosen = REGIONS[region]
    if not math.isfinite(scale) or scale <= 0:
        msg = f"--scale must be a positive number, not {scale}"
        raise UsageError(msg)
    if tile is not None and (not chosen.tiled or tile % 512):
        tiled = ", ".join(name for name, r in REGIONS.items() if r.tiled)
        msg = (f"--tile {tile}: give a multiple of 512 (e.g. 2048)" if chosen.tiled
               else f"--tile applies to a region whose rasters are made in tiles ({tiled}), not {region} (small enough to make at once)")
        raise UsageError(msg)
    if _own_project(directory):
        msg = (f"{directory} is a project of your own: its catalog points at your files in {directory / 'layers' / 'data'}, "
               "not at sample data, so a sample built here would not be used; put your files there (gis check says which), "
               "or build the sample in a new folder: gis sample SAMPLE_DIR")
        raise UsageError(msg)
    catalog = directory / "layers" / "catalog.yaml"
    if catalog.exists():
        from gis.project.catalog import read_catalog

        found = region_of(read_catalog(catalog).project.city.id) or DEFAULT_REGION
        if found != region:
            msg = (f"{directory} holds the {found} sample; build the {region} sample in a new folder: "
                   f"gis sample NEW_DIR --region {region}")
            raise UsageError(msg)
    else:
        chosen.write_project(directory)
    with console.status(f"building the synthetic {region} sample" + (" (the rasters tile by tile)" if chosen.tiled else "")):
        files = chosen.build(directory / "layers" / "sample", seed=seed, scale=scale, **({"tile": tile} if tile else {}))
    console.print(f"sample data (SYNTHETIC except county boundaries): {len(files)} files in {directory / 'layers' / 'sample'}")


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default=None, help="The city or project name, e.g. in English (default: the folder name).")
@click.option("--name-zh", default=None, help="The Chinese name (default: --name).")
@click.option("--counties", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The city's county boundaries (GeoPackage, shapefile, GeoJSON; any CRS): copied into layers/data/ as the "
                   "counties layer, and the measuring CRS is the CGCS2000 3-degree Gauss-Kruger zone of their centre.")
@click.option("--id-field", default=None, metavar="COLUMN",
              help="Column of --counties holding the county code (default: found among id, code, adcode, 代码, 区划代码, ...).")
@click.option("--name-field", default=None, metavar="COLUMN",
              help="Column of --counties holding the county name (default: found among name, NAME, 名称, 县名, ...).")
@click.option("--near", default=None, metavar="LON,LAT",
              help="A point in the city (degrees): the measuring CRS is the 3-degree zone whose central meridian is nearest.")
@click.option("--crs", default=None, metavar="EPSG:CODE",
              help="Metric CRS where areas and distances are measured (wins over --counties and --near): the city's own "
                   "CGCS2000 3-degree Gauss-Kruger zone in metres, the one whose central meridian (CM) is nearest the city; "
                   "EPSG:4534 (CM 75E) to EPSG:4554 (CM 135E), e.g. EPSG:4547 for CM 114E.")
def init(directory: Path, name: str | None, name_zh: str | None, counties: Path | None, id_field: str | None,
         name_field: str | None, near: str | None, crs: str | None) -> None:
    """Start a new project folder from the reference one; the measuring CRS from --counties, --near or --crs."""
    from gis.project.scaffold import init_project

    made = init_project(directory, name=name or directory.resolve().name, name_zh=name_zh, crs=crs, counties=counties,
                        near=near, id_field=id_field, name_field=name_field)
    console.print(f"new project in {directory}: {len(made.files)} files; measuring CRS {made.crs} ({made.crs_from})")
    if made.counties is not None:
        mapped = ", ".join(f"{k}: {v}" for k, v in made.counties.fields.items())
        console.print(f"counties: {made.counties.path.name} copied into {directory / 'layers' / 'data'} ({mapped})")
    console.print(f"next: put your data in {directory / 'layers' / 'data'} and run `gis check --project {directory}`")


@click.command()
@project_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out") / "check",
              show_default=True,
              help="Folder for data_quality.csv; a folder holding a run's outputs gets it in its check/ subfolder.")
def check(project_dir: Path, out_dir: Path) -> None:
    """Validate catalog, specs and layers before any work; write the data-quality table.

    The table never replaces a run's own data_quality.csv: given a run's output folder, it goes to OUT/check/.
    """
    from gis.api import load_project
    from gis.methods.registry import spec_layers
    from gis.outputs.write import check_table_folder, write_quality_table
    from gis.project.check import CANNOT_RUN, NOT_ASSESSED, WILL_RUN, check_indicators, check_project

    project = load_project(project_dir)
    layers = project.layers()
    findings = check_project(layers)
    indicators = check_indicators(layers, findings, {spec.id: spec_layers(spec) for spec in project.specs})
    quality_path = write_quality_table(layers.notes, check_table_folder(out_dir))
    table = Table(title=f"gis check: {project.catalog.project.name}")
    for column in ("layer", "status", "finding"):
        table.add_column(column)
    colours = {"ok": "green", "warning": "yellow", "error": "red"}
    for finding in findings:
        table.add_row(finding.layer, f"[{colours[finding.severity]}]{finding.severity}[/]", finding.message)
    console.print(table)
    plan = Table(title="indicators: what `gis run` will make of each")
    for column in ("indicator", "will run?", "why"):
        plan.add_column(column, overflow="fold")
    states = {WILL_RUN: "green", NOT_ASSESSED: "bright_black", CANNOT_RUN: "red"}
    for item in indicators:
        plan.add_row(item.indicator, f"[{states[item.state]}]{item.state}[/]", item.reason)
    console.print(plan)
    running = [i for i in indicators if i.state == WILL_RUN]
    skipped = [i for i in indicators if i.state == NOT_ASSESSED]
    stopped = [i for i in indicators if i.state == CANNOT_RUN]
    line = f"{len(running)} of {len(indicators)} indicators will run"
    if skipped:
        line += f"; not assessed: {', '.join(f'{i.indicator} ({i.reason})' for i in skipped)}"
    if stopped:
        line += f"; cannot run: {', '.join(i.indicator for i in stopped)}"
    console.print(f"{line}; data-quality table: {quality_path}", highlight=False)
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
    from gis.api import load_project
    from gis.outputs.tables import layers_table

    project = load_project(project_dir)
    print_listing(layers_table(project), f"Layers of {project.catalog.project.name}", output_format)


@click.command()
@project_option
@format_option("csv", "md")
def targets(project_dir: Path, output_format: str) -> None:
    """List the indicators and their targets (--format md gives the README's table)."""
    from gis.api import load_project
    from gis.outputs.tables import targets_table

    project = load_project(project_dir)
    print_listing(targets_table(project), f"Targets of {project.catalog.project.name}", output_format)
