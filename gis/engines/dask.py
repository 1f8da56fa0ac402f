"""The Dask engine: the indicators of a project as independent tasks on a Dask cluster.

Each indicator (and each indicator of an earlier year) is one task.  A worker loads the
project from its folder (``project.root``), once per run, and computes ``run_indicator``
for the specs it is given, exactly as the local engine does; the client puts the results
back in spec order.  So the workers must see the project folder at the same path as the
client: a shared filesystem (NFS, a cluster's shared disk, or one machine).

Within one indicator, the heavy part (the zones of a raster share, the base pieces of a
coverage, the join of a large vector layer to the zones) is cut into parts of about ``part_seconds`` of work when it is larger than
that, each part a task of its own started by the indicator's task (see
:func:`gis.methods.parts.by_parts`).  Every zone is measured on its own either way, so the
numbers are the local engine's, bit for bit.

The indicators expected to take longest (coverage along the roads, then other coverages, then
those that read a raster or overlay polygons) start first, and the parts of a measurement
go before the indicators not yet started that are quick: the long work is spread over the
workers early and the quick tasks fill the gaps at the end.

The data-quality notes a worker records come back with its results, tagged by what made
them: reading a layer or inspecting a raster (said once per run, by whichever indicator
reads the layer first in spec order) or the measurement itself (said every time).  The
client replays them in the local engine's order, so ``data_quality.csv`` is the same.  The
client does not read the layers the workers read: what reads them after the run (the web
map) reads them then, and their reading notes, said already, are not said again.
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from gis.engines.local import run_indicator, select_specs, specs_for_year
from gis.engines.result import IndicatorResult, RunResult
from gis.errors import DataError, UsageError
from gis.methods.parts import task_name
from gis.methods.zones import MIN_FEATURES_PER_PART, Zones, build_zones
from gis.project.config import ProjectConfig, read_project
from gis.project.layers import LayerReader
from gis.project.quality import QualityLog, QualityNote
from gis.project.rasters import inspect_raster
from gis.project.specs import Spec

__all__ = ["run_project_dask"]

PART_PRIORITY = 1
"""The Dask priority of the parts of a measurement: above the quick indicators (0), below the slow ones (:func:`_priority`).

Parts of equal priority run in the order they were made, so the indicator that cut its work
first gets it back first and finishes while the others' parts run."""

Origin = tuple[str, str]
"""What a once-per-run note comes from: ("vector", layer) read, or ("raster", layer) inspected."""
Event = tuple[str, Any]
"""One step of a task, in order: ("once", Origin) touched, or ("note", QualityNote) said by the measurement."""


@dataclass
class _Shared:
    """What the task views of one project on a worker share."""

    part_seconds: float = math.inf
    part_features: int = MIN_FEATURES_PER_PART
    once_notes: dict[Origin, list[QualityNote]] = field(default_factory=dict)
    read: set[str] = field(default_factory=set)
    lock: Any = field(default_factory=threading.RLock)  # held while a layer is read for the first time


