"""Benchmarks: this project beside the tools a user would otherwise use, at several sample scales.

    python tests/benchmarks/bench.py [--scales 1,4,10] [--work build/bench] [--repeat 3]
    python tests/benchmarks/bench.py --scales 1,10,province --workloads sample,run,only

A scale named ``province`` (or ``provinceK``, e.g. ``province0.01``) is the whole province
(``gis sample DIR --region henan --scale K``, 157 counties; K=1 is the full 10 m land cover,
0.01 a quick 100 m variant), built once into WORK/province-K and kept.  At a province scale
only the ``sample``, ``run`` and ``only`` workloads are measured (the others need the city's
own layers); ``sample`` times ``gis sample --region henan`` itself as a whole process, built
into a scratch folder (it takes about 75 s at full scale), and ``run`` adds the whole
``gis run --engine dask`` beside its analyses-only Dask row.

For each scale it builds the sample (``gis sample DIR --scale K``, kept between runs), adds
the benchmark's own inputs (a grid of about 10,000 cells over the counties, 10,000 x K
facility points, 5,000 x K lines) and then measures every workload with every tool, each
measurement in a fresh process: time with ``time.perf_counter`` around the work alone
(libraries imported and inputs read first, the same for every tool), peak memory as the
process's ``ru_maxrss``.  Quick measurements are repeated and the best time kept; the
machine may be shared and noisy, so read the ratios measured in one run, not the seconds.

It prints one table per workload, then the aims, each marked PASS or FALLS SHORT, and
writes the same text to WORK/results.md and the raw numbers to WORK/results.json.

Not part of ``make test``: pytest collects ``test_*.py`` only.
"""

from __future__ import annotations

import argparse
import compileall
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WORKER = HERE / "bench_workloads.py"
sys.path.insert(0, str(HERE))
from bench_workloads import BENCH_PROJECT, COVERAGE_DISTANCE_M, EXTRAS  # noqa: E402

GRID_ZONES = 10_000
FACILITIES_PER_SCALE = 10_000
LINES_PER_SCALE = 5_000
REPEAT_BELOW_S = 30.0  # measurements longer than this are taken once
TIMEOUT_S = 1800
PROVINCE = "province"
PROVINCE_WORKLOADS = {"sample", "run", "only"}
"""Workloads measured at a province scale (the others need the reference city's layers)."""
PROVINCE_ONLY_TOOLS = {"dask-run"}
"""Tools measured at province scales only (``make bench`` at the city scales is unchanged)."""
Scale = float | str
"""A sample scale: a number (the reference city at that scale) or ``province``/``provinceK``."""

WORKLOADS: dict[str, tuple[str, list[str]]] = {
    "shares6": ("Raster class shares per zone: 6 counties", ["gis", "exactextract", "rasterstats"]),
    "shares10k": ("Raster class shares per zone: ~10,000 grid cells", ["gis", "exactextract", "rasterstats"]),
    "coverage": (f"Coverage shares: 10,000 x scale facilities ({COVERAGE_DISTANCE_M:g} m), per county, from the files", ["gis", "dask", "geopandas"]),
    "join": ("Points (10,000 x scale) and lines (5,000 x scale) summed per grid cell", ["gis", "geopandas"]),
    "run": ("Whole run against reading every input once (the Dask row: analyses only)",
            ["gis", "analyses", "dask", "dask-run", "read-once"]),
    "only": ("One raster indicator (permeable.share by county), each a whole fresh process: `gis run --only` "
             "against exactextract called directly", ["gis", "exactextract"]),
    "sample": ("The province sample built (`gis sample --region henan`), a whole fresh process", ["gis"]),
}
FRESH = {"only", "sample"}
"""Workloads timed as whole processes (interpreter start, imports and outputs included), not inside one."""
ONLY_INDICATOR = "permeable.share"
TOOL_LABELS = {
    "gis": "gis (this project)",
    "exactextract": "exactextract, called directly",
    "rasterstats": "rasterstats zonal_stats(categorical)",
    "geopandas": "geopandas (buffer/union/overlay, sjoin)",
    "analyses": "gis: analyses only (run_project)",
    "dask": "gis on Dask (2 local workers, cluster up before the clock)",
    "dask-run": "whole `gis run --engine dask` (2 local workers, cluster up before the clock)",
    "read-once": "read every input once",
}


