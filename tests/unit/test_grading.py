"""The grader lists the cells outside the exercises that raised (a broken demo costs no points, but shows)."""

from __future__ import annotations

import json

from dataops.course.grading import _crashes


def cell(source: str, outputs: list[dict], grade: bool = False) -> dict:
    meta = {"nbgrader": {"grade": True, "grade_id": "check_x", "points": 1}} if grade else {}
    return {"cell_type": "code", "metadata": meta, "source": source, "outputs": outputs, "execution_count": 1}


def error(name: str, value: str) -> dict:
    return {"output_type": "error", "ename": name, "evalue": value, "traceback": []}


def test_only_the_cells_outside_the_exercises_that_raised(tmp_path):
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# título"},
        cell("p = dataops.connect()", [{"output_type": "stream", "name": "stdout", "text": "ok\n"}]),
        cell("p.sql('SELEC 1')", [error("ParserException", "syntax error at or near SELEC")]),
        cell("assert respuesta", [error("AssertionError", "✘ sin hacer")], grade=True),  # the exercise's own failure: its points say it
    ]}  # fmt: skip
    path = tmp_path / "02_x.ipynb"
    path.write_text(json.dumps(nb))
    assert _crashes(path, "02_x") == [{"notebook": "02_x", "cell": 3, "error": "ParserException: syntax error at or near SELEC"}]
    nb["cells"].pop(2)
    path.write_text(json.dumps(nb))
    assert _crashes(path, "02_x") == []


# --- demo cells: what the grader leaves out -------------------------------------------------------

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from dataops.course.grading import DEMO_STUB, _leave_out_demos, demo_cells, demo_problems, grade, graded_cells  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
MASTERS = sorted(NOTEBOOKS.glob("0[0-6]_*.ipynb"))


def _mark(master: Path, tmp_path: Path, cell_id: str) -> Path:
    """A copy of a master with one more cell marked as a demo."""
    doc = json.loads(master.read_text(encoding="utf-8"))
    for c in doc["cells"]:
        if c.get("id") == cell_id:
            c["metadata"].setdefault("dataops", {})["grading"] = "skip"
    out = tmp_path / master.name
    out.write_text(json.dumps(doc), encoding="utf-8")
    return out


@pytest.mark.parametrize("master", MASTERS, ids=lambda p: p.stem)
def test_no_kept_cell_of_a_master_needs_a_demo(master):
    assert demo_problems(master) == []


def test_the_masters_with_exercises_have_demos_to_leave_out():
    assert {m.stem for m in MASTERS if demo_cells(m)} == {"02_diseno_dataops", "03_automatizacion", "04_testing_calidad",
                                                           "05_monitoreo", "06_cicd"}  # fmt: skip


def test_a_demo_mark_that_would_break_grading_is_named(tmp_path):
    block3 = NOTEBOOKS / "03_automatizacion.ipynb"
    # b03-30 defines informe_2, which the graded cell b03-32 reads; b03-32 itself is an exercise.
    assert demo_problems(_mark(block3, tmp_path, "b03-30")) == ["03_automatizacion.ipynb cell 33 uses informe_2, which only a demo cell defines"]
    problems = demo_problems(_mark(block3, tmp_path, "b03-32"))
    assert problems == ["03_automatizacion.ipynb cell 33: an exercise or the parameters cell is marked as a demo"]
    block6 = NOTEBOOKS / "06_cicd.ipynb"  # repo comes from the set-up cell: marking it breaks every later cell
    assert any("uses repo" in line for line in demo_problems(_mark(block6, tmp_path, "b06-04")))


def test_a_submitted_notebook_loses_only_its_demo_cells(tmp_path):
    master = NOTEBOOKS / "04_testing_calidad.ipynb"
    copy = tmp_path / master.name
    copy.write_text(master.read_text(encoding="utf-8"), encoding="utf-8")
    demos = demo_cells(master)
    _leave_out_demos(copy, demos)
    before, after = json.loads(master.read_text(encoding="utf-8"))["cells"], json.loads(copy.read_text(encoding="utf-8"))["cells"]
    assert [c["id"] for c in before] == [c["id"] for c in after]
    changed = {a["id"] for b, a in zip(before, after) if b["source"] != a["source"]}
    assert changed == demos and all(a["source"] == DEMO_STUB for a in after if a["id"] in demos)
    assert "b04-31" in demos and "b04-21" not in demos  # the 32 s fault drill goes; the graded check stays


def test_a_notebook_without_exercises_is_scored_without_running_it(tmp_path):
    # Block 1 has reflections and no graded cell: no kernel, no stack; its answered reflections count.
    master = NOTEBOOKS / "01_pipeline_existente.ipynb"
    assert graded_cells(master) == []
    report = grade([master], student="ana", keep=tmp_path / "kept")
    assert report.exercises.empty and report.crashes.empty
    participation = report.rubric.set_index("category").loc["participation"]
    assert 0 < participation["points"] < participation["max_points"]
    assert (tmp_path / "kept" / master.name).read_bytes() == master.read_bytes()