class _TracedReader(LayerReader):
    """A reader that tells which of its notes come from reading a layer once and which from measuring.

    It wraps the reader it is made from and shares its log and its caches, so what it reads
    and says is also read and said by that reader.  Each task works on a view of its own
    (:meth:`view`): the same caches, its own record of events, so tasks that run at the same
    time on one worker (while one waits for its parts) keep apart.  On a worker it also runs
    the parts of a heavy measurement as tasks of their own (:meth:`run_parts`, see
    :func:`gis.methods.parts.by_parts`).
    """

    def __init__(self, base: LayerReader, shared: _Shared | None = None) -> None:
        super().__init__(base.project)
        self.share(base)
        self.shared = shared if shared is not None else _Shared()
        self._events: list[Event] = []
        self._touched: set[Origin] = set()
        self._origins: list[Origin] = []

    def view(self) -> _TracedReader:
        """A view for one task: the same caches and log, an empty record of events."""
        return _TracedReader(self, self.shared)

    @property
    def part_seconds(self) -> float:
        """About how much work one part of a measurement should get (``by_parts``)."""
        return self.shared.part_seconds

    @property
    def part_features(self) -> int:
        """The fewest features of a layer one part of its join to the zones gets (``sum_by_zone``)."""
        return self.shared.part_features

    def run_parts(self, func: Callable[[Any], Any], parts: Sequence[Any]) -> list[Any]:
        """``[func(part) for part in parts]``, each part a task on the cluster (the first first), in order.

        Each part goes with ``func`` to whichever worker is free first (no data placed on a worker
        beforehand, which would tie the parts to it).
        """
        from distributed import worker_client

        prefix = f"gis-part-{task_name(func)}-{uuid.uuid4().hex[:8]}"
        with worker_client() as client:  # this task leaves its thread while the parts run
            futures = [  # after the slow indicators not yet started (_priority), before the quick ones; first come, first run
                client.submit(func, part, key=f"{prefix}-{i}", priority=PART_PRIORITY, pure=False) for i, part in enumerate(parts)
            ]
            return client.gather(futures)

    def end(self) -> tuple[list[Event], dict[Origin, list[QualityNote]]]:
        """The events of the task and the once-per-run notes of every origin it touched."""
        touched = {origin: self.shared.once_notes.get(origin, []) for kind, origin in self._events if kind == "once"}
        return self._events, touched

    def _touch(self, origin: Origin) -> None:
        if origin not in self._touched:
            self._touched.add(origin)
            self._events.append(("once", origin))

    def read_vector(self, name: str) -> Any:
        """Read a layer (cached), remembering the notes its first reading made."""
        self._touch(("vector", name))
        if name not in self.shared.read:
            with self.shared.lock:
                if name not in self.shared.read:
                    return self._first_read(name)
        return super().read_vector(name)

    def _first_read(self, name: str) -> Any:
        origin = ("vector", name)
        self._origins.append(origin)
        self.shared.once_notes.setdefault(origin, [])
        try:
            frame = super().read_vector(name)
        finally:
            self._origins.pop()
        self.shared.read.add(name)
        return frame

    def inspect(self, layer: str) -> None:
        """Inspect a raster once (what ``inspect_raster`` says goes with the raster, not the indicator)."""
        origin = ("raster", layer)
        self._touch(origin)
        with self.shared.lock:
            if layer in self.inspected_rasters:
                return
            self._origins.append(origin)
            self.shared.once_notes.setdefault(origin, [])
            try:
                inspect_raster(self, layer)
            except DataError:
                # The indicator's own run meets the same error and raises it where the local engine does.
                self.inspected_rasters.discard(layer)
            finally:
                self._origins.pop()

    def note(self, layer: str, problem: str, action: str, *, feature_id: str = "", field: str = "", severity: str = "warning") -> None:
        """Record a note, and whether it belongs to a layer's reading or to the measurement."""
        note = QualityNote(layer, feature_id, field, problem, action, severity)
        self.log.notes.append(note)
        if self._origins:
            self.shared.once_notes[self._origins[-1]].append(note)
        else:
            self._events.append(("note", note))


@dataclass
class _Outcome:
    """What a task sends back: the indicator, and the notes in the order they were made."""

    result: IndicatorResult
    events: list[Event]
    once_notes: dict[Origin, list[QualityNote]]


def _replay(outcomes: list[_Outcome], said: set[Origin]) -> list[QualityNote]:
    """The notes in the local engine's order: a layer's reading notes where it is first read, in spec order."""
    notes: list[QualityNote] = []
    for outcome in outcomes:
        for kind, item in outcome.events:
            if kind == "note":
                notes.append(item)
            elif item not in said:
                said.add(item)
                notes.extend(outcome.once_notes[item])
    return notes


# --- the worker side ---------------------------------------------------------------------------


