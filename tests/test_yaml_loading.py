"""Every YAML file is parsed once per process, with the safe loader, and read afresh when it changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from gis.errors import ConfigError
from gis.project._yaml import SAFE_LOADER, load_yaml, parse_yaml


def test_the_loader_is_safe_and_libyamls_when_present() -> None:
    assert SAFE_LOADER is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with pytest.raises(ConfigError, match=r"^evil\.yaml:1: YAML error: could not determine a constructor"):
        parse_yaml("!!python/object/apply:os.system ['echo hi']\n", "evil.yaml")


def test_a_file_is_parsed_once_and_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("id: a.b\nvalue: 1\n", encoding="utf-8")
    first, node = load_yaml(path)
    assert first == {"id": "a.b", "value": 1}

    first["value"] = 99  # the caller's copy: the next reader still gets the file
    again, same_node = load_yaml(path)
    assert again == {"id": "a.b", "value": 1}
    assert same_node is node, "an unchanged file is not parsed again"

    path.write_text("id: a.b\nvalue: 22\n", encoding="utf-8")  # another size
    changed, new_node = load_yaml(path)
    assert changed == {"id": "a.b", "value": 22}
    assert new_node is not node

    stat = path.stat()
    path.write_text("id: a.b\nvalue: 33\n", encoding="utf-8")  # the same size, in place ...
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # ... a later modification time
    assert load_yaml(path)[0] == {"id": "a.b", "value": 33}

    replacement = tmp_path / "new.yaml"
    replacement.write_text("id: a.b\nvalue: 44\n", encoding="utf-8")
    os.utime(replacement, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))  # same time and size, another file
    os.replace(replacement, path)
    assert load_yaml(path)[0] == {"id": "a.b", "value": 44}


def test_bad_yaml_is_one_line_naming_file_and_line_and_is_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text("project:\n  name: x\n    crs: EPSG:4546\n", encoding="utf-8")  # line 3 indented under a scalar
    with pytest.raises(ConfigError) as caught:
        load_yaml(path)
    text = str(caught.value)
    assert text.startswith(f"{path}:3: YAML error: mapping values are not allowed")
    assert "\n" not in text and text.endswith("fix the syntax at that line")

    path.write_text("project:\n  name: x\n  crs: EPSG:4546\n", encoding="utf-8")
    assert load_yaml(path)[0] == {"project": {"name": "x", "crs": "EPSG:4546"}}


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"absent\.yaml: file not found$"):
        load_yaml(tmp_path / "absent.yaml")
