"""Error classes of the toolkit.

One root class; each error also subclasses the builtin a caller would catch, so that
``except ValueError`` still works for callers that do not know this package.
The command line maps :class:`DataError` to exit code 1 and :class:`UsageError` to 2.
"""

from __future__ import annotations


class GisError(Exception):
    """Root of every error this package raises on purpose."""

    exit_code = 1


class DataError(GisError, ValueError):
    """Input data or project files are wrong: the message names the file, key and fix."""

    exit_code = 1


class ConfigError(DataError):
    """A catalog or spec file is malformed (YAML or schema)."""


class UsageError(GisError, ValueError):
    """The command was called wrongly (bad option, missing folder)."""

    exit_code = 2


class OutputError(GisError, OSError):
    """Outputs could not be written or replaced: the message names the file, the fix and what is on disk."""

    exit_code = 1
