"""One benchmark measurement, run in a fresh process by ``bench.py``.

    python tests/benchmarks/bench_workloads.py WORKLOAD TOOL SCALE_DIR RESULT.npz

Prints one JSON line: the seconds the work took (time.perf_counter, inputs already read
and libraries imported, the same for every tool) and the peak resident memory in MB
(``ru_maxrss`` of this process, or of its largest finished child for the Dask workers;
imports and inputs included, as a user would see it).
The numbers a tool computed go to RESULT.npz so the driver can check that tools agree.

Not collected by pytest (the file name does not start with ``test_``).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

EXTRAS = "layers/bench/extras.gpkg"
BENCH_PROJECT = "bench-project"
PERMEABLE = [10, 20, 30, 40, 50, 60]
EXCLUDED = [80]
COVERAGE_DISTANCE_M = 250.0


def _cluster():  # noqa: ANN202 - a LocalCluster
    """Two single-threaded worker processes, started before the clock (a user's cluster is already up)."""
    import logging

    from distributed import LocalCluster

    return LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR)


def _peak_mb() -> float:
    """The peak resident memory of this process or of the largest of its finished children (Dask workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def _read(scale_dir: Path, layer: str):  # noqa: ANN202 - a GeoDataFrame
    import geopandas as gpd

    return gpd.read_file(scale_dir / EXTRAS, layer=layer, engine="pyogrio")


def _landcover(scale_dir: Path) -> Path:
    return scale_dir / "layers" / "sample" / "landcover.tif"


def _cell_area(path: Path) -> float:
    import rasterio

    with rasterio.open(path) as dataset:
        t = dataset.transform
        return abs(t.a * t.e - t.b * t.d)


# --- raster class shares per zone -----------------------------------------------------------


def _shares_gis(polygons, path: Path) -> tuple[Callable[[], object], Callable[[object], dict]]:
    from gis.api import load_project
    from gis.methods.raster import class_areas

    classes = load_project(path.parent.parent.parent).entry("landcover").classes

    def work() -> object:
        return class_areas(path, "landcover", polygons, classes, "permeable")

    return work, lambda r: {"numerator": r["numerator"].to_numpy(), "denominator": r["denominator"].to_numpy()}


def _shares_exactextract(polygons, path: Path) -> tuple[Callable[[], object], Callable[[object], dict]]:
    from exactextract import exact_extract

    cell = _cell_area(path)

    def work() -> object:
        stats = exact_extract(str(path), polygons[["geometry"]], ["unique", "frac", "count"], output="pandas")
        lengths = stats["unique"].map(len).to_numpy()
        codes = np.concatenate(stats["unique"].to_numpy()) if lengths.sum() else np.zeros(0)
        fracs = np.concatenate(stats["frac"].to_numpy()) if lengths.sum() else np.zeros(0)
        area = fracs * np.repeat(stats["count"].to_numpy(), lengths) * cell
        row = np.repeat(np.arange(len(stats)), lengths)
        numerator = np.bincount(row, weights=area * np.isin(codes, PERMEABLE), minlength=len(stats))
        denominator = np.bincount(row, weights=area * ~np.isin(codes, EXCLUDED), minlength=len(stats))
        return numerator, denominator

    return work, lambda r: {"numerator": r[0], "denominator": r[1]}


def _shares_rasterstats(polygons, path: Path) -> tuple[Callable[[], object], Callable[[object], dict]]:
    from rasterstats import zonal_stats

    cell = _cell_area(path)

    def work() -> object:
        stats = zonal_stats(polygons, str(path), categorical=True)
        numerator = np.array([sum(n for c, n in s.items() if c in PERMEABLE) for s in stats], dtype=float) * cell
        denominator = np.array([sum(n for c, n in s.items() if c not in EXCLUDED) for s in stats], dtype=float) * cell
        return numerator, denominator

    return work, lambda r: {"numerator": r[0], "denominator": r[1]}


def shares(zones_layer: str) -> Callable[[str, Path], tuple[Callable[[], object], Callable[[object], dict]]]:
    """Area of permeable classes over the area of land classes, per polygon of ``zones_layer``."""

    def setup(tool: str, scale_dir: Path) -> tuple[Callable[[], object], Callable[[object], dict]]:
        polygons = _read(scale_dir, zones_layer)
        make = {"gis": _shares_gis, "exactextract": _shares_exactextract, "rasterstats": _shares_rasterstats}[tool]
        return make(polygons, _landcover(scale_dir))

    return setup


# --- coverage of 10,000 x scale facilities ---------------------------------------------------


def coverage(tool: str, scale_dir: Path) -> tuple[Callable[[], object], Callable[[object], dict]]:
    """Share of each county's land within COVERAGE_DISTANCE_M of a facility, from the files (reading included)."""

    def values(result: object) -> dict:
        rows = result.rows[result.rows["zone_type"] == "county"]
        return {"covered": rows["numerator"].to_numpy(), "total": rows["denominator"].to_numpy(), "gaps": np.array([len(result.gaps)])}

    root = scale_dir / BENCH_PROJECT
    if tool == "gis":
        from gis.api import load_project
        from gis.engines.local import run_project

        def work() -> object:
            return run_project(load_project(root), only=["bench.coverage"]).results[0]

        return work, values
    if tool == "dask":
        from gis.api import load_project
        from gis.engines.dask import run_project_dask

        cluster = _cluster()

        def on_cluster() -> object:
            return run_project_dask(load_project(root), scheduler=cluster.scheduler_address, only=["bench.coverage"]).results[0]

        def values_then_stop(result: object) -> dict:
            cluster.close()
            return values(result)

        return on_cluster, values_then_stop

    import geopandas as gpd

    def peer() -> object:
        counties = _read(scale_dir, "counties")
        facilities = _read(scale_dir, "facilities")
        covered = facilities.geometry.buffer(COVERAGE_DISTANCE_M).union_all()
        holes = gpd.overlay(counties[["id", "geometry"]], gpd.GeoDataFrame(geometry=[covered], crs=counties.crs), how="difference")
        holes = holes.explode(ignore_index=True)
        uncovered = holes.assign(area=holes.area).groupby("id")["area"].sum().reindex(counties["id"], fill_value=0.0)
        total = counties.area.to_numpy()
        return total - uncovered.to_numpy(), total, len(holes)

    return peer, lambda r: {"covered": r[0], "total": r[1], "gaps": np.array([r[2]])}


