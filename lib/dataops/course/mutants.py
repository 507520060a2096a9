"""Wrong answers made mechanically from a master's solution, to measure whether a self-check catches them.

Five operators, each a small, plausible slip of a learner:

- ``number``: each numeric constant moved by ±2 %, ±10 % and to its opposite sign (an integer stays an
  integer: it moves to the next integer in that direction when the percentage falls between two);
- ``comparison``: each ``>``/``>=``/``<``/``<=`` swapped for the other three (``==``/``!=`` for each other,
  in code, in pandas' ``.gt()``… methods and in an ``op: ">"`` value);
- ``label``: each label (a coin, a severity, a metric, a topic, a check kind, a branch…) replaced by
  another valid one of the same kind (:func:`vocabulary`);
- ``field``: each column or key replaced by a sibling of the same record (``usd`` by ``usd_market_cap``…);
- ``drop``: each filter or condition dropped: one side of ``&``/``|``/``and``/``or``, the mask of a
  ``.loc[mask, column]``, a keyword argument, a dictionary or mapping entry, a list item, a chained
  ``.abs()``/``.fillna()``/``.dropna()``/``.sort_values()``.

Python answers are mutated through :mod:`ast` (only nodes on the given solution lines), YAML answers
through a round-trip parse (comments and quoting kept). Each :class:`Mutant` says what it changed
(``label @ line 3: 'ethereum' → 'bitcoin'``) and carries the mutated text.
"""

from __future__ import annotations

import ast
import copy
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator

__all__ = ["Mutant", "OPERATORS", "python_mutants", "yaml_mutants", "vocabulary", "moved"]

OPERATORS = ("number", "comparison", "label", "field", "drop")
FACTORS = (1.02, 0.98, 1.10, 0.90, -1.0)
COMPARISONS = (">", ">=", "<", "<=")
EQUALITIES = ("==", "!=")
_AST_OPS = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!="}
_OP_AST = {v: k for k, v in _AST_OPS.items()}
_METHOD_OPS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "==", "ne": "!="}
_OP_METHOD = {v: k for k, v in _METHOD_OPS.items()}
DROPPABLE_CALLS = ("abs", "fillna", "dropna", "sort_values")
_MODULES = ("pd", "np", "dataops", "widgets", "alerts", "quality", "scenarios", "block2", "block3", "block4", "block5", "block6")
_INTEGER = re.compile(r"-?\d+")
_TOKEN = re.compile(r"==|!=|>=|<=|[A-Za-z_][\w-]*")


@dataclass(frozen=True)
class Mutant:
    """One wrong answer: which operator, where, what it was and what it became, and the mutated answer text."""

    operator: str
    where: str
    before: str
    after: str
    text: str

    @property
    def description(self) -> str:
        return f"{self.operator} @ {self.where}: {self.before} → {self.after}"


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, tuple[str, ...]]:
    """Each kind of label or field, with its valid values (a value belongs to the first kind that lists it)."""
    from dataops.alerts.rules import CONDITIONS, SEVERITIES
    from dataops.coins import DEFAULT_COINS
    from dataops.config import Settings
    from dataops.scenarios import Scenario, render_history

    rendered = render_history(Scenario("vocabulario", "", 60.0, {"poll_interval_s": 30}))[0]
    defaults = Settings.model_fields
    topics = tuple(str(defaults[f].default) for f in ("topic_raw", "topic_exploded", "topic_dlq")) + ("crypto-alerts",)
    return {
        "field:price": ("usd", "usd_market_cap", "usd_24h_vol", "usd_24h_change"),
        "field:time": ("ts", "event_time", "last_updated_at"),
        "coin": DEFAULT_COINS,
        "severity": SEVERITIES,
        "metric": tuple(sorted(rendered["metric"].unique())),  # the metrics the exercises' histories hold
        "condition": CONDITIONS,
        "topic": topics,
        "topic_ref": ("${topic_raw}", "${topic_exploded}", "${topic_dlq}"),
        "service_url": ("source_api_url", "simulator_url", "connect_url", "flink_url"),  # ${…} in a declaration
        "check_kind": ("http", "tcp", "topic_flowing", "table_fresh", "connector_running", "job_running"),
        "cleanup_policy": ("delete", "compact"),
        "event": ("push", "pull_request", "workflow_dispatch", "release"),
        "branch": ("main", "develop", "master"),
    }


