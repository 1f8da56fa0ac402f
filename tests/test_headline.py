"""The headline counts plan targets at the level the plan sets them; zone rows come second."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gis.outputs.summary import headline, plan_targets, target_tallies


def _rows(*rows: tuple[str, str, str, float | None]) -> pd.DataFrame:
    """(indicator, zone_type, status, target) rows of an indicators table."""
    return pd.DataFrame(
        [{"indicator": i, "zone_type": z, "zone_id": f"{z}{n}", "status": s, "target": np.nan if t is None else t} for n, (i, z, s, t) in enumerate(rows)]
    )


TABLE = _rows(
    # a city target only: counties reported, not judged (one of them 0/0: no data, but no target either)
    ("a.share", "city", "gap", 0.25), ("a.share", "county", "no_target", None), ("a.share", "county", "no_data", None),
    # a target for the city and for every county
    ("b.rate", "city", "met", 0.98), ("b.rate", "county", "met", 0.98), ("b.rate", "county", "gap", 0.98),
    ("b.rate", "county", "no_data", 0.98),
    # a target set per county only (the city row carries none)
    ("c.count", "city", "no_target", None), ("c.count", "county", "met", 1.0), ("c.count", "county", "no_data", 1.0),
    # a city target the run could not measure, and an indicator without any target
    ("d.total", "city", "no_data", 10.0), ("e.info", "city", "no_target", None), ("e.info", "county", "no_target", None),
    # a target per park
    ("f.parks", "park", "gap", 1.0), ("f.parks", "park", "gap", 1.0),
)


def test_targets_are_counted_at_their_level():
    table = plan_targets(TABLE).set_index(["indicator", "level"])
    assert sorted(table.index) == [("a.share", "city"), ("b.rate", "city"), ("b.rate", "county"), ("c.count", "county"),
                                   ("d.total", "city"), ("f.parks", "park")]
    assert table.loc[("b.rate", "county"), "status"] == "gap"  # one county short is a gap of the county target
    assert table.loc[("b.rate", "county"), ["zones", "zones_met", "zones_gap", "zones_no_data"]].tolist() == [3, 1, 1, 1]
    assert table.loc[("c.count", "county"), "status"] == "met"  # met where measured; the 0/0 county keeps its own no_data row
    assert table.loc[("d.total", "city"), "status"] == "no_data"
    tallies = {t.level: t for t in target_tallies(TABLE)}
    assert list(tallies) == ["city", "county", "park"]
    assert tallies["city"].targets == {"met": 1, "gap": 1, "no_data": 1} and tallies["city"].total == 3
    assert tallies["county"].targets == {"met": 1, "gap": 1, "no_data": 0}
    assert tallies["county"].rows == {"met": 2, "gap": 1, "no_data": 2}


def test_headline_in_each_language():
    assert headline(TABLE) == (
        "city 3 targets: 1 met, 1 gap, 1 no data; set per county 2 targets: 1 met, 1 gap (1 of 5 county rows short); "
        "set per park 1 target: 0 met, 1 gap (2 of 2 park rows short)"
    )
    assert headline(TABLE, "zh") == (
        "全市 3 项目标：达标 1，未达标 1，无数据 1；分县(市、区)设定 2 项目标：达标 1，未达标 1（5 个县(市、区)评估中 1 个未达标）；"
        "分园区设定 1 项目标：达标 0，未达标 1（2 个园区评估中 2 个未达标）"
    )
    assert headline(TABLE.iloc[0:0]) == "no targets judged"
