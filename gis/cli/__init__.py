"""The ``gis`` command: one module per group of commands, the shared options in ``options``.

``main`` holds the group and finds the commands of ``project`` (sample, init, check,
layers, targets), ``run``, ``views`` (map, report), ``history`` (history, diff, export) and
``importers`` (import), each module imported when its command runs;
``console`` prints; ``options`` defines the options several commands share.
"""

from gis.cli.main import main

__all__ = ["main"]
