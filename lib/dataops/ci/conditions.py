"""A job's ``if:`` as GitHub Actions reads it: does it run on the main branch, and only there?

``github.ref == 'refs/heads/main'``, ``github.ref_name == 'main'``, ``'refs/heads/main' == github.ref``,
``${{ github.ref == 'refs/heads/main' }}`` or ``github.event_name == 'push' && github.ref_name == 'main'``
all mean the same. Rather than matching one spelling, :func:`runs_only_on` evaluates the
expression (GitHub's operators, literals, case-insensitive string comparison and the common
functions) on a push to the branch and on the events that must not deploy: a push to another
branch (``feature/x``, ``main-fix``, ``feature/main``, ``main/x``), a pull request into the branch, a tag. A
context the evaluation does not model (``github.repository``, ``needs.*``, ``vars.*``…) is
*unknown*, in three-valued logic: ``unknown && false`` is false, ``unknown || true`` is true.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["evaluate", "runs_only_on"]


class _Unknown:
    """A value the evaluation does not know (a context it does not model)."""

    def __repr__(self) -> str:
        return "unknown"


UNKNOWN = _Unknown()
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?))"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|[!<>()\[\],.*])|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)
_STATUS = {"success": True, "always": True, "failure": False, "cancelled": False}


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos, text = [], 0, text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"no se esperaba {text[pos:pos + 10]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _truthy(value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value) and value != "" and value is not None


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip() or 0)
    except ValueError:
        return math.nan


def _compare(op: str, a: Any, b: Any) -> Any:
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if isinstance(a, str) and isinstance(b, str):
        x, y = a.lower(), b.lower()  # GitHub compares strings ignoring case
    elif type(a) is type(b):
        x, y = a, b
    else:
        x, y = _number(a), _number(b)
    if op == "==":
        return x == y
    if op == "!=":
        return x != y
    try:
        return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]
    except TypeError:
        return False


class _Parser:
    """Recursive descent over GitHub's expression grammar: || < && < comparison < ! < primary."""

    def __init__(self, text: str, context: dict[str, Any]) -> None:
        self.toks, self.i, self.context = _tokens(text), 0, context

    def peek(self) -> str | None:
        return self.toks[self.i][1] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.toks) or (expected is not None and self.toks[self.i][1] != expected):
            raise ValueError(f"se esperaba {expected or 'algo más'}")
        self.i += 1
        return self.toks[self.i - 1]

    def parse(self) -> Any:
        value = self.or_()
        if self.i != len(self.toks):
            raise ValueError(f"no se esperaba {self.peek()!r}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == "||":
            self.take()
            right = self.and_()
            left_t, right_t = _truthy(value), _truthy(right)
            if left_t is True:
                continue  # GitHub returns the first truthy operand
            value = right if right_t is True else (UNKNOWN if UNKNOWN in (left_t, right_t) else right)
        return value

    def and_(self) -> Any:
        value = self.comparison()
        while self.peek() == "&&":
            self.take()
            right = self.comparison()
            left_t, right_t = _truthy(value), _truthy(right)
            if left_t is False:
                continue  # GitHub returns the first falsy operand
            value = right if right_t is False else (UNKNOWN if UNKNOWN in (left_t, right_t) else right)
        return value

    def comparison(self) -> Any:
        value = self.unary()
        while self.peek() in ("==", "!=", "<", "<=", ">", ">="):
            op = self.take()[1]
            value = _compare(op, value, self.unary())
        return value

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            value = _truthy(self.unary())
            return UNKNOWN if value is UNKNOWN else not value
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if text == "(":
            value = self.or_()
            self.take(")")
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(int(text, 16)) if text.lower().startswith(("0x", "-0x")) else float(text)
        if kind != "name":
            raise ValueError(f"no se esperaba {text!r}")
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if self.peek() == "(":
            return self.call(text)
        name = text
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                name += "." + self.take()[1]
            else:
                key = self.or_()
                self.take("]")
                name += f".{key}"
        return self.context.get(name, UNKNOWN)

    def call(self, name: str) -> Any:
        self.take("(")
        args = []
        while self.peek() != ")":
            args.append(self.or_())
            if self.peek() == ",":
                self.take()
        self.take(")")
        fn = name.lower()
        if fn in _STATUS:
            return _STATUS[fn]
        if any(a is UNKNOWN for a in args) or fn not in ("contains", "startswith", "endswith"):
            return UNKNOWN
        if len(args) != 2:
            raise ValueError(f"{name} recibe dos argumentos")
        hay, needle = (str(a).lower() if a is not None else "" for a in args)
        return {"contains": needle in hay, "startswith": hay.startswith(needle), "endswith": hay.endswith(needle)}[fn]


def evaluate(condition: str, context: dict[str, Any]) -> Any:
    """The value of a job's ``if:`` (with or without ``${{ }}``) given ``context`` (dotted names such
    as ``github.ref``): True, False (or another value), or ``UNKNOWN``.

    Raises:
        ValueError: The expression cannot be parsed.
    """
    text = condition.strip()
    whole = re.fullmatch(r"\$\{\{(.*)\}\}", text, re.S)
    if whole:
        text = whole.group(1)
    if not text:
        return True  # no if: the job always runs
    try:
        return _Parser(text, context).parse()
    except ValueError as exc:
        raise ValueError(f"no se puede leer la condición {condition!r}: {exc}") from None


def _push(ref: str) -> dict[str, Any]:
    kind, _, name = ref[len("refs/"):].partition("/")
    return {"github.event_name": "push", "github.ref": ref, "github.ref_name": name, "github.ref_type": "tag" if kind == "tags" else "branch",
            "github.base_ref": "", "github.head_ref": ""}  # fmt: skip


def _pull_request(into: str) -> dict[str, Any]:
    return {"github.event_name": "pull_request", "github.ref": "refs/pull/7/merge", "github.ref_name": "7/merge", "github.ref_type": "branch",
            "github.base_ref": into, "github.head_ref": "feature/x"}  # fmt: skip


def runs_only_on(condition: str, branch: str = "main") -> bool:
    """True when a job with this ``if:`` runs on a push to ``branch`` and on no other branch, tag or
    pull request (an expression that cannot be read: False)."""
    others = [_push(f"refs/heads/{b}") for b in ("feature/x", f"{branch}-fix", f"feature/{branch}", f"{branch}/x")]
    others += [_push("refs/tags/v1.0"), _pull_request(branch)]
    try:
        on_branch = _truthy(evaluate(condition, _push(f"refs/heads/{branch}")))
        elsewhere = [_truthy(evaluate(condition, ctx)) for ctx in others]
    except ValueError:
        return False
    return on_branch is not False and all(v is False for v in elsewhere)
