"""The layer rules of docs/architecture.md, read from the source (imports inside functions
included): no import cycle, no import from a higher layer, no hidden imports.

Layers, lowest first: domain <- store <- services <- render <- cli. A module may import
its own layer and any lower one. The base modules (clock, errors, config, i18n, files)
are usable from every layer above domain and import only each other; domain may use
``errors`` and the pure helpers of ``clock`` (formatting, parsing) but never reads the
clock. Migrations sit with the store.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "src" / "deskctl"
LAYERS = ("domain", "store", "services", "render", "cli")
BASE = ("clock", "errors", "config", "i18n", "files")
# names of deskctl.clock that read the clock: domain must be handed instants instead
CLOCK_READERS = ("now", "today")


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_name(p): p for p in ROOT.rglob("*.py")}


def _imports(module: str) -> Iterator[tuple[str, list[str], int]]:
    """(imported deskctl module, names taken from it, line) for every import statement."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in MODULES:
                    yield full, [], node.lineno
                else:
                    yield base, [alias.name], node.lineno


def _graph() -> dict[str, set[str]]:
    return {
        m: {t for t, _, _ in _imports(m) if t in MODULES and t != m and t != "deskctl"}
        for m in MODULES
    }


def _rank(module: str) -> int | None:
    """The module's layer (0 = domain); -1 for a base module; None for entry points."""
    part = module.split(".")[1] if "." in module else ""
    if part in BASE:
        return -1
    if part == "migrations":
        return LAYERS.index("store")
    if part in LAYERS:
        return LAYERS.index(part)
    return None


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_one() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_from_a_higher_layer() -> None:
    bad = []
    for module in MODULES:
        mine = _rank(module)
        if mine is None:
            continue
        for target, _, line in _imports(module):
            theirs = _rank(target) if target in MODULES else None
            if theirs is None:
                continue
            if mine == -1 and theirs != -1:
                bad.append(f"{module}:{line} (base) imports {target}")
            elif mine == 0 and theirs == -1 and target not in ("deskctl.errors", "deskctl.clock"):
                bad.append(f"{module}:{line} (domain) imports {target}")
            elif theirs > mine:
                bad.append(f"{module}:{line} imports the higher {target}")
    assert bad == []


def test_domain_never_reads_the_clock() -> None:
    bad = []
    for module in (m for m in MODULES if _rank(m) == 0):
        for target, names, line in _imports(module):
            if target == "deskctl.clock" and (not names or set(names) & set(CLOCK_READERS)):
                bad.append(f"{module}:{line}")
    assert bad == []


@pytest.mark.parametrize("needle", ["importlib.import_module", "__import__("])
def test_no_hidden_imports(needle: str) -> None:
    hits = [m for m, p in MODULES.items() if needle in p.read_text(encoding="utf-8")]
    assert hits == []
