"""Grading by the course's rubric: nbgrader autogrades a learner's notebooks against the
running pipeline with the masters' hidden checks, and the points go to the rubric's lines.

Each graded cell of a master (nbgrader ``grade: true``) is one exercise; its block's
``category`` (``data/course/course.yaml``) says which rubric line it counts for, scaled to
that line's points. Participation is the share of reflection questions answered in the
learner's own words (answer cells whose ``grade_id`` starts with ``reflexion``).

A master marks its demo cells with the metadata ``dataops.grading: skip``: what the instructor
shows in class (a fault left running for 20 s, the manual set-up timed against the automated one,
a CI run) and no graded cell needs. The grader leaves them out (they are in the learner's notebook,
not executed): a learner is graded on the exercises, in about a minute instead of five.
:func:`demo_problems` checks that no kept cell uses a name only a demo defines; ``demos=True``
runs everything, as in class. A notebook with no graded cell is not executed at all.
"""

from __future__ import annotations

import ast
import json
import shutil
import warnings
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from dataops.course.assignments import ASSIGNMENT, TEXT_STUB, check, nbgrader_api
from dataops.course.block1 import reflection_answered
from dataops.course.catalog import Course, load_course
from dataops.errors import ConfigError
from dataops.userfiles import read_json

REFLECTION_PREFIX = "reflexion"
DEMO_STUB = "# demostración de clase: no se ejecuta al calificar"
EXERCISE_COLUMNS = ["notebook", "exercise", "category", "points", "max_points", "passed", "hint"]
CRASH_COLUMNS = ["notebook", "cell", "error"]
RUBRIC_COLUMNS = ["category", "label", "points", "max_points", "detail"]


@dataclass(frozen=True)
class GradeReport:
    """``exercises``: one row per graded cell; ``rubric``: one row per rubric line plus the total;
    ``crashes``: the cells outside the exercises that raised (notebook, cell number, error line):
    a demo that broke, which no exercise's points show."""

    exercises: pd.DataFrame
    rubric: pd.DataFrame
    crashes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CRASH_COLUMNS))

    @property
    def total(self) -> float:
        return float(self.rubric.loc[self.rubric["category"] == "total", "points"].iloc[0])

    def to_dict(self) -> dict:
        return {"total": self.total, "rubric": self.rubric.to_dict("records"), "exercises": self.exercises.to_dict("records"),
                "crashes": self.crashes.to_dict("records")}

    @classmethod
    def from_dict(cls, data: dict) -> "GradeReport":
        """The report :meth:`to_dict` wrote (``dataops grade --json``)."""
        return cls(pd.DataFrame(data["exercises"], columns=EXERCISE_COLUMNS), pd.DataFrame(data["rubric"], columns=RUBRIC_COLUMNS),
                   pd.DataFrame(data.get("crashes", []), columns=CRASH_COLUMNS))  # fmt: skip


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def read_notebook(path: Path) -> dict[str, Any]:
    """A notebook file's JSON; one :class:`ConfigError` line when it is missing, not UTF-8, not JSON or has no cells."""
    doc = read_json(path, "el cuaderno", hint="da un cuaderno (.ipynb) guardado por Jupyter")
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise ConfigError(f"el cuaderno {path} no tiene una lista de celdas", "da un cuaderno (.ipynb) guardado por Jupyter")
    return doc


def _meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _hint(cell: dict) -> str:
    """What a graded cell printed or raised: its ✘ lines, or the exception's one line."""
    lines = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            lines += [l for l in "".join(out.get("text", "")).splitlines() if l.startswith(("✘", "…"))]
        elif out.get("output_type") == "error" and not lines:  # the self-check's own lines say more
            lines.append(f"{out.get('ename')}: {out.get('evalue', '')}".strip()[:200])
    return " | ".join(lines[:3])


def _dataops(cell: dict) -> dict:
    return cell.get("metadata", {}).get("dataops", {})


def demo_cells(master: Path) -> set[str]:
    """The ids of a master's demo cells (metadata ``dataops.grading: skip``), which grading leaves out."""
    return {c.get("id", "") for c in _cells(master) if c.get("cell_type") == "code" and _dataops(c).get("grading") == "skip"}


def graded_cells(master: Path) -> list[str]:
    """The ``grade_id`` of each graded code cell of a master."""
    return [_meta(c)["grade_id"] for c in _cells(master) if c.get("cell_type") == "code" and _meta(c).get("grade")]


