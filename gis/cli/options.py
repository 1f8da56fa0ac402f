"""Options shared by several commands, each defined once (as rasterio's ``rio`` does)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from gis.bilingual import LANGS

F = TypeVar("F", bound=Callable[..., Any])

project_option = click.option("--project", "project_dir", type=click.Path(path_type=Path), default=Path("."), show_default=True)
"""``--project DIR``: the project folder (catalog, specs, map specs)."""

lang_option = click.option("--lang", type=click.Choice(list(LANGS)), default="both", show_default=True,
                           help="Labels of the map, report and workbook: Chinese and English, or one of them.")
"""``--lang``: the language of the labels of the map, report and workbook."""

pdf_option = click.option("--pdf/--no-pdf", default=True, show_default=True,
                          help="Print report.pdf and brief.pdf (WeasyPrint, a few seconds); --no-pdf writes the HTML only "
                               "and removes PDFs of an earlier run.")
"""``--pdf/--no-pdf``: print the report and the brief to PDF as well as HTML."""

db_option = click.option("--db", "db_url", default=None, metavar="postgresql://USER@HOST:PORT/DB",
                         help="Read the runs from PostGIS instead of an output folder (password: PGPASSWORD or ~/.pgpass).")
"""``--db URL``: read the runs from PostGIS instead of an output folder."""

schema_option = click.option("--schema", default="planning", show_default=True, help="PostGIS schema of the exported runs.")
"""``--schema``: the PostGIS schema of the exported runs."""


def out_option(help_text: str | None = None) -> Callable[[F], F]:
    """``--out DIR``: the output folder of a run (default ``out``), with the command's own help if any."""
    return click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"),
                        show_default=True, help=help_text)


def format_option(*choices: str) -> Callable[[F], F]:
    """``--format``: how a listing is printed; ``table`` (the default) or one of the other ``choices``."""
    return click.option("--format", "output_format", type=click.Choice(["table", *choices]), default="table", show_default=True)
