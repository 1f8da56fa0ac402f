"""The package's imports point one way: no cycle among the modules of ``gis``.

The graph is read from the source, so every import counts: at module level, inside a
function (deferred) and under ``if TYPE_CHECKING:``.  ``from gis.a import b`` is an edge to
``gis.a`` and, when ``b`` is a module, to ``gis.a.b``.  The implicit import of a package's
``__init__`` by its submodules is not an edge (Python runs it first, whatever it imports), nor
is ``from gis.a import b`` to ``gis.a`` itself when every name it takes is a submodule.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point

PACKAGE = Path(__file__).resolve().parent.parent / "gis"


def _module_names(package: Path) -> dict[str, Path]:
    names = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    """The absolute module a ``from ... import`` names."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports anywhere in its source."""
    modules = _module_names(package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(name, node, path.name == "__init__.py")
                submodules = [f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in modules]
                targets = submodules if len(submodules) == len(node.names) else [source, *submodules]
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for child in sorted(graph[node]):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("from pkg.sub import leaf\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "leaf.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..top import x\n")
    (package / "top.py").write_text("def f():\n    from . import other\n    import pkg.sub\n")
    (package / "other.py").write_text("from .sub.leaf import y\n")
    (package / "sub" / "mid.py").write_text("from pkg.sub import leaf\n")
    graph = import_graph(package)
    assert graph["pkg"] == {"pkg.sub.leaf"}
    assert graph["pkg.sub.leaf"] == {"pkg.top"}, "a type-checking-only relative import"
    assert graph["pkg.top"] == {"pkg.other", "pkg.sub"}, "deferred imports inside a function"
    assert graph["pkg.sub.mid"] == {"pkg.sub.leaf"}, "a submodule taken from its package is not an import of the package"
    assert cycles(graph) == [["pkg.other", "pkg.sub.leaf", "pkg.top"]]


def test_cycles_are_found_in_a_hand_made_graph() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles in gis/: " + "; ".join(" <-> ".join(c) for c in found)


# --- what each command imports ------------------------------------------------------------------------

HEAVY = ("folium", "branca", "openpyxl", "weasyprint", "dask", "distributed", "jinja2", "matplotlib")
"""Libraries imported only by the code that writes their files (map, workbook, report and brief, PDFs) or runs
on them (Dask): a command that writes none of those files must not pay for them."""

_LOADED = f"print(json.dumps(sorted(m for m in {list(HEAVY)!r} if m in sys.modules)))"
"""A line printing which of :data:`HEAVY` the interpreter has imported, as a JSON list."""

_COMMAND = f"""
import json, sys
from gis.cli.main import main
try:
    main(sys.argv[1:], prog_name="gis", standalone_mode=False)
    code = 0
except SystemExit as exc:
    code = exc.code or 0
print(code)
{_LOADED}
"""
"""``gis ARGS`` in this process, then its exit code and the heavy libraries it imported."""


def _fresh(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``code`` run by a fresh interpreter (nothing imported yet) with ``args``."""
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False, timeout=300)


def _heavy_after(statement: str) -> list[str]:
    """The heavy libraries a fresh interpreter has imported after ``statement``."""
    done = _fresh(f"import json, sys\n{statement}\n{_LOADED}")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _command(*args: str) -> tuple[int, list[str], str]:
    """``gis ARGS`` in a fresh interpreter: its exit code, the heavy libraries it imported and its standard error."""
    done = _fresh(_COMMAND, *args)
    lines = done.stdout.splitlines()
    assert len(lines) >= 2, done.stderr
    return int(lines[-2]), json.loads(lines[-1]), done.stderr


def test_import_gis_and_the_command_line_import_no_writer() -> None:
    assert _heavy_after("import gis") == []
    assert _heavy_after("import gis.cli.main") == []
    assert _heavy_after("import gis; gis.load_project") == [], "the API module itself imports no writer"
    assert _heavy_after("import gis.outputs.write") == [], "writing outputs imports each writer where it writes"
    assert _heavy_after("import gis.outputs.webmap") == ["branca", "folium", "jinja2"], "the probe sees an import"


def _tiny_project(make_project) -> Path:
    lots = gpd.GeoDataFrame(
        {"id": ["L1", "L2"], "name": ["a", "b"], "spaces": [100, 100], "charger_spaces": [30, 10]},
        geometry=[Point(500_100, 3_800_100), Point(501_500, 3_800_500)], crs="EPSG:4546",
    )
    spec = {
        "id": "charging.parking_share", "method": "ratio", "inputs": {"features": "lots"},
        "parameters": {"numerator": "charger_spaces", "denominator": "spaces"},
        "target": {"comparator": ">=", "clause": "二(四)", "wording": "test", "value": 0.25},
        "shortfall": {"unit": "spaces", "factor": 1, "decimals": 0},
    }
    return make_project({"lots": lots}, [spec])


def test_commands_import_only_what_their_files_need(make_project, tmp_path: Path) -> None:
    root = _tiny_project(make_project)
    out = tmp_path / "out"

    assert _command("--help")[:2] == (0, [])

    code, heavy, said = _command("check", "--project", str(root), "--out", str(tmp_path / "check"))
    assert code == 0, said
    assert "1 of 1 indicators will run" in said, "the check did its work"
    assert heavy == []
    for command in ("layers", "targets"):
        code, heavy, said = _command(command, "--project", str(root), "--format", "csv")
        assert (code, heavy) == (0, []), said

    code, heavy, said = _command("-q", "run", "--project", str(root), "--out", str(out), "--no-pdf")
    assert code == 0, said
    assert (out / "map.html").is_file() and (out / "gaps.xlsx").is_file() and not (out / "report.pdf").exists()
    assert heavy == ["branca", "folium", "jinja2", "openpyxl"], "the map, the workbook and the report's: no PDF, no Dask"

    for command in (["history"], ["diff", "latest"]):
        code, heavy, said = _command(*command, "--out", str(out))
        assert (code, heavy) == (0, []), said
    code, heavy, said = _command("report", "--out", str(out), "--no-pdf")
    assert (code, heavy) == (0, ["jinja2", "openpyxl"]), said
    code, heavy, said = _command("map", "--out", str(out))
    assert (code, heavy) == (0, ["branca", "folium", "jinja2"]), said


def test_reading_a_finished_run_imports_no_raster_library() -> None:
    """`gis history`, `gis diff` and `gis export` read run folders: no exactextract or rasterio (0.4 s) for that."""
    probe = "print(json.dumps(sorted(m for m in ('exactextract', 'rasterio', 'gis.proposals.registry') if m in sys.modules)))"
    for statement in ("import gis.outputs.history", "import gis.outputs.folder", "from gis.proposals import PROPOSAL_COLUMNS"):
        done = _fresh(f"import json, sys\n{statement}\n{probe}")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout.splitlines()[-1]) == [], statement
    done = _fresh("import json, sys\nfrom gis.proposals import propose\n" + probe)
    assert json.loads(done.stdout.splitlines()[-1]) == ["exactextract", "gis.proposals.registry", "rasterio"], "the probe sees them"
