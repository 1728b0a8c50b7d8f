"""The house rules, read from the source with `ast` (nothing is imported or run):

- arrows point down only: app → pages → components → datasets → i18n / config; `server` is
  beside `components` and never imports a page; the data layer imports no web framework;
- no import cycle among the project's modules (import-linter's reading: `from pkg import sub`
  is an edge to the submodule `pkg.sub`, an import inside a function counts);
- SQL lives in `datasets/` only: no `duckdb` or `sqlite3` import, no SQL text elsewhere;
- no file over 600 lines, no function over 80 (a nested function counts inside its parent).

Each failure names the module and the line. The checkers are plain functions of a folder, so
the tests at the end feed each one a small tree that breaks its rule.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIPPED_DIRS = {"tests", "node_modules", "__pycache__", "build", "dist"}
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80
SQL_HOME = "datasets"
SQL_MODULES = {"duckdb", "sqlite3"}
# What each top-level package must not import (the first part of the imported name).
FORBIDDEN = {
    "datasets": {"dash", "flask", "werkzeug", "plotly", "components", "pages", "server", "app"},
    "components": {"pages", "app"},
    "server": {"pages", "app"},
    "pages": {"app"},
    "i18n": {"datasets", "components", "pages", "server", "app", "dash", "flask", "plotly"},
}
SQL_TEXT = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bGROUP\s+BY\b|\bDELETE\s+FROM\b"
    r"|\bCREATE\s+(?:TABLE|VIEW|INDEX)\b|\bUPDATE\s+\w+\s+SET\b"
)
GENERATED = re.compile(r"^#.*\b(generated|do not edit)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (or name, for a package's attribute)
    line: int


def project_modules(root: Path) -> dict[str, Path]:
    """The project's modules by dotted name: every .py outside tests/, hidden folders and
    virtual environments."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if any(p.startswith(".") or p in SKIPPED_DIRS or p.endswith(".egg-info") for p in parts):
            continue
        name = list(path.relative_to(root).with_suffix("").parts)
        if name[-1] == "__init__":
            name = name[:-1]
        if name:
            found[".".join(name)] = path
    return found


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imports(modules: dict[str, Path]) -> list[Import]:
    """Every import statement of every module, anywhere in it (functions, TYPE_CHECKING)."""
    found = []
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Import):
                found += [Import(module, alias.name, node.lineno) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".") if package else []
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join(parts + ([node.module] if node.module else []))
                for alias in node.names:
                    sub = f"{base}.{alias.name}" if base else alias.name
                    found.append(Import(module, sub if sub in modules else base, node.lineno))
    return found


def upward_imports(found: list[Import]) -> list[str]:
    return [
        f"{i.module}:{i.line} imports {i.target} (an arrow up: {i.module.split('.')[0]} "
        f"must not import {i.target.split('.')[0]})"
        for i in found
        if i.target.split(".")[0] in FORBIDDEN.get(i.module.split(".")[0], ())
    ]


def import_cycles(found: list[Import], modules: dict[str, Path]) -> list[str]:
    """Each strongly connected component of the import graph with more than one module, with
    the imports that close it (a package naming its own attribute is no edge)."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for i in found:
        if i.target in modules and i.target != i.module:
            graph[i.module].add(i.target)
    failures = []
    for component in _strongly_connected(graph):
        if len(component) == 1:
            continue
        members = set(component)
        edges = sorted(
            f"{i.module}:{i.line} → {i.target}"
            for i in found
            if i.module in members and i.target in members and i.module != i.target
        )
        failures.append(f"cycle among {sorted(members)}: " + "; ".join(dict.fromkeys(edges)))
    return failures


def _strongly_connected(graph: dict[str, set[str]]) -> Iterator[list[str]]:
    """Tarjan's algorithm, iterative (an import chain may be deeper than the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                yield sorted(component)


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def sql_outside_home(modules: dict[str, Path], found: list[Import]) -> list[str]:
    """A duckdb / sqlite3 import, or a string (not a docstring) that reads as SQL, in a module
    outside `datasets/`."""
    failures = [
        f"{i.module}:{i.line} imports {i.target} (SQL belongs in {SQL_HOME}/)"
        for i in found
        if i.target.split(".")[0] in SQL_MODULES and i.module.split(".")[0] != SQL_HOME
    ]
    for module, path in modules.items():
        if module.split(".")[0] == SQL_HOME:
            continue
        tree = _tree(path)
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and SQL_TEXT.search(node.value)
            ):
                failure = f"{module}:{node.lineno} holds SQL text (belongs in {SQL_HOME}/)"
                failures += [failure] if failure not in failures else []
    return failures


def _generated(path: Path) -> bool:
    with path.open(encoding="utf-8") as handle:
        return bool(GENERATED.match(handle.readline()))


def big_files(modules: dict[str, Path]) -> list[str]:
    failures = []
    for module, path in modules.items():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_FILE_LINES and not _generated(path):
            failures.append(f"{module}:1 has {lines} lines (at most {MAX_FILE_LINES})")
    return failures


