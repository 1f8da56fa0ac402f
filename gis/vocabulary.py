"""The toolkit's vocabulary (``dictionary.yaml``): what each input and output field means."""

from __future__ import annotations

import importlib.resources
from functools import cache

import yaml


@cache
def _dictionary() -> dict:
    text = (importlib.resources.files("gis") / "dictionary.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def input_fields(layer: str) -> dict[str, str]:
    """Canonical fields of a reference input layer with their meaning (empty for an unknown layer)."""
    return dict(_dictionary()["inputs"].get(layer, {}))


def output_fields() -> dict[str, str]:
    """Every field an output layer may carry, with its meaning."""
    return dict(_dictionary()["outputs"])


def describe_output(field: str) -> str:
    """The meaning of an output field ("" when it is not in the dictionary)."""
    return _dictionary()["outputs"].get(field, "")