class _RunState(WorkerPlugin):
    """Held by each worker for one run: the project read from its folder, its zones, its earlier years."""

    def __init__(self, root: str, token: str, part_seconds: float, part_features: int) -> None:
        self.root, self.token, self.part_seconds, self.part_features = root, token, part_seconds, part_features
        self.name = f"gis-run-{token}"
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._project: _TracedReader | None = None
        self._zones: Zones | None = None
        self._years: dict[int, _TracedReader] = {}

    def __getstate__(self) -> dict:
        return {"root": self.root, "token": self.token, "part_seconds": self.part_seconds, "part_features": self.part_features,
                "name": self.name}

    def __setstate__(self, state: dict) -> None:
        self.root, self.token, self.name = state["root"], state["token"], state["name"]
        self.part_seconds, self.part_features = state["part_seconds"], state["part_features"]
        self._reset()

    def setup(self, worker: Any) -> None:
        """Nothing is read until the first task needs it."""

    def teardown(self, worker: Any) -> None:
        """Let the layers of the run go."""
        self._reset()

    def _data_year(self) -> tuple[_TracedReader, Zones]:
        if self._project is None:
            try:
                loaded = read_project(self.root)
            except UsageError as exc:
                msg = f"a Dask worker cannot read the project: {exc} (the workers need the project folder at the same path as the client: a shared filesystem)"
                raise UsageError(msg) from None
            project = _TracedReader(LayerReader(loaded), _Shared(self.part_seconds, self.part_features))
            self._zones = build_zones(project)
            project.study_area()  # read before any task's view is made, so every view has it
            self._project = project
        assert self._zones is not None
        return self._project, self._zones

    def view(self, year: int | None) -> tuple[_TracedReader, Zones]:
        """A task's view of the project of the data year or of an earlier ``year``, and the zones."""
        with self._lock:
            project, zones = self._data_year()
            if year is not None:
                if year not in self._years:
                    self._years[year] = _TracedReader(project.for_year(year), _Shared(self.part_seconds, self.part_features))
                project = self._years[year]
        return project.view(), zones

    def run(self, spec: Spec, year: int | None) -> _Outcome:
        """One indicator of the data year (``year`` None) or of an earlier year."""
        project, zones = self.view(year)
        for layer in spec.inputs.values():
            entry = project.catalog.layers.get(layer)
            if entry is not None and entry.kind == "raster":  # every method that reads a raster inspects it first
                project.inspect(layer)
        result = run_indicator(project, zones, spec) if year is None else run_indicator(project, zones, spec, year=year)
        return _Outcome(result, *project.end())


def _run_task(state_name: str, spec: Spec, year: int | None) -> _Outcome:
    from distributed import get_worker

    state = get_worker().plugins[state_name]
    assert isinstance(state, _RunState), f"worker plugin {state_name} is not this run's"
    return state.run(spec, year)


# --- the client side ---------------------------------------------------------------------------


class _SaidReader(LayerReader):
    """The client's reader: a layer the workers read already is read here only when something asks
    for it (the web map), and what its reading finds is not said again (the workers said it)."""

    def __init__(self, project: ProjectConfig) -> None:
        super().__init__(project)
        self.said_layers: set[str] = set()
        self._reading = threading.Lock()

    def read_vector(self, name: str) -> Any:
        """A vector layer (cached); one the workers read is read quietly the first time."""
        if name in self.said_layers and name not in self._vectors:
            with self._reading:
                if name not in self._vectors:
                    quiet = LayerReader(self.project)
                    quiet.share(self)  # the same cache: what it reads, this reader has read
                    quiet.log = QualityLog()
                    quiet.read_vector(name)
        return super().read_vector(name)


def _remember(layers: _SaidReader, origins: list[Origin]) -> None:
    """Leave the client's reader as the local engine leaves it: the layers read (when asked), the rasters inspected.

    What reads them later (the web map) says nothing twice.
    """
    for kind, layer in dict.fromkeys(origins):
        if kind == "vector":
            layers.said_layers.add(layer)
        else:
            layers.inspected_rasters.add(layer)


def _priority(spec: Spec, project: ProjectConfig) -> int:
    """How early an indicator's task starts: the longer it is expected to take, the earlier (longest first).

    Coverage along the roads (noding and walking a network, then widening the reached roads) is
    the slowest, then a coverage (buffers merged per zone), then an indicator that reads a raster
    or overlays polygons; the others (sums of attributes) are quick and fill the gaps at the end,
    after the parts of the slow ones (``PART_PRIORITY``).
    """
    if spec.method == "coverage":
        return 3_000_000 if spec.parameters.get("distance") == "network" else 2_000_000
    layers = project.catalog.layers
    reads_raster = any(name in layers and layers[name].kind == "raster" for name in spec.inputs.values())
    return 1_000_000 if reads_raster or spec.method in ("raster_share", "area_share", "presence", "within") else 0


