"""Learner versions of the notebooks, generated from the instructor masters with nbgrader.

The masters (``notebooks/NN_title.ipynb``) hold the solutions between ``### BEGIN SOLUTION`` /
``### END SOLUTION`` and the hidden checks between ``### BEGIN HIDDEN TESTS`` / ``### END
HIDDEN TESTS``, in cells that carry nbgrader metadata (``grade_id``, ``points``). nbgrader's
``generate_assignment`` writes the learner versions (``notebooks/learner/``): solutions
replaced by a stub that runs (an exercise not done yet reports itself, it never crashes),
hidden checks removed, outputs cleared. ``make learner`` regenerates them; a test fails when
the committed ones are out of date.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable

from dataops.course.catalog import LEARNER, NOTEBOOKS
from dataops.errors import DataOpsError

ASSIGNMENT = "curso"  # nbgrader's name for the set of notebooks
CODE_STUB = "# ✏️ tu código aquí"
TEXT_STUB = "✏️ Tu respuesta aquí (con tus palabras)."


def masters(directory: Path = NOTEBOOKS) -> list[Path]:
    """The instructor masters, in course order."""
    return sorted(directory.glob("[0-9][0-9]_*.ipynb"))


def nbgrader_api(root: Path, **config: Any):
    """nbgrader's API on a course folder ``root`` (source/, release/, submitted/, autograded/, gradebook)."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    # nbgrader migrates its gradebook with the `alembic` command of this environment.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    c = Config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = "dataops"
    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.ClearSolutions.text_stub = TEXT_STUB
    c.Exchange.root = str(root / "exchange")
    for key, value in config.items():  # e.g. ExecutePreprocessor={"timeout": 600}
        for attr, v in value.items():
            setattr(c[key], attr, v)
    return NbGraderAPI(config=c)


def check(result: dict, what: str, hint: str = "revisa los metadatos de nbgrader de las celdas del máster") -> None:
    """An nbgrader API result that failed is one line: what could not be done, and its last log line."""
    if not result.get("success"):
        log = (result.get("error") or result.get("log") or "").strip().splitlines()
        last = next((line for line in reversed(log) if line.strip() and not line.startswith(" ")), "mira el log")
        raise DataOpsError(f"nbgrader no pudo {what} ({last[:200]})", hint)


def generate(notebooks: Iterable[Path] | None = None, out_dir: Path = LEARNER) -> list[Path]:
    """Write the learner version of each master into ``out_dir``; returns the paths written."""
    sources = list(notebooks or masters())
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="dataops-nbgrader-") as tmp:
        root = Path(tmp)
        src = root / "source" / ASSIGNMENT
        src.mkdir(parents=True)
        for nb in sources:
            shutil.copy(nb, src / nb.name)
        check(nbgrader_api(root).generate_assignment(ASSIGNMENT, force=True, create=True), "generar las versiones del alumno")
        for nb in sources:
            released = json.loads((root / "release" / ASSIGNMENT / nb.name).read_text(encoding="utf-8"))
            released["metadata"]["dataops"] = {"generated_from": f"notebooks/{nb.name}", "by": "make learner"}
            target = out_dir / nb.name
            target.write_text(json.dumps(released, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            written.append(target)
    return written


def stale(out_dir: Path = LEARNER) -> list[str]:
    """Learner versions that differ from what the masters generate now (missing ones included)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(out_dir=Path(tmp))
        return [p.name for p in fresh if not (out_dir / p.name).exists() or (out_dir / p.name).read_text() != p.read_text()]
