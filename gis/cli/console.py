"""The rich console of the command line, and how tables are printed on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

console = Console(stderr=True)
"""Messages, progress and the tables meant for people: on standard error."""


def print_frame(frame: pd.DataFrame, title: str, output_format: str) -> None:
    """A DataFrame as a rich table on the console, or as CSV on standard output."""
    from gis.values import is_missing

    if output_format == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
        return
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column), overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*["" if is_missing(v) else f"{v:.6g}" if isinstance(v, float) else str(v) for v in row])
    Console().print(table)


def print_listing(frame: pd.DataFrame, title: str, output_format: str) -> None:
    """A listing as a rich table, or rendered as CSV or Markdown on standard output."""
    from gis.outputs.tables import render

    if output_format == "table":
        print_frame(frame, title, "table")
    else:
        click.echo(render(frame, output_format), nl=False)
