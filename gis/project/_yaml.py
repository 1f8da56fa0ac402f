"""Safe YAML loading with errors that name the file, the line and the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from gis.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)


def load_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Read ``path`` with the safe loader; return the data and its node tree (for line numbers)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"{path}: file not found"
        raise ConfigError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot read ({exc}); save it as UTF-8 text"
        raise ConfigError(msg) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        msg = f"{where}: YAML error: {exc.problem or exc.context}; fix the syntax at that line"
        raise ConfigError(msg) from None
    except yaml.YAMLError as exc:
        msg = f"{path}: YAML error: {exc}"
        raise ConfigError(msg) from None
    return data, node


def line_of(node: yaml.Node | None, key_path: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest node reachable along ``key_path``."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in key_path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(key)), None)
            if match is None:
                break
            line = next(k for k, v in node.value if v is match).start_mark.line + 1
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def validate(model: type[Model], data: Any, path: Path, node: yaml.Node | None, *, at: tuple[Any, ...] = ()) -> Model:
    """Validate ``data`` against ``model``; on failure raise one line naming file, line and key.

    ``node`` is the file's node tree; ``at`` the key path of ``data`` in it (``("proposal",)``).
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = (*at, *first["loc"])
        key = ".".join(str(part) for part in loc) or "(top level)"
        line = line_of(node, loc)
        where = f"{path}:{line}" if line else str(path)
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        msg = f"{where}: key '{key}': {first['msg']}{more}"
        raise ConfigError(msg) from None
