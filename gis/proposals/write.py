"""The proposals as files: ``proposals.csv`` and the ``<indicator>.proposals`` layers of ``planning.gpkg``."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from gis.project.catalog import SYNTHETIC_NOTE
from gis.proposals.common import Proposals


def proposal_frames(proposals: Proposals, run_id: str | None = None, *, synthetic: bool = False) -> dict[str, tuple[gpd.GeoDataFrame, str]]:
    """The proposal layers as the GeoPackage stores them: with ``feature_id`` and ``run_id``, and a description
    (which says so when the run's inputs are ``synthetic``)."""
    note = f" — {SYNTHETIC_NOTE}" if synthetic else ""
    frames = {}
    for name, frame in proposals.layers.items():
        frame = frame.copy()
        indicator = name.removesuffix(".proposals")
        frame.insert(0, "feature_id", [f"{indicator}:proposal:{i}" for i in frame["id"].astype(str)])
        frame.insert(1, "run_id", run_id)
        frames[name] = (frame, f"Proposal for {indicator}: what would close its gap{note}")
    return frames


def write_proposals(proposals: Proposals, out_dir: Path, *, crs: str, run_id: str | None = None, synthetic: bool = False) -> list[str]:
    """Write ``proposals.csv`` into ``out_dir`` and add the layers to its ``planning.gpkg`` (in ``crs``).

    ``gis run`` writes the layers with the rest of the GeoPackage (styled and documented); this
    adds them to an existing run folder.  Returns the layer names written.
    """
    import pyogrio

    out_dir = Path(out_dir)
    proposals.table.to_csv(out_dir / "proposals.csv", index=False, encoding="utf-8")
    for name, (frame, description) in proposal_frames(proposals, run_id, synthetic=synthetic).items():
        pyogrio.write_dataframe(
            frame.to_crs(crs), out_dir / "planning.gpkg", layer=name, driver="GPKG", promote_to_multi=True,
            layer_options={"DESCRIPTION": description, "GEOMETRY_NAME": "geom", "OVERWRITE": "YES"},
        )
    return list(proposals.layers)
