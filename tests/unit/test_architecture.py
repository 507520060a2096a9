"""The library's shape: one package per layer, no import circles, no arrow back up, modules of a
readable size, the profile asked in one place, every exception class in ``errors``."""

from __future__ import annotations

import ast
import builtins
import importlib
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

LIB = Path(__file__).resolve().parents[2] / "lib"
PACKAGE = LIB / "dataops"
MAX_LINES = 400

# From the bottom up: a module may import its own level and those below, never one above.
LEVELS: tuple[tuple[str, ...], ...] = (
    # base: settings, errors, the profile registry, the shapes every layer shares
    ("dataops.errors", "dataops.paths", "dataops.subproc", "dataops.locks", "dataops.rotation", "dataops.config",
     "dataops.profiles", "dataops.contract", "dataops.metrics", "dataops.metrics_export", "dataops.signals", "dataops.engine", "dataops.artifacts",
     "dataops.class_archive", "dataops.protocols", "dataops.sampling", "dataops.coins", "dataops.coingecko", "dataops.report_assets", "dataops.cli_registry", "dataops.userfiles",
     "dataops.toolchain", "dataops.kernels", "dataops.pack", "dataops.classroom.namespace", "dataops.classroom.roster",
     "dataops.live", "dataops.cells"),
    # the layers, one package each, and the simulator the source layer polls
    ("dataops.simulator", "dataops.source", "dataops.kafka", "dataops.kafka_connect", "dataops.flink",
     "dataops.iceberg", "dataops.duck", "dataops.registry", "dataops.dlq", "dataops.facade"),
    # the profiles' registrations build the layers
    # what runs on the layers: the stack, quality, alerting, monitoring, the pipeline as code
    ("dataops.profiles.local", "dataops.profiles.confluent", "dataops.profiles.classroom", "dataops.profiles.standin", "dataops.classroom",
     "dataops.stack", "dataops.quality", "dataops.alerts", "dataops.monitor", "dataops.automation",
     "dataops.scenarios", "dataops.reliability", "dataops.doctor"),
    # the facade a notebook holds
    ("dataops.pipeline",),
    # what notebooks and the course use on top of it
    ("dataops.plots", "dataops.widgets", "dataops.panel", "dataops.course", "dataops.classroom.grading", "dataops.ci", "dataops.runner"),
    # entry points
    ("dataops.cli", "dataops"),
)  # fmt: skip
LAYER_PACKAGES = ("source", "kafka", "kafka_connect", "flink", "iceberg", "duck", "registry", "dlq")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(LIB).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def level(module: str) -> int:
    best, found = -1, -1
    for i, names in enumerate(LEVELS):
        for name in names:
            if (module == name or (name != "dataops" and module.startswith(name + "."))) and len(name) > best:
                best, found = len(name), i
    return found


