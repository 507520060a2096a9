"""One CLI registry: every package adds its ``dataops`` sub-commands the same way
(``add_commands(sub)`` in its ``cli`` module, commands ``cmd_x(args, ctx) -> int``), and
:mod:`dataops.cli` only assembles them and dispatches."""

from __future__ import annotations

import argparse
import ast
import inspect
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from dataops import cli
from dataops.cli_registry import CliContext

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parents[2] / "lib" / "dataops"

# Every sub-command of `dataops`, by the module that registers it.
EXPECTED: dict[str, set[str]] = {
    "dataops.doctor.cli": {"doctor"},
    "dataops.stack.cli": {"up", "down", "status", "logs", "install", "config"},
    "dataops.automation.cli": {"pipeline"},
    "dataops.simulator.cli": {"fault"},
    "dataops.monitor.cli": {"monitor"},
    "dataops.duck.cli": {"sql"},
    "dataops.alerts.cli": {"alerts", "prometheus-rules", "scenario"},
    "dataops.quality.cli": {"quality"},
    "dataops.dlq.cli": {"dlq"},
    "dataops.iceberg.cli": {"maintain"},
    "dataops.runner": {"notebooks"},
    "dataops.course.cli": {"course", "learner", "reset", "grade", "release"},
    "dataops.ci.cli": {"ci", "schemas", "check-config"},
    "dataops.pack": {"pack"},
    "dataops.classroom.cli": {"class"},
}


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def trees() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.rglob("*.py"))}


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


def leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser that runs a command: its own ``func`` default, or the end of a chain of actions."""
    found = [(path, parser)] if parser.get_default("func") is not None else []
    for name, child in subparsers(parser).items():
        found += leaves(child, (*path, name))
    return found


def test_every_add_commands_has_the_one_signature():
    """A module-level ``add_commands(sub: SubParsers) -> None``; the only other one is the
    registry's own :class:`~dataops.cli_registry.CommandModule` protocol that declares it."""
    parsed = trees()
    protocol = next(n for n in parsed["dataops.cli_registry"].body if isinstance(n, ast.ClassDef) and n.name == "CommandModule")
    other = []
    for name, tree in parsed.items():
        for node in ast.walk(tree):
            if not (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "add_commands"):
                continue
            params = [(a.arg, ast.unparse(a.annotation) if a.annotation else None) for a in node.args.args]
            extra = node.args.vararg or node.args.kwarg or node.args.kwonlyargs or node.args.posonlyargs
            returns = ast.unparse(node.returns) if node.returns else None
            expected = [("self", None), ("sub", "SubParsers")] if node in protocol.body else [("sub", "SubParsers")]
            if params != expected or extra or returns != "None" or node not in [*tree.body, *protocol.body]:
                other.append(f"{name}: add_commands({ast.unparse(node.args)}) -> {returns}")
    assert other == []


def test_every_module_that_adds_commands_is_in_the_registry():
    defining = {name for name, tree in trees().items()
                if any(isinstance(n, ast.FunctionDef) and n.name == "add_commands" for n in tree.body)}  # fmt: skip
    registered = [m.__name__ for m in cli.COMMAND_MODULES]
    assert len(registered) == len(set(registered))
    assert set(registered) == defining == set(EXPECTED)


def test_no_package_imports_the_entry_point():
    offenders = []
    for name, tree in trees().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                hits = [a.name for a in node.names if a.name == "dataops.cli" or a.name.startswith("dataops.cli.")]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                hits = [node.module] if node.module == "dataops.cli" else []
                hits += [f"dataops.{a.name}" for a in node.names if node.module == "dataops" and a.name == "cli"]
            else:
                continue
            offenders += [f"{name} -> {hit}" for hit in hits if name != "dataops.cli"]
    assert offenders == []


def test_the_course_does_not_reach_up_to_the_runner():
    tree = trees()["dataops.course.cli"]
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "dataops.runner" not in imported and "dataops.cli" not in imported


def test_help_lists_every_sub_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines() if line.startswith("    ") and line.split()}
    expected = set().union(*EXPECTED.values())
    assert expected <= listed
    assert set(subparsers(cli.build_parser())) == expected


def test_each_module_registers_its_own_commands():
    for module in cli.COMMAND_MODULES:
        parser = argparse.ArgumentParser()
        module.add_commands(parser.add_subparsers())
        assert set(subparsers(parser)) == EXPECTED[module.__name__], module.__name__


def test_every_command_is_a_module_level_function_of_args_and_ctx():
    """So a test can monkeypatch ``<package>.cli.cmd_x`` and hand a command a fake context."""
    modules = {m.__name__: m for m in cli.COMMAND_MODULES}
    found = leaves(cli.build_parser())
    assert len(found) >= sum(len(names) for names in EXPECTED.values())
    for path, parser in found:
        func = parser.get_default("func")
        assert list(inspect.signature(func).parameters) == ["args", "ctx"], path
        assert func.__module__ in modules and getattr(modules[func.__module__], func.__name__) is func, path
        assert EXPECTED[func.__module__] >= {path[0]}, path


def test_a_command_gets_the_context_main_is_given(capsys):
    asked: list[dict[str, str | None]] = []
    printed: list[pd.DataFrame] = []

    def connect(**kwargs: str | None) -> SimpleNamespace:
        asked.append(kwargs)
        return SimpleNamespace(status=lambda: pd.DataFrame({"component": ["kafka"]}))

    assert cli.main(["--profile", "confluent", "status"], ctx=CliContext(connect=connect, print_frame=printed.append)) == 0
    assert asked == [{"profile": "confluent"}]
    assert list(printed[0]["component"]) == ["kafka"]