def _kind_of(value: str, extra: dict[str, str] | None = None) -> str | None:
    if extra and value in extra:
        return extra[value]
    return next((kind for kind, values in vocabulary().items() if value in values), None)


def _others(value: str, kind: str) -> list[str]:
    return [v for v in vocabulary()[kind] if v != value]


def _operator_of(kind: str) -> str:
    return "field" if kind.startswith("field:") else "label"


def moved(value: int | float) -> list[int | float]:
    """``value`` moved by each of :data:`FACTORS`, without repeats nor the value itself (0 has none)."""
    out: list[int | float] = []
    for factor in FACTORS:
        new: int | float = value * factor
        new = float(round(new)) if abs(new - round(new)) < 1e-6 else new
        if isinstance(value, int) and not isinstance(value, bool) and new != int(new):
            step = 1 if (new > value) else -1
            new = int(new) + (step if (new > 0) == (step > 0) else 0)
        elif isinstance(value, int):
            new = int(new)
        else:
            new = round(new, 10)
        if new != value and new not in out:
            out.append(new)
    return out


# ---- Python ----------------------------------------------------------------------------------------
class _Sites(ast.NodeVisitor):
    """Every mutation site on the chosen lines: (node index, operator, before, after, how)."""

    def __init__(self, lines: range | None, labels: dict[str, str] | None) -> None:
        self.lines, self.labels = lines, labels
        self.found: list[tuple[int, str, str, str, Any]] = []
        self.index = -1

    def on(self, node: ast.AST) -> bool:
        line = getattr(node, "lineno", None)
        return self.lines is None or (line is not None and line in self.lines)

    def generic_visit(self, node: ast.AST) -> None:
        self.index += 1
        me = self.index
        if self.on(node):
            self._sites(node, me)
        super().generic_visit(node)

    def _add(self, me: int, operator: str, before: str, after: str, how: Any) -> None:
        self.found.append((me, operator, before, after, how))

    def _sites(self, node: ast.AST, me: int) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            for new in moved(node.value):
                self._add(me, "number", repr(node.value), repr(new), ("const", new))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in COMPARISONS or node.value in EQUALITIES:
                family = COMPARISONS if node.value in COMPARISONS else EQUALITIES
                for new in (o for o in family if o != node.value):
                    self._add(me, "comparison", repr(node.value), repr(new), ("const", new))
            elif (kind := _kind_of(node.value, self.labels)) is not None:
                for new in _others(node.value, kind):
                    self._add(me, _operator_of(kind), repr(node.value), repr(new), ("const", new))
        elif isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                old = _AST_OPS.get(type(op))
                if old is None:
                    continue
                for new in (o for o in (COMPARISONS if old in COMPARISONS else EQUALITIES) if o != old):
                    self._add(me, "comparison", old, new, ("cmp", i, new))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name in _METHOD_OPS:
                old = _METHOD_OPS[name]
                for new in (o for o in (COMPARISONS if old in COMPARISONS else EQUALITIES) if o != old):
                    self._add(me, "comparison", f".{name}()", f".{_OP_METHOD[new]}()", ("method", _OP_METHOD[new]))
            if name in DROPPABLE_CALLS and not (isinstance(node.func.value, ast.Name) and node.func.value.id in _MODULES):
                self._add(me, "drop", f".{name}(…)", "—", ("unwrap",))
        if isinstance(node, ast.Call):
            for i, kw in enumerate(node.keywords):
                if kw.arg is not None:
                    self._add(me, "drop", f"{kw.arg}=…", "—", ("kwarg", i))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
            sign = "&" if isinstance(node.op, ast.BitAnd) else "|"
            self._add(me, "drop", f"left side of {sign}", "—", ("side", "right"))
            self._add(me, "drop", f"right side of {sign}", "—", ("side", "left"))
        elif isinstance(node, ast.BoolOp):
            for i in range(len(node.values)):
                word = "and" if isinstance(node.op, ast.And) else "or"
                self._add(me, "drop", f"operand {i + 1} of {word}", "—", ("boolop", i))
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "loc" \
                and isinstance(node.slice, ast.Tuple) and len(node.slice.elts) == 2:  # fmt: skip
            self._add(me, "drop", ".loc[mask, …]", "[…]", ("loc",))
        elif isinstance(node, ast.Dict) and len(node.keys) > 0:
            for i, key in enumerate(node.keys):
                if isinstance(key, ast.Constant):
                    self._add(me, "drop", f"entry {key.value!r}", "—", ("dictdrop", i))
        elif isinstance(node, ast.List) and len(node.elts) > 1:
            for i, elt in enumerate(node.elts):
                self._add(me, "drop", f"item {ast.unparse(elt)}", "—", ("listdrop", i))


