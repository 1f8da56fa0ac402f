"""exactextract called directly, in a fresh process: the peer of ``gis run --only permeable.share``.

    python tests/benchmarks/bench_fresh.py SCALE_DIR RESULT.npz

What a user writing it by hand would do: read the counties and the built-up areas, cut the built-up
areas by county, and let exactextract give the coverage fraction of each land-cover class in each
part; the permeable share of a county is its permeable classes' area over its counted (not water)
classes' area, as ``analyses/permeable.share.yaml`` defines it. The driver times the whole process
(interpreter start and imports included, as for ``gis run``), so this script only computes and saves.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyogrio
import rasterio
import shapely
import yaml
from exactextract import exact_extract


def main(scale_dir: Path, result: Path) -> None:
    catalog = yaml.load((scale_dir / "layers" / "catalog.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    layers = catalog["layers"]
    counties_entry, builtup_entry, landcover = layers["counties"], layers["builtup"], layers["landcover"]
    counties = pyogrio.read_dataframe(scale_dir / "layers" / counties_entry["file"], layer=counties_entry["layer"])
    builtup = pyogrio.read_dataframe(scale_dir / "layers" / builtup_entry["file"], layer=builtup_entry["layer"])
    raster = scale_dir / "layers" / landcover["file"]
    with rasterio.open(raster) as dataset:
        crs = dataset.crs
    counties, builtup = counties.to_crs(crs), builtup.to_crs(crs)
    parts = counties[["id"]].copy()
    parts["geometry"] = shapely.intersection(counties.geometry.values, shapely.union_all(builtup.geometry.values))
    parts = parts.set_geometry("geometry", crs=crs)
    fractions = exact_extract(str(raster), parts, ["unique", "frac"], output="pandas")
    permeable = {c["code"] for c in landcover["classes"] if c.get("permeable")}
    counted = {c["code"] for c in landcover["classes"] if not c.get("excluded")}
    shares = []
    for codes, fracs in zip(fractions["unique"], fractions["frac"], strict=True):
        codes, fracs = np.asarray(codes), np.asarray(fracs)
        kept = np.isin(codes, list(counted))
        total = fracs[kept].sum()
        shares.append(fracs[np.isin(codes, list(permeable))].sum() / total if total else np.nan)
    np.savez(result, zone_id=counties["id"].to_numpy(dtype=str), share=np.asarray(shares, dtype=float))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