@dataclass
class Measurement:
    """Best time and peak memory of one tool on one workload at one scale."""

    workload: str
    tool: str
    scale: Scale
    seconds: float | None
    peak_mb: float | None
    runs: int
    error: str = ""
    agreement: str = ""
    all_seconds: list[float] = field(default_factory=list)


# --- scales ----------------------------------------------------------------------------------


def parse_scale(text: str) -> Scale:
    """``4`` -> 4.0; ``province`` and ``province0.01`` stay names (checked here: one-line error otherwise)."""
    text = text.strip()
    if text.startswith(PROVINCE):
        try:
            k = float(text[len(PROVINCE):] or 1.0)
        except ValueError:
            raise SystemExit(f"--scales: {text!r} is not a scale; use a number or province / provinceK (e.g. province0.01)") from None
        return PROVINCE if k == 1.0 else f"{PROVINCE}{k:g}"
    try:
        return float(text)
    except ValueError:
        raise SystemExit(f"--scales: {text!r} is not a scale; use a number or province / provinceK (e.g. province0.01)") from None


def province_k(scale: Scale) -> float | None:
    """The sample scale of a province scale name, or None for a city scale."""
    if isinstance(scale, str):
        return float(scale[len(PROVINCE):] or 1.0)
    return None


def tag(scale: Scale) -> str:
    """A scale in file names."""
    return scale if isinstance(scale, str) else f"{scale:g}"


def label(scale: Scale) -> str:
    """A scale in tables: ``4x``, ``province``, ``province0.01``."""
    return scale if isinstance(scale, str) else f"{scale:g}x"


def order(scale: Scale) -> tuple[int, float]:
    """City scales first, by size, then province scales by their sample scale."""
    k = province_k(scale)
    return (0, float(scale)) if k is None else (1, k)


def applies(workload: str, tool: str, scale: Scale) -> bool:
    """Whether a workload/tool is measured at a scale."""
    if province_k(scale) is None:
        return workload != "sample" and tool not in PROVINCE_ONLY_TOOLS
    return workload in PROVINCE_WORKLOADS


# --- inputs ----------------------------------------------------------------------------------


def build_province(work: Path, k: float) -> Path:
    """The province sample at sample scale ``k`` (``gis sample --region henan``); its data built once, kept in ``work``,
    its project files (catalog, specs, map spec) written anew from the package each time, as a new build would have them."""
    from gis.sample.province.project import write_province_project

    scale_dir = work / f"province-{k:g}"
    stamp = scale_dir / "layers" / "bench-done"
    if stamp.exists():
        write_province_project(scale_dir)
        return scale_dir
    print(f"building the province sample at scale {k:g} (gis sample --region henan --scale {k:g})", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "gis", "-q", "sample", str(scale_dir), "--region", "henan", "--scale", f"{k:g}"], check=True)
    stamp.write_text(time.strftime("%Y-%m-%dT%H:%M:%S"), encoding="utf-8")
    return scale_dir


def build_inputs(work: Path, scale: float) -> Path:
    """The sample at ``scale`` and the benchmark's own layers, built once, kept in ``work``; the benchmark's project (a
    catalog and one spec) written anew each time, in the package's current keys."""
    scale_dir = work / f"scale-{scale:g}"
    stamp = scale_dir / "layers" / "bench" / "done"
    if stamp.exists():
        _write_bench_project(scale_dir)
        return scale_dir
    if not (scale_dir / "layers" / "sample" / "landcover.tif").exists():
        print(f"building the sample at scale {scale:g} (gis sample --scale {scale:g})", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "gis", "-q", "sample", str(scale_dir), "--scale", f"{scale:g}"], check=True)
    _write_extras(scale_dir, scale)
    _write_bench_project(scale_dir)
    stamp.write_text(time.strftime("%Y-%m-%dT%H:%M:%S"), encoding="utf-8")
    return scale_dir