class _Apply(ast.NodeTransformer):
    def __init__(self, target: int, how: Any) -> None:
        self.target, self.how, self.index = target, how, -1

    def visit(self, node: ast.AST) -> Any:
        self.index += 1
        me = self.index
        if me == self.target:
            node = self._change(node)
            self.target = -2  # done
            return node
        return self.generic_visit(node)

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for fieldname, old in ast.iter_fields(node):
            if isinstance(old, list):
                new = []
                for item in old:
                    if isinstance(item, ast.AST):
                        item = self.visit(item)
                    new.append(item)
                setattr(node, fieldname, new)
            elif isinstance(old, ast.AST):
                setattr(node, fieldname, self.visit(old))
        return node

    def _change(self, node: Any) -> Any:
        how = self.how
        if how[0] == "const":
            return ast.copy_location(ast.Constant(how[1]), node)
        if how[0] == "cmp":
            node.ops[how[1]] = _OP_AST[how[2]]()
        elif how[0] == "method":
            node.func.attr = how[1]
        elif how[0] == "unwrap":
            return node.func.value
        elif how[0] == "kwarg":
            del node.keywords[how[1]]
        elif how[0] == "side":
            return getattr(node, how[1])
        elif how[0] == "boolop":
            rest = [v for i, v in enumerate(node.values) if i != how[1]]
            return rest[0] if len(rest) == 1 else ast.BoolOp(node.op, rest)
        elif how[0] == "loc":
            return ast.Subscript(node.value.value, node.slice.elts[1], node.ctx)
        elif how[0] == "dictdrop":
            del node.keys[how[1]], node.values[how[1]]
        elif how[0] == "listdrop":
            del node.elts[how[1]]
        return node


def python_mutants(source: str, lines: range | None = None, labels: dict[str, str] | None = None) -> list[Mutant]:
    """The mutants of Python ``source``, only at nodes starting on ``lines`` (1-based; all when None).

    Args:
        labels: Extra labels of this answer, value -> kind of :func:`vocabulary` (e.g. a metric's own name).
    """
    tree = ast.parse(source)
    sites = _Sites(lines, labels)
    sites.visit(tree)
    out, seen = [], {ast.unparse(tree)}
    for index, operator, before, after, how in sites.found:
        mutated = _Apply(index, how).visit(copy.deepcopy(tree))
        text = ast.unparse(ast.fix_missing_locations(mutated))
        if text in seen:
            continue
        seen.add(text)
        node = next(n for i, n in enumerate(_walk_in_order(tree)) if i == index)
        out.append(Mutant(operator, f"line {getattr(node, 'lineno', '?')}", before, after, text))
    return out


