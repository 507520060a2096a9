"""The library's shape: no import cycles, modules of a readable size, the profile chosen in one place."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

LIB = Path(__file__).resolve().parents[2] / "lib"
PACKAGE = LIB / "dataops"
MAX_LINES = 450  # "under about 400 lines": a module past this wants a split


def module_name(path: Path) -> str:
    parts = list(path.relative_to(LIB).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def top_level_imports(path: Path) -> set[str]:
    """``dataops`` modules imported when ``path`` is imported (not lazily inside functions,
    not under ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path)
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("dataops"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = here.split(".")[: len(here.split(".")) - node.level + (path.name == "__init__.py")]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if not target.startswith("dataops"):
                continue
            for alias in node.names:  # `from dataops import setup` imports the module dataops.setup
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
    return {m for m in found if m in MODULES and m != here}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_checker_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_inside_the_package():
    # A package's __init__ re-exports its modules; edges into a package mean its __init__.
    graph = {name: top_level_imports(path) for name, path in MODULES.items()}
    for name in graph:
        parent = name.rsplit(".", 1)[0]
        graph[name].discard(parent)  # a submodule runs while its package __init__ is importing it
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_every_module_is_of_a_readable_size():
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()}
    assert {n: s for n, s in sizes.items() if s > MAX_LINES} == {}


def test_the_profile_builds_layers_in_one_place():
    """Only the settings (addresses per profile) and the layer registry read the profile to decide."""
    branching = re.compile(r"\bprofile\s*[!=]=")
    allowed = {"dataops.config", "dataops.profiles", "dataops.setup", "dataops.registry.layer", "dataops.stack.engines"}
    offenders = {name for name, path in MODULES.items() if branching.search(path.read_text(encoding="utf-8"))}
    assert offenders <= allowed, offenders - allowed


def test_every_exception_class_lives_in_errors():
    defined = {}
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                (isinstance(b, ast.Name) and (b.id.endswith(("Error", "Exception")))) for b in node.bases
            ):
                defined[node.name] = name
    assert defined and set(defined.values()) == {"dataops.errors"}, defined
