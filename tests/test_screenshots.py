"""Screenshots of the map and the report of the sample run, taken by headless Chromium.

The README shows them; `make screenshots` copies them from tests/artifacts/ to tests/screenshots/.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"


def _shoot(url: str, shot: Path, profile: Path, size: str) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} not found; CI must install it (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium to take screenshots")
    shot.unlink(missing_ok=True)
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--mute-audio", "--hide-scrollbars",
        f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
        "--virtual-time-budget=5000", f"--window-size={size}", f"--screenshot={shot}", url,
    ]  # fmt: skip
    subprocess.run(command, capture_output=True, text=True, timeout=90, check=True)
    assert shot.stat().st_size > 20_000


@pytest.mark.parametrize(("page", "size"), [("map.html", "1400,900"), ("report.html", "1200,1800")])
def test_screenshot_of_the_sample_run(sample_run, tmp_path, page, size):
    _, out = sample_run
    ARTIFACTS.mkdir(exist_ok=True)
    _shoot((out / page).as_uri(), ARTIFACTS / page.replace(".html", ".png"), tmp_path / "profile", size)
