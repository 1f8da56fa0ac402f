"""The ``gis`` group: its options, logging, one-line errors, and the commands of the other modules."""

from __future__ import annotations

import importlib
import logging
import sys
import traceback

import click

from gis.errors import GisError

COMMANDS = {
    "sample": "gis.cli.project:sample", "init": "gis.cli.project:init", "check": "gis.cli.project:check",
    "layers": "gis.cli.project:layers", "targets": "gis.cli.project:targets", "run": "gis.cli.run:run",
    "map": "gis.cli.views:map_command", "report": "gis.cli.views:report", "history": "gis.cli.history:history",
    "diff": "gis.cli.history:diff", "export": "gis.cli.history:export", "import": "gis.cli.importers:import_group",
}
"""Each command and where it is defined: a command's module is imported when that command runs (or ``--help``
lists them all), so that ``gis run`` does not load the export or import code."""

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

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, name = COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command) and command.name == cmd_name, COMMANDS[cmd_name]
        return command

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

