"""GDAL's GeoPackage validator, run by the system's Python (the venv has no GDAL bindings; Debian's python3-gdal may)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def gpkg_validator() -> list[str] | None:
    """A command running GDAL's validate_gpkg.py, or None where the system's Python has no osgeo_utils."""
    system = Path("/usr/bin/python3")
    if not system.exists():
        return None
    found = subprocess.run([system, "-c", "import osgeo_utils.samples.validate_gpkg as v; print(v.__file__)"],
                           capture_output=True, text=True, check=False)
    return [str(system), found.stdout.strip()] if found.returncode == 0 else None
