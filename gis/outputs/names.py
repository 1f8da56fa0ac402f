"""Plain names for the output layers in formats whose names are SQL or file names (PostGIS, File Geodatabase, Shapefile).

A GeoPackage layer is named by its indicator and level (``permeable.share.county``); PostGIS, ArcGIS and
SuperMap want names that need no quoting: lower-case letters, digits and underscores, starting with a letter
(``permeable_share_county``).
"""

from __future__ import annotations

import re

from gis.errors import DataError

_NOT_PLAIN = re.compile(r"[^a-z0-9_]+")


def plain_name(layer: str) -> str:
    """``layer`` as a plain SQL and file name: 'permeable.share.county' -> 'permeable_share_county'.

    Letters are lower-cased; every run of other characters (dots, hyphens, spaces, Chinese) becomes one
    underscore; a name that would not start with a letter starts with 'l_'."""
    name = _NOT_PLAIN.sub("_", layer.lower()).strip("_")
    if not name or not name[0].isalpha():
        name = f"l_{name}"
    return name


def plain_names(layers: list[str], where: str) -> dict[str, str]:
    """Each layer's plain name; two layers that would get the same one are an error naming both."""
    names: dict[str, str] = {}
    for layer in layers:
        name = plain_name(layer)
        clash = next((other for other, given in names.items() if given == name), None)
        if clash is not None:
            msg = f"{where}: layers '{clash}' and '{layer}' would both be named '{name}' outside the GeoPackage; rename one of them"
            raise DataError(msg)
        names[layer] = name
    return names
