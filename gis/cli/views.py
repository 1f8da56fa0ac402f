"""Commands that rebuild a run's pages from its files, without recomputing: map, report (and brief)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from gis.cli.console import console
from gis.cli.options import lang_option, out_option, pdf_option

if TYPE_CHECKING:
    from gis.bilingual import Lang


@click.command("map")
@out_option()
@click.option("--spec", "map_spec", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A map spec (default: the project's maps/plan.yaml).")
@click.option("--basemap", type=click.Choice(["none", "osm", "tianditu"]), default=None,
              help="Background tiles (default: the map spec's; tianditu reads TIANDITU_KEY).")
@lang_option
def map_command(out_dir: Path, map_spec: Path | None, basemap: str | None, lang: Lang) -> None:
    """Rebuild map.html from an existing run, without recomputing; a damaged run leaves map.html as it was."""
    from gis.errors import GisError, OutputError
    from gis.outputs._files import fix_for, reason, remove_stale_scratch
    from gis.outputs.folder import read_run
    from gis.outputs.webmap import write_map

    run = read_run(out_dir)
    remove_stale_scratch(out_dir)
    path = out_dir / "map.html"
    try:
        write_map(run, path, map_spec_path=map_spec, basemap=basemap, lang=lang)  # whole: written beside it, then renamed
    except OSError as exc:
        if isinstance(exc, GisError):
            raise
        msg = f"{path}: could not be written ({reason(exc)}); {fix_for(exc, path)}; {path} is as it was"
        raise OutputError(msg) from exc
    console.print(f"rebuilt {path} ({path.stat().st_size / 1e6:.1f} MB) from run {run.record['run_id']}")


@click.command()
@out_option()
@lang_option
@pdf_option
def report(out_dir: Path, lang: Lang, pdf: bool) -> None:
    """Rebuild report.html, brief.html, their PDFs and gaps.xlsx from an existing run, without recomputing; all are replaced, or none."""
    from gis.outputs.folder import read_run
    from gis.outputs.write import rebuild_report

    run = read_run(out_dir)
    written = rebuild_report(run, out_dir, lang=lang, pdf=pdf)
    console.print(f"rebuilt {', '.join(str(path) for path in written)} from run {run.record['run_id']}")