def imports(path: Path, lazy: bool) -> set[str]:
    """``dataops`` modules ``path`` imports: at its top level (``if TYPE_CHECKING`` included, a
    type-only import is still an edge), and with ``lazy`` also inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path)
    nodes: list[ast.AST] = []
    for node in tree.body:
        nodes.append(node)
        if isinstance(node, ast.If):  # if TYPE_CHECKING: / try-import guards
            nodes.extend(ast.walk(node))
    if lazy:
        nodes = list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
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
            for alias in node.names:  # `from dataops import quality` imports the module dataops.quality
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


def test_the_checker_sees_type_only_and_lazy_imports(tmp_path):
    pkg = tmp_path / "dataops"
    pkg.mkdir()
    src = pkg / "pipeline.py"
    src.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from dataops import config\n"
                   "def f():\n    from dataops import errors\n")  # fmt: skip
    global LIB, MODULES
    saved = LIB, MODULES
    try:
        LIB, MODULES = tmp_path, {"dataops.pipeline": src, "dataops.config": src, "dataops.errors": src}
        assert imports(src, lazy=False) == {"dataops.config"}
        assert imports(src, lazy=True) == {"dataops.config", "dataops.errors"}
    finally:
        LIB, MODULES = saved


def test_every_module_has_a_level():
    assert [m for m in MODULES if level(m) < 0] == []


def test_no_import_cycle_inside_the_package():
    # A package's __init__ re-exports its modules; edges into a package mean its __init__.
    graph = {name: imports(path, lazy=False) for name, path in MODULES.items()}
    for name in graph:
        parent = name.rsplit(".", 1)[0]
        graph[name].discard(parent)  # a submodule runs while its package __init__ is importing it
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_no_arrow_back_up():
    """Not even inside a function: a lower level never reaches up (a parent package's
    ``__init__`` importing its own modules aside)."""
    up = sorted(
        f"{name} -> {target}"
        for name, path in MODULES.items()
        for target in imports(path, lazy=True)
        if level(target) > level(name) and not (name == "dataops" and target.startswith("dataops."))
    )
    assert up == []


def test_one_package_per_layer():
    for layer in LAYER_PACKAGES:
        pkg = PACKAGE / layer
        assert (pkg / "__init__.py").exists() and (pkg / "layer.py").exists(), layer
    flat = {p.stem for p in PACKAGE.glob("*.py")}
    assert not flat & {"kafka_connect", "explode_job", "flink_submit", "checkpoints", "maintenance", "schema_registry",
                       "dlq_cli", "layers", "duck", "iceberg", "flink", "kafka", "dlq"}  # fmt: skip


def test_every_module_is_of_a_readable_size():
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()}
    assert {n: s for n, s in sizes.items() if s > MAX_LINES} == {}


def test_the_profile_is_asked_not_compared():
    """No ``profile ==`` and no ``offers(`` outside the profile registry: code asks the profile object."""
    branching = re.compile(r"\bprofile\s*[!=]=|\bprofile\s+(not\s+)?in\b|\boffers\(")
    offenders = sorted(
        name for name, path in MODULES.items()
        if not name.startswith("dataops.profiles") and branching.search(path.read_text(encoding="utf-8"))
    )  # fmt: skip
    assert offenders == []


def test_the_profile_rule_catches_a_branch():
    branching = re.compile(r"\bprofile\s*[!=]=|\bprofile\s+(not\s+)?in\b|\boffers\(")
    for line in ('if s.profile == "local":', "if settings.profile != 'confluent':", "layers.offers(s.profile, 'x')",
                 "if s.profile in ('local',):"):  # fmt: skip
        assert branching.search(line), line
    assert not branching.search("if s.runs.runs_stack:")


def test_a_third_profile_needs_no_layer_change():
    """A registration of a new profile builds layers and answers questions without touching any layer."""
    from dataops import profiles

    cls = profiles.register(profiles.Profile("classroom-test", builders=dict(profiles.get("local").builders),
                                             runs_stack=True, sampled=("kafka", "rows")))  # fmt: skip
    try:
        from dataops import load_settings

        s = load_settings(profile="classroom-test")
        assert s.runs is cls and s.bootstrap_servers.endswith(f":{s.kafka_port}")
        assert type(cls.build("kafka", s)).__name__ == "KafkaLayer"
    finally:
        profiles.base._REGISTRY.pop("classroom-test")


# A base class that ends like this is taken for an exception even when it cannot be resolved.
EXCEPTION_SUFFIXES = ("Error", "Exception", "Warning", "Exit", "Interrupt")
BUILTIN_EXCEPTIONS = frozenset(n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException))


def import_table(tree: ast.Module, here: str, path: Path) -> dict[str, str]:
    """Local name -> the dotted name it was imported as, for every import of a module (lazy ones too)."""
    table: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    table[alias.asname] = alias.name
                else:
                    table[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = here.split(".")[: len(here.split(".")) - node.level + (path.name == "__init__.py")]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            for alias in node.names:
                table[alias.asname or alias.name] = f"{source}.{alias.name}"
    return table


def resolves_to_exception(dotted: str) -> bool:
    """Import the longest importable prefix of ``dotted``, follow the rest as attributes: an exception class?"""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except Exception:  # noqa: BLE001 - not a module (or not importable here): try a shorter prefix
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
        return isinstance(obj, type) and issubclass(obj, BaseException)
    return False


def exception_classes(modules: dict[str, Path]) -> list[tuple[str, str]]:
    """``(module, class)`` of every class defined in ``modules`` that derives from an exception, at any
    depth: a builtin one, one imported (resolved by importing it), one whose name says so
    (``…Error``), or another class of ``modules`` that does."""
    classes: list[tuple[str, ast.ClassDef, dict[str, str]]] = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        table = import_table(tree, name, path)
        classes += [(name, node, table) for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    found: set[str] = set()  # "module.Class" of the exceptions found so far

    def is_exception(base: ast.expr, module: str, table: dict[str, str]) -> bool:
        if isinstance(base, ast.Subscript):  # Generic-style bases: Base[T]
            base = base.value
        if not isinstance(base, ast.Name | ast.Attribute):
            return False
        dotted = ast.unparse(base)
        if dotted.rsplit(".", 1)[-1].endswith(EXCEPTION_SUFFIXES):
            return True
        head, _, rest = dotted.partition(".")
        if head not in table:  # defined in the module itself, or a builtin
            return f"{module}.{dotted}" in found or (not rest and head in BUILTIN_EXCEPTIONS)
        target = table[head] + (f".{rest}" if rest else "")
        return target in found or resolves_to_exception(target)

    changed = True
    while changed:  # until no class is added: a subclass of a subclass of an exception is one too
        changed = False
        for module, node, table in classes:
            if f"{module}.{node.name}" not in found and any(is_exception(b, module, table) for b in node.bases):
                found.add(f"{module}.{node.name}")
                changed = True
    return sorted({(m, n.name) for m, n, _ in classes if f"{m}.{n.name}" in found})


def test_the_exception_rule_sees_any_exception_base(tmp_path):
    first, second = tmp_path / "first.py", tmp_path / "second.py"
    first.write_text("import socket\nimport requests.exceptions as rex\nfrom json import JSONDecodeError as Bad\n"
                     "from typing import Protocol\nfrom http.server import BaseHTTPRequestHandler\n"
                     "from dataops import errors\n"
                     "class Builtin(TimeoutError): ...\nclass Stop(StopIteration): ...\nclass Warned(UserWarning): ...\n"
                     "class Timeout(rex.Timeout): ...\nclass Aliased(Bad): ...\nclass Sock(socket.timeout): ...\n"
                     "class Ours(errors.DataOpsError): ...\nclass Deeper(Aliased): ...\nclass Deepest(Deeper): ...\n"
                     "class Shape(Protocol): ...\nclass Handler(BaseHTTPRequestHandler): ...\nclass Plain: ...\n"
                     "class Child(Plain): ...\n")  # fmt: skip
    second.write_text("from .first import Deepest as Far, Plain\nclass Imported(Far): ...\nclass Other(Plain): ...\n")
    found = exception_classes({"dataops.first": first, "dataops.second": second})
    assert found == sorted(
        [("dataops.first", n) for n in ("Builtin", "Stop", "Warned", "Timeout", "Aliased", "Sock", "Ours", "Deeper", "Deepest")]
        + [("dataops.second", "Imported")]
    )


def test_every_exception_class_lives_in_errors():
    found = exception_classes(MODULES)
    assert found and {module for module, _ in found} == {"dataops.errors"}, [f"{m}.{c}" for m, c in found if m != "dataops.errors"]


def test_importing_the_package_loads_no_layer_and_its_names_still_resolve():
    """``import dataops`` is the settings and the profiles only (the simulator, started with ``-m
    dataops.simulator``, needs no more); ``dataops.connect`` and the other names load on first use."""
    import subprocess
    import sys

    probe = ("import sys, dataops; heavy = ('pandas', 'pyarrow', 'requests', 'confluent_kafka', 'duckdb', 'pyiceberg', 'plotly'); "
             "print(sorted(m for m in heavy if m in sys.modules)); "
             "from dataops import connect, Monitor, fault_panel; "
             "print(connect is dataops.connect, dataops.Pipeline.__name__, 'pandas' in sys.modules, 'connect' in dir(dataops)); "
             "import dataops.simulator.cli; getattr(dataops, 'nothing_of_that_name')")  # fmt: skip
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert run.stdout.splitlines() == ["[]", "True Pipeline True True"], run.stdout + run.stderr
    assert "AttributeError: dataops no tiene ningún nombre 'nothing_of_that_name'" in run.stderr, run.stderr
