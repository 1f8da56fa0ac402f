"""The sample projects `gis sample` can build, by region: what each is, how to tell its folder, how to build it.

Light to import (the command line lists the regions in its help): each region's builders are imported
when it is built.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Region:
    """A sample project: its help text, the top zone id its catalog names, whether its rasters are made in tiles, and
    how its project files (catalog, specs, map spec) and its data are written."""

    help: str
    city_id: str
    tiled: bool
    write_project: Callable[[Path], object]
    build: Callable[..., list[Path]]  # (folder, *, seed, scale[, tile]) -> the files written


def _copy_reference(directory: Path) -> None:
    """The reference project's catalog, specs and map specs, copied into ``directory``."""
    from gis.project.config import reference_root

    source = reference_root()
    (directory / "layers").mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "layers" / "catalog.yaml", directory / "layers" / "catalog.yaml")
    for folder in ("analyses", "maps"):
        if (source / folder).is_dir():
            shutil.copytree(source / folder, directory / folder, dirs_exist_ok=True)


def _build_reference(folder: Path, **options: object) -> list[Path]:
    from gis.sample import build_sample

    return build_sample(folder, **options)


def _write_province(directory: Path) -> object:
    from gis.sample.province import write_province_project

    return write_province_project(directory)


def _build_province(folder: Path, **options: object) -> list[Path]:
    from gis.sample.province import build_province

    return build_province(folder, **options)  # type: ignore[arg-type]


REGIONS: dict[str, Region] = {
    "sanmenxia": Region("the reference city (6 counties)", "156411200", tiled=False,
                        write_project=_copy_reference, build=_build_reference),
    "henan": Region("the whole province (157 counties in 18 prefectures, 10 m land cover generated tile by tile)", "156410000",
                    tiled=True, write_project=_write_province, build=_build_province),
}
"""The samples by region; the first is the default (the reference project)."""

DEFAULT_REGION = next(iter(REGIONS))


def region_of(city_id: str) -> str | None:
    """The region whose sample names ``city_id`` as its top zone; None for a project that is no sample's."""
    return next((name for name, region in REGIONS.items() if region.city_id == city_id), None)