def _points_in(rng: np.random.Generator, area, n: int) -> np.ndarray:  # noqa: ANN001 - a shapely geometry
    import shapely

    shapely.prepare(area)
    minx, miny, maxx, maxy = area.bounds
    found: list[np.ndarray] = []
    count = 0
    while count < n:
        x = rng.uniform(minx, maxx, 2 * n)
        y = rng.uniform(miny, maxy, 2 * n)
        inside = shapely.contains_xy(area, x, y)
        found.append(np.column_stack([x[inside], y[inside]]))
        count += int(inside.sum())
    return np.concatenate(found)[:n]


def _write_extras(scale_dir: Path, scale: float) -> None:
    """Counties (metric CRS), a grid of about 10,000 cells over them, facility points and lines."""
    import geopandas as gpd
    import shapely

    sample = scale_dir / "layers" / "sample" / "sanmenxia.gpkg"
    counties = gpd.read_file(sample, layer="counties", engine="pyogrio").to_crs("EPSG:4546")
    builtup = gpd.read_file(sample, layer="builtup", engine="pyogrio").to_crs("EPSG:4546")
    counties["zone_id"] = counties["id"]
    union = shapely.union_all(counties.geometry.values)
    rng = np.random.default_rng(20251126)

    side = math.sqrt(union.area / GRID_ZONES)
    minx, miny, maxx, maxy = union.bounds
    xs, ys = np.meshgrid(np.arange(minx, maxx, side), np.arange(miny, maxy, side))
    boxes = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + side, ys.ravel() + side)
    shapely.prepare(union)
    cells = shapely.intersection(boxes[shapely.intersects(union, boxes)], union)
    cells = cells[shapely.area(cells) > 0]
    grid = gpd.GeoDataFrame({"zone_id": [f"g{i:05d}" for i in range(len(cells))]}, geometry=cells, crs=counties.crs)
    grid["id"] = grid["zone_id"]

    n_points = int(round(FACILITIES_PER_SCALE * scale))
    towns = shapely.intersection(shapely.union_all(builtup.geometry.buffer(3000.0).values), union)
    n_town = int(0.3 * n_points)
    xy = np.concatenate([_points_in(rng, union, n_points - n_town), _points_in(rng, towns, n_town)])
    facilities = gpd.GeoDataFrame(
        {"id": [f"F{i:07d}" for i in range(n_points)], "value": rng.integers(1, 6, n_points).astype(float)},
        geometry=shapely.points(xy), crs=counties.crs,
    )

    n_lines = int(round(LINES_PER_SCALE * scale))
    starts = _points_in(rng, union, n_lines)
    headings = rng.uniform(0, 2 * np.pi, n_lines)[:, None] + np.cumsum(rng.normal(0, 0.5, (n_lines, 3)), axis=1)
    steps = rng.uniform(100.0, 400.0, (n_lines, 3))
    coords = np.concatenate(
        [starts[:, None, :], starts[:, None, :] + np.cumsum(np.stack([np.cos(headings), np.sin(headings)], axis=-1) * steps[..., None], axis=1)],
        axis=1,
    )
    lines = gpd.GeoDataFrame(
        {"id": [f"L{i:07d}" for i in range(n_lines)], "value": rng.uniform(1.0, 10.0, n_lines)},
        geometry=shapely.linestrings(coords), crs=counties.crs,
    )

    path = scale_dir / EXTRAS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    for name, frame in (("counties", counties), ("grid", grid), ("facilities", facilities), ("lines", lines)):
        frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")


