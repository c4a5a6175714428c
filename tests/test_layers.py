"""Layers point one way: a package imports only packages below it in `LAYERS`, never one above,
and no two packages import each other, however far round. Read from the source with `ast`
(nothing of bot/ is imported), so a lazy import inside a function counts as much as one at the
top. docs/architecture.md draws the same order; a new package is declared here first.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Bottom first: each package may import the ones before it, never the ones after.
LAYERS = (
    "bot",  # the package's own docstring; imports nothing
    "bot.config",
    "bot.ops",
    "bot.reading",
    "bot.pictures",
    "bot.taskapi",
    "bot.records",
    "bot.store",
    "bot.tenancy",  # task API accounts: a client per workspace
    "bot.render",
    "bot.watch",
    "bot.slack",  # the slack package's own docstring
    "bot.slack.basics",
    "bot.slack.delivery",
    "bot.slack.surfaces",
    "bot.slack.oauth",
    "bot.slack.bolt",
    "bot.slack.front",
    "bot.testing",  # fakes for tests and the demo; the running bot never imports them
    "bot.demo",  # `python -m bot demo`: the real bot against the fakes
    "bot.check",
    "bot.__main__",
)

Edge = tuple[str, str]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / "bot").rglob("*.py"))}


def imports_of(name: str, path: Path, known: Iterable[str]) -> set[str]:
    """Every bot module or package this one imports, wherever the import statement stands."""
    known = set(known)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return {m for m in found if m == "bot" or m.startswith("bot.")}


def layer_of(module: str) -> str | None:
    """The deepest declared package holding the module."""
    holders = [p for p in LAYERS if module == p or module.startswith(p + ".")]
    return max(holders, key=len) if holders else None


def package_edges() -> set[Edge]:
    mods = modules()
    edges: set[Edge] = set()
    for name, path in mods.items():
        for target in imports_of(name, path, mods):
            here, there = layer_of(name), layer_of(target)
            if here and there and here != there:
                edges.add((here, there))
    return edges


def back_arrows(edges: Iterable[Edge]) -> list[Edge]:
    rank = {p: i for i, p in enumerate(LAYERS)}
    return sorted((a, b) for a, b in edges if rank[b] > rank[a])


def circles(edges: Iterable[Edge]) -> list[list[str]]:
    """Each group of packages that reach one another (Tarjan's strongly connected parts)."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
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
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_belongs_to_a_declared_package() -> None:
    loose = [m for m in modules() if layer_of(m) in (None, "bot", "bot.slack") and m not in LAYERS]
    assert loose == [], "declare the new package in LAYERS (and docs/architecture.md)"


def test_no_import_runs_back_up_the_layers() -> None:
    assert back_arrows(package_edges()) == []


def test_no_circle_between_packages() -> None:
    assert circles(package_edges()) == []


def test_the_layers_see_real_imports() -> None:
    """The reader finds the arrows that are there, lazy ones included (or the two tests above
    would pass on nothing)."""
    edges = package_edges()
    assert ("bot.slack.front", "bot.slack.bolt") in edges  # server builds the app
    assert ("bot.__main__", "bot.slack.front") in edges  # imported inside a function
    assert ("bot.store", "bot.records") in edges


def test_a_back_arrow_and_a_circle_are_caught() -> None:
    edges = {("bot.store", "bot.watch"), ("bot.watch", "bot.store")}
    assert back_arrows(edges) == [("bot.store", "bot.watch")]
    assert circles(edges) == [["bot.store", "bot.watch"]]


def test_a_relative_import_is_resolved(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("from ..watch import scheduler\nfrom . import model\n")
    known = {"bot.watch.scheduler", "bot.store.model"}
    assert imports_of("bot.store.mod", source, known) == {"bot.watch.scheduler", "bot.store.model"}
