"""A notebook's cells in a profile that does not offer every layer: one line, and the notebook goes on.

The course's notebooks are the same in every profile. In ``confluent`` the cloud runs Connect and
Flink for you and there is no local stack, so ``p.up()`` or ``p.flink.jobs()`` have nothing to
act on: they raise :class:`~dataops.errors.NotOfferedError`. In a script or on the command line
that is an error (one line, exit code 2). In a notebook it would stop a headless run at its first
such cell, though the cells after it (the topics, the table, the checks) run in that profile.

So :func:`guard_cells` (called by :func:`dataops.connect` in IPython) rewrites each cell before it
runs: its top-level statements run one by one, and the first that meets a layer the profile does
not offer prints one line (``⏭ …``) and skips the rest of the cell, whose execution stays ``ok``.
The names the skipped statements would have set are remembered: a later cell that reads one of
them is skipped the same way, saying which name and why (so a self-check never judges an answer
that could not be computed: it says it was skipped, neither ✔ nor ✘). Every other exception goes
through untouched, and the cell's last expression is still what the cell shows.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from typing import Any

from dataops.errors import NotOfferedError

#: The name under which the rewritten cells reach this module in the user's namespace.
NAME = "__dataops_cells"


class _State:
    """Which names earlier skipped statements would have set, and whether this cell is skipping: what
    the rewritten cells reach as ``__dataops_cells`` (with the exception class they catch)."""

    NotOfferedError = NotOfferedError

    def __init__(self) -> None:
        self.skipping = False
        self.unset: dict[str, str] = {}  # name -> why it was never set

    def start(self) -> None:
        self.skipping = False

    def skip(self, err: BaseException, names: Iterable[str]) -> None:
        """Say in one line why the rest of the cell is skipped; re-raise what is not ours to skip."""
        if isinstance(err, NotOfferedError):
            why = err.message
            print(f"⏭ se omite el resto de esta celda: {err}")
        elif isinstance(err, NameError) and getattr(err, "name", None) in self.unset:
            why = self.unset[err.name]  # type: ignore[index]
            print(f"⏭ se omite esta celda: usa `{err.name}`, que no existe en este perfil ({why})")
        else:
            raise err
        self.skipping = True
        for name in names:
            self.unset.setdefault(name, why)

    def value(self, compute: Callable[[], Any]) -> Any:
        """The cell's last expression, or None (nothing shown) when it is skipped."""
        if self.skipping:
            return None
        try:
            return compute()
        except (NotOfferedError, NameError) as err:
            self.skip(err, ())
            return None


STATE = _State()


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _assigned(nodes: Iterable[ast.AST]) -> set[str]:
    """The names ``nodes`` bind at the cell's level (assignments, imports, defs, loop targets), not
    those local to a function, a class or a comprehension inside them."""
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update((a.asname or a.name).split(".")[0] for a in node.names)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif not isinstance(node, _SCOPES):
            found |= _assigned(ast.iter_child_nodes(node))
    return found


def _ref(attr: str) -> ast.expr:
    return ast.Attribute(value=ast.Name(id=NAME, ctx=ast.Load()), attr=attr, ctx=ast.Load())


def _has_await(node: ast.AST) -> bool:
    return any(isinstance(sub, (ast.Await, ast.AsyncFor, ast.AsyncWith)) for sub in ast.walk(node))


class CellGuard(ast.NodeTransformer):
    """IPython's AST transformer: each top-level statement guarded, the last expression kept last."""

    def visit_Module(self, node: ast.Module) -> ast.Module:  # noqa: N802 - ast's name
        body: list[ast.stmt] = [ast.Expr(ast.Call(_ref("start"), [], []))]
        for i, stmt in enumerate(node.body):
            last = i == len(node.body) - 1
            if last and isinstance(stmt, ast.Expr) and not _has_await(stmt):
                show = ast.Expr(ast.Call(_ref("value"), [ast.Lambda(_no_args(), stmt.value)], []))
                body.append(ast.copy_location(show, stmt))
                continue
            rest = sorted(_assigned(node.body[i:]))
            handler = ast.ExceptHandler(
                type=ast.Tuple([_ref("NotOfferedError"), ast.Name("NameError", ast.Load())], ast.Load()),
                name="__dataops_err",
                body=[ast.Expr(ast.Call(_ref("skip"), [ast.Name("__dataops_err", ast.Load()), ast.Constant(tuple(rest))], []))],
            )
            guarded = ast.If(ast.UnaryOp(ast.Not(), _ref("skipping")), [ast.Try([stmt], [handler], [], [])], [])
            body.append(ast.copy_location(guarded, stmt))
        node.body = body
        return ast.fix_missing_locations(node)


def _no_args() -> ast.arguments:
    return ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])


def guard_cells(shell: Any) -> None:
    """Rewrite ``shell``'s cells as above (once per kernel)."""
    if any(isinstance(t, CellGuard) for t in shell.ast_transformers):
        return
    shell.user_ns[NAME] = STATE
    shell.ast_transformers.append(CellGuard())
