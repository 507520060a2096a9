"""Grading a whole class: ``dataops grade --class DIR``.

``DIR`` holds one folder per learner, as nbgrader's ``submitted/`` does: ``DIR/<learner>/`` with
the learner's notebooks (``NN_title.ipynb``), directly or one level down
(``DIR/<learner>/<assignment>/``). Each learner is graded by :func:`dataops.course.grading.grade`
in turn; before each one, :func:`dataops.course.reset.reset` takes away what the previous learner
left behind (a ``crypto-alerts`` topic with other partitions, a fault, an extra connector), so no
learner's grade depends on who came before. A learner whose notebooks cannot be graded gets a row
with the reason and 0 points; the others are graded all the same.

The gradebook is written to ``OUT`` (default ``DIR/_gradebook``): ``gradebook.csv`` (one row per
learner: total, each rubric line, each exercise's points, seconds, error) and ``gradebook.html``
(the class table, a histogram per exercise and of the totals, each learner's rubric lines and what
failed), plus ``<learner>.json`` with each learner's full report and ``<learner>/`` with their
notebooks as the grader executed them (what each cell printed).
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from dataops.course.catalog import Course, load_course
from dataops.course.grading import GradeReport, grade
from dataops.errors import ConfigError, DataOpsError

OUT_NAME = "_gradebook"  # inside the class folder: skipped as a learner (it starts with "_")


@dataclass(frozen=True)
class Gradebook:
    """``table``: one row per learner (``learner``, ``total``, a column per rubric line and per
    exercise ``NN/grade_id``, ``seconds``, ``error``); ``reports``: each graded learner's report."""

    table: pd.DataFrame
    reports: dict[str, GradeReport] = field(default_factory=dict)
    csv: Path | None = None
    html: Path | None = None


def learner_folders(class_dir: str | Path) -> dict[str, Path]:
    """``learner -> folder holding their notebooks``, in name order.

    Raises:
        ConfigError: ``class_dir`` is not a folder, or none of its folders holds a notebook.
    """
    root = Path(class_dir)
    if not root.is_dir():
        raise ConfigError(f"la carpeta de la clase {root} no existe", "da una carpeta con una subcarpeta de cuadernos por alumno")
    found: dict[str, Path] = {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        if any(sub.glob("[0-9][0-9]_*.ipynb")):
            found[sub.name] = sub
            continue
        nested = [d for d in sorted(sub.iterdir()) if d.is_dir() and any(d.glob("[0-9][0-9]_*.ipynb"))]
        if len(nested) == 1:
            found[sub.name] = nested[0]
    if not found:
        raise ConfigError(f"no hay ninguna carpeta de alumno con cuadernos en {root}",
                          "pon los cuadernos de cada alumno en DIR/<alumno>/ (o DIR/<alumno>/<entrega>/), p. ej. DIR/ana/03_automatizacion.ipynb")  # fmt: skip
    return found


def _row(learner: str, report: GradeReport | None, seconds: float, error: str) -> dict[str, Any]:
    row: dict[str, Any] = {"learner": learner, "total": report.total if report else 0.0}
    if report is not None:
        for r in report.rubric.itertuples():
            if r.category != "total":
                row[r.category] = r.points
        for e in report.exercises.itertuples():
            row[f"{e.notebook[:2]}/{e.exercise}"] = e.points
    row["seconds"] = round(seconds, 1)
    row["error"] = error
    return row


# grade_one(learner, folder, keep): the learner's report, their executed notebooks copied into ``keep``
GradeOne = Callable[[str, Path, Path], GradeReport]


def grade_class(
    class_dir: str | Path,
    out_dir: str | Path | None = None,
    reset: Callable[[], Any] | None = None,
    course: Course | None = None,
    timeout_s: int = 600,
    progress: Callable[[str], None] | None = print,
    demos: bool = False,
    grade_one: GradeOne | None = None,
    jobs: int = 1,
) -> Gradebook:
    """Grade every learner folder of ``class_dir`` and write the gradebook.

    Args:
        class_dir: One folder per learner (see the module's docstring).
        out_dir: Where the gradebook goes (default ``class_dir/_gradebook``).
        reset: Called before each learner (the CLI passes the pipeline's ``reset``); None: no reset.
        course: The course map (default ``data/course/course.yaml``).
        timeout_s: Longest a notebook cell may run.
        progress: Where a line per learner goes (None: quiet).
        demos: Also run the masters' demo cells (see :func:`dataops.course.grading.grade`).
        grade_one: How one learner is graded (default :func:`dataops.course.grading.grade` in this
            process, on this pipeline); a class server grades each in their namespace
            (:func:`dataops.classroom.grading.grader`).
        jobs: Learners graded at once (only with ``grade_one``, each on a pipeline of their own, and no ``reset``).

    Raises:
        ConfigError: No learner folder in ``class_dir``; several ``jobs`` on one pipeline.
    """
    from concurrent.futures import ThreadPoolExecutor

    course = course or load_course()
    folders = learner_folders(class_dir)
    if jobs > 1 and (grade_one is None or reset is not None):
        raise ConfigError("varios alumnos a la vez solo en un servidor de clase (cada uno en su espacio)",
                          "corrige la clase de uno en uno, o con `dataops grade --class DIR --in-class` en el servidor")  # fmt: skip
    out = Path(out_dir) if out_dir else Path(class_dir) / OUT_NAME
    out.mkdir(parents=True, exist_ok=True)
    one = grade_one or (lambda learner, folder, keep: grade([folder], student=learner, course=course, timeout_s=timeout_s, keep=keep, demos=demos))
    done: list[str] = []

    def graded(learner: str, folder: Path) -> tuple[dict[str, Any], GradeReport | None]:
        t0 = time.monotonic()
        report, error = None, ""
        if reset is not None:
            reset()  # a pipeline that cannot be reset stops the run: it is the room's problem, not this learner's
        try:
            report = one(learner, folder, out / learner)
        except DataOpsError as exc:
            error = str(exc).splitlines()[0]
        seconds = time.monotonic() - t0
        if report is not None:
            (out / f"{learner}.json").write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        done.append(learner)
        if progress:
            said = f"✘ {error}" if error else f"{report.total:g}/100" if report else ""
            progress(f"  [{len(done)}/{len(folders)}] {learner}: {said} ({seconds:.0f} s)")
        return _row(learner, report, seconds, error), report

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(lambda item: graded(*item), folders.items()))  # in name order, whatever ends first
    rows = [row for row, _ in results]
    reports = {row["learner"]: report for row, report in results if report is not None}
    table = _ordered(pd.DataFrame(rows), course)
    csv = out / "gradebook.csv"
    table.to_csv(csv, index=False)
    page = out / "gradebook.html"
    page.write_text(render_html(table, reports, course), encoding="utf-8")
    return Gradebook(table, reports, csv, page)


