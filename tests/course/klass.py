"""A class of three learners as nbgrader's ``submitted/`` holds them, for the course test and
``benchmarks/grade.py``: ``instructor`` hands in the masters of blocks 1-6, ``en-blanco`` blocks 1-2
as handed out, ``respuestas-erroneas`` the master of block 1 and block 2 with known-wrong answers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from dataops.course.catalog import LEARNER, NOTEBOOKS
from tests.course import answers

BLOCK1 = "01_pipeline_existente.ipynb"
BLOCK2 = "02_diseno_dataops.ipynb"
GRADED_MASTERS = (BLOCK1, BLOCK2, "03_automatizacion.ipynb", "04_testing_calidad.ipynb", "05_monitoreo.ipynb", "06_cicd.ipynb")


def with_answers(notebook: Path, answers_by_id: dict[str, str]) -> dict:
    """A notebook's JSON with these sources typed into the answer cells of these grade_ids."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in answers_by_id:
            cell["source"] = answers_by_id[gid]
    return nb


def class_of_three(root: Path) -> Path:
    """Lay the three learners out under ``root`` (created); returns it. The instructor's folder
    uses nbgrader's ``<learner>/<assignment>/`` layout, the other two ``<learner>/``."""
    (root / "instructor" / "curso").mkdir(parents=True)
    for name in GRADED_MASTERS:
        shutil.copy(NOTEBOOKS / name, root / "instructor" / "curso" / name)
    (root / "en-blanco").mkdir()
    for name in (BLOCK1, BLOCK2):  # 01: unanswered reflections
        shutil.copy(LEARNER / name, root / "en-blanco" / name)
    wrong = root / "respuestas-erroneas"
    wrong.mkdir()
    (wrong / BLOCK2).write_text(json.dumps(with_answers(LEARNER / BLOCK2, answers.WRONG_SUBMISSION)), encoding="utf-8")
    shutil.copy(NOTEBOOKS / BLOCK1, wrong / BLOCK1)
    return root
