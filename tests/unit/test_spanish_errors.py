"""Every error message a learner can read is Spanish: the text of each ``raise …Error(...)`` under
``lib/dataops`` (and of each error built to be raised later, and of the helpers that put their
arguments into one: ``read_text``, ``read_json``, ``subproc.run``…) holds no English prose.

Two judges, both blind to code (backticks, quotes, paths, identifiers, ``KEY=value``):
:func:`dataops.course.language.english`, the one that reads executed notebooks, and a stricter
one of this test, :func:`suspect`: one English word that Spanish does not have is enough.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Iterator

import pytest

from dataops.course.language import _CODE, english

pytestmark = pytest.mark.unit

LIB = Path(__file__).resolve().parents[2] / "lib" / "dataops"

# English words no Spanish sentence of the project holds (so not "no", "a", "error", "check",
# "job", "sink", "topic", "stack", "commit": Spanish here uses those as loanwords).
STRICT = frozenset(
    "the is are was were be been not with without this that these those from into to of for by or and on at it its "
    "you your an will would can cannot could should must has have had does did do which when where there than then "
    "only also any each every more most please run running use used start started checked found missing "
    "failed fails refused answered exist exists unknown invalid expected got needs need see give set fix add make "
    "delete install write read pass put keep wait try again already yet after before file folder line empty".split()
)
_WORD = re.compile(r"[A-Za-zÁÉÍÓÚÜÑáéíóúüñ']+")
_OPTION = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")

# Calls that carry message text into an error they raise: name -> (first positional argument that is
# text, keyword arguments that are text). ``read_text(path, what, error, hint, empty_hint)``…
CARRIERS = {
    "read_text": (1, {"what", "hint", "empty_hint"}),
    "read_json": (1, {"what", "hint"}),
    "_run_logged": (2, {"what", "hint"}),
    "refuse": (1, {"message", "hint"}),
}


def suspect(text: str) -> list[str]:
    """The English words of ``text`` outside code (a word in capitals, e.g. the state FAILED, is a value;
    ``--fail-on`` is an option)."""
    prose = _CODE.sub(" ", _OPTION.sub(" ", text))
    return sorted({w for w in _WORD.findall(prose) if not (w.isupper() and len(w) > 1) and w.lower() in STRICT})


def _name(call: ast.Call) -> str:
    fn = call.func
    return fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""


def _receiver(call: ast.Call) -> str:
    fn = call.func
    return fn.value.id if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) else ""


def _texts(node: ast.AST) -> Iterator[str]:
    """The literal text of an argument: string constants, and the literal parts of f-strings
    (joined, a placeholder standing as ``…``); placeholders' own expressions are not message text."""
    if isinstance(node, ast.JoinedStr):
        yield " … ".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
        return
    if isinstance(node, ast.Subscript):  # f"…"[:300]
        yield from _texts(node.value)
    elif isinstance(node, ast.IfExp):  # a or b, by a condition
        yield from _texts(node.body)
        yield from _texts(node.orelse)
    elif isinstance(node, (ast.BinOp, ast.BoolOp)):  # f"…" + f"…", hint or "…"
        for child in ast.iter_child_nodes(node):
            yield from _texts(child)
    # anything else (a call such as ", ".join(...), exc.args[0], a name) is an expression, not message text


def _message_args(call: ast.Call, raised: bool) -> Iterator[ast.AST]:
    name = _name(call)
    if name.endswith("Error") or (raised and name.lower().endswith("error")) or (name == "error" and _receiver(call) == "parser"):
        yield from call.args
        yield from (k.value for k in call.keywords)
    elif name in CARRIERS:
        first, keywords = CARRIERS[name]
        yield from call.args[first:]
        yield from (k.value for k in call.keywords if k.arg in keywords)
    elif name == "run" and _receiver(call) == "subproc":
        yield from call.args[1:3]  # subproc.run(cmd, what, hint, timeout)


def offenders(source: str, where: str = "<text>") -> list[str]:
    """``where:line: text`` of each message text in ``source`` that is English prose."""
    tree = ast.parse(source)
    raised = {id(n.exc) for n in ast.walk(tree) if isinstance(n, ast.Raise)}  # raise error(...): the class is a variable
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for arg in _message_args(node, id(node) in raised):
            for text in _texts(arg):
                words = suspect(text)
                if english(text) or words:
                    found.append(f"{where}:{arg.lineno}: {text!r} ({', '.join(words) or 'English prose'})")
    return found


def test_every_error_message_of_the_library_is_spanish() -> None:
    found = []
    for path in sorted(LIB.rglob("*.py")):
        found += offenders(path.read_text(encoding="utf-8"), str(path.relative_to(LIB.parents[1])))
    assert not found, "English in error messages a learner reads:\n" + "\n".join(found)


def test_the_scan_sees_every_raise_site() -> None:
    """The walk finds the raise sites (a broken walk would pass with nothing to judge)."""
    sites = 0
    for path in LIB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and _name(node.exc).lower().endswith("error"):
                sites += 1
    assert sites > 250, sites


@pytest.mark.parametrize("source", [
    'raise ConfigError(f"port {port} needed by {component} is already in use", "run `make down`")',
    'raise DataOpsError("the table does not exist yet")',
    'raise StackError("Kafka failed", f"see {log}")',
    'raise error(f"{what} {path} is empty", hint or "give another file")',
    'err = CheckpointError(f"cannot resume from {chk}", "restore it")',
    'read_text(path, "quality suite", SuiteError, empty_hint="write its checks under raw_poll:")',
    'subproc.run(cmd, "submitting the job", f"see {log}", 300)',
    'raise UsageError(msg, f"use one of {names}")',
    'parser.error("--refresh-s must be > 0")',
])  # fmt: skip
def test_an_english_message_is_flagged(source: str) -> None:
    assert offenders(source), source


@pytest.mark.parametrize("source", [
    'raise ConfigError(f"el puerto {port} que necesita {component} ya está en uso", "ejecuta `make down`")',
    'raise StackError(f"el conector {name} está FAILED: {trace}", "mira `dataops logs connect`")',
    'raise SuiteError(f"{where}: tipo de check desconocido {kind!r}", f"elige entre {\', \'.join(TYPES)}")',
    'raise ValueError(r.kind)',
    'raise DataOpsError(f"{path}: {exc.message}", exc.hint)',
    'raise ConfigError("no está `the_setting`", "pon DATAOPS_KAFKA_BOOTSTRAP=host:9092 o usa `--with prometheus`")',
])  # fmt: skip
def test_a_spanish_message_with_code_is_not_flagged(source: str) -> None:
    assert offenders(source) == []
