"""Printing an HTML page to PDF with WeasyPrint (CSS paged media), and what to do when it cannot run.

WeasyPrint needs Pango, a system library. Without it (or without WeasyPrint) the run still
writes every other output: :func:`pdf_engine` says so in one line naming the missing piece
and the fix, and the PDFs are left out of the run's set of outputs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from gis.outputs._files import replaced_whole

log = logging.getLogger("gis")

PANGO_FIX = (
    "install Pango (Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0; "
    "macOS: brew install pango; Windows: see https://doc.courtbouillon.org/weasyprint/stable/first_steps.html)"
)
WEASYPRINT_FIX = "install it: pip install 'weasyprint>=62'"
CJK_FONTS = '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei"'
"""Font families with Chinese glyphs, named in the CSS of every printed page (fonts-noto-cjk on Debian/Ubuntu)."""


@dataclass(frozen=True)
class PdfEngine:
    """WeasyPrint when it can run (``html`` its ``HTML`` class), else why not (``missing``: one line with the fix)."""

    html: Any = None
    missing: str = ""

    @property
    def available(self) -> bool:
        return self.html is not None


def missing_engine(exc: BaseException) -> str:
    """The one-line warning for an error importing WeasyPrint: what is missing and how to install it.

    WeasyPrint raises ``OSError`` ("cannot load library 'libpango-1.0-0'") when Pango or
    another system library is missing, ``ImportError`` when it is not installed itself.
    """
    first = (str(exc).splitlines() or [""])[0].strip()
    if isinstance(exc, ImportError) and "weasyprint" in (getattr(exc, "name", None) or first).lower():
        return f"PDFs not written: WeasyPrint is not installed ({first}); {WEASYPRINT_FIX}"
    if isinstance(exc, OSError | ImportError):
        library = _library(first) or "Pango"
        return f"PDFs not written: WeasyPrint cannot load {library} ({first}); {PANGO_FIX}"
    return f"PDFs not written: WeasyPrint failed to start ({type(exc).__name__}: {first}); {WEASYPRINT_FIX}, and {PANGO_FIX}"


def _library(text: str) -> str:
    """The library a loader message names: 'cannot load library 'libpango-1.0-0': ...' gives libpango-1.0-0."""
    for quote in ("'", '"'):
        start = text.find(f"library {quote}")
        if start >= 0:
            rest = text[start + len("library ") + 1 :]
            return rest.split(quote, 1)[0]
    return ""


@cache
def pdf_engine() -> PdfEngine:
    """WeasyPrint's ``HTML`` class, or the reason it cannot run (imported once per process)."""
    try:
        from weasyprint import HTML
    except Exception as exc:  # OSError (no Pango), ImportError (not installed), anything its start-up raises
        return PdfEngine(missing=missing_engine(exc))
    for name in ("weasyprint", "fontTools"):  # its notes on CSS it skips are for developers, not for the planner
        logging.getLogger(name).setLevel(logging.ERROR)
    return PdfEngine(html=HTML)


def warn_missing(engine: PdfEngine) -> None:
    """Log the one-line warning of an engine that cannot run (once per process)."""
    if not engine.available:
        _warn_once(engine.missing)


@cache
def _warn_once(message: str) -> None:
    log.warning("%s", message)


def render_pdf(html: str, *, base_url: str | Path | None = None, engine: PdfEngine | None = None) -> tuple[bytes, int]:
    """The PDF of an HTML page (print media, its ``@page`` rules) and its number of pages.

    ``base_url`` resolves relative links and images. Raises ``RuntimeError`` when WeasyPrint
    cannot run (check :func:`pdf_engine` first).
    """
    engine = engine or pdf_engine()
    if not engine.available:
        raise RuntimeError(engine.missing)
    document = engine.html(string=html, base_url=str(base_url) if base_url is not None else None).render()
    return document.write_pdf(), len(document.pages)


def write_pdf(html: str, path: Path, *, base_url: str | Path | None = None) -> int:
    """Print ``html`` to ``path``, written whole or not at all; returns the number of pages."""
    data, pages = render_pdf(html, base_url=base_url if base_url is not None else path.parent)
    with replaced_whole(path) as staging:
        staging.write_bytes(data)
    return pages