# --- points and lines joined to the 10,000 grid cells ---------------------------------------


def join(tool: str, scale_dir: Path) -> tuple[Callable[[], object], Callable[[object], dict]]:
    """Sum of a value per grid cell: points whole, lines split by length."""
    grid = _read(scale_dir, "grid")
    points = _read(scale_dir, "facilities")
    lines = _read(scale_dir, "lines")
    if tool == "gis":
        from gis.methods.zones import sum_by_zone

        def work() -> object:
            return sum_by_zone(points, ["value"], grid), sum_by_zone(lines, ["value"], grid)

        return work, lambda r: {"points": r[0]["value"].to_numpy(), "lines": r[1]["value"].to_numpy()}

    import geopandas as gpd
    import pandas as pd
    import shapely

    def peer() -> object:
        hits = gpd.sjoin(points[["value", "geometry"]], grid[["zone_id", "geometry"]], predicate="intersects")
        hits = hits[~hits.index.duplicated(keep="first")]
        on_points = hits.groupby("zone_id")["value"].sum().reindex(grid["zone_id"], fill_value=0.0)
        pairs = gpd.sjoin(lines[["value", "geometry"]], grid[["zone_id", "geometry"]], predicate="intersects")
        inside = shapely.intersection(lines.geometry.values[pairs.index.to_numpy()], grid.geometry.values[pairs["index_right"].to_numpy()])
        share = shapely.length(inside) / lines.geometry.length.to_numpy()[pairs.index.to_numpy()]
        weighted = pd.Series(pairs["value"].to_numpy() * share).groupby(pairs["zone_id"].to_numpy()).sum()
        on_lines = weighted.reindex(grid["zone_id"], fill_value=0.0)
        return on_points, on_lines

    return peer, lambda r: {"points": r[0].to_numpy(), "lines": r[1].to_numpy()}


