"""Spatial gap analysis of a city's energy-saving and emission-reduction plan against its 2025 targets."""

from gis.api import Result
from gis.errors import ConfigError, DataError, GisError, UsageError
from gis.project.config import Project, load_project

__all__ = ["ConfigError", "DataError", "GisError", "Project", "Result", "UsageError", "load_project"]
