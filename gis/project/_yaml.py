"""Safe YAML loading with errors that name the file, the line and the key.

Every YAML file of the package and of a project is read here: with libyaml's safe loader when PyYAML has it
(else PyYAML's own safe loader; never an unsafe one), each file parsed once into its node tree (the line numbers
of errors) and built from that tree, and kept by path, modification time and size, so that reading it again in
the same process costs a copy, and a file changed on disk is read afresh.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from gis.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""The safe loader, libyaml's when PyYAML has it."""

_READ: dict[str, tuple[tuple[int, int, int], Any, yaml.Node | None]] = {}
"""The files read so far, by absolute path: (modification time in ns, size, inode), the data and the node tree."""


def parse_yaml(text: str, source: str | Path) -> tuple[Any, yaml.Node | None]:
    """Parse YAML ``text`` with the safe loader, once; the data and its node tree (for line numbers).

    A syntax error is one :class:`ConfigError` line: ``source:line: YAML error: ...``.
    """
    loader = SAFE_LOADER(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else str(source)
        msg = f"{where}: YAML error: {exc.problem or exc.context}; fix the syntax at that line"
        raise ConfigError(msg) from None
    except yaml.YAMLError as exc:
        msg = f"{source}: YAML error: {exc}"
        raise ConfigError(msg) from None
    finally:
        loader.dispose()
    return data, node


def load_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Read ``path`` with the safe loader; return the data and its node tree (for line numbers).

    A file read before in this process, unchanged since (same modification time, size and inode: a file
    replaced by a new one is read again), is not parsed again: the caller gets its own copy of the data (free to change it) and the shared node tree.
    """
    key = os.path.abspath(path)
    try:
        stat = os.stat(key)
    except FileNotFoundError:
        msg = f"{path}: file not found"
        raise ConfigError(msg) from None
    except OSError as exc:
        msg = f"{path}: cannot read ({exc}); save it as UTF-8 text"
        raise ConfigError(msg) from None
    stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    cached = _READ.get(key)
    if cached is None or cached[0] != stamp:
        try:
            text = Path(key).read_text(encoding="utf-8")
        except FileNotFoundError:
            msg = f"{path}: file not found"
            raise ConfigError(msg) from None
        except (OSError, UnicodeDecodeError) as exc:
            msg = f"{path}: cannot read ({exc}); save it as UTF-8 text"
            raise ConfigError(msg) from None
        data, node = parse_yaml(text, path)
        cached = _READ[key] = (stamp, data, node)
    return copy.deepcopy(cached[1]), cached[2]


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


def key_error(path: Path, key_path: tuple[Any, ...], text: str, node: yaml.Node | None = None) -> ConfigError:
    """The error for a key of a YAML file: ``path:line: key 'a.b': text``.

    ``node`` is the file's node tree when the caller has it; otherwise the file is read for the
    line only now, when there is an error to report (a valid file is not parsed again).
    """
    if node is None and path.is_file():
        node = load_yaml(path)[1]
    line = line_of(node, key_path)
    where = f"{path}:{line}" if line else str(path)
    key = ".".join(str(part) for part in key_path) or "(top level)"
    return ConfigError(f"{where}: key '{key}': {text}")


def validate(model: type[Model], data: Any, path: Path, node: yaml.Node | None = None, *, at: tuple[Any, ...] = ()) -> Model:
    """Validate ``data`` against ``model``; on failure raise one line naming file, line and key.

    ``node`` is the file's node tree (read from ``path`` on failure when not given); ``at`` the key
    path of ``data`` in it (``("proposal",)``).
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise key_error(path, (*at, *first["loc"]), f"{first['msg']}{more}", node) from None