# --- the whole run against reading every input once ------------------------------------------


def _written_values(out: Path) -> dict:
    """The values of the indicators.csv a run wrote, in a fixed row order (indicator, zone, year)."""
    import pandas as pd

    table = pd.read_csv(out / "indicators.csv", dtype={"zone_id": str})
    keys = [k for k in ("indicator", "zone_type", "zone_id", "year") if k in table.columns]
    table = table.sort_values(keys, kind="stable")
    return {"value": table["value"].to_numpy(dtype=float), "key": table[keys].astype(str).agg("|".join, axis=1).to_numpy(dtype=str)}


def run(tool: str, scale_dir: Path) -> tuple[Callable[[], object], Callable[[object], dict]]:
    """``gis run`` (analyses and every output), its analyses alone, them on Dask, the whole run on Dask
    (``gis run --engine dask`` against the cluster), or one read of every input
    (every layer of the catalog and every earlier year of it, as the run reads them)."""
    out = scale_dir / "bench-out" / tool
    if tool == "gis":
        import gis.engines.local
        import gis.outputs.write  # noqa: F401 - imported before the clock, like every other tool's libraries
        from gis.cli import main

        def work() -> object:
            main(["-q", "run", "--project", str(scale_dir), "--out", str(out)], standalone_mode=False)
            return None

        return work, lambda r: _written_values(out)
    if tool == "dask-run":
        import gis.engines.dask
        import gis.outputs.write  # noqa: F401 - imported before the clock, like every other tool's libraries
        from gis.cli import main

        cluster = _cluster()

        def whole_on_cluster() -> object:
            main(["-q", "run", "--project", str(scale_dir), "--out", str(out), "--engine", "dask",
                  "--scheduler", cluster.scheduler_address], standalone_mode=False)
            return None

        def written(r: object) -> dict:
            cluster.close()
            return _written_values(out)

        return whole_on_cluster, written
    if tool == "analyses":
        from gis.api import load_project
        from gis.engines.local import run_project

        def analyses() -> object:
            return run_project(load_project(scale_dir)).indicators

        return analyses, lambda r: {"value": r["value"].to_numpy(dtype=float)}
    if tool == "dask":
        from gis.api import load_project
        from gis.engines.dask import run_project_dask

        cluster = _cluster()

        def on_cluster() -> object:
            return run_project_dask(load_project(scale_dir), scheduler=cluster.scheduler_address).indicators

        def values(result: object) -> dict:
            cluster.close()
            return {"value": result["value"].to_numpy(dtype=float)}

        return on_cluster, values

    import pandas as pd
    import pyogrio
    import rasterio
    import yaml

    catalog = yaml.safe_load((scale_dir / "layers" / "catalog.yaml").read_text(encoding="utf-8"))

    def sources(entry: dict) -> list[tuple[str, str | None]]:
        """The (file, layer) of a catalog entry and of each of its earlier years (``years:``)."""
        found = [(entry["file"], entry.get("layer"))]
        for then in (entry.get("years") or {}).values():
            found.append((then.get("file", entry["file"]), then.get("layer", entry.get("layer"))))
        return found

    def read_once() -> object:
        cells = 0
        for entry in catalog["layers"].values():
            for file, layer in sources(entry):
                path = scale_dir / "layers" / file
                if entry["kind"] == "vector":
                    pyogrio.read_dataframe(path, layer=layer)
                elif entry["kind"] == "table":
                    pd.read_csv(path, dtype=str)
                else:
                    with rasterio.open(path) as dataset:
                        for _, window in dataset.block_windows(1):
                            cells += dataset.read(1, window=window).size
        return cells

    return read_once, lambda r: {"cells": np.array([r])}


WORKLOADS = {
    "shares6": shares("counties"),
    "shares10k": shares("grid"),
    "coverage": coverage,
    "join": join,
    "run": run,
}


def main(argv: list[str]) -> None:
    workload, tool, scale_dir, result_path = argv
    work, values = WORKLOADS[workload](tool, Path(scale_dir))
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    np.savez(result_path, **values(result))
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_mb()}))


if __name__ == "__main__":
    main(sys.argv[1:])
