"""The toolkit's vocabulary (``dictionary.yaml``): what each input and output field means."""

from __future__ import annotations

import importlib.resources
from functools import cache

import yaml


@cache
def _dictionary() -> dict:
    text = (importlib.resources.files("gis.project") / "dictionary.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def input_fields(layer: str) -> dict[str, str]:
    """Canonical fields of a reference input layer with their meaning (empty for an unknown layer)."""
    return dict(_dictionary()["inputs"].get(layer, {}))


def output_fields() -> dict[str, str]:
    """Every field an output layer may carry, with its meaning."""
    return dict(_dictionary()["outputs"])


def describe_output(field: str) -> str:
    """The meaning of an output field; a field copied from an input layer keeps its input meaning."""
    outputs = _dictionary()["outputs"]
    if field in outputs:
        return outputs[field]
    for fields in _dictionary()["inputs"].values():
        if field in fields:
            return f"copied from the input: {fields[field]}"
    return ""
