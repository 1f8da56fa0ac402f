"""Spatial gap analysis of a city's energy-saving and emission-reduction plan against its 2025 targets."""

from .api import Result
from .errors import ConfigError, DataError, GisError, UsageError
from .project import Project, load_project

__all__ = ["ConfigError", "DataError", "GisError", "Project", "Result", "UsageError", "load_project"]
