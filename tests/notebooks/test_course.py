"""The course as a learner and an instructor meet it: learner versions run with every exercise "not
done yet", and the grader scores by the rubric honestly. The masters run once, whole, in the
newcomer's `make run` (tests/first_run/test_first_make_run.py), which checks every self-check ✔."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dataops.course.gradebook import grade_class
from dataops.course.grading import reflections
from dataops.course.language import english_lines
from dataops.course.reset import reset
from dataops.runner import run_notebooks, self_checks
from tests.course.klass import GRADED_MASTERS, class_of_three

pytestmark = pytest.mark.notebooks
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
LEARNER = NOTEBOOKS / "learner"
BLOCK2 = "02_diseno_dataops.ipynb"
BLOCK3 = "03_automatizacion.ipynb"
BLOCK4 = "04_testing_calidad.ipynb"
BLOCK5 = "05_monitoreo.ipynb"
BLOCK6 = "06_cicd.ipynb"


# notebook → (a word of its solutions that the learner version must not contain, its exercises)
LEARNER_CASES = {"00_entorno.ipynb": ("BEGIN SOLUTION", 0), "01_pipeline_existente.ipynb": ("Midiendo en cada capa", 0),
                 BLOCK2: ("dispersion_cambio_24h", 4), BLOCK3: ("api-precios-responde", 2), BLOCK4: ("pivot_table", 3),
                 BLOCK5: ("value: -15", 3), BLOCK6: ("needs: data-quality", 1)}


@pytest.mark.parametrize("name", LEARNER_CASES)
def test_the_learner_version_runs_and_says_not_done_yet(pipeline, tmp_path, name):
    solution_word, exercises = LEARNER_CASES[name]
    text = (LEARNER / name).read_text()
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and solution_word not in text
    shorter = {BLOCK2: {"espera_s": 8}, BLOCK4: {"duracion_fallo_s": 5}}.get(name)  # demo waits no exercise depends on here
    row = run_notebooks([LEARNER / name], output_dir=tmp_path, parameters=shorter).iloc[0]
    assert row["status"] == "ok", row["error"]
    assert self_checks(tmp_path / "learner" / name) == {"✔": 0, "✘": 0, "…": exercises}
    assert english_lines(tmp_path / "learner" / name) == []  # a learner reads Spanish


def test_the_grader_is_honest_on_a_class_of_three(pipeline, tmp_path):
    # One `grade --class` of three learners, as nbgrader's submitted/ holds them (tests/course/klass.py):
    # the masters of blocks 1-6, blocks 1-2 as handed out, and the master of 01 with the known-wrong
    # answers of 02. The pipeline is reset before each learner. The grader leaves the masters' demo
    # cells out (they run whole in tests/first_run/test_first_make_run.py). Every graded cell of blocks
    # 2-6 is also checked blank and wrong on its own in tests/unit/test_grading_honesty.py (no stack):
    # grading the notebooks of blocks 3-6 blank or wrong here as well would run each of them once
    # more against the stack.
    klass = class_of_three(tmp_path / "entregas")
    resets = []
    book = grade_class(klass, reset=lambda: resets.append(reset(pipeline, data_dir=None)), progress=None)
    assert len(resets) == 3 and all("tópicos añadidos" in list(r["paso"]) for r in resets)
    table = book.table.set_index("learner")
    assert list(table.index) == ["en-blanco", "instructor", "respuestas-erroneas"] and (table["error"] == "").all()

    masters = book.reports["instructor"]
    assert masters.crashes.empty, masters.crashes.to_dict("records")
    assert len(masters.exercises) == 13 and masters.exercises["passed"].all(), masters.exercises.to_dict("records")
    per_block = masters.exercises.groupby("notebook").size().to_dict()
    assert per_block == {"02_diseno_dataops": 4, "03_automatizacion": 2, "04_testing_calidad": 3, "05_monitoreo": 3, "06_cicd": 1}, per_block
    assert table.loc["instructor", ["participation", "automation", "testing", "monitoring", "cicd", "total"]].tolist() == [10, 25, 25, 25, 15, 100]

    blank = book.reports["en-blanco"]
    assert len(blank.exercises) == 4 and (blank.exercises["points"] == 0).all(), blank.exercises.to_dict("records")
    assert table.loc["en-blanco", "total"] == 0

    wrong = book.reports["respuestas-erroneas"]
    assert len(wrong.exercises) == 4 and (wrong.exercises["points"] == 0).all(), wrong.exercises.to_dict("records")
    assert wrong.exercises["hint"].str.contains("✘").all(), wrong.exercises.to_dict("records")
    # Its only points: the reflections of 01 it answered, as a share of every reflection of the course.
    possible = sum(len(reflections(NOTEBOOKS / name)) for name in GRADED_MASTERS)
    share = round(10 * len(reflections(NOTEBOOKS / "01_pipeline_existente.ipynb")) / possible, 1)
    assert 0 < share < 10 and table.loc["respuestas-erroneas", "participation"] == share == table.loc["respuestas-erroneas", "total"]

    written = pd.read_csv(book.csv).set_index("learner")
    assert written["total"].to_dict() == {"en-blanco": 0, "instructor": 100, "respuestas-erroneas": share}
    assert written.loc["instructor", "06/" + masters.exercises["exercise"].iloc[-1]] > 0
    page = book.html.read_text()
    assert page.count("plotly.js v") == 1 and "respuestas-erroneas · " in page
    # What each learner's notebooks printed under the grader (kept next to the gradebook) is Spanish.
    executed = sorted(book.csv.parent.glob("*/*.ipynb"))
    assert len(executed) == len(GRADED_MASTERS) + 4
    assert {nb.name: english_lines(nb) for nb in executed if english_lines(nb)} == {}