@contextmanager
def _connect(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A client of the cluster at ``scheduler``, or of a local cluster started (and stopped) here."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler, set_as_default=False) as client:
            yield client
        return
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield client


def run_project_dask(
    project: ProjectConfig,
    *,
    scheduler: str | None = None,
    workers: int = 2,
    only: list[str] | None = None,
    on_step: Callable[[str], None] | None = None,
    part_seconds: float = 1.0,
    part_features: int = MIN_FEATURES_PER_PART,
) -> RunResult:
    """Run every indicator spec of the project (or those in ``only``) on a Dask cluster.

    Parameters
    ----------
    project
        The project; its folder must be readable at ``project.root`` by every worker.
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``); None starts a local
        cluster of ``workers`` processes for this run.
    workers
        Worker processes of the local cluster (ignored with ``scheduler``).
    only
        Indicator ids to run; None runs them all.
    on_step
        Called with "zones", then with each indicator id (and ``year YYYY``) as it finishes.
    part_seconds
        The heavy part of one indicator (raster zones, coverage pieces) is cut into tasks
        of about this many seconds of work each when it has more than that; ``math.inf``
        keeps every indicator in one task, 0 makes every zone a task.  The numbers do not
        change: each zone is measured on its own either way.  A large vector layer's join
        to the zones is cut the same way (about 20 microseconds of work per feature).
    part_features
        The fewest features of a layer that one part of its join to the zones gets: smaller
        layers are joined in their indicator's task.  The sums do not change: each feature
        is shared between the zones on its own, and the shares are added in the same order.

    Returns
    -------
    RunResult
        The same result, with the same numbers and notes, as :func:`gis.engines.local.run_project`.
    """
    from distributed import as_completed

    started = datetime.now(UTC)
    specs = select_specs(project, only)
    if on_step:
        on_step("zones")
    years = {year: specs_for_year(project, specs, year) for year in project.catalog.years()}
    tasks: list[tuple[int | None, Spec]] = [(None, spec) for spec in specs]
    tasks += [(year, spec) for year, chosen in years.items() for spec in chosen]

    state = _RunState(str(Path(project.root).resolve()), uuid.uuid4().hex[:12], part_seconds, part_features)
    layers = _SaidReader(project)
    with _connect(scheduler, workers) as client:
        client.register_plugin(state, name=state.name)
        try:
            first = sorted(tasks, key=lambda task: -_priority(task[1], project))  # sent in order: idle workers take the first that come
            futures = {
                client.submit(_run_task, state.name, spec, year, key=f"gis-{state.token}-{year or 'data'}-{spec.id}",
                              priority=_priority(spec, project), pure=False): (year, spec)
                for year, spec in first
            }
            traced = _TracedReader(layers)  # the client's zones are built while the workers start on the indicators
            try:
                zones = build_zones(traced)
            except BaseException:
                client.cancel(list(futures))  # the workers would meet the same error; they need not work on
                raise
            said = {origin for kind, origin in traced.end()[0] if kind == "once"}
            waiting = {year: len(chosen) for year, chosen in years.items()}
            for future in as_completed(futures, loop=client.loop):
                year, spec = futures[future]
                if on_step and future.status == "finished":
                    if year is None:
                        on_step(spec.id)
                    else:
                        waiting[year] -= 1
                        if not waiting[year]:
                            on_step(f"year {year}")
            by_task = {(year, spec.id): f for f, (year, spec) in futures.items()}
            outcomes = {(year, spec.id): by_task[(year, spec.id)].result() for year, spec in tasks}  # the first failure in spec order is raised
        finally:
            client.unregister_worker_plugin(state.name)

    data_year = [outcomes[(None, spec.id)] for spec in specs]
    layers.log.notes.extend(_replay(data_year, said))
    _remember(layers, [origin for o in data_year for kind, origin in o.events if kind == "once"])
    history: list[IndicatorResult] = []
    for year, chosen in years.items():
        earlier = [outcomes[(year, spec.id)] for spec in chosen]
        history += [o.result for o in earlier]
        layers.log.add_year(year, _replay(earlier, set()))
    results = [o.result for o in data_year]
    return RunResult(layers=layers, zones=zones, results=results, history=history, started=started, finished=datetime.now(UTC))
