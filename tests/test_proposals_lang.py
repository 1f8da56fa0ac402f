"""Proposals in two languages: every row of proposals.csv says what to do, in what unit and why in Chinese
(``action_zh``, ``unit_zh``, ``detail_zh``) and in English (``action_en``, ``unit``, ``detail``), each
column in its own language only; the sentences that explain a total differing from the shortfall carry the
same numbers in both."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, box
from tinyproject import X0, Y0, target

from gis import load_project
from gis.engines.local import run_project
from gis.outputs.i18n import foreign_words
from gis.proposals import PROPOSAL_COLUMNS, PROPOSAL_FIELDS, propose

CRS = "EPSG:4546"
TEXTS = {"action_zh": "zh", "unit_zh": "zh", "detail_zh": "zh", "adds_unit_zh": "zh", "action_en": "en", "unit": "en", "detail": "en",
         "adds_unit": "en"}
"""Each text column of proposals.csv and the one language it is written in."""
FILLED = ("action_zh", "action_en", "unit_zh", "detail_zh", "unit", "detail")
"""The text columns every row fills (``adds_unit`` only a row that adds something besides its quantity)."""
NUMBER = re.compile(r"(?<![A-Za-z0-9.,])\d[\d,]*(?:\.\d+)?")
"""A number as the texts write it (thousands separators, decimals), not the 2 of km2 or m2."""


def _numbers(text: str) -> set[str]:
    return set(NUMBER.findall(text))


def _zone(table: pd.DataFrame, indicator: str, zone_id: str) -> pd.Series:
    rows = table[(table["indicator"] == indicator) & (table["zone_id"] == zone_id) & (table["row_type"] == "zone")]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_the_language_columns_come_last():
    assert PROPOSAL_COLUMNS[-7:] == ["shortfall", "shortfall_unit", "action_zh", "action_en", "unit_zh", "detail_zh", "adds_unit_zh"]
    assert set(PROPOSAL_FIELDS) == set(PROPOSAL_COLUMNS)


# --- the sample: every row, each column in its own language ---------------------------------------


def _data_names(out: Path, table: pd.DataFrame) -> set[str]:
    """Names from the data the texts may quote as they are: zones, items, and what the proposal layers name
    (the nearest fast charger, the heating network, the sewer joined)."""
    names = set(table["zone_name"].dropna().astype(str)) | set(table["item_name"].dropna().astype(str))
    gpkg = out / "planning.gpkg"
    for name, *_ in pyogrio.list_layers(gpkg):
        if str(name).endswith(".proposals"):
            layer = pyogrio.read_dataframe(gpkg, layer=str(name), read_geometry=False)
            for column in ("name", "station_name", "network_id", "sewer_id"):
                if column in layer:
                    names |= set(layer[column].dropna().astype(str))
    return names


def test_sample_every_row_speaks_each_language_alone(sample_run):
    _, out = sample_run
    table = pd.read_csv(out / "proposals.csv", dtype=str, keep_default_na=False, encoding="utf-8")
    assert list(table.columns) == PROPOSAL_COLUMNS
    names = _data_names(out, table)
    counts = table["row_type"].value_counts()
    assert counts["zone"] >= 10 and counts["item"] >= 50  # the sample's zone and item rows are all checked
    assert table["indicator"].nunique() >= 8
    problems = []
    for row in table.itertuples():
        for column, lang in TEXTS.items():
            text = getattr(row, column)
            if column in FILLED and not text.strip():
                problems.append((row.indicator, row.row_type, column, "empty"))
            elif foreign_words(text, lang, names=names):
                problems.append((row.indicator, row.row_type, column, foreign_words(text, lang, names=names), text))
        assert bool(row.adds_unit) == bool(row.adds_unit_zh), row
        # the old column keeps both languages joined, for readers of earlier runs
        assert row.action_en in row.action and foreign_words(row.action, "en", names=names), row
    assert not problems, problems[:10]


# --- hand cases: the sentences that say why a total differs from the shortfall ---------------------


def _lots(records: list[dict], coords: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(records, geometry=[Point(X0 + x, Y0 + y) for x, y in coords], crs=CRS)


def test_county_targets_need_them_all_in_both_languages(make_project):
    # A target of 25 % in every county and the city. County A: 0 of 400 spaces: 100 to equip.
    # County B: 80 of 100, met. City: 80 of 500 needs 125: a shortfall of 45, but A's target
    # needs all 100 (180 of 500 after).
    lots = _lots(
        [{"id": "L1", "name": "a", "spaces": 400, "charger_spaces": 0}, {"id": "L2", "name": "b", "spaces": 100, "charger_spaces": 80}],
        [(500, 500), (1500, 500)],
    )
    spec = {
        "id": "charging.parking_share", "method": "ratio", "inputs": {"features": "lots"},
        "parameters": {"numerator": "charger_spaces", "denominator": "spaces"},
        "target": target(value=0.25, zone_types=["city", "county"]), "shortfall": {"unit": "things", "factor": 1, "rounding": "ceil"},
        "proposal": {"kind": "parking_spaces"},
    }
    table = propose(run_project(load_project(make_project({"lots": lots}, [spec])))).table
    city = _zone(table, "charging.parking_share", "C")
    assert city["quantity"] == 100 and city["shortfall"] == 45 and city["value_after"] == pytest.approx(180 / 500)
    assert "100 spaces against a shortfall of 45: the county targets need them all" in city["detail"]
    assert "合计100个车位，多于缺口45个车位：各县目标需全部完成" in city["detail_zh"]
    assert city["detail_zh"].startswith("各县建议之和（规划对每个县均设有目标）")
    assert _numbers(city["detail"]) == _numbers(city["detail_zh"]) == {"100", "45"}
    assert (city["action_zh"], city["action_en"]) == ("为停车位配建充电设施：100", "equip parking spaces with chargers: 100")
    assert (city["unit_zh"], city["unit"]) == ("个车位", "spaces")
    county = _zone(table, "charging.parking_share", "A")
    assert county["quantity"] == 100 == county["shortfall"]  # the county's own proposal is its shortfall: nothing to explain
    assert "shortfall" not in county["detail"] and "缺口" not in county["detail_zh"]


def test_the_cap_closes_only_part_in_both_languages(make_project):
    # Built-up: the lower half of county A, two 500 m blocks of 25 cells (100 m). Left: 5 green,
    # 20 paved; right: 10 green, 15 paved. Permeable 15 of 50 (0.30); 50 % needs 10 cells more,
    # 0.100 km2. At most 30 % of the paved ground per block: 6 + 4.5 cells = 0.105 km2 of room,
    # so the right block's 0.045 then 0.055 of the left would do; with a cap of 20 %: 4 + 3
    # cells, 0.070 km2 of the 0.100: 0.030 more need another measure.
    cover = np.full((10, 20), 10, dtype="uint8")
    cover[5:6, 0:5] = 40
    cover[6:10, 0:5] = 70
    cover[5:7, 5:10] = 40
    cover[7:10, 5:10] = 70
    classes = [{"code": 10, "name": "crop", "permeable": True}, {"code": 40, "name": {"zh": "绿地", "en": "green"}, "permeable": True},
               {"code": 70, "name": {"zh": "铺装地面", "en": "paved"}}]
    builtup = gpd.GeoDataFrame({"id": ["BU1"], "name": ["town"]}, geometry=[box(X0, Y0, X0 + 1000, Y0 + 500)], crs=CRS)
    spec = {
        "id": "permeable.share", "theme": "permeable", "method": "raster_share", "inputs": {"raster": "landcover", "mask": "builtup"},
        "parameters": {"flag": "permeable"}, "target": target(value=0.5, zone_types=["city"]),
        "shortfall": {"unit": {"zh": "平方公里", "en": "km2"}, "factor": 0.000001, "decimals": 3},
        "proposal": {"kind": "permeable_blocks", "max_convert_share": 0.2},
    }
    landcover = {"values": cover, "cell": 100.0, "nodata": 0, "classes": classes}
    root = make_project({"builtup": builtup, "landcover": landcover}, [spec], zones={"county": {"layer": "counties"}, "builtup": {"layer": "builtup"}})
    table = propose(run_project(load_project(root))).table
    city = _zone(table, "permeable.share", "C")
    assert city["quantity"] == pytest.approx(0.07) and city["shortfall"] == pytest.approx(0.1) and not city["meets_target"]
    assert "gives only 0.070 of the 0.100 km2: 0.030 more need another measure (green roofs, new parks)" in city["detail"]
    assert "可改造地面仅能提供0.070：其余0.030需其他措施（屋顶绿化、新建公园）" in city["detail_zh"]
    assert "缺口为0.100（平方公里）" in city["detail_zh"]
    # the rule in Chinese names the classes in Chinese: only 70 paved ground is converted, and nothing tells roofs apart
    assert "未能区分屋顶：土地覆盖 70 铺装地面" in city["detail_zh"] and "land cover 70 paved holds roofs" in city["detail"]
    assert _numbers(city["detail"]) == _numbers(city["detail_zh"])
    assert {"0.070", "0.100", "0.030", "20", "500"} <= _numbers(city["detail_zh"])
    assert (city["action_zh"], city["action_en"]) == ("不透水地面改为透水地面 0.070 km2", "make 0.070 km2 of impervious ground permeable")
    for column in FILLED:
        assert not foreign_words(city[column], TEXTS[column]), (column, city[column])


