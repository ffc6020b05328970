"""The import contract of STYLE.md, read from the source with ``ast``.

Imports go app -> web -> realtime -> platform, never back up; ``townhall.platform`` uses the
standard library and SQLAlchemy only. Every import counts, including those inside functions
and under ``TYPE_CHECKING``: a lazy import still ties the layers together.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "townhall"
STDLIB = frozenset(sys.stdlib_module_names)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. townhall.web.pages
    line: int
    target: str  # what it imports, absolute, e.g. townhall.platform.programme
    bound_as: str  # the name the import binds in the importing module

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def read_imports(source: str, module: str, *, is_package: bool) -> list[Import]:
    """Every import in ``source``, made absolute; ``from a import b`` yields a and a.b."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name.partition(".")[0]
                found.append(Import(module, node.lineno, alias.name, bound))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.append(Import(module, node.lineno, base, ""))
            for alias in node.names:
                if alias.name != "*":
                    target = f"{base}.{alias.name}"
                    found.append(Import(module, node.lineno, target, alias.asname or alias.name))
    return found


def package_imports() -> list[Import]:
    found: list[Import] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found.extend(
            read_imports(
                path.read_text(encoding="utf-8"),
                module_name(path),
                is_package=path.name == "__init__.py",
            )
        )
    return found


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def offending(importer: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        str(imp)
        for imp in package_imports()
        if within(imp.module, importer) and any(within(imp.target, f) for f in forbidden)
    ]


def test_import_reader_resolves_relative_lazy_and_from_imports() -> None:
    source = (
        "import os.path\n"
        "from . import models\n"
        "from ..web import pages as p\n"
        "def later():\n"
        "    from townhall import platform\n"
    )

    found = read_imports(source, "townhall.platform.programme", is_package=False)

    assert [(i.line, i.target, i.bound_as) for i in found] == [
        (1, "os.path", "os"),
        (2, "townhall.platform", ""),
        (2, "townhall.platform.models", "models"),
        (3, "townhall.web", ""),
        (3, "townhall.web.pages", "p"),
        (5, "townhall", ""),
        (5, "townhall.platform", "platform"),
    ]


def test_package_scan_finds_platform_modules() -> None:
    modules = {imp.module for imp in package_imports()}

    assert {"townhall.platform.db", "townhall.platform.models"} <= modules


def test_platform_imports_only_stdlib_and_sqlalchemy() -> None:
    bad = [
        str(imp)
        for imp in package_imports()
        if within(imp.module, "townhall.platform")
        and imp.target.partition(".")[0] not in STDLIB | {"sqlalchemy"}
        and not within(imp.target, "townhall.platform")
    ]

    assert bad == []


def test_realtime_imports_no_web_or_app() -> None:
    assert offending("townhall.realtime", ("townhall.web", "townhall.app")) == []


def test_web_imports_no_app() -> None:
    assert offending("townhall.web", ("townhall.app",)) == []


def test_package_never_binds_platform_as_bare_name() -> None:
    # A bare `platform` shadows the standard library's module of that name.
    bad = [
        str(imp)
        for imp in package_imports()
        if imp.target == "townhall.platform" and imp.bound_as == "platform"
    ]

    assert bad == []


def test_repo_root_has_no_stray_layer_packages() -> None:
    stray = [name for name in ("platform", "realtime", "web") if (ROOT / name).exists()]

    assert stray == []


def module_graph() -> dict[str, set[str]]:
    """Module -> the townhall modules it imports (a name imported from a module counts as
    that module; a package counts as its ``__init__``)."""
    modules = {module_name(path) for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {module: set() for module in modules}
    for imp in package_imports():
        target = imp.target
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != imp.module:
            graph[imp.module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    assert cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycles_inside_the_package() -> None:
    # Every import counts, lazy and TYPE_CHECKING ones too: a cycle says a module sits on
    # the wrong floor.
    assert cycles(module_graph()) == []
