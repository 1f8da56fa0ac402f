"""A project folder (``layers/``, ``analyses/``, ``maps/``): its catalog and specs, read once, never changed."""

from __future__ import annotations

import dataclasses
import importlib.resources
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from gis.errors import ConfigError, UsageError
from gis.project.catalog import Catalog, LayerEntry, read_catalog
from gis.project.register import PlanRegister, read_register
from gis.project.specs import Spec, read_spec


def reference_root() -> Path:
    """The built-in reference project: the wheel's copy, else the source checkout."""
    packaged = importlib.resources.files("gis") / "_reference"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ProjectConfig:
    """A city project as configured: its folder, its catalog and its indicator specs.

    Immutable: reading layers (:class:`gis.project.layers.LayerReader`) and the findings it
    makes (:class:`gis.project.quality.QualityLog`) belong to a run, not to the project.
    """

    root: Path
    catalog: Catalog
    specs: tuple[Spec, ...]
    spec_paths: tuple[Path, ...] = ()
    year: int | None = None  # set for the project as it stood in an earlier year
    register: PlanRegister | None = None  # the plan register (analyses/plan/register.yaml), when the project has one

    @property
    def crs(self) -> str:
        """The metric CRS where everything is measured."""
        return self.catalog.project.crs

    @cached_property
    def catalog_path(self) -> Path:
        """Path of ``layers/catalog.yaml``."""
        return self.root / "layers" / "catalog.yaml"

    @property
    def name(self) -> str:
        """The project's name (from the catalog)."""
        return self.catalog.project.name

    def entry(self, name: str) -> LayerEntry:
        """The catalog entry of a layer, or an error that lists the known names."""
        try:
            return self.catalog.layers[name]
        except KeyError:
            known = ", ".join(sorted(self.catalog.layers))
            msg = f"{self.catalog_path}: no layer '{name}' in the catalog (known: {known})"
            raise ConfigError(msg) from None

    def layer_path(self, name: str) -> Path:
        """The file of a layer, resolved against ``layers/``."""
        return (self.root / "layers" / self.entry(name).file).resolve()

    def catalog_key(self, name: str, key: str) -> str:
        """The catalog key a message points at: ``layers.X.file``, or ``layers.X.years.YEAR.file`` for a year's data."""
        return f"layers.{name}.years.{self.year}.{key}" if self.year is not None else f"layers.{name}.{key}"

    def input_files(self) -> dict[str, Path]:
        """Every layer's file, by layer name."""
        return {name: self.layer_path(name) for name in self.catalog.layers}

    def for_year(self, year: int, *, keep_current: bool = False) -> ProjectConfig:
        """The project as it stood in ``year``: its layers of that year (see ``years:`` in the catalog).

        ``keep_current``: the layers without data of ``year`` stand as they are now
        (:meth:`gis.project.catalog.Catalog.for_year`).
        """
        return dataclasses.replace(self, catalog=self.catalog.for_year(year, keep_current=keep_current), year=year)

    def spec_path(self, spec_id: str) -> Path:
        """The file of an indicator spec."""
        by_id = {spec.id: path for spec, path in zip(self.specs, self.spec_paths, strict=True)}
        return by_id.get(spec_id, self.root / "analyses" / f"{spec_id}.yaml")


def read_project(path: str | Path) -> ProjectConfig:
    """Read a project folder: its catalog, every indicator spec in ``analyses/`` (each checked on its own)
    and the plan register (``analyses/plan/register.yaml``, its links checked against the specs) when present.

    Checking the specs against the methods and the proposal kinds is :func:`gis.api.load_project`'s.
    """
    root = Path(path)
    if not root.is_dir():
        msg = f"{root}: project folder not found; give --project a folder with layers/ and analyses/"
        raise UsageError(msg)
    catalog_path = root / "layers" / "catalog.yaml"
    if not catalog_path.exists():
        msg = (f"{catalog_path}: no catalog; a project folder holds layers/catalog.yaml (start one for your city with "
               "gis init DIR --counties FILE, or see the worked example: gis sample DIR)")
        raise UsageError(msg)
    spec_paths = tuple(sorted((root / "analyses").glob("*.yaml")))
    if not spec_paths:
        msg = f"{root / 'analyses'}: no indicator specs (*.yaml); copy them from the reference project"
        raise UsageError(msg)
    stamps = _stamps((catalog_path, *spec_paths, root / "analyses" / "plan" / "register.yaml"))
    cached = _READ.get(root.resolve())
    if cached is not None and cached[0] == stamps:
        return cached[1]
    catalog = read_catalog(catalog_path)
    specs = tuple(read_spec(p) for p in spec_paths)
    register = read_register(root, (spec.id for spec in specs))
    project = ProjectConfig(root=root.resolve(), catalog=catalog, specs=specs, spec_paths=spec_paths, register=register)
    _READ[project.root] = (stamps, project)
    return project


_READ: dict[Path, tuple[tuple[tuple[str, int, int], ...], ProjectConfig]] = {}
"""The projects read so far, by folder, with the stamps of the files they were read from: the outputs of one run
ask for the project several times (the map, the report, the styles), and it is read once while its files stay as
they were."""


def _stamps(paths: tuple[Path, ...]) -> tuple[tuple[str, int, int], ...]:
    """Path, modification time (ns) and size of each file; (path, -1, -1) for a file that is not there."""
    out = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            out.append((str(path), -1, -1))
            continue
        out.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(out)
