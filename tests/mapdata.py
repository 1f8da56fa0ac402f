"""Reading a web map's layers back from its page, as its scripts do: shared shapes and popup pieces joined."""

from __future__ import annotations

import json
import re
from typing import Any

_DATA = re.compile(r"var (\w+)_data = (\{.*?\});\n")
_SHAPES = re.compile(r"var (gis_shapes_\w+) = (\[.*?\]);\n")


def decoded(data: dict[str, Any], shapes: dict[str, list[Any]]) -> dict[str, Any]:
    """A layer's data with each feature whole: its geometry (from the page's shared shapes when the layer uses them)
    and its ``popup`` and ``tooltip`` texts joined from the layer's ``parts``."""
    parts = data.get("parts", [])
    features = []
    for index, feature in enumerate(data["features"]):
        properties = dict(feature["properties"])
        if "p" in properties:
            properties["popup"] = "".join(parts[i] for i in properties.pop("p"))
            properties["tooltip"] = "".join(parts[i] for i in properties.pop("t"))
        geometry = shapes[data["shapes"]][index] if "shapes" in data else feature["geometry"]
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return {**data, "features": features}


def page_layers(page: str) -> dict[str, dict[str, Any]]:
    """Every feature layer of a map page by its JavaScript name, decoded (:func:`decoded`)."""
    shapes = {name: json.loads(text) for name, text in _SHAPES.findall(page)}
    return {name: decoded(json.loads(text), shapes) for name, text in _DATA.findall(page)}


def layer_data(page: str, layer: str) -> dict[str, Any]:
    """The decoded features and styles of the layer whose JavaScript name is ``layer``."""
    layers = page_layers(page)
    assert layer in layers, layer
    return layers[layer]


def readable(page: str) -> str:
    """The page and, after it, every popup and tooltip of its layers joined from their pieces, a line each: what a
    reader meets by pointing and clicking, searchable as text."""
    texts = [feature["properties"][key] for data in page_layers(page).values() for feature in data["features"]
             for key in ("popup", "tooltip") if feature["properties"].get(key)]
    return page + "\n" + "\n".join(texts)