def _write_bench_project(scale_dir: Path) -> None:
    """A project beside the sample: its catalog plus the facility layer, and one coverage spec."""
    import yaml

    root = scale_dir / BENCH_PROJECT
    (root / "layers").mkdir(parents=True, exist_ok=True)
    (root / "analyses").mkdir(exist_ok=True)
    catalog = yaml.safe_load((scale_dir / "layers" / "catalog.yaml").read_text(encoding="utf-8"))
    for entry in catalog["layers"].values():
        entry["file"] = f"../../layers/{entry['file']}"
    catalog["layers"]["bench_facilities"] = {
        "title": "Benchmark facilities (10,000 x scale points)",
        "file": f"../../{EXTRAS}",
        "layer": "facilities",
        "kind": "vector",
        "geometry": "Point",
        "id_field": "id",
        "fields": {"id": "id", "value": "value"},
        "provenance": {"source": "tests/benchmarks/bench.py (seeded)", "licence": "CC0-1.0", "date": "2026-11-26", "synthetic": True},
    }
    (root / "layers" / "catalog.yaml").write_text(yaml.safe_dump(catalog, allow_unicode=True, sort_keys=False), encoding="utf-8")
    spec = {
        "id": "bench.coverage",
        "title": {"zh": "设施服务范围覆盖率（基准测试）", "en": "Land within reach of a facility (benchmark)"},
        "theme": "charging",
        "clause": "bench",
        "definition": "Share of each county's land within distance_m of a benchmark facility.",
        "formula": "area(county within distance_m of a facility) / area(county)",
        "method": "coverage",
        "inputs": {"base": "counties", "facilities": "bench_facilities"},
        "parameters": {"distance_m": COVERAGE_DISTANCE_M, "value": "covered_share"},
        "unit": "share",
        "zone_types": ["city", "county"],
    }
    (root / "analyses" / "bench.coverage.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")


# --- measuring -------------------------------------------------------------------------------


def _fresh_command(workload: str, tool: str, scale: Scale, scale_dir: Path, result: Path, out: Path) -> list[str]:
    """The command of a tool on a fresh-process workload."""
    if workload == "sample":
        return [sys.executable, "-m", "gis", "-q", "sample", str(out), "--region", "henan", "--scale", f"{province_k(scale):g}"]
    if tool == "gis":
        return [sys.executable, "-m", "gis", "-q", "run", "--project", str(scale_dir), "--out", str(out),
                "--only", ONLY_INDICATOR, "--no-pdf"]
    return [sys.executable, str(HERE / "bench_fresh.py"), str(scale_dir), str(result)]


def _save_gis_shares(out: Path, result: Path) -> None:
    """The county values ``gis run --only`` wrote, saved as the peer saves its own."""
    import pandas as pd

    table = pd.read_csv(out / "indicators.csv", dtype={"zone_id": str})
    rows = table[(table["indicator"] == ONLY_INDICATOR) & (table["zone_type"] == "county")]
    if "year" in rows.columns:
        rows = rows[rows["year"] == rows["year"].max()]
    np.savez(result, zone_id=rows["zone_id"].to_numpy(dtype=str), share=rows["value"].to_numpy(dtype=float))


