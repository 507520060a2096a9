"""The course map (``data/course/course.yaml``): blocks, notebooks, minutes, rubric, time model."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

from dataops.config import DATA_DIR, PROJECT_ROOT
from dataops.course.timing import TimeModel, block_times
from dataops.errors import ConfigError

COURSE_FILE = DATA_DIR / "course" / "course.yaml"
NOTEBOOKS = PROJECT_ROOT / "notebooks"  # the instructor masters
LEARNER = NOTEBOOKS / "learner"  # the learner versions, generated from the masters


@dataclass(frozen=True)
class Block:
    """One block of the course and its notebook."""

    block: int
    notebook: str  # file stem, e.g. 02_diseno_dataops
    title: str
    minutes: int
    deliverable: str
    category: str | None  # the rubric line its graded exercises count for

    @property
    def master(self) -> Path:
        return NOTEBOOKS / f"{self.notebook}.ipynb"

    @property
    def learner(self) -> Path:
        return LEARNER / f"{self.notebook}.ipynb"

    @property
    def timed(self) -> Path:
        """The notebook the time model reads: the master, or in the learner's edition (no masters) the
        learner version, which keeps its prose, cells and their metadata."""
        return self.master if self.master.exists() or not self.learner.exists() else self.learner


@dataclass(frozen=True)
class Course:
    title: str
    blocks: tuple[Block, ...]
    rubric: dict[str, dict]
    time_model: TimeModel = field(default_factory=TimeModel)

    def block_of(self, notebook: str | Path) -> Block | None:
        stem = Path(notebook).stem
        return next((b for b in self.blocks if b.notebook == stem), None)

    def times(self) -> pd.DataFrame:
        """Per block: planned minutes, modelled minutes of the core path and of the whole notebook
        (optional parts included), and whether the core path fits (see :mod:`~dataops.course.timing`)."""
        return block_times(self.blocks, self.time_model)

    def table(self) -> pd.DataFrame:
        """The course map: block, notebook (✘ when it does not exist yet), minutes planned and modelled
        (core path; with the optional «Para ir más lejos» parts), deliverable, points."""
        times = self.times().set_index("block")
        rows = [
            {
                "block": b.block,
                "title": b.title,
                "notebook": b.notebook if b.timed.exists() else f"{b.notebook} (pendiente)",
                "minutes": b.minutes,
                "modelled": times.loc[b.block, "modelled_core"],
                "with_optional": times.loc[b.block, "modelled_total"],
                "deliverable": b.deliverable,
                "points": self.rubric[b.category]["points"] if b.category else 0,
            }
            for b in self.blocks
        ]
        return pd.DataFrame(rows)


@lru_cache(maxsize=4)
def load_course(path: str | Path | None = None) -> Course:
    """Read the course map (default ``data/course/course.yaml``)."""
    where = Path(path) if path else COURSE_FILE
    try:
        doc = yaml.safe_load(where.read_text(encoding="utf-8"))
        blocks = tuple(Block(**b) for b in doc["blocks"])
        rubric = {str(k): dict(v) for k, v in doc["rubric"].items()}
        time_model = TimeModel.from_dict(doc.get("time_model"))
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"no se puede leer el mapa del curso {where.name}", f"{type(exc).__name__}: {exc}") from None
    unknown = {b.category for b in blocks if b.category} - set(rubric)
    if unknown:
        raise ConfigError(f"{where.name}: las categorías de bloque {sorted(unknown)} no están en la rúbrica", f"elige entre {', '.join(rubric)}")
    total = sum(int(r["points"]) for r in rubric.values())
    if total != 100:
        raise ConfigError(f"{where.name}: la rúbrica suma {total}, no 100", "corrige los puntos de data/course/course.yaml")
    return Course(str(doc.get("title", "")), blocks, rubric, time_model)
