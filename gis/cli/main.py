"""The ``gis`` group: its options, logging, one-line errors, and the commands of the other modules."""

from __future__ import annotations

import logging
import sys
import traceback

import click

from gis.cli.history import diff, export, history
from gis.cli.importers import import_group
from gis.cli.project import check, init, layers, sample, targets
from gis.cli.run import run
from gis.cli.views import map_command, report
from gis.errors import GisError

log = logging.getLogger("gis")


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose > 1 else logging.INFO
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


class GisGroup(click.Group):
    """Turns the package's errors into one line and an exit code; -v prints the traceback before the line, never
    changing the exit code (2 for usage, 1 for data, ... as :class:`~gis.errors.GisError` says)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except GisError as exc:
            if ctx.obj and ctx.obj.get("verbose"):
                traceback.print_exc()  # -v adds the traceback; the line and the exit code stay what they are
            click.echo(f"gis: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("gis: interrupted; earlier outputs are left as they were", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # an error the tool did not foresee: still one line, and no claim it cannot back
            if ctx.obj and ctx.obj.get("verbose"):
                traceback.print_exc()
            text = str(exc).splitlines()[0] if str(exc) else ""
            command = f" in `gis {ctx.invoked_subcommand}`" if ctx.invoked_subcommand else ""
            click.echo(f"gis: error: unexpected {type(exc).__name__}{command}: {text}; this is a bug in gis: "
                       "rerun with -v for the traceback and report it", err=True)
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


for _command in (sample, init, check, layers, targets, run, map_command, report, history, diff, export):
    main.add_command(_command)
main.add_command(import_group)
