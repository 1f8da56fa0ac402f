"""The toolkit's vocabulary (``dictionary.yaml``): what each input and output field means, and how outputs type and name it.

Output fields (and the input fields output layers copy) have a type (``text``, ``integer``, ``real``, ``boolean``:
the column type every output format gives them, never guessed from a run's values), a Chinese alias (QGIS and
File Geodatabase field alias) and a Shapefile name of at most 10 characters.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from functools import cache

from gis.project._yaml import parse_yaml

FIELD_TYPES = ("text", "integer", "real", "boolean")
SHAPEFILE_NAME_MAX = 10


@dataclass(frozen=True)
class OutputField:
    """One field of the output layers: its meaning, type, Chinese alias and Shapefile name."""

    name: str
    type: str
    zh: str
    shapefile: str
    meaning: str

    @property
    def en(self) -> str:
        """The English alias: the name in words ('shortfall_unit' -> 'shortfall unit')."""
        return self.name.replace("_", " ")

    def alias(self, lang: str) -> str:
        """The field's alias in ``lang`` (zh, en, or both: '缺口单位 shortfall unit')."""
        return {"zh": self.zh, "en": self.en}.get(lang, f"{self.zh} {self.en}")


@cache
def _dictionary() -> dict:
    text = (importlib.resources.files("gis.project") / "dictionary.yaml").read_text(encoding="utf-8")
    return parse_yaml(text, "gis/project/dictionary.yaml")[0]


def input_fields(layer: str) -> dict[str, str]:
    """Canonical fields of a reference input layer with their meaning (empty for an unknown layer)."""
    return dict(_dictionary()["inputs"].get(layer, {}))


def output_fields() -> dict[str, str]:
    """Every field an output layer may carry, with its meaning."""
    return {name: entry["meaning"] for name, entry in _dictionary()["outputs"].items()}


def _input_meaning(field: str) -> str:
    for fields in _dictionary()["inputs"].values():
        if field in fields:
            return f"copied from the input: {fields[field]}"
    return ""


def describe_output(field: str) -> str:
    """The meaning of an output field; a field copied from an input layer keeps its input meaning."""
    outputs = _dictionary()["outputs"]
    if field in outputs:
        return str(outputs[field]["meaning"])
    return _input_meaning(field)


@cache
def output_field(name: str) -> OutputField | None:
    """The dictionary's entry for an output field (or a copied input field); None for a field it does not know."""
    entry = _dictionary()["outputs"].get(name) or _dictionary()["copied"].get(name)
    if entry is None:
        return None
    meaning = entry.get("meaning") or _input_meaning(name)
    return OutputField(name=name, type=entry["type"], zh=entry["zh"], shapefile=entry["shapefile"], meaning=meaning)


def field_type(name: str) -> str | None:
    """The dictionary's type of an output field (text, integer, real, boolean); None for a field it does not know."""
    field = output_field(name)
    return None if field is None else field.type
