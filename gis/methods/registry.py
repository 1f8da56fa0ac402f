"""The methods an indicator spec can name, and the check of a spec against its method and the catalog."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from gis.errors import ConfigError
from gis.methods.attributes import (
    Measurement,
    PresenceParams,
    RatioParams,
    TotalParams,
    WithinParams,
    measure_presence,
    measure_ratio,
    measure_total,
    measure_within,
)
from gis.methods.coverage import CoverageParams, measure_coverage
from gis.methods.landuse import AreaShareParams, measure_area_share
from gis.methods.raster import RasterShareParams, measure_raster_share
from gis.project._yaml import key_error
from gis.project.config import ProjectConfig
from gis.project.specs import Condition, Spec


@dataclass(frozen=True)
class Method:
    """A method: its parameter model, its function, its input roles, and which role each parameter reads."""

    params: type[BaseModel]
    run: Callable[..., Measurement]
    required_inputs: frozenset[str]
    optional_inputs: frozenset[str] = frozenset()
    param_roles: dict[str, str] = field(default_factory=dict)


METHODS: dict[str, Method] = {
    "ratio": Method(
        RatioParams, measure_ratio, frozenset({"features"}),
        param_roles={"where": "features", "numerator": "features", "numerator_where": "features",
                     "denominator": "features", "zone_field": "features"},
    ),
    "total": Method(
        TotalParams, measure_total, frozenset({"features"}),
        param_roles={"where": "features", "field": "features", "zone_field": "features"},
    ),
    "within": Method(
        WithinParams, measure_within, frozenset({"features", "coverage"}),
        param_roles={"where": "features", "coverage_where": "coverage", "group_field": "coverage"},
    ),
    "presence": Method(
        PresenceParams, measure_presence, frozenset({"zones", "facilities"}),
        param_roles={"zone_where": "zones", "facilities_where": "facilities"},
    ),
    "coverage": Method(
        CoverageParams, measure_coverage, frozenset({"base", "facilities"}),
        param_roles={"facilities_where": "facilities", "base_where": "base"},
    ),
    "raster_share": Method(RasterShareParams, measure_raster_share, frozenset({"raster"}), frozenset({"mask"})),
    "area_share": Method(AreaShareParams, measure_area_share, frozenset({"features"}), frozenset({"mask"}), {"class_field": "features"}),
}

TYPO_CUTOFF = 0.8
"""How alike (``difflib`` ratio) a layer name the catalog lacks must be to a catalog layer to be taken for a
misspelling of it (or one edit apart, for short names).  The reference catalog's own names are at most 0.67
alike and never one edit apart, so removing any of them from a city's catalog never turns a spec's name for
it into a typo."""


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by one letter added, dropped, changed, or two neighbours swapped."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    start = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    if len(a) == len(b):
        swapped = a[start + 2:] == b[start + 2:] and a[start:start + 2] == b[start:start + 2][::-1]
        return a[start + 1:] == b[start + 1:] or swapped
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[start + 1:] == shorter[start:]


def misspelt_layer(project: ProjectConfig, name: str) -> str | None:
    """The catalog layer ``name`` reads as a misspelling of (``sewer_netwrk`` for ``sewer_network``, ``lotz`` for
    ``lots``); None when ``name`` is in the catalog or like none of its layers (a layer the project does not have)."""
    if name in project.catalog.layers:
        return None
    layers = list(project.catalog.layers)
    closest = difflib.get_close_matches(name, layers, n=1, cutoff=TYPO_CUTOFF)
    if closest:
        return closest[0]
    return next((layer for layer in layers if _one_edit(name, layer)), None)


def typo_problem(project: ProjectConfig, name: str) -> str | None:
    """The error of a layer name that is not in the catalog but close to one that is; None otherwise.

    A name like no catalog layer is a layer the project does not have: the indicator that reads it
    is not assessed (:func:`absent_layers`), which is no error.
    """
    closest = misspelt_layer(project, name)
    if closest is None:
        return None
    return (f"layer '{name}' is not in {project.catalog_path}; did you mean '{closest}'? (a layer the project lacks "
            f"leaves its indicators not assessed, but a name this close to a catalog layer is taken for a typo)")


def _fields_named(value: Any) -> set[str]:
    """Field names a parameter value refers to (a condition's fields, or a field name or list)."""
    if isinstance(value, Condition):
        return value.fields_used()
    if isinstance(value, str):
        return {value.lstrip("-")}
    if isinstance(value, list):
        return {v.lstrip("-") for v in value if isinstance(v, str)}
    return set()


def _layers_named(value: Any) -> set[str]:
    if isinstance(value, Condition):
        found = {value.in_layer} if value.in_layer else set()
        for child in (value.all or []) + (value.any or []) + ([value.not_] if value.not_ else []):
            found |= _layers_named(child)
        return found
    return set()


LAYER_PARAMETERS: dict[str, frozenset[str]] = {"coverage": frozenset({"roads"})}
"""Per method, the parameters whose value is the name of a layer it reads (``roads`` of a network coverage)."""


def layers_read(spec: Spec, params: BaseModel) -> list[str]:
    """Every layer a spec's measurement reads, in order: its inputs, the layers its parameters name
    (:data:`LAYER_PARAMETERS`), then the ``in_layer`` layers of its conditions."""
    named = list(spec.inputs.values())
    for name in sorted(LAYER_PARAMETERS.get(spec.method, frozenset())):
        value = getattr(params, name, None)
        if isinstance(value, str):
            named.append(value)
    for name in type(params).model_fields:
        named += sorted(_layers_named(getattr(params, name)))
    return list(dict.fromkeys(named))


def reference_problem(project: ProjectConfig, layer: str, value: Any) -> str | None:
    """What is wrong with the names a setting on ``layer`` gives (a field, a list of fields, a condition's
    fields and ``in_layer`` layers): a field the catalog does not map, a layer name misspelt (:func:`typo_problem`);
    None when nothing (an ``in_layer`` layer the project lacks leaves the indicator not assessed, no error)."""
    entry = project.catalog.layers.get(layer)
    if entry is None:  # a layer the project lacks: the indicator or the proposal does without it, said where it runs
        return None
    known = set(entry.fields) | {"id"}
    for field_name in _fields_named(value):
        if entry.fields and field_name not in known:
            return f"layer '{layer}' has no field '{field_name}' in the catalog (fields: {', '.join(sorted(known))})"
    for other in sorted(_layers_named(value)):
        problem = typo_problem(project, other)
        if problem:
            return f"in_layer: {problem}"
    return None


def spec_layers(spec: Spec) -> list[str]:
    """Every layer a spec reads, in order: its inputs, its conditions' ``in_layer`` layers, its target's ``baseline_layer``."""
    named = layers_read(spec, METHODS[spec.method].params.model_validate(spec.parameters))
    if spec.target and spec.target.baseline_layer:
        named.append(spec.target.baseline_layer)
    return list(dict.fromkeys(named))


def absent_layers(project: ProjectConfig, spec: Spec) -> list[str]:
    """The layers a spec reads (:func:`spec_layers`) that the catalog does not have, in order: when any,
    the indicator is not assessed."""
    return [name for name in spec_layers(spec) if name not in project.catalog.layers]


def absent_text(names: list[str]) -> str:
    """The short reason of an indicator not assessed: "no layer 'a'", "no layers 'a', 'b'"."""
    quoted = ", ".join(f"'{name}'" for name in names)
    return f"no layer {quoted}" if len(names) == 1 else f"no layers {quoted}"


def not_assessed_note(project: ProjectConfig, spec: Spec, names: list[str]) -> str:
    """The ``status_note`` of an indicator not assessed because the catalog lacks ``names``.

    It starts "not assessed: no layer 'x';" (the short reason the outputs list, up to the first ';').
    """
    baseline = spec.target.baseline_layer if spec.target else None
    them = "it" if len(names) == 1 else "them"
    measured = ("; the value is measured but not judged: the target needs the baseline table"
                if names == [baseline] else "")
    catalog = f"{project.catalog_path.parent.name}/{project.catalog_path.name}"
    return (f"not assessed: {absent_text(names)}; the catalog {catalog} lacks {them}: "
            f"add {them} under 'layers' to assess this indicator{measured}")


def validate_spec_against(project: ProjectConfig, spec: Spec, path: Path) -> BaseModel:
    """Check a spec's inputs, parameters and fields against the method and the catalog."""

    def fail(key: tuple[Any, ...], text: str) -> ConfigError:
        return key_error(path, key, text)

    themes = project.catalog.project.themes
    if themes and spec.theme not in themes:
        raise fail(("theme",), f"theme '{spec.theme}' is not in 'project.themes' of {project.catalog_path} ({', '.join(themes)})")
    method = METHODS[spec.method]
    missing = method.required_inputs - set(spec.inputs)
    if missing:
        raise fail(("inputs",), f"method {spec.method} needs inputs {', '.join(sorted(missing))}")
    extra = set(spec.inputs) - method.required_inputs - method.optional_inputs
    if extra:
        raise fail(("inputs", sorted(extra)[0]), f"method {spec.method} takes no input '{sorted(extra)[0]}'")
    for role, layer in spec.inputs.items():
        problem = typo_problem(project, layer)
        if problem:
            raise fail(("inputs", role), problem)
    try:
        params = method.params.model_validate(spec.parameters)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ("parameters", *first["loc"])
        raise fail(key, first["msg"]) from None
    for name in sorted(LAYER_PARAMETERS.get(spec.method, frozenset())):
        value = getattr(params, name, None)
        problem = typo_problem(project, value) if isinstance(value, str) else None
        if problem:
            raise fail(("parameters", name), problem)
    for name, role in method.param_roles.items():
        if spec.inputs[role] not in project.catalog.layers:
            continue  # a layer the project lacks: nothing to check its fields against (the indicator is not assessed)
        problem = reference_problem(project, spec.inputs[role], getattr(params, name, None))
        if problem:
            raise fail(("parameters", name), problem)
    baseline = spec.target.baseline_layer if spec.target else None
    problem = typo_problem(project, baseline) if baseline else None
    if problem:
        raise fail(("target", "baseline_layer"), problem)
    if absent_layers(project, spec):
        return params  # not assessed: its zone types are not looked at
    for level in spec.zone_types:
        if level in ("park", "prefecture") and level not in project.catalog.zones:
            raise fail(("zone_types",), f"zone type '{level}' needs 'zones.{level}' in the catalog")
    return params


def validate_specs(project: ProjectConfig) -> None:
    """Check every spec of the project against its method and the catalog (the first problem is raised).

    A layer the catalog lacks is no problem (the indicator is not assessed, :func:`absent_layers`)
    unless its name is close to a catalog layer's (:func:`typo_problem`).
    """
    for spec in project.specs:
        validate_spec_against(project, spec, project.spec_path(spec.id))
