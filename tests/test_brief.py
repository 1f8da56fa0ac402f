"""The one-page brief (brief.pdf, brief.html), the PDFs left out when WeasyPrint cannot run, on the shared sample run."""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pypdfium2 as pdfium
import pytest

from gis.outputs._files import replace_together
from gis.outputs.brief import Theme, missing_share, two_columns
from gis.outputs.folder import read_run
from gis.outputs.pdf import PdfEngine, missing_engine, warn_missing
from gis.outputs.summary import headline, plan_targets
from gis.outputs.write import rebuild_report


@pytest.fixture(scope="module")
def out(sample_run: tuple[Path, Path]) -> Path:
    """The outputs of the shared sample run, brief.pdf printed by `gis run` (read only)."""
    return sample_run[1]


@pytest.fixture(scope="module")
def brief(out: Path) -> tuple[str, tuple[float, float], int, object]:
    """The brief's text (all pages), its first page's size and its page count, and page 1 as an image."""
    pdf = pdfium.PdfDocument(out / "brief.pdf")
    try:
        text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
        return text, pdf[0].get_size(), len(pdf), pdf[0].render(scale=1).to_pil().convert("RGB")
    finally:
        pdf.close()


def _squash(text: str) -> str:
    """Text without whitespace or the marks pdfium leaves where a line wraps."""
    return re.sub(r"[\s\ufffe\x02]+", "", text)


def _current(out: Path) -> pd.DataFrame:
    table = pd.read_csv(out / "indicators.csv", dtype={"zone_id": str})
    return table[table["year"] == table["year"].max()]


def test_brief_is_one_a4_page(brief):
    _, size, pages, _ = brief
    assert pages == 1
    assert size == pytest.approx((595.28, 841.89), abs=0.5)  # A4 in points


def test_brief_gives_the_headline_run_and_synthetic_notice(out: Path, brief):
    text, _, _, _ = brief
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    table = _current(out)
    for lang in ("en", "zh"):  # the sample's brief is in both languages: the headline's two lines
        assert _squash(headline(table, lang)) in _squash(text), lang
    assert record["run_id"] in _squash(text)
    assert "SYNTHETIC DATA" in text and "合成数据" in text


def test_brief_shows_every_target_short(out: Path, brief):
    text, _, _, _ = brief
    table = _current(out)
    targets = plan_targets(table[table["status"] != "not_assessed"])
    short = set(targets.loc[targets["status"] == "gap", "indicator"])
    html = (out / "brief.html").read_text(encoding="utf-8")
    listed = set(re.findall(r'<tr class="target" data-indicator="([^"]+)"', html))
    assert listed == short and len(short) > 40
    assert all(_squash(indicator) in _squash(text) for indicator in short)  # each one printed, by its id
    assert len(re.findall(r'<tr class="top-gap"', html)) == 5


def test_brief_page_is_drawn(brief):
    _, _, _, image = brief
    pixels = np.asarray(image).astype(int)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    inked = int(((r + g + b) < 600).sum())
    red = int(((r > 180) & (g < 90) & (b < 90)).sum())
    assert inked > 0.05 * r.size  # text, tables and the map: not a blank sheet
    assert red > 200  # the synthetic notice's border and the counties shaded by their gaps


def test_largest_gaps_are_measured_from_the_target():
    assert missing_share(0.3, 0.4, ">=") == pytest.approx(0.25)  # a quarter of the target still to reach
    assert missing_share(25, 0, "<=") == 1.0  # every one of 25 coal boilers still to go
    assert missing_share(12, 10, "<=") == pytest.approx(2 / 12)
    assert missing_share(5, 0, ">=") is None and missing_share(None, 1, ">=") is None


def test_two_columns_split_a_long_theme_and_head_it_again():
    themes = [Theme("A", list(range(10)), []), Theme("B", list(range(2)), [])]  # type: ignore[arg-type]
    left, right = two_columns(themes)
    assert [t.heading for t in left] == ["A"] and [t.heading for t in right] == ["A", "B"]
    assert right[0].continued and len(left[0].rows) + len(right[0].rows) == 10


# --- without WeasyPrint or Pango ------------------------------------------------------------------------


def test_missing_pango_is_one_line_naming_the_library_and_the_fix():
    error = OSError("cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file: No such file or directory")
    line = missing_engine(error)
    assert "\n" not in line and "libpango-1.0-0" in line and "apt-get install libpango-1.0-0" in line
    missing = ModuleNotFoundError("No module named 'weasyprint'", name="weasyprint")
    assert "pip install 'weasyprint>=62'" in missing_engine(missing)


def test_missing_engine_warns_once(caplog: pytest.LogCaptureFixture):
    engine = PdfEngine(missing="PDFs not written: test engine; install it")
    with caplog.at_level(logging.WARNING, logger="gis"):
        warn_missing(engine)
        warn_missing(engine)
    assert [r.getMessage() for r in caplog.records] == ["PDFs not written: test engine; install it"]


def test_pdfs_not_made_do_not_stay_behind(out: Path, tmp_path: Path):
    """Rebuilt without PDFs (as when Pango is missing), the earlier PDFs go with the rest of their set."""
    copy = tmp_path / "out"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("history"))
    assert (copy / "report.pdf").exists() and (copy / "brief.pdf").exists()
    written = rebuild_report(read_run(copy), copy, pdf=False)
    assert {p.name for p in written} == {"report.html", "brief.html", "gaps.xlsx"}
    assert not (copy / "report.pdf").exists() and not (copy / "brief.pdf").exists()
    assert (copy / "brief.html").read_text(encoding="utf-8").count('class="top-gap"') == 5


def test_a_failed_swap_puts_a_removed_file_back(tmp_path: Path):
    kept = tmp_path / "report.pdf"
    kept.write_text("earlier", encoding="utf-8")
    new = tmp_path / "new.html"
    new.write_text("new", encoding="utf-8")
    with pytest.raises(Exception, match="could not be written"):  # the second move fails: its source is missing
        replace_together([(None, kept), (new, tmp_path / "report.html"), (tmp_path / "absent", tmp_path / "x.csv")], tmp_path, unchanged="as before")
    assert kept.read_text(encoding="utf-8") == "earlier" and not (tmp_path / "report.html").exists()
