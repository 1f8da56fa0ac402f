"""The ``gis`` command."""

from gis.cli.main import main

__all__ = ["main"]