def _python(source: str) -> ast.Module | None:
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return None


def demo_problems(master: Path) -> list[str]:
    """Why a master's demo marks are unsafe: a graded, answer or parameters cell marked, or a kept
    cell that uses a name only demos define (so, graded without demos, it would raise NameError)."""
    problems, demo_only = [], set()
    for number, cell in enumerate(_cells(master), start=1):
        if cell.get("cell_type") != "code":
            continue
        demo = _dataops(cell).get("grading") == "skip"
        tree = _python(_source(cell))
        if demo and (_meta(cell).get("grade") or _meta(cell).get("solution") or "parameters" in cell["metadata"].get("tags", [])):
            problems.append(f"{master.name} cell {number}: an exercise or the parameters cell is marked as a demo")
        if tree is None:
            continue
        stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        stored |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        stored |= {(a.asname or a.name).split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        if demo:
            demo_only |= stored
            continue
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        for name in sorted((used - stored) & demo_only):
            problems.append(f"{master.name} cell {number} uses {name}, which only a demo cell defines")
        demo_only -= stored
    return problems


def _leave_out_demos(notebook: Path, demos: set[str]) -> None:
    """Replace the source of the demo cells of a submitted notebook (found by the master's cell ids) with a comment."""
    doc = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in doc["cells"]:
        if cell.get("cell_type") == "code" and cell.get("id") in demos:
            cell["source"], cell["outputs"], cell["execution_count"] = DEMO_STUB, [], None
    notebook.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def reflections(path: Path) -> list[tuple[str, bool]]:
    """``(grade_id, answered)`` of each reflection answer cell of a notebook."""
    out = []
    for cell in _cells(path):
        gid = str(_meta(cell).get("grade_id", ""))
        if gid.startswith(REFLECTION_PREFIX):
            text = _source(cell).replace(TEXT_STUB, "")
            out.append((gid, reflection_answered(text)))
    return out


def grade(paths: Iterable[str | Path], student: str = "alumno", course: Course | None = None, timeout_s: int = 600,
          keep: str | Path | None = None, demos: bool = False) -> GradeReport:
    """Autograde a learner's notebooks (nbgrader, hidden checks of the masters) and score them by the rubric.

    Args:
        paths: The learner's notebooks (``NN_title.ipynb``), or folders holding them.
        student: The learner's id in nbgrader's gradebook.
        course: The course map (default ``data/course/course.yaml``).
        timeout_s: Longest a cell may run.
        keep: A folder to copy the executed (autograded) notebooks into: what each cell printed.
        demos: Also run the masters' demo cells, and the notebooks with no graded cell (slower:
            about five minutes for blocks 1-6 against one); by default they are left out.

    Raises:
        ConfigError: A notebook is not one of the course's.
        DataOpsError: nbgrader could not autograde (one line).
    """
    course = course or load_course()
    notebooks: list[Path] = []
    for p in map(Path, paths):
        notebooks += sorted(p.glob("[0-9][0-9]_*.ipynb")) if p.is_dir() else [p]
    if not notebooks:
        raise ConfigError("no hay ningún cuaderno que corregir", "pasa los cuadernos del alumno (o su carpeta), p. ej. notebooks/learner")
    blocks = {}
    for nb in notebooks:
        block = course.block_of(nb)
        if block is None or not block.master.exists():
            raise ConfigError(f"{nb.name} no es un cuaderno del curso", "llámalo como los másteres de notebooks/")
        read_notebook(nb)
        blocks[nb.name] = block
    with tempfile.TemporaryDirectory(prefix="dataops-grade-") as tmp:
        root = Path(tmp)
        src, sub = root / "source" / ASSIGNMENT, root / "submitted" / student / ASSIGNMENT
        src.mkdir(parents=True)
        sub.mkdir(parents=True)
        run = [nb for nb in notebooks if demos or graded_cells(blocks[nb.name].master)]
        for nb in run:
            shutil.copy(blocks[nb.name].master, src / nb.name)
            shutil.copy(nb, sub / nb.name)
            if not demos:
                _leave_out_demos(sub / nb.name, demo_cells(blocks[nb.name].master))
        scores = _autograde(root, student, timeout_s) if run else {}
        rows, crashes = [], []
        for nb in notebooks:
            block = blocks[nb.name]
            graded = root / "autograded" / student / ASSIGNMENT / nb.name
            if nb not in run:  # no graded cell: nothing to execute (its reflections are read below)
                if keep is not None:
                    Path(keep).mkdir(parents=True, exist_ok=True)
                    shutil.copy(nb, Path(keep) / nb.name)
                continue
            for cell in _cells(graded):
                meta = _meta(cell)
                if not meta.get("grade") or cell.get("cell_type") != "code":
                    continue
                got, top = scores.get((nb.name, meta["grade_id"]), (0.0, float(meta.get("points", 0))))
                rows.append({"notebook": nb.stem, "exercise": meta["grade_id"], "category": block.category or "—",
                             "points": got, "max_points": top, "passed": got >= top, "hint": "" if got >= top else _hint(cell)})  # fmt: skip
            crashes += _crashes(graded, nb.stem)
            if keep is not None:
                Path(keep).mkdir(parents=True, exist_ok=True)
                shutil.copy(graded, Path(keep) / nb.name)
        answered = [ok for nb in notebooks for _, ok in reflections(nb)]
    exercises = pd.DataFrame(rows, columns=EXERCISE_COLUMNS)
    rubric = _rubric(course, exercises, answered, {blocks[n].notebook for n in blocks})
    return GradeReport(exercises, rubric, pd.DataFrame(crashes, columns=CRASH_COLUMNS))


def _crashes(graded: Path, notebook: str) -> list[dict]:
    """The code cells outside the exercises whose execution raised."""
    out = []
    for number, cell in enumerate(_cells(graded), start=1):
        if cell.get("cell_type") != "code" or _meta(cell).get("grade"):
            continue
        for err in (o for o in cell.get("outputs", []) if o.get("output_type") == "error"):
            out.append({"notebook": notebook, "cell": number, "error": f"{err.get('ename')}: {err.get('evalue', '')}".strip()[:200]})
    return out


def _autograde(root: Path, student: str, timeout_s: int) -> dict[tuple[str, str], tuple[float, float]]:
    """nbgrader's autograde of ``student`` in the course folder ``root``: (notebook, grade_id) -> (score, max)."""
    api = nbgrader_api(root, ExecutePreprocessor={"timeout": timeout_s})
    hint = "ejecuta el cuaderno a mano para ver la celda que falla"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="nbgrader")  # its gradebook's SQLAlchemy session warnings
        check(api.generate_assignment(ASSIGNMENT, force=True, create=True), "registrar los másteres", hint)
        check(api.autograde(ASSIGNMENT, student, force=True, create=True), "corregir los cuadernos", hint)
        with api.gradebook as gb:
            return {
                (nb.name + ".ipynb", g.name): (float(g.score or 0.0), float(g.max_score or 0.0))
                for nb in gb.find_submission(ASSIGNMENT, student).notebooks
                for g in nb.grades
            }


