"""The course as a learner and an instructor meet it: masters pass every self-check, learner
versions run with every exercise "not done yet", and the grader scores by the rubric honestly."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dataops.course.grading import grade
from dataops.runner import run_notebooks, self_checks
from tests.course import answers

pytestmark = pytest.mark.notebooks
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
LEARNER = NOTEBOOKS / "learner"
BLOCK2 = "02_diseno_dataops.ipynb"
BLOCK3 = "03_automatizacion.ipynb"
BLOCK4 = "04_testing_calidad.ipynb"
BLOCK5 = "05_monitoreo.ipynb"
BLOCK6 = "06_cicd.ipynb"
GRADED_MASTERS = ("01_pipeline_existente.ipynb", BLOCK2, BLOCK3, BLOCK4, BLOCK5, BLOCK6)


def drawn_figures(html: Path) -> tuple[int, int]:
    """Plotly figures and mermaid diagrams a headless Chromium drew when it opened the report (offline, file://)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("needs chromium (Debian's `chromium` package; .ci/run installs it)")
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=15000",
                          "--dump-dom", html.as_uri()], capture_output=True, text=True, timeout=120).stdout  # fmt: skip
    return dom.count('class="main-svg"'), dom.count('class="jp-Mermaid jp-RenderedMermaid"')  # a failed diagram adds jp-mod-warning


def test_the_master_passes_every_self_check_and_its_report_draws_offline(pipeline, tmp_path):
    row = run_notebooks([NOTEBOOKS / BLOCK2], output_dir=tmp_path, html_dir=tmp_path / "html").iloc[0]
    assert row["status"] == "ok", row["error"]
    assert self_checks(tmp_path / BLOCK2) == {"✔": 4, "✘": 0, "…": 0}
    report = tmp_path / "html" / "02_diseno_dataops.html"
    assert not re.search(r"<script[^>]+src=\"[^\"]*plotly", report.read_text())  # plotly.js is inlined, not fetched
    figures, diagrams = drawn_figures(report)
    assert figures >= 2  # the risk matrix and the alert designer at least
    assert diagrams == 2 and (tmp_path / "html" / "assets" / "mermaid.min.js").exists()  # both diagrams, no CDN


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


def _submission(tmp_path: Path, answers_by_id: dict[str, str]) -> Path:
    """A learner's block 2 with these answers typed into its answer cells."""
    nb = json.loads((LEARNER / BLOCK2).read_text())
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in answers_by_id:
            cell["source"] = answers_by_id[gid]
    path = tmp_path / "entrega" / BLOCK2
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(nb))
    return path


def test_the_grader_is_honest(pipeline, tmp_path):
    # The masters of blocks 1-6 run here, once, under nbgrader (nbval skips them, see pyproject.toml):
    # no cell raises, every graded self-check passes, and they score 100.
    masters = grade([NOTEBOOKS / name for name in GRADED_MASTERS], student="instructor")
    assert masters.crashes.empty, masters.crashes.to_dict("records")
    assert len(masters.exercises) == 13 and masters.exercises["passed"].all(), masters.exercises.to_dict("records")
    per_block = masters.exercises.groupby("notebook").size().to_dict()
    assert per_block == {"02_diseno_dataops": 4, "03_automatizacion": 2, "04_testing_calidad": 3, "05_monitoreo": 3, "06_cicd": 1}, per_block
    rubric = masters.rubric.set_index("category")
    assert rubric.loc["participation", "points"] == 10
    assert rubric.loc["automation", "points"] == 25 and rubric.loc["testing", "points"] == 25
    assert rubric.loc["monitoring", "points"] == 25 and rubric.loc["cicd", "points"] == 15
    assert masters.total == 100

    # Blank and wrong answers end to end for blocks 1-2; every graded cell of blocks 2-6 is checked blank
    # and wrong on its own in tests/unit/test_grading_honesty.py (no stack): grading the notebooks of
    # blocks 3-6 here as well would run each of them once more against the stack.
    blank = grade([LEARNER / "01_pipeline_existente.ipynb", LEARNER / BLOCK2], student="en-blanco")  # 01: unanswered reflections
    assert len(blank.exercises) == 4 and (blank.exercises["points"] == 0).all(), blank.exercises.to_dict("records")
    assert blank.total == 0

    wrong = grade([_submission(tmp_path, answers.WRONG_SUBMISSION)], student="respuestas-erroneas")
    assert len(wrong.exercises) == 4 and (wrong.exercises["points"] == 0).all(), wrong.exercises.to_dict("records")
    assert wrong.exercises["hint"].str.contains("✘").all(), wrong.exercises.to_dict("records")