def _walk_in_order(tree: ast.AST) -> Iterator[ast.AST]:
    """Nodes in the order the visitors number them (depth first, fields in order)."""
    yield tree
    for _, value in ast.iter_fields(tree):
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, ast.AST):
                yield from _walk_in_order(item)


# ---- YAML ------------------------------------------------------------------------------------------
def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def _dump(doc: Any) -> str:
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


_Site = tuple[tuple[Any, ...], str, str, str, Any]


def _yaml_sites(node: Any, path: tuple[Any, ...], labels: dict[str, str] | None) -> Iterator[_Site]:
    """(path, operator, before, after, how) for every site of a round-trip YAML node."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "name":
                yield path, "drop", f"{key}: …", "—", ("del", key)
            kind = _kind_of(key, labels) if isinstance(key, str) else None
            if kind is not None:
                for new in _others(key, kind):
                    yield path, _operator_of(kind), f"{key}:", f"{new}:", ("rekey", key, new)
            yield from _yaml_sites(value, (*path, key), labels)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield path, "drop", f"item {i + 1}", "—", ("del", i)
            yield from _yaml_sites(value, (*path, i), labels)
    elif isinstance(node, bool) or node is None:
        return
    elif isinstance(node, (int, float)):
        for new in moved(node):
            yield path, "number", repr(node), repr(new), ("set", new)
    elif isinstance(node, str):
        value = str(node)
        if _INTEGER.fullmatch(value):
            for new in moved(int(value)):
                yield path, "number", repr(value), repr(str(new)), ("set", type(node)(str(new)) if _quoted(node) else str(new))
        elif value in COMPARISONS or value in EQUALITIES:
            for new in (o for o in (COMPARISONS if value in COMPARISONS else EQUALITIES) if o != value):
                yield path, "comparison", value, new, ("set", type(node)(new) if _quoted(node) else new)
        elif (kind := _kind_of(value, labels)) is not None:
            for new in _others(value, kind):
                yield path, _operator_of(kind), value, new, ("set", type(node)(new) if _quoted(node) else new)
        else:  # labels and comparisons inside a text (e.g. an ``if:`` expression)
            for match in _TOKEN.finditer(value):
                token = match.group()
                family = COMPARISONS if token in COMPARISONS else EQUALITIES if token in EQUALITIES else None
                kind = None if family else _kind_of(token, labels)
                if family is None and kind is None:
                    continue
                choices = [o for o in family if o != token] if family else _others(token, kind or "")
                for new in choices:
                    text = value[: match.start()] + new + value[match.end() :]
                    operator = "comparison" if family else _operator_of(kind or "")
                    yield path, operator, token, new, ("set", type(node)(text) if _quoted(node) else text)


def _quoted(node: Any) -> bool:
    return type(node) is not str


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def yaml_mutants(text: str, labels: dict[str, str] | None = None) -> list[Mutant]:
    """The mutants of YAML ``text`` (one value, key or entry changed each), as YAML text."""
    yaml = _yaml()
    seen = {_dump(yaml.load(text))}
    out = []
    for path, operator, before, after, how in list(_yaml_sites(yaml.load(text), (), labels)):
        doc = yaml.load(text)
        where = "/".join(str(p) for p in path) or "/"
        if how[0] == "set":
            parent, last = _at(doc, path[:-1]), path[-1]
            parent[last] = how[1]
        elif how[0] == "del":
            del _at(doc, path)[how[1]]
        elif how[0] == "rekey":
            node = _at(doc, path)
            node.insert(list(node).index(how[1]), how[2], node.pop(how[1]))
        mutated = _dump(doc)
        if mutated in seen:
            continue
        seen.add(mutated)
        out.append(Mutant(operator, where, before, after, mutated))
    return out
