"""Does each graded exercise's self-check catch wrong answers made from its master's solution?

For every graded exercise judged without the stack (:data:`EXERCISES`): the master's answer cell is
mutated (:mod:`dataops.course.mutants`), each mutant's behaviour on the exercise's own data (what the
check reads of the answer: the rows it flags, the coins it returns, the episodes a rule fires…) is
compared with the master's, and the graded cell (hidden test included) is run on every mutant that
behaves differently, as nbgrader would: the mutant is *caught* when the cell raises (0 points).

A mutant that behaves like the master is not a wrong answer on this data and is not counted. A
surviving mutant is either a gap in the hidden cases (add a case near its boundary) or a right
answer too (the exercise leaves that choice open): those are listed, with why, in
``data/course/equivalent_mutants.yaml`` and not counted either.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd
import yaml

from dataops.config import DATA_DIR, PROJECT_ROOT
from dataops.course.mutants import Mutant, python_mutants, yaml_mutants

EQUIVALENTS_FILE = DATA_DIR / "course" / "equivalent_mutants.yaml"
_SOLUTION = re.compile(r"^[ \t]*### BEGIN SOLUTION\n(?P<body>.*?)^[ \t]*### END SOLUTION[ \t]*\n?", re.S | re.M)
_HIDDEN = re.compile(r"### (BEGIN|END) HIDDEN TESTS\n?")


@dataclass(frozen=True)
class Exercise:
    """A graded exercise as the mutation run sees it.

    Attributes:
        key: Short name in the figures (``02.frozen``).
        notebook: The master's notebook name.
        answer: grade_id of the answer cell (the master's solution is mutated there).
        check: grade_id of the graded cell (run as is, hidden test included).
        behaviour: What the check reads of the answer, on its own data, from the scope the answer cell ran in.
        variable: For a YAML answer: the name its text is assigned to (the text is mutated, not the code).
        labels: Labels of this answer that the vocabulary does not know (value -> kind).
        stand_in: The cells between the answer and the check that drive the stack, done offline: a context
            manager that prepares the scope (and what it patches) for the graded cell.
        setup: Puts in a fresh scope what the answer cell calls on the stack (stand-ins); ``teardown`` stops them.
        covered: What of the check runs here; ``not_covered``: what needs the stack, and why.
    """

    key: str
    notebook: str
    answer: str
    check: str
    behaviour: Callable[[dict[str, Any]], Any]
    variable: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    stand_in: Callable[[dict[str, Any]], contextlib.AbstractContextManager[Any]] | None = None
    setup: Callable[[dict[str, Any]], None] | None = None
    teardown: Callable[[dict[str, Any]], None] | None = None
    covered: str = "all of it"
    not_covered: str = ""


@dataclass(frozen=True)
class Uncovered:
    """A graded exercise (or part) that no mutant reaches here, and why."""

    key: str
    check: str
    why: str


# ---- the notebooks -----------------------------------------------------------------------------
def _cells(notebook: str) -> dict[str, str]:
    path = PROJECT_ROOT / "notebooks" / f"{notebook}.ipynb"
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    out = {}
    for cell in cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell["cell_type"] == "code" and grade_id:
            out[grade_id] = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    return out


def answer_cell(notebook: str, grade_id: str) -> tuple[str, range]:
    """The master's answer cell and the lines (1-based) of its solution."""
    source = _cells(notebook)[grade_id]
    found = _SOLUTION.search(source)
    if found is None:
        raise ValueError(f"{notebook}: la celda de respuesta {grade_id} no tiene `### BEGIN SOLUTION`")
    first = source[: found.start("body")].count("\n") + 1
    return source, range(first, first + found.group("body").count("\n"))


def graded_cell(notebook: str, grade_id: str) -> str:
    """The graded cell as the grader runs it (visible part and hidden test)."""
    return _HIDDEN.sub("", _cells(notebook)[grade_id])


# ---- running an answer -------------------------------------------------------------------------
def outcome(fn: Callable[..., Any], *args: Any) -> Any:
    """What ``fn(*args)`` gives, or the exception's type when it raises (a behaviour too)."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - a mutant may raise anything
        return ("raises", type(exc).__name__)


def same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - arrays and frames compare element-wise
        return repr(a) == repr(b)


@contextlib.contextmanager
def offline_scope() -> Iterator[dict[str, Any]]:
    """What the notebooks import and set before their exercises (``dataops`` itself aside: no exercise judged
    here reads it), with a state directory of its own; ``p`` is a Pipeline that nothing starts."""
    import numpy as np

    from dataops import alerts, automation, quality, scenarios, widgets
    from dataops.config import load_settings
    from dataops.course import block2, block3, block4, block5, block6
    from dataops.pipeline import Pipeline

    with tempfile.TemporaryDirectory(prefix="dataops-mutants-") as tmp:
        old = os.environ.get("DATAOPS_STATE_DIR")
        os.environ["DATAOPS_STATE_DIR"] = str(Path(tmp) / "state")
        try:
            named = (("eth", "eth_flash_crash"), ("api", "api_outage"), ("cal", "schema_drift"))
            hist = {f"hist_{k}": scenarios.render_history(s)[0] for k, s in named}
            modules = {"pd": pd, "np": np, "alerts": alerts, "automation": automation, "quality": quality,
                       "scenarios": scenarios, "widgets": widgets, "block2": block2, "block3": block3, "block4": block4,
                       "block5": block5, "block6": block6}  # fmt: skip
            p = Pipeline(load_settings(env_file="/nonexistent"))
            yield {**modules, "p": p, "espera_s": 1, "limite_alerta_s": 1, "tmp": Path(tmp), **hist}
        finally:
            if old is None:
                os.environ.pop("DATAOPS_STATE_DIR", None)
            else:
                os.environ["DATAOPS_STATE_DIR"] = old


def run_answer(exercise: Exercise, base: dict[str, Any], text: str) -> dict[str, Any]:
    """A fresh scope after the answer cell ran with ``text`` as its solution (Python) or value (YAML)."""
    scope = {k: (v.copy() if isinstance(v, pd.DataFrame) else v) for k, v in base.items()}
    if exercise.setup is not None:
        exercise.setup(scope)
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            if exercise.variable is not None:
                scope[exercise.variable] = text
            else:
                exec(text, scope)  # noqa: S102 - the course's own answer, mutated
        except Exception as exc:  # noqa: BLE001 - the learner's cell raises: the names stay unset
            scope["__answer_raised__"] = type(exc).__name__
    return scope


def graded(exercise: Exercise, scope: dict[str, Any]) -> bool:
    """Whether the graded cell gives the points (runs without raising) after the answer in ``scope``."""
    cell = graded_cell(exercise.notebook, exercise.check)
    # a stand-in that fails is this harness's error, not a caught mutant: it is entered outside the try
    with contextlib.redirect_stdout(io.StringIO()), exercise.stand_in(scope) if exercise.stand_in else contextlib.nullcontext():
        try:
            exec(cell, scope)  # noqa: S102 - the course's own graded cell
        except Exception:  # noqa: BLE001 - nbgrader: a cell that raises scores 0
            return False
    return True


def behaviour_of(exercise: Exercise, scope: dict[str, Any]) -> Any:
    if "__answer_raised__" in scope:
        return ("answer cell raises", scope["__answer_raised__"])
    with contextlib.redirect_stdout(io.StringIO()):
        return outcome(exercise.behaviour, scope)


def mutants_of(exercise: Exercise) -> tuple[str, list[Mutant]]:
    """The master's answer (cell source, or the YAML text) and its mutants."""
    source, lines = answer_cell(exercise.notebook, exercise.answer)
    if exercise.variable is None:
        return source, python_mutants(source, lines, exercise.labels)
    scope: dict[str, Any] = {}
    exec(source, scope)  # noqa: S102 - the master's answer cell: one assignment of YAML text
    text = scope[exercise.variable]
    return text, yaml_mutants(text, exercise.labels)


# ---- the score ---------------------------------------------------------------------------------
def load_equivalents(path: Path = EQUIVALENTS_FILE) -> dict[tuple[str, str], str]:
    """(exercise key, mutant description) -> why it is a right answer too (the file groups them by reason)."""
    if not path.exists():
        return {}
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return {(e["exercise"], mutant): " ".join(e["why"].split()) for e in entries for mutant in e["mutants"]}


RESULT_COLUMNS = ["exercise", "check", "operator", "mutant", "verdict"]
# verdict: same (behaves as the master: not counted), caught, equivalent (survives, listed as right), survived


def score_exercise(exercise: Exercise, base: dict[str, Any], equivalents: dict[tuple[str, str], str] | None = None,
                   limit: int | None = None) -> pd.DataFrame:  # fmt: skip
    """One row per mutant of ``exercise`` with its verdict (see :data:`RESULT_COLUMNS`)."""
    equivalents = load_equivalents() if equivalents is None else equivalents
    master_text, mutants = mutants_of(exercise)
    master_scope = run_answer(exercise, base, master_text)
    try:
        master = behaviour_of(exercise, master_scope)
        if not graded(exercise, master_scope):
            raise AssertionError(f"{exercise.key}: la respuesta del propio máster no pasa {exercise.check}")
    finally:
        _teardown(exercise, master_scope)
    rows = []
    for mutant in mutants[:limit]:
        scope = run_answer(exercise, base, mutant.text)
        try:
            if same(behaviour_of(exercise, scope), master):
                verdict = "same"
            elif not graded(exercise, scope):
                verdict = "caught"
            else:
                verdict = "equivalent" if (exercise.key, mutant.description) in equivalents else "survived"
        finally:
            _teardown(exercise, scope)
        rows.append((exercise.key, exercise.check, mutant.operator, mutant.description, verdict))
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def _teardown(exercise: Exercise, scope: dict[str, Any]) -> None:
    if exercise.teardown is not None:
        exercise.teardown(scope)


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """Per exercise: mutants counted (behaving differently, not listed as right), caught, score."""
    rows = []
    for key, group in results.groupby("exercise", sort=False):
        counted = group[group["verdict"].isin(["caught", "survived"])]
        caught = int((counted["verdict"] == "caught").sum())
        verdicts = group["verdict"].value_counts()
        score = caught / len(counted) if len(counted) else 1.0
        rows.append({"exercise": key, "mutants": len(counted), "caught": caught, "score": score,
                     "equivalent": int(verdicts.get("equivalent", 0)), "same": int(verdicts.get("same", 0))})
    return pd.DataFrame(rows, columns=["exercise", "mutants", "caught", "score", "equivalent", "same"])


def run(exercises: list[Exercise] | None = None, limit: int | None = None) -> pd.DataFrame:
    """Every mutant of every exercise (default :data:`~dataops.course.mutation_registry.EXERCISES`), with its verdict."""
    from dataops.course.mutation_registry import EXERCISES

    equivalents = load_equivalents()
    with offline_scope() as base:
        return pd.concat([score_exercise(e, base, equivalents, limit) for e in (exercises or EXERCISES)], ignore_index=True)
