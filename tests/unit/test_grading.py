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
