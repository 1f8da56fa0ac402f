"""Spatial gap analysis of a city's plan (energy saving, emission reduction) against its targets.

``import gis`` is light: the errors are imported at once, the API (:mod:`gis.api`: ``load_project``,
``Project``, ``Result``) when first used, so that a command that needs neither does not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gis.errors import ConfigError, DataError, GisError, UsageError

if TYPE_CHECKING:
    from gis.api import Project, Result, load_project

__all__ = ["ConfigError", "DataError", "GisError", "Project", "Result", "UsageError", "load_project"]

_API = frozenset({"Project", "Result", "load_project"})


def __getattr__(name: str) -> Any:
    """``gis.load_project``, ``gis.Project``, ``gis.Result``: taken from :mod:`gis.api` when first asked for."""
    if name in _API:
        from gis import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    msg = f"module 'gis' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    """The module's names, the API's among them before it is imported (tab completion in a notebook)."""
    return sorted({*globals(), *__all__})
