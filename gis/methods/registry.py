"""The methods an indicator spec can name, and the check of a spec against its method and the catalog."""

from __future__ import annotations

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
}

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


def layers_read(spec: Spec, params: BaseModel) -> list[str]:
    """Every layer a spec's measurement reads, in order: its inputs, then the ``in_layer`` layers of its conditions."""
    named = list(spec.inputs.values())
    for name in type(params).model_fields:
        named += sorted(_layers_named(getattr(params, name)))
    return list(dict.fromkeys(named))


def reference_problem(project: ProjectConfig, layer: str, value: Any) -> str | None:
    """What is wrong with the names a setting on ``layer`` gives (a field, a list of fields, a condition's
    fields and ``in_layer`` layers): a field the catalog does not map, a layer not in it; None when nothing."""
    entry = project.catalog.layers[layer]
    known = set(entry.fields) | {"id"}
    for field_name in _fields_named(value):
        if entry.fields and field_name not in known:
            return f"layer '{layer}' has no field '{field_name}' in the catalog (fields: {', '.join(sorted(known))})"
    for other in _layers_named(value):
        if other not in project.catalog.layers:
            return f"in_layer '{other}' is not in the catalog"
    return None


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
        if layer not in project.catalog.layers:
            raise fail(("inputs", role), f"layer '{layer}' is not in {project.catalog_path}")
    try:
        params = method.params.model_validate(spec.parameters)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ("parameters", *first["loc"])
        raise fail(key, first["msg"]) from None
    for name, role in method.param_roles.items():
        problem = reference_problem(project, spec.inputs[role], getattr(params, name, None))
        if problem:
            raise fail(("parameters", name), problem)
    for level in spec.zone_types:
        if level == "park" and "park" not in project.catalog.zones:
            raise fail(("zone_types",), "zone type 'park' needs 'zones.park' in the catalog")
    if spec.target and spec.target.baseline_layer and spec.target.baseline_layer not in project.catalog.layers:
        raise fail(("target", "baseline_layer"), f"layer '{spec.target.baseline_layer}' is not in the catalog")
    return params


def validate_specs(project: ProjectConfig) -> None:
    """Check every spec of the project against its method and the catalog (the first problem is raised)."""
    for spec in project.specs:
        validate_spec_against(project, spec, project.spec_path(spec.id))
