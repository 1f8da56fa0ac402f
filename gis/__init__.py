"""Spatial gap analysis of a city's plan (energy saving, emission reduction) against its targets."""

from gis.api import Project, Result, load_project
from gis.errors import ConfigError, DataError, GisError, UsageError

__all__ = ["ConfigError", "DataError", "GisError", "Project", "Result", "UsageError", "load_project"]
