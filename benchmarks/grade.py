"""Figures: grade_learner_s (one learner handing in the masters' answers, blocks 1-6) and
grade_class_s for a class (the masters, blocks 1-2 as handed out, and known-wrong answers of
block 2), graded by ``dataops grade --class`` with the reset between learners.

    .venv/bin/python benchmarks/grade.py      # target: grade_learner_s <= 90

Also prints grade_class_learners and each learner's total.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import running_pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dataops.course.catalog import LEARNER, NOTEBOOKS  # noqa: E402
from dataops.course.gradebook import grade_class  # noqa: E402
from dataops.course.grading import grade  # noqa: E402
from dataops.course.reset import reset  # noqa: E402
from tests.course import answers  # noqa: E402

GRADED = ["01_pipeline_existente", "02_diseno_dataops", "03_automatizacion", "04_testing_calidad", "05_monitoreo", "06_cicd"]


def _class(root: Path) -> Path:
    """Three learners as nbgrader's submitted/ holds them."""
    for name in GRADED:
        (root / "instructor").mkdir(parents=True, exist_ok=True)
        shutil.copy(NOTEBOOKS / f"{name}.ipynb", root / "instructor")
    (root / "en-blanco").mkdir()
    for name in GRADED[:2]:
        shutil.copy(LEARNER / f"{name}.ipynb", root / "en-blanco")
    (root / "respuestas-erroneas").mkdir()
    nb = json.loads((LEARNER / "02_diseno_dataops.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in answers.WRONG_SUBMISSION:
            cell["source"] = answers.WRONG_SUBMISSION[gid]
    (root / "respuestas-erroneas" / "02_diseno_dataops.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    shutil.copy(NOTEBOOKS / "01_pipeline_existente.ipynb", root / "respuestas-erroneas")
    return root


def main() -> None:
    p = running_pipeline()
    reset(p, data_dir=None)
    t0 = time.monotonic()
    one = grade([NOTEBOOKS / f"{name}.ipynb" for name in GRADED], student="instructor")
    print(f"grade_learner_s={time.monotonic() - t0:.1f}")
    print(f"grade_learner_total={one.total:g}")
    with tempfile.TemporaryDirectory(prefix="dataops-class-") as tmp:
        klass = _class(Path(tmp) / "entregas")
        t0 = time.monotonic()
        book = grade_class(klass, reset=lambda: reset(p, data_dir=None), progress=None)
        print(f"grade_class_s={time.monotonic() - t0:.1f}")
        print(f"grade_class_learners={len(book.table)}")
        for row in book.table.itertuples():
            print(f"grade_class_total_{row.learner.replace('-', '_')}={row.total:g}")


if __name__ == "__main__":
    main()
