"""Which edition of the course this folder is: the instructor's (the repository, with masters,
answers and hidden grading cases) or the learner's (written by ``dataops release``).

The learner's edition carries an ``EDITION`` file at the project root that says ``learner``;
without it, the folder is the instructor's edition.
"""

from __future__ import annotations

from pathlib import Path

from dataops.config import PROJECT_ROOT

EDITION_FILE = "EDITION"
LEARNER = "learner"
INSTRUCTOR = "instructor"


def edition(root: Path | None = None) -> str:
    """``"learner"`` when ``root`` (default: this project) holds an ``EDITION`` file that says so, else ``"instructor"``."""
    marker = Path(root or PROJECT_ROOT) / EDITION_FILE
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == LEARNER:
        return LEARNER
    return INSTRUCTOR


def is_learner_edition(root: Path | None = None) -> bool:
    """True in the learner's edition of the course (see :func:`edition`)."""
    return edition(root) == LEARNER
