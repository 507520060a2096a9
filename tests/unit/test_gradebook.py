"""`dataops grade --class`: the learner folders it finds, the reset before each learner, the
gradebook it writes (CSV and HTML), a learner that cannot be graded. The grading of one learner is
stubbed here (it needs the stack); tests/notebooks/test_course.py grades a class of three for real."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from dataops.course import gradebook, grading
from dataops.course.catalog import load_course
from dataops.errors import ConfigError, DataOpsError

pytestmark = pytest.mark.unit
COURSE = load_course()


def _notebook(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def _report(points: dict[str, float], answered: list[bool]) -> grading.GradeReport:
    """A learner's report as the grader builds it: block 3's two exercises (12.5 points each at most)."""
    rows = [{"notebook": "03_automatizacion", "exercise": gid, "category": "automation", "points": got, "max_points": 1.0,
             "passed": got >= 1.0, "hint": "" if got >= 1.0 else "✘ con 1 partición"} for gid, got in points.items()]  # fmt: skip
    exercises = pd.DataFrame(rows, columns=grading.EXERCISE_COLUMNS)
    return grading.GradeReport(exercises, grading._rubric(COURSE, exercises, answered, {"03_automatizacion"}))


@pytest.fixture
def klass(tmp_path):
    root = tmp_path / "entregas"
    _notebook(root / "ana" / "03_automatizacion.ipynb")
    _notebook(root / "bruno" / "curso" / "03_automatizacion.ipynb")  # nbgrader's submitted/<learner>/<assignment>/
    _notebook(root / "carla" / "03_automatizacion.ipynb")
    (root / "notas-sueltas").mkdir()  # no notebook: not a learner
    _notebook(root / ".ipynb_checkpoints" / "03_automatizacion.ipynb")
    return root


def test_learner_folders_follow_both_layouts_and_skip_the_rest(klass):
    found = gradebook.learner_folders(klass)
    assert list(found) == ["ana", "bruno", "carla"]
    assert found["bruno"] == klass / "bruno" / "curso"


@pytest.mark.parametrize("make, says", [
    (lambda root: root / "no-existe", "no existe"),
    (lambda root: root, "no hay ninguna carpeta de alumno con cuadernos"),
])  # fmt: skip
def test_a_folder_without_learners_is_one_line(tmp_path, make, says):
    with pytest.raises(ConfigError, match=says):
        gradebook.learner_folders(make(tmp_path))


def test_each_learner_is_graded_after_a_reset_and_the_gradebook_has_them_all(klass, monkeypatch):
    events = []
    outcomes = {"ana": _report({"montaje": 1.0, "extension": 1.0}, [True] * 6),
                "bruno": DataOpsError("nbgrader no pudo corregir los cuadernos (Timeout)", "ejecútalo a mano"),
                "carla": _report({"montaje": 1.0, "extension": 0.0}, [True, False])}  # fmt: skip

    def fake_grade(paths, student, course, timeout_s, keep, demos):
        assert demos is False  # by default a class is graded on its exercises only
        events.append(("grade", student, Path(paths[0]).name))
        assert keep == klass / gradebook.OUT_NAME / student
        if isinstance(outcomes[student], Exception):
            raise outcomes[student]
        return outcomes[student]

    monkeypatch.setattr(gradebook, "grade", fake_grade)
    lines = []
    book = gradebook.grade_class(klass, reset=lambda: events.append(("reset",)), progress=lines.append)
    assert events == [("reset",), ("grade", "ana", "ana"), ("reset",), ("grade", "bruno", "curso"), ("reset",), ("grade", "carla", "carla")]
    table = book.table.set_index("learner")
    assert table.loc["ana", "total"] == 25 + 10 * 6 / grading_reflections() and table.loc["ana", "automation"] == 25
    assert table.loc["bruno", "total"] == 0 and "Timeout" in table.loc["bruno", "error"]
    assert table.loc["carla", "automation"] == 12.5 and table.loc["carla", "03/extension"] == 0
    assert list(book.table.columns[:2]) == ["learner", "total"] and list(book.table.columns[2:7]) == list(COURSE.rubric)
    assert "✘ nbgrader no pudo corregir" in lines[1] and lines[0].startswith("  [1/3] ana:")

    written = pd.read_csv(book.csv).set_index("learner")
    assert written.loc["carla", "03/montaje"] == 1.0 and written.loc["bruno", "03/montaje"] == 0.0
    assert sorted(p.name for p in book.csv.parent.glob("*.json")) == ["ana.json", "carla.json"]
    page = book.html.read_text()
    assert page.count("<script") >= 3 and page.count("plotly.js v") == 1  # one inlined plotly.js, a chart per column
    assert "Ejercicio 03\\u002fextension" in page and "✘ con 1 partición" in page and "sin nota: nbgrader no pudo" in page
    assert gradebook.OUT_NAME not in gradebook.learner_folders(klass)  # the gradebook is not a learner on the next run


def grading_reflections() -> int:
    return sum(len(grading.reflections(b.master)) for b in COURSE.blocks if b.master.exists())


def test_a_pipeline_that_cannot_be_reset_stops_the_run(klass, monkeypatch):
    monkeypatch.setattr(gradebook, "grade", lambda *a, **k: pytest.fail("graded without a reset"))

    def broken():
        raise DataOpsError("Kafka no responde en 127.0.0.1:9092", "arranca el stack: `make up`")

    with pytest.raises(DataOpsError, match="no responde"):
        gradebook.grade_class(klass, reset=broken, progress=None)


def test_a_class_server_grades_several_learners_at_once_and_the_gradebook_is_the_same(klass):
    import threading

    running, most, guard = [], [0], threading.Lock()
    reports = {"ana": _report({"montaje": 1.0, "extension": 1.0}, [True] * 6), "carla": _report({"montaje": 1.0, "extension": 0.0}, [True])}

    def grade_one(learner, folder, keep):  # as dataops.classroom.grading.grader's: one learner, in their namespace
        with guard:
            running.append(learner)
            most[0] = max(most[0], len(running))
        time.sleep(0.3)
        with guard:
            running.remove(learner)
        if learner == "bruno":
            raise DataOpsError("bruno no tiene usuario en este servidor", "corrígelo cuando haya entrado")
        assert keep == klass / gradebook.OUT_NAME / learner
        return reports[learner]

    book = gradebook.grade_class(klass, grade_one=grade_one, jobs=3, progress=None)
    assert most[0] == 3  # all three at once
    table = book.table.set_index("learner")
    assert list(table.index) == ["ana", "bruno", "carla"]  # in name order, whoever ended first
    assert table.loc["ana", "automation"] == 25 and table.loc["carla", "03/extension"] == 0 and "usuario" in table.loc["bruno", "error"]
    again = grading.GradeReport.from_dict(json.loads((book.csv.parent / "carla.json").read_text()))
    assert again.total == reports["carla"].total and again.exercises.equals(reports["carla"].exercises)


def test_several_at_once_on_one_pipeline_is_refused(klass):
    with pytest.raises(ConfigError, match="servidor de clase"):
        gradebook.grade_class(klass, jobs=2, progress=None)
    with pytest.raises(ConfigError, match="servidor de clase"):
        gradebook.grade_class(klass, jobs=2, reset=lambda: None, grade_one=lambda *a: None, progress=None)


@pytest.mark.parametrize("args, says", [
    ([], "no hay ningún cuaderno que corregir"),
    (["x.ipynb", "--in-class"], "--in-class corrige una clase entera"),
    (["--class", ".", "--jobs", "0"], "mayor que 0"),
    (["x.ipynb", "--class", "."], "da cuadernos o --class DIR, no las dos cosas"),
    (["--class", "/no/such/class"], "no existe"),
    (["--class", "/no/such/class", "--jobs", "2"], "--jobs solo vale con --in-class"),
])  # fmt: skip
def test_the_cli_answers_a_wrong_call_in_one_line(args, says):
    out = subprocess.run([sys.executable, "-m", "dataops.cli", "grade", *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and says in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