def big_functions(modules: dict[str, Path]) -> list[str]:
    failures = []
    for module, path in modules.items():
        if _generated(path):
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    failures.append(
                        f"{module}:{node.lineno} {node.name}() has {lines} lines "
                        f"(at most {MAX_FUNCTION_LINES})"
                    )
    return failures


def report(failures: list[str]) -> str:
    return f"{len(failures)} found:\n" + "\n".join(failures)


# -- the project --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project() -> tuple[dict[str, Path], list[Import]]:
    modules = project_modules(ROOT)
    return modules, imports(modules)


def test_the_checker_reads_the_whole_project(project):
    modules, found = project
    for expected in ("app", "pages.sdg", "components.charts", "datasets.catalog", "server.http"):
        assert expected in modules
    assert not any(name.startswith("tests") for name in modules)
    assert Import("app", "pages.sdg", 1).target in {i.target for i in found if i.module == "app"}


def test_no_import_points_up(project):
    _modules, found = project
    failures = upward_imports(found)
    assert not failures, report(failures)


def test_no_import_cycle(project):
    modules, found = project
    failures = import_cycles(found, modules)
    assert not failures, report(failures)


def test_no_sql_outside_the_data_layer(project):
    modules, found = project
    failures = sql_outside_home(modules, found)
    assert not failures, report(failures)


def test_no_file_over_600_lines(project):
    failures = big_files(project[0])
    assert not failures, report(failures)


def test_no_function_over_80_lines(project):
    failures = big_functions(project[0])
    assert not failures, report(failures)


# -- each rule can fail -------------------------------------------------------------------------


def write_tree(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return project_modules(root)


def test_an_upward_import_is_named_with_its_line(tmp_path):
    modules = write_tree(
        tmp_path,
        {
            "datasets/__init__.py": "",
            "datasets/store.py": '"""Data."""\n\nimport json\nfrom components.charts import x\n',
            "components/__init__.py": "",
            "components/charts.py": "def f():\n    from pages import sdg\n",
            "components/ok.py": "from datasets import store\n",
            "pages/__init__.py": "",
            "pages/sdg.py": "import components.charts\n",
            "server/__init__.py": "",
            "server/http.py": "import flask\nfrom ..pages import sdg\n",
            "tests/test_x.py": "import pages\n",
        },
    )
    failures = upward_imports(imports(modules))
    assert len(failures) == 3, failures
    assert failures[0].startswith("components.charts:2 imports pages.sdg")
    assert failures[1].startswith("datasets.store:4 imports components.charts")
    assert failures[2].startswith("server.http:2 imports pages")
    assert not any("tests" in f for f in failures)


def test_a_cycle_is_found_through_a_submodule_import(tmp_path):
    modules = write_tree(
        tmp_path,
        {
            "pages/__init__.py": "from . import sdg\n",
            "pages/sdg.py": "from pages import Page\n",  # `Page`: an attribute of `pages`
            "pages/compare.py": "from pages import sdg\n",  # an edge to pages.sdg only
            "a.py": "import b\n",
            "b.py": "def later():\n    import a\n",
        },
    )
    found = imports(modules)
    assert Import("pages.compare", "pages.sdg", 1) in found
    failures = import_cycles(found, modules)
    assert len(failures) == 2, failures
    assert failures[0] == "cycle among ['a', 'b']: a:1 → b; b:2 → a"
    assert (
        failures[1]
        == "cycle among ['pages', 'pages.sdg']: pages.sdg:1 → pages; pages:1 → pages.sdg"
    )


def test_no_cycle_without_a_way_back(tmp_path):
    modules = write_tree(
        tmp_path,
        {"a.py": "import b\nimport c\n", "b.py": "import c\n", "c.py": "import json\n"},
    )
    assert import_cycles(imports(modules), modules) == []


def test_sql_outside_the_data_layer_is_named(tmp_path):
    modules = write_tree(
        tmp_path,
        {
            "datasets/queries.py": 'import duckdb\nQ = "SELECT a FROM t GROUP BY a"\n',
            "server/jobs.py": "import sqlite3\n",
            "components/slides.py": (
                '"""Docs may say SELECT x FROM y."""\n\n'
                "def q(table):\n"
                '    """Neither is SQL: select the rows from the table."""\n'
                '    return f"SELECT count(*) FROM {table}"\n'
            ),
        },
    )
    failures = sql_outside_home(modules, imports(modules))
    assert failures == [
        "server.jobs:1 imports sqlite3 (SQL belongs in datasets/)",
        "components.slides:5 holds SQL text (belongs in datasets/)",
    ]


def test_a_big_file_and_a_big_function_are_named(tmp_path):
    nested = "def outer():\n" + "    def inner():\n        pass\n" * 40  # 81 lines
    modules = write_tree(
        tmp_path,
        {
            "big.py": "x = 1\n" * 601,
            "fine.py": "x = 1\n" * 600,
            "long.py": nested,
            "short.py": "def f():\n" + "    x = 1\n" * 79,
            "made.py": "# Generated by a tool: do not edit\n" + "x = 1\n" * 700,
        },
    )
    assert big_files(modules) == ["big:1 has 601 lines (at most 600)"]
    assert big_functions(modules) == ["long:1 outer() has 81 lines (at most 80)"]
