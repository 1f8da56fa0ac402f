"""The ``gis`` command: one module per group of commands, the shared options in ``options``.

``main`` holds the group and registers the commands of ``project`` (sample, init, check,
layers, targets), ``run``, ``views`` (map, report) and ``history`` (history, diff, export);
``console`` prints; ``options`` defines the options several commands share.
"""

from gis.cli.main import main

__all__ = ["main"]