def _ordered(table: pd.DataFrame, course: Course) -> pd.DataFrame:
    """Columns in a fixed order: learner, total, the rubric's lines, the exercises, seconds, error."""
    for category in course.rubric:
        if category not in table:
            table[category] = 0.0
    exercises = sorted(c for c in table.columns if "/" in c)
    table[exercises] = table[exercises].fillna(0.0)
    return table[["learner", "total", *course.rubric, *exercises, "seconds", "error"]]


def render_html(table: pd.DataFrame, reports: dict[str, GradeReport], course: Course) -> str:
    """The gradebook as one self-contained page (plotly.js inlined once: it opens offline)."""
    import plotly.graph_objects as go

    esc = html.escape
    parts = [f"<h1>Notas · {esc(course.title)}</h1>",
             f"<p>{len(table)} alumnos · media {table['total'].mean():.1f}/100 · mediana {table['total'].median():.1f}/100</p>",
             "<h2>La clase</h2>", table.drop(columns=["seconds"]).to_html(index=False, na_rep="", float_format=lambda v: f"{v:g}")]  # fmt: skip
    charts = ["total", *[c for c in table.columns if "/" in c]]
    parts.append("<h2>Histogramas</h2><p>Cuántos alumnos sacaron cada nota: en el total y en cada ejercicio.</p>")
    for i, column in enumerate(charts):
        top = 100.0 if column == "total" else _max_points(reports, column)
        fig = go.Figure(go.Histogram(x=table[column], xbins={"start": 0, "end": top + 1e-9, "size": max(top / 10, 0.5)}))
        fig.update_layout(title=f"{'Total' if column == 'total' else 'Ejercicio ' + column} (máx. {top:g})", height=260, width=420,
                          margin={"l": 40, "r": 10, "t": 40, "b": 30}, xaxis_title="puntos", yaxis_title="alumnos", bargap=0.05)  # fmt: skip
        parts.append(f'<div style="display:inline-block">{fig.to_html(full_html=False, include_plotlyjs=i == 0)}</div>')
    parts.append("<h2>Cada alumno</h2>")
    for row in table.itertuples(index=False):
        report = reports.get(row.learner)
        parts.append(f"<h3>{esc(row.learner)} · {row.total:g}/100</h3>")
        if report is None:
            parts.append(f"<p>✘ sin nota: {esc(row.error)}</p>")
            continue
        parts.append(report.rubric.to_html(index=False, float_format=lambda v: f"{v:g}"))
        failed = report.exercises[~report.exercises["passed"]]
        if len(failed):
            parts.append("<p>Ejercicios sin los puntos:</p><ul>" + "".join(
                f"<li>{esc(f.notebook)} · {esc(f.exercise)}: {esc(f.hint or 'sin pista')}</li>" for f in failed.itertuples()) + "</ul>")  # fmt: skip
        if len(report.crashes):
            parts.append("<p>Celdas que fallaron fuera de los ejercicios:</p><ul>" + "".join(
                f"<li>{esc(c.notebook)} celda {c.cell}: {esc(c.error)}</li>" for c in report.crashes.itertuples()) + "</ul>")  # fmt: skip
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:.5em 0}"
             "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}")  # fmt: skip
    return f'<!DOCTYPE html><html lang="es"><head><meta charset="utf-8"><title>Notas</title><style>{style}</style></head><body>{"".join(parts)}</body></html>\n'


def _max_points(reports: dict[str, GradeReport], column: str) -> float:
    notebook, exercise = column.split("/", 1)
    for report in reports.values():
        hit = report.exercises[(report.exercises["notebook"].str[:2] == notebook) & (report.exercises["exercise"] == exercise)]
        if len(hit):
            return float(hit["max_points"].iloc[0])
    return 1.0
