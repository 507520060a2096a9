"""How long each notebook takes a median learner: the time model of ``data/course/course.yaml``.

A block's slot (``minutes``) is a promise; the model checks it from the notebook itself.
Markdown prose is read at ``words_per_minute``; each fenced block in it (a mermaid diagram, a
shell snippet) is looked at for ``seconds_per_figure``; each code cell costs
``seconds_per_code_cell`` (read it, run it, look at what it shows) plus the seconds it keeps the
learner waiting, from its metadata ``dataops.seconds`` (a cell that waits for the live pipeline);
each exercise costs minutes: an answer cell's metadata ``dataops.minutes``, else
``exercise_minutes`` for code and ``reflection_minutes`` for a written answer. The solution
inside an answer cell is not read: the learner writes it.

**Core path and «Para ir más lejos».** A markdown heading that contains ``Para ir más lejos``
opens an optional section: everything up to the next heading of the same or a higher level is
outside the block's minutes (after class, or for whoever finishes early). A single cell can be
marked optional with the metadata ``dataops.optional: true``. Everything else is the **core
path**, the part the slot has to hold; :func:`undefined_in_core` checks that the core path runs
when every optional cell is skipped.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
import unicodedata
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

OPTIONAL_HEADING = "Para ir más lejos"
CELL_COLUMNS = ["cell", "id", "section", "kind", "optional", "words", "seconds"]
SECTION_COLUMNS = ["section", "optional", "minutes"]
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$", re.M)
_FENCE = re.compile(r"^```.*?^```", re.M | re.S)
_IPYTHON_NAMES = {"display", "get_ipython", "In", "Out", "exit", "quit"}


@dataclass(frozen=True)
class TimeModel:
    """The parameters of the model (``time_model:`` in ``data/course/course.yaml``).

    Attributes:
        words_per_minute: Reading speed of Spanish prose (markdown, fenced blocks excluded).
        seconds_per_code_cell: Reading, running and looking at the output of one code cell
            that answers at once (its metadata ``dataops.seconds`` adds the time it runs).
        seconds_per_figure: Looking at one fenced block of a markdown cell (a diagram, a snippet).
        exercise_minutes: Writing one code answer, when its cell has no ``dataops.minutes``.
        reflection_minutes: Writing one written answer (a reflection), likewise.
    """

    words_per_minute: float = 200.0
    seconds_per_code_cell: float = 30.0
    seconds_per_figure: float = 15.0
    exercise_minutes: float = 5.0
    reflection_minutes: float = 1.0

    @classmethod
    def from_dict(cls, doc: dict[str, Any] | None) -> "TimeModel":
        """The model from the ``time_model:`` mapping; an unknown key is a :class:`ValueError`."""
        doc = dict(doc or {})
        known = {f.name for f in fields(cls)}
        unknown = set(doc) - known
        if unknown:
            raise ValueError(f"claves desconocidas en time_model: {sorted(unknown)}: usa {', '.join(sorted(known))}")
        return cls(**{k: float(v) for k, v in doc.items()})


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _meta(cell: dict, key: str) -> dict:
    return cell.get("metadata", {}).get(key, {}) or {}


def _fold(text: str) -> str:
    """Lower case without accents, to match a heading however it is typed."""
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


def count_words(markdown: str) -> int:
    """Words a learner reads in a markdown text: fenced blocks out, tokens with a letter or digit."""
    return sum(1 for token in _FENCE.sub(" ", markdown).split() if any(ch.isalnum() for ch in token))


def _heading(cell: dict) -> tuple[int, str] | None:
    """The first heading of a markdown cell (outside fenced blocks): (level, text)."""
    if cell.get("cell_type") != "markdown":
        return None
    match = _HEADING.search(_FENCE.sub("", _source(cell)))
    return (len(match.group(1)), match.group(2)) if match else None


def _section_name(text: str) -> str:
    return re.sub(r"\s*\(\d+\s*min(?:utos)?\)\s*$", "", text.replace("*", "")).strip()


def cell_times(notebook: dict | str | Path, model: TimeModel | None = None) -> pd.DataFrame:
    """One row per cell: its section (the last ``##`` heading), kind, whether it is optional,
    words read and seconds it costs a median learner.

    Kinds: ``prose`` (markdown), ``code``, ``exercise`` (a code answer cell), ``reflection``
    (a written answer cell).
    """
    model = model or TimeModel()
    nb = _load(notebook)
    rows = []
    section, optional_level = "(inicio)", None  # optional_level: the heading level of an open «Para ir más lejos»
    for index, cell in enumerate(nb["cells"]):
        heading = _heading(cell)
        if heading:
            level, text = heading
            if optional_level is not None and level <= optional_level:
                optional_level = None
            if _fold(OPTIONAL_HEADING) in _fold(text):
                optional_level = level
            if level <= 2:
                section = _section_name(text)
        grader, mine = _meta(cell, "nbgrader"), _meta(cell, "dataops")
        answer = bool(grader.get("solution"))
        words, seconds = 0, 0.0
        if cell.get("cell_type") == "markdown":
            kind = "reflection" if answer else "prose"
            if answer:
                seconds = 60 * float(mine.get("minutes", model.reflection_minutes))
            else:
                words = count_words(_source(cell))
                seconds = 60 * words / model.words_per_minute + model.seconds_per_figure * len(_FENCE.findall(_source(cell)))
        elif cell.get("cell_type") == "code":
            kind = "exercise" if answer else "code"
            if answer:
                seconds = 60 * float(mine.get("minutes", model.exercise_minutes))
            else:
                seconds = model.seconds_per_code_cell + float(mine.get("seconds", 0))
        else:
            kind = "raw"
        optional = optional_level is not None or bool(mine.get("optional"))
        rows.append({"cell": index, "id": cell.get("id", ""), "section": section, "kind": kind,
                     "optional": optional, "words": words, "seconds": round(seconds, 1)})  # fmt: skip
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def section_minutes(notebook: dict | str | Path, model: TimeModel | None = None) -> pd.DataFrame:
    """Modelled minutes per section, in order; a section's optional cells are their own row."""
    cells = cell_times(notebook, model)
    grouped = cells.groupby(["section", "optional"], sort=False)["seconds"].sum() / 60
    return grouped.round(1).rename("minutes").reset_index()[SECTION_COLUMNS]


@dataclass(frozen=True)
class NotebookTime:
    """A notebook's modelled minutes: the core path and everything, optional parts included."""

    core: float
    total: float


def notebook_minutes(notebook: dict | str | Path, model: TimeModel | None = None) -> NotebookTime:
    """The modelled minutes of a notebook's core path and of the whole notebook."""
    cells = cell_times(notebook, model)
    core = cells.loc[~cells["optional"], "seconds"].sum() / 60
    return NotebookTime(round(core, 1), round(cells["seconds"].sum() / 60, 1))


_ROW = re.compile(r"^\|\s*(.+?)\s*\|\s*\**\s*(\d+|—)\s*\**\s*\|\s*$")


def planned_sections(notebook: dict | str | Path) -> pd.DataFrame:
    """The minutes-per-section table at the top of a notebook (``| sección | minutos |``), as rows:
    ``label``, ``minutes`` and ``row``: ``intro`` (a row starting with ``Inicio``: the cells before
    the first section), ``section`` (a numbered section, ``1. …``), ``margin`` (the
    slot's slack, a row starting with ``Margen``), ``total`` (``Total del bloque``) or ``optional``
    (an italic row after the total: the «Para ir más lejos» part, outside the slot)."""
    nb = _load(notebook)
    text = next((_source(c) for c in nb["cells"] if c.get("cell_type") == "markdown" and "| sección | minutos |" in _source(c)), "")
    rows = []
    for line in text.splitlines():
        match = _ROW.match(line.strip())
        if not match or match.group(1) == "sección":
            continue
        label, minutes = match.group(1).strip(), match.group(2)
        plain = label.strip("* ")
        if plain.startswith("Total"):
            row = "total"
        elif any(r["row"] == "total" for r in rows):
            row = "optional"
        elif plain.startswith("Margen"):
            row = "margin"
        elif plain.startswith("Inicio"):
            row = "intro"
        else:
            row = "section"
        rows.append({"label": plain, "minutes": float("nan") if minutes == "—" else float(minutes), "row": row})
    return pd.DataFrame(rows, columns=["label", "minutes", "row"])


def _number(section: str) -> str | None:
    match = re.match(r"^(\d+)\.\s", section)
    return match.group(1) if match else None


def modelled_sections(notebook: dict | str | Path, model: TimeModel | None = None) -> pd.DataFrame:
    """Modelled minutes of the core path as a notebook's table lists them: ``inicio`` (the cells
    before the first section: title, parameters, imports), then one row per numbered ``##``
    section (a core section without a number, such as ``✅ Comprobación``, counts for the numbered
    one before it), and last ``optional``: the «Para ir más lejos» cells, outside the slot."""
    cells = cell_times(notebook, model)
    minutes: dict[str, float] = {"inicio": 0.0}
    current = "inicio"
    for section, part in cells[~cells["optional"]].groupby("section", sort=False):
        current = _number(section) or current
        minutes[current] = minutes.get(current, 0.0) + part["seconds"].sum() / 60
    minutes["optional"] = cells.loc[cells["optional"], "seconds"].sum() / 60
    return pd.DataFrame([{"section": k, "minutes": round(v, 1)} for k, v in minutes.items()], columns=["section", "minutes"])


def compare_sections(notebook: dict | str | Path, model: TimeModel | None = None) -> pd.DataFrame:
    """A notebook's table beside the model, one row per table row: ``label``, ``planned`` minutes
    (the table's) and ``modelled`` (the model's; for the margin, the slot less the modelled core;
    for the total, the modelled core). A table row the notebook has no section for: NaN modelled."""
    planned, modelled = planned_sections(notebook), modelled_sections(notebook, model).set_index("section")["minutes"]
    core = notebook_minutes(notebook, model).core
    total = planned.loc[planned["row"] == "total", "minutes"]
    rows = []
    for row in planned.itertuples():
        key = {"intro": "inicio", "optional": "optional"}.get(row.row, _number(row.label) if row.row == "section" else None)
        if row.row == "total":
            value = core
        elif row.row == "margin":
            value = (float(total.iloc[0]) if len(total) else float("nan")) - core
        else:
            value = modelled.get(key, float("nan"))
        rows.append({"label": row.label, "row": row.row, "planned": row.minutes, "modelled": round(float(value), 1)})
    return pd.DataFrame(rows, columns=["label", "row", "planned", "modelled"])


def _load(notebook: dict | str | Path) -> dict:
    return notebook if isinstance(notebook, dict) else json.loads(Path(notebook).read_text(encoding="utf-8"))


def _python(source: str) -> ast.Module:
    """A code cell as Python: IPython's ``!shell`` and ``%magic`` lines left out."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("!", "%"))]
    return ast.parse("\n".join(lines))


def _names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names a cell binds anywhere, names it reads): generous on bindings, so a function's
    arguments and a comprehension's variables never count as reads from outside."""
    bound, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound, read


def undefined_in_core(notebook: dict | str | Path) -> list[tuple[str, str]]:
    """Names a core code cell reads that no earlier core cell (nor the cell itself) defines:
    ``(cell id, name)`` pairs. Empty when the core path runs with every optional cell skipped."""
    cells = cell_times(notebook)
    nb = _load(notebook)
    known = set(dir(builtins)) | _IPYTHON_NAMES
    missing = []
    for row, cell in zip(cells.itertuples(), nb["cells"]):
        if cell.get("cell_type") != "code" or row.optional:
            continue
        bound, read = _names(_python(_source(cell)))
        missing += [(row.id, name) for name in sorted(read - bound - known)]
        known |= bound
    return missing


def block_times(blocks: Iterable, model: TimeModel | None = None) -> pd.DataFrame:
    """Per block: its slot (``minutes``), the modelled minutes of its core path and of the whole
    notebook, and whether the core path fits the slot. A block of 0 minutes is set up before class
    (``00_entorno``): modelled, outside the class's minutes, so it always fits. A block whose
    notebook does not exist yet: NaN minutes."""
    rows = []
    for block in blocks:
        path = Path(getattr(block, "timed", block.master))
        t = notebook_minutes(path, model) if path.exists() else NotebookTime(float("nan"), float("nan"))
        rows.append({"block": block.block, "notebook": block.notebook, "minutes": block.minutes,
                     "modelled_core": t.core, "modelled_total": t.total, "fits": bool(not block.minutes or t.core <= block.minutes)})  # fmt: skip
    return pd.DataFrame(rows, columns=["block", "notebook", "minutes", "modelled_core", "modelled_total", "fits"])
