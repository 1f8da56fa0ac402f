"""A folium page that works offline: Leaflet and MarkerCluster inlined, no CDN links left."""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

import folium
import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
from branca.element import Element, Figure

from gis.errors import UsageError

# folium's CDN assets by the name it gives them: inlined from the xstatic packages, or, when
# folium.Map itself asks for them, dropped: the map uses none of the plugins that need them
# (CircleMarker and DivIcon only).  Any other element asking for them is refused.
_INLINED = {
    "leaflet": ("leaflet", "leaflet.js"),
    "leaflet_css": ("leaflet", "leaflet.css"),
    "markerclusterjs": ("markercluster", "leaflet.markercluster.js"),
    "markerclustercss": ("markercluster", "MarkerCluster.css"),
    "markerclusterdefaultcss": ("markercluster", "MarkerCluster.Default.css"),
}
_DROPPED = {
    "jquery",
    "bootstrap",
    "awesome_markers",
    "bootstrap_css",
    "glyphicons_css",
    "awesome_markers_font_css",
    "awesome_markers_css",
    "awesome_rotate_css",
}
_BASE_DIRS = {
    "leaflet": Path(xstatic.pkg.leaflet.BASE_DIR),
    "markercluster": Path(xstatic.pkg.leaflet_markercluster.BASE_DIR),
}
_REMOTE = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//[^"'\s>]+""", re.IGNORECASE)


@cache
def _asset(package: str, name: str) -> str:
    """The text of one packaged asset, made safe to inline; images in CSS become data: URIs."""
    folder = _BASE_DIRS[package]
    text = (folder / name).read_text(encoding="utf-8")
    text = re.sub(r"^//# sourceMappingURL=.*$", "", text, flags=re.MULTILINE)
    if name.endswith(".css"):

        def inline_image(match: re.Match[str]) -> str:
            data = base64.b64encode((folder / match.group(1)).read_bytes()).decode("ascii")
            return f"url(data:image/png;base64,{data})"

        return re.sub(r"url\(['\"]?(images/[\w.-]+\.png)['\"]?\)", inline_image, text)
    return text.replace("</script", "<\\/script")


class RawHtml(Element):
    """HTML put into the page as it is: unlike ``branca.element.Element`` it is not a Jinja
    template, so braces in data ("{{ ... }}") stay text and are never evaluated."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: object) -> str:
        return self._text


def _inline_element(package: str, name: str) -> Element:
    text = _asset(package, name)
    tag = "style" if name.endswith(".css") else "script"
    return RawHtml(f"<{tag}>{text}</{tag}>")


def make_offline(m: folium.Map) -> None:
    """Inline the JS and CSS that ``m``'s elements need and stop them linking CDNs.

    Call it once every element has been added.  An element that needs an asset with no
    packaged copy is refused, so that the page never silently depends on the network or
    breaks without it.
    """
    needed: list[str] = []
    stack: list[Element] = [m]
    while stack:
        element = stack.pop()
        stack.extend(element._children.values())
        if isinstance(element, folium.Icon):  # Awesome Markers, which folium.Map links from a CDN
            msg = f"map element {element.get_name()} is a folium.Icon, which needs Awesome Markers from a CDN; use CircleMarker or DivIcon"
            raise UsageError(msg)
        for attribute in ("default_js", "default_css"):
            for name, url in getattr(element, attribute, []):
                if name in _INLINED:
                    needed.append(name)
                elif not (name in _DROPPED and isinstance(element, folium.Map)):
                    msg = f"map element {element.get_name()} needs {url}, which has no offline copy; use another element"
                    raise UsageError(msg)
            if hasattr(element, attribute):
                setattr(element, attribute, [])
    figure = m.get_root()
    assert isinstance(figure, Figure)
    for name in _INLINED:  # in dependency order: Leaflet first
        if name in needed:
            figure.header.add_child(_inline_element(*_INLINED[name]), name=f"offline_{name}")


def remote_assets(html: str) -> list[str]:
    """The ``<script src>`` and ``<link href>`` tags of ``html`` that point at the network."""
    return _REMOTE.findall(html)