def measure_fresh(workload: str, tool: str, scale: Scale, scale_dir: Path, repeat: int, results_dir: Path) -> Measurement:
    """Time a whole process (wall clock, from its start to its exit) and its peak memory (its own ru_maxrss)."""
    times: list[float] = []
    peaks: list[float] = []
    result = results_dir / f"{workload}-{tool}-{tag(scale)}.npz"
    out = results_dir / f"{workload}-{tool}-{tag(scale)}-out"
    for attempt in range(repeat):
        if workload == "sample":
            shutil.rmtree(out, ignore_errors=True)  # a scratch build, apart from the kept sample
        started = time.perf_counter()
        process = subprocess.Popen(_fresh_command(workload, tool, scale, scale_dir, result, out),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        stderr = process.stderr.read() if process.stderr else ""
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            last = (stderr.strip().splitlines() or ["no output"])[-1]
            return Measurement(workload, tool, scale, None, None, attempt, error=f"failed: {last}")
        times.append(seconds)
        peaks.append(usage.ru_maxrss / 1024)
        if seconds > REPEAT_BELOW_S:
            break
    if workload == "sample":
        shutil.rmtree(out, ignore_errors=True)
    elif tool == "gis":
        _save_gis_shares(out, result)
    return Measurement(workload, tool, scale, min(times), max(peaks), len(times), all_seconds=times)


def measure(workload: str, tool: str, scale: Scale, scale_dir: Path, repeat: int, results_dir: Path) -> Measurement:
    """Run one tool on one workload in fresh processes; keep the best time and the highest peak."""
    if workload in FRESH:
        return measure_fresh(workload, tool, scale, scale_dir, repeat, results_dir)
    times: list[float] = []
    peaks: list[float] = []
    result = results_dir / f"{workload}-{tool}-{tag(scale)}.npz"
    for attempt in range(repeat):
        try:
            done = subprocess.run(
                [sys.executable, str(WORKER), workload, tool, str(scale_dir), str(result)],
                capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
            )
        except subprocess.TimeoutExpired:
            return Measurement(workload, tool, scale, None, None, attempt, error=f"timeout after {TIMEOUT_S} s")
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return Measurement(workload, tool, scale, None, None, attempt, error=f"failed: {last}")
        report = json.loads(done.stdout.strip().splitlines()[-1])
        times.append(report["seconds"])
        peaks.append(report["peak_mb"])
        if report["seconds"] > REPEAT_BELOW_S:
            break
    return Measurement(workload, tool, scale, min(times), max(peaks), len(times), all_seconds=times)


def agreement(workload: str, tool: str, scale: Scale, results_dir: Path) -> str:
    """How far a peer's numbers are from this project's (largest difference of a share, or of a sum)."""
    if tool in ("gis", "read-once", "analyses") or workload == "sample":
        return ""
    mine = results_dir / f"{workload}-gis-{tag(scale)}.npz"
    if tool == "dask" and workload == "run":
        mine = results_dir / f"{workload}-analyses-{tag(scale)}.npz"
    theirs = results_dir / f"{workload}-{tool}-{tag(scale)}.npz"
    if not mine.exists() or not theirs.exists():
        return ""
    a, b = np.load(mine), np.load(theirs)
    if workload.startswith("shares"):
        share_a = a["numerator"] / np.where(a["denominator"] > 0, a["denominator"], np.nan)
        share_b = b["numerator"] / np.where(b["denominator"] > 0, b["denominator"], np.nan)
        return f"share ±{np.nanmax(np.abs(share_a - share_b)):.1e}"
    if workload == "coverage" and tool == "dask":
        same = all(np.array_equal(a[k], b[k]) for k in ("covered", "total", "gaps"))
        return "identical" if same else f"share ±{np.max(np.abs(a['covered'] / a['total'] - b['covered'] / b['total'])):.1e}"
    if workload == "coverage":
        diff = np.max(np.abs(a["covered"] / a["total"] - b["covered"] / b["total"]))
        return f"share ±{diff:.1e}, {int(b['gaps'][0])} vs {int(a['gaps'][0])} gaps"
    if workload == "join":
        return f"sum ±{max(np.max(np.abs(a['points'] - b['points'])), np.max(np.abs(a['lines'] - b['lines']))):.1e}"
    if workload == "only":
        order = np.argsort(a["zone_id"]), np.argsort(b["zone_id"])
        if not np.array_equal(a["zone_id"][order[0]], b["zone_id"][order[1]]):
            return "different counties"
        return f"share ±{np.nanmax(np.abs(a['share'][order[0]] - b['share'][order[1]])):.1e}"
    if workload == "run" and "key" in a and "key" in b and not np.array_equal(a["key"], b["key"]):
        return "different rows of indicators.csv"
    if workload == "run" and "value" in a and "value" in b:
        if a["value"].shape != b["value"].shape:
            return f"{len(b['value'])} vs {len(a['value'])} values"
        same = np.array_equal(a["value"], b["value"], equal_nan=True)
        return "identical values" if same else f"values ±{np.nanmax(np.abs(a['value'] - b['value'])):.1e}"
    return ""


# --- reporting -------------------------------------------------------------------------------


def _fmt_s(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _fmt_mb(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def table(workload: str, rows: list[Measurement]) -> str:
    """One workload: a row per scale and tool, with time and memory relative to this project."""
    title, tools = WORKLOADS[workload]
    base_tool = "read-once" if workload == "run" else "gis"
    header = f"| scale | tool | time s | × {base_tool} | peak MB (largest process) | runs | agreement with gis |"
    lines = [f"### {title}", "", header, "|---|---|---:|---:|---:|---:|---|"]
    for scale in sorted({r.scale for r in rows}, key=order):
        here = {r.tool: r for r in rows if r.scale == scale}
        base = here.get(base_tool)
        for tool in tools:
            r = here.get(tool)
            if r is None:
                continue
            ratio = "–"
            if r.seconds is not None and base is not None and base.seconds:
                ratio = f"{r.seconds / base.seconds:.2f}"
            note = r.error or r.agreement
            lines.append(f"| {label(scale)} | {TOOL_LABELS[tool]} | {_fmt_s(r.seconds)} | {ratio} | {_fmt_mb(r.peak_mb)} | {r.runs} | {note} |")
    return "\n".join(lines)


def _get(rows: list[Measurement], workload: str, tool: str, scale: Scale) -> Measurement | None:
    return next((r for r in rows if r.workload == workload and r.tool == tool and r.scale == scale), None)


def _verdict(ok: bool | None) -> str:
    return "n/a (not measured)" if ok is None else "PASS" if ok else "FALLS SHORT"


def aims(rows: list[Measurement], all_scales: list[Scale]) -> str:
    """Each aim of the issue with the measured numbers and PASS or FALLS SHORT."""
    out = ["### Aims", "", "| aim | measured | verdict |", "|---|---|---|"]
    scales = [float(s) for s in all_scales if province_k(s) is None]
    if scales:
        out += _city_aims(rows, scales)
    out += _dask_aims(rows, all_scales)
    return "\n".join(out)


def _dask_aims(rows: list[Measurement], all_scales: list[Scale]) -> list[str]:
    """The province's memory and Dask aims, and the Dask/local ratio at every scale measured."""
    out: list[str] = []

    def seconds(workload: str, tool: str, scale: Scale) -> float | None:
        m = _get(rows, workload, tool, scale)
        return m.seconds if m is not None else None

    def peak_row(workload: str, tool: str, what: str) -> None:
        found: list[tuple[Scale, float]] = []
        for s in (s for s in all_scales if province_k(s) is not None):
            m = _get(rows, workload, tool, s)
            if m is not None and m.peak_mb is not None:
                found.append((s, m.peak_mb))
        text = ", ".join(f"{label(s)}: {mb:,.0f} MB" for s, mb in found) or "–"
        full = [mb for s, mb in found if s == PROVINCE]
        out.append(f"| {what} peak memory <= ~2 GB (full province) | {text} | {_verdict(full[0] <= 2048 if full else None)} |")

    if any(province_k(s) is not None for s in all_scales):
        peak_row("sample", "gis", "province sample (`gis sample --region henan`)")
        peak_row("run", "gis", "province run (`gis run`, local engine)")
        parts = []
        verdict: bool | None = None
        for s in [s for s in all_scales if province_k(s) is not None]:
            for tool, base, what in (("dask", "analyses", "analyses"), ("dask-run", "gis", "whole run")):
                a, b = seconds("run", tool, s), seconds("run", base, s)
                if a is None or b is None:
                    continue
                m = _get(rows, "run", tool, s)
                same = m is not None and m.agreement == "identical values"
                parts.append(f"{label(s)} {what}: {a / b:.2f} ({m.agreement if m else ''})")
                if s == PROVINCE and tool == "dask":
                    verdict = a / b <= 0.75 and same
        out.append(f"| Dask at province <= 0.75x local wall, identical indicators.csv values (2 local workers) | "
                   f"dask / local = {'; '.join(parts) or '–'} | {_verdict(verdict)} |")
        for workload, tool, base, what, aim in (
            ("only", "gis", "exactextract", f"`gis run --only {ONLY_INDICATOR}` / exactextract direct (fresh processes)", 1.5),
            ("run", "gis", "read-once", "whole `gis run` / reading every input once", None),
        ):
            found = [(s, seconds(workload, tool, s), seconds(workload, base, s)) for s in all_scales if province_k(s) is not None]
            known_p = [(s, a / b) for s, a, b in found if a is not None and b]
            text = ", ".join(f"{label(s)}: {r:.2f}" for s, r in known_p) or "–"
            full = [r for s, r in known_p if s == PROVINCE]
            verdict_text = "measured" if aim is None else _verdict(full[0] <= aim if full else None)
            out.append(f"| province: {what}{'' if aim is None else f' within {aim:g}x'} | {text} | {verdict_text} |")
    ratios = [(s, seconds("run", "dask", s), seconds("run", "analyses", s)) for s in sorted(all_scales, key=order)]
    known = [(s, a / b) for s, a, b in ratios if a is not None and b]
    if known:
        faster = [label(s) for s, r in known if r < 1.0]
        slower = [label(s) for s, r in known if r >= 1.0]
        where = (f"Dask faster at {', '.join(faster)}" if faster else "Dask faster nowhere") + (
            f", not at {', '.join(slower)}" if slower else "")
        text = ", ".join(f"{label(s)}: {r:.2f}" for s, r in known)
        out.append(f"| Dask/local wall (analyses only) at every scale: where the crossover lies | {text}; {where} | measured |")
    return out


def _city_aims(rows: list[Measurement], scales: list[float]) -> list[str]:
    """The aims measured at the reference city's scales."""
    top, low = max(scales), min(scales)
    out: list[str] = []

    def ratio(workload: str, tool_a: str, tool_b: str, scale: float) -> float | None:
        a, b = _get(rows, workload, tool_a, scale), _get(rows, workload, tool_b, scale)
        if a is None or b is None or a.seconds is None or b.seconds is None:
            return None
        return a.seconds / b.seconds

    for workload in ("shares6", "shares10k"):
        worst = [ratio(workload, "gis", "exactextract", s) for s in scales]
        known = [w for w in worst if w is not None]
        measured = ", ".join(f"{s:g}x: {w:.2f}" for s, w in zip(scales, worst, strict=True) if w is not None)
        verdict = _verdict(max(known) <= 1.2 if known else None)
        out.append(f"| raster shares ({workload}) within 1.2x of exactextract | gis / exactextract = {measured} | {verdict} |")
    speed = [ratio("shares10k", "rasterstats", "gis", s) for s in scales]
    known = [v for v in speed if v is not None]
    measured = ", ".join(f"{s:g}x: {v:.1f}x faster" for s, v in zip(scales, speed, strict=True) if v is not None)
    out.append(f"| raster shares at 10,000 zones at least 5x faster than rasterstats | {measured} | {_verdict(min(known) >= 5 if known else None)} |")

    only = [(s, ratio("only", "gis", "exactextract", s)) for s in scales]
    known_only = [(s, v) for s, v in only if v is not None]
    text = ", ".join(f"{s:g}x: {v:.2f}" for s, v in known_only) or "–"
    out.append(f"| `gis run --only {ONLY_INDICATOR}` within 1.5x of exactextract direct (fresh processes) | gis / exactextract = {text} | "
               f"{_verdict(max(v for _, v in known_only) <= 1.5 if known_only else None)} |")
    whole = {s: ratio("run", "gis", "read-once", s) for s in scales}
    analyses = {s: ratio("run", "analyses", "read-once", s) for s in scales}
    text = ", ".join(f"{s:g}x: {w:.2f}" + (f" (analyses alone {analyses[s]:.2f})" if analyses[s] else "")
                     for s, w in whole.items() if w is not None) or "–"
    first = whole.get(1.0, whole[low])
    out.append(f"| whole run at 1x within 3x of reading every input once | gis run / read-once = {text} | "
               f"{_verdict(first <= 3 if first is not None else None)} |")

    peaks = [(f"{r.workload}/{r.tool}", r.peak_mb) for r in rows if r.scale == top and r.tool in ("gis", "analyses", "dask") and r.peak_mb is not None]
    worst = max(peaks, key=lambda p: p[1]) if peaks else None
    text = "–" if worst is None else f"highest: {worst[1]:,.0f} MB ({worst[0]}); " + ", ".join(f"{w} {m:,.0f}" for w, m in peaks)
    out.append(f"| peak memory at {top:g}x under 1.5 GB (this project) | {text} | {_verdict(worst[1] < 1536 if worst else None)} |")

    for workload in (w for w in WORKLOADS if w != "sample"):
        tool = "gis"
        series = [(s, _get(rows, workload, tool, s)) for s in scales]
        series = [(s, m.seconds) for s, m in series if m is not None and m.seconds]
        if len(series) < 2 or series[0][0] != low:
            continue
        base_s, base_t = series[0]
        growth = [(s, t / base_t, s / base_s) for s, t in series[1:]]
        ok = all(g <= 1.25 * k for _, g, k in growth)
        peer = {"shares6": "exactextract", "shares10k": "exactextract", "coverage": "geopandas", "join": "geopandas",
                "run": "read-once", "only": "exactextract"}[workload]
        peer_series = [(s, _get(rows, workload, peer, s)) for s in scales]
        peer_t = {s: m.seconds for s, m in peer_series if m is not None and m.seconds}
        peer_text = ""
        if low in peer_t:
            peer_text = f"; {peer}: " + ", ".join(f"{s:g}x {peer_t[s] / peer_t[low]:.1f}" for s in scales if s in peer_t and s != low)
        text = ", ".join(f"{s:g}x: {g:.1f} (input x{k:g})" for s, g, k in growth)
        out.append(f"| cost grows at most linearly ({workload}) | time / time at {low:g}x: {text}{peer_text} | {_verdict(ok)} |")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,4,10",
                        help="sample scales, comma-separated: numbers (the city) or province / provinceK (e.g. province0.01)")
    parser.add_argument("--work", type=Path, default=Path("build/bench"), help="folder for samples and results (kept)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per quick measurement; the best time is kept")
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help="subset of: " + ", ".join(WORKLOADS) + " (sample and the dask-run tool: province scales only)")
    parser.add_argument("--skip", default="", help="tools to leave out, e.g. rasterstats,dask")
    args = parser.parse_args(argv)
    scales = [parse_scale(s) for s in args.scales.split(",") if s.strip()]
    workloads = [w for w in args.workloads.split(",") if w]
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        raise SystemExit(f"--workloads: unknown {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    skip = {s for s in args.skip.split(",") if s}
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    dirs: dict[Scale, Path] = {}
    for scale in scales:
        k = province_k(scale)
        dirs[scale] = build_inputs(work, float(scale)) if k is None else build_province(work, k)

    # The package's bytecode, as an installed package has it (pip compiles at install): an editable install run with
    # PYTHONDONTWRITEBYTECODE set would compile every module of gis afresh in each timed process (~0.15 s).
    compileall.compile_dir(HERE.parent.parent / "gis", quiet=1)
    rows: list[Measurement] = []
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        results_dir = Path(tmp)
        for workload in workloads:
            for scale in scales:
                for tool in WORKLOADS[workload][1]:
                    if tool in skip or not applies(workload, tool, scale):
                        continue
                    print(f"measuring {workload} {tool} at {label(scale)}", file=sys.stderr, flush=True)
                    m = measure(workload, tool, scale, dirs[scale], args.repeat, results_dir)
                    rows.append(m)
            for m in rows:
                if m.workload == workload and not m.error:
                    m.agreement = agreement(workload, m.tool, m.scale, results_dir)
            if any(r.workload == workload for r in rows):
                print(table(workload, [r for r in rows if r.workload == workload]) + "\n", flush=True)
    text = "\n\n".join([table(w, [r for r in rows if r.workload == w]) for w in workloads if any(r.workload == w for r in rows)]
                       + [aims(rows, scales)])
    print(aims(rows, scales))
    header = f"Benchmarks {time.strftime('%Y-%m-%d %H:%M')}, scales {args.scales}, best of {args.repeat} (one run above {REPEAT_BELOW_S:g} s)\n\n"
    (work / "results.md").write_text(header + text + "\n", encoding="utf-8")
    (work / "results.json").write_text(json.dumps([asdict(r) for r in rows], indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