def _rubric(course: Course, exercises: pd.DataFrame, answered: list[bool], graded: set[str]) -> pd.DataFrame:
    rows = []
    for category, line in course.rubric.items():
        top = float(line["points"])
        if category == "participation":
            possible = sum(len(reflections(b.master)) for b in course.blocks if b.master.exists())
            share = sum(answered) / possible if possible else 0.0
            rows.append((category, line["label"], round(top * share, 1), top, f"{sum(answered)}/{possible} reflexiones respondidas"))
            continue
        mine = exercises[exercises["category"] == category]
        notebooks = [b.notebook for b in course.blocks if b.category == category]
        if mine.empty:
            missing = [n for n in notebooks if n not in graded]
            why = f"cuaderno {', '.join(missing)} no entregado o aún no existe" if missing else "sin ejercicios puntuables"
            rows.append((category, line["label"], 0.0, top, why))
            continue
        share = mine["points"].sum() / mine["max_points"].sum() if mine["max_points"].sum() else 0.0
        rows.append((category, line["label"], round(top * share, 1), top, f"{int(mine['passed'].sum())}/{len(mine)} ejercicios"))
    frame = pd.DataFrame(rows, columns=RUBRIC_COLUMNS)
    total = pd.DataFrame([("total", "Total", round(frame["points"].sum(), 1), 100.0, "")], columns=RUBRIC_COLUMNS)
    return pd.concat([frame, total], ignore_index=True)
