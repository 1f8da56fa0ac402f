"""``method: area_share``: the permeable share measured on land-use polygons, with exact vector areas.

The same semantics as ``raster_share`` (:mod:`gis.methods.raster`), on polygons instead of cells:
per zone (inside the mask when one is given, e.g. the built-up areas) the area of the permeable
classes over the area of every class that is not excluded (water), excluded classes left out of
both sides; codes the class table does not know count as land that is not permeable, and are
noted.  Areas are those of the polygons cut by the zones, in the project's metric CRS.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from pydantic import Field, field_validator

from gis.errors import DataError
from gis.importers.classes import LANDUSE_TABLES, LandUseClass, LandUseTable, landuse_table, normalise_code
from gis.methods.attributes import Measurement, Params
from gis.methods.raster import masked_share
from gis.methods.zones import Zones
from gis.project.layers import LayerReader
from gis.project.specs import Spec


class AreaShareParams(Params):
    """Parameters of ``method: area_share``: the share of flagged land-use classes per zone, on polygons."""

    class_field: str = Field("class_code", description="field holding each polygon's class code")
    classes: str | list[LandUseClass] = Field(
        description=f"a shipped class table ({', '.join(LANDUSE_TABLES)}) or the classes inline: code, name_zh, permeable, excluded"
    )
    flag: str = Field("permeable", description="class-table flag counted in the numerator")
    mask_label: str = Field("built-up area (建成区)", description="appended to zone names when a mask is used")

    @field_validator("classes")
    @classmethod
    def _known_table(cls, value: str | list[LandUseClass]) -> str | list[LandUseClass]:
        if isinstance(value, str) and value not in LANDUSE_TABLES:
            msg = f"no class table '{value}'; use one of {', '.join(LANDUSE_TABLES)} or list the classes inline"
            raise ValueError(msg)
        return value

    @field_validator("flag")
    @classmethod
    def _known_flag(cls, value: str) -> str:
        if value not in {"permeable"}:
            msg = f"flag '{value}' is not a flag of the class tables; use permeable"
            raise ValueError(msg)
        return value

    def table(self) -> LandUseTable:
        """The class table the spec names or gives."""
        if isinstance(self.classes, str):
            return landuse_table(self.classes)
        return LandUseTable(name="inline", classes=self.classes)


def class_weights(frame: gpd.GeoDataFrame, field: str, table: LandUseTable, flag: str) -> pd.DataFrame:
    """Per polygon: 1.0 in ``flagged`` when its class has ``flag``, in ``counted`` when not excluded, in ``unmapped`` when unknown."""
    codes = frame[field].map(normalise_code)
    classes = codes.map(table.classify(codes))
    return pd.DataFrame({
        "flagged": classes.map(lambda c: float(c is not None and bool(getattr(c, flag)))),
        "counted": classes.map(lambda c: float(c is None or not c.excluded)),
        "unmapped": classes.isna().astype(float),
        "code": codes,
    }, index=frame.index)


def piece_areas(features: gpd.GeoDataFrame, pieces: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per piece (a mask feature within a zone): flagged, counted and unmapped area (m2) of the polygons in it."""
    columns = ["numerator", "denominator", "unmapped"]
    if features.empty or pieces.empty:
        return pd.DataFrame(0.0, index=pieces.index, columns=columns)
    keyed = pieces[["geometry"]].assign(_piece=range(len(pieces)))
    cut = gpd.overlay(features[["flagged", "counted", "unmapped", "geometry"]], keyed, how="intersection", keep_geom_type=True)
    area = cut.geometry.area
    sums = pd.DataFrame({
        "numerator": area * cut["flagged"], "denominator": area * cut["counted"], "unmapped": area * cut["unmapped"], "_piece": cut["_piece"],
    }).groupby("_piece")[columns].sum()
    out = sums.reindex(range(len(pieces)), fill_value=0.0)
    out.index = pieces.index
    return out


def measure_area_share(project: LayerReader, zones: Zones, spec: Spec, params: AreaShareParams) -> Measurement:
    """Area of flagged classes over the area of counted classes, on polygons, inside the mask when one is given."""
    layer = spec.inputs["features"]
    frame = project.read_vector(layer)
    if params.class_field not in frame.columns:
        msg = f"{project.catalog_path}: layer '{layer}' has no field '{params.class_field}'; map it under 'layers.{layer}.fields'"
        raise DataError(msg)
    table = params.table()
    weights = class_weights(frame, params.class_field, table, params.flag)
    features = gpd.GeoDataFrame(weights, geometry=frame.geometry.values, crs=frame.crs)
    mask_layer = spec.inputs.get("mask")
    mask = project.read_vector(mask_layer) if mask_layer else None

    def unmapped(pieces: gpd.GeoDataFrame) -> None:
        unknown = sorted(set(weights.loc[weights["unmapped"] > 0, "code"]))
        shown = ", ".join(code or "(blank)" for code in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        text = f"{pieces['unmapped'].sum() / 1e6:.3f} km2 in the zones carry codes missing from class table {table.name} ({shown})"
        project.note(layer, text, f"counted as land that is not {params.flag}; fix the codes or list them under 'classes'",
                     field=params.class_field)

    return masked_share(project, zones, spec, mask, lambda pieces: piece_areas(features, pieces), unmapped, params.mask_label)
