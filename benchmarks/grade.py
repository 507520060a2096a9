"""Figures: grade_learner_s (one learner handing in the masters' answers, blocks 1-6; the demo
cells left out, as `dataops grade` does by default) and
grade_class_s for a class (the masters, blocks 1-2 as handed out, and known-wrong answers of
block 2), graded by ``dataops grade --class`` with the reset between learners.

    .venv/bin/python benchmarks/grade.py      # target: grade_learner_s <= 90

Also prints grade_class_learners and each learner's total.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from _common import running_pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dataops.course.catalog import NOTEBOOKS  # noqa: E402
from dataops.course.gradebook import grade_class  # noqa: E402
from dataops.course.grading import grade  # noqa: E402
from dataops.course.reset import reset  # noqa: E402
from tests.course.klass import GRADED_MASTERS, class_of_three  # noqa: E402


def main() -> None:
    p = running_pipeline()
    reset(p, data_dir=None)
    t0 = time.monotonic()
    one = grade([NOTEBOOKS / name for name in GRADED_MASTERS], student="instructor")
    print(f"grade_learner_s={time.monotonic() - t0:.1f}")
    print(f"grade_learner_total={one.total:g}")
    with tempfile.TemporaryDirectory(prefix="dataops-class-") as tmp:
        klass = class_of_three(Path(tmp) / "entregas")
        t0 = time.monotonic()
        book = grade_class(klass, reset=lambda: reset(p, data_dir=None), progress=None)
        print(f"grade_class_s={time.monotonic() - t0:.1f}")
        print(f"grade_class_learners={len(book.table)}")
        for row in book.table.itertuples():
            print(f"grade_class_total_{row.learner.replace('-', '_')}={row.total:g}")


if __name__ == "__main__":
    main()
