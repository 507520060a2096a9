"""The time model (``dataops.course.timing``, ``time_model:`` in ``data/course/course.yaml``): what it
counts, that every block's core path fits its minutes, that each notebook's table of minutes per
section says what the model says, and that the core path runs with «Para ir más lejos» skipped."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dataops.course import load_course
from dataops.course.timing import (
    TimeModel,
    cell_times,
    compare_sections,
    count_words,
    modelled_sections,
    notebook_minutes,
    planned_sections,
    undefined_in_core,
)

pytestmark = pytest.mark.unit

COURSE = load_course()
TIMED = [b for b in COURSE.blocks if b.minutes and b.master.exists()]
MODEL = TimeModel(words_per_minute=200, seconds_per_code_cell=30, seconds_per_figure=15, exercise_minutes=5, reflection_minutes=1)

# How far a notebook's table may be from the model, in minutes, per row. The table is written in
# whole minutes, so a row cannot be nearer than ±0.5 to the model's tenths; the other 0.5 lets a row
# round the same way as its neighbours so that the rows and the margin add up to the slot exactly.
# Wider would let a table promise a section twice or half the time it takes (a 1-minute row is
# already 0-2); the slot itself is never loosened: the core path must fit it by the model.
TOLERANCE_MIN = 1.0


def md(text: str, **meta) -> dict:
    return {"cell_type": "markdown", "metadata": meta, "source": text}


def code(text: str, **meta) -> dict:
    return {"cell_type": "code", "metadata": meta, "source": text, "outputs": [], "execution_count": None}


def words(n: int) -> str:
    return " ".join(["palabra"] * n)


TINY = {"cells": [
    md("# Título\n\n" + words(199)),  # 200 words with the heading's ("#" is no word): 1 min
    md("```mermaid\ngraph LR\n  A --> B\n```\n" + words(20)),  # a figure (15 s) and 20 words (6 s)
    code("import dataops\np = dataops.connect()"),  # 30 s
    code("p.apply()", dataops={"seconds": 20}),  # 30 + 20 s
    md("## 1. Práctica (5 min)\n\n" + words(36)),  # 40 words: 12 s
    code("respuesta = None\n### BEGIN SOLUTION\nrespuesta = 42\n### END SOLUTION", nbgrader={"solution": True, "grade_id": "r"}),  # 5 min
    code("assert respuesta == 42", nbgrader={"grade": True, "grade_id": "c", "points": 1}),  # 30 s
    md(words(200), nbgrader={"solution": True, "grade": True, "grade_id": "reflexion_1"}),  # a written answer: 1 min, not read
    md("## Para ir más lejos: un reto\n\n" + words(194)),  # 200 words; optional from here...
    code("reto = p.sql('SELECT 1')", dataops={"seconds": 90}),
    md("### Un apartado del reto\n\n" + words(96)),  # 100 words; a lower heading stays optional...
    code("def pista(x):\n    return x + reto", nbgrader={"solution": True, "grade_id": "pista"}, dataops={"minutes": 3}),
    md("## 2. Al terminar (1 min)\n\n" + words(5)),  # 10 words; ...up to the next heading of its level
    code("print(respuesta)"),
    code("print(reto)", dataops={"optional": True}),  # one cell marked optional in the core
]}  # fmt: skip


def test_the_model_counts_words_figures_code_cells_and_exercises():
    cells = cell_times(TINY, MODEL)
    assert list(cells["kind"]) == ["prose", "prose", "code", "code", "prose", "exercise", "code", "reflection",
                                   "prose", "code", "prose", "exercise", "prose", "code", "code"]  # fmt: skip
    assert list(cells["seconds"][:8]) == [60.0, 21.0, 30.0, 50.0, 12.0, 300.0, 30.0, 60.0]
    assert cells.loc[7, "words"] == 0  # the learner writes the answer: nothing to read
    assert list(cells["optional"]) == [False] * 8 + [True] * 4 + [False, False, True]
    assert list(cells["section"][[0, 5, 9, 10, 13]]) == ["Título", "1. Práctica", "Para ir más lejos: un reto",
                                                        "Para ir más lejos: un reto", "2. Al terminar"]  # fmt: skip
    core = (60 + 21 + 30 + 50 + 12 + 300 + 30 + 60 + 3 + 30) / 60
    total = core + (60 + 120 + 30 + 180 + 30) / 60
    t = notebook_minutes(TINY, MODEL)
    assert t.core == round(core, 1) and t.total == round(total, 1)


def test_words_are_tokens_with_a_letter_or_digit_outside_fenced_blocks():
    assert count_words("| sección | minutos |\n|---|---|\n| **Total** | **15** |") == 4
    assert count_words("Antes\n```bash\nmake run y mucho más\n```\ndespués") == 2


def test_the_sections_as_a_notebook_table_lists_them():
    sections = modelled_sections(TINY, MODEL).set_index("section")["minutes"]
    assert list(sections.index) == ["inicio", "1", "2", "optional"]
    assert sections["inicio"] == round((60 + 21 + 30 + 50) / 60, 1)
    assert sections["1"] == round((12 + 300 + 30 + 60) / 60, 1)
    assert sections["2"] == round((3 + 30) / 60, 1)
    assert sections["optional"] == round((60 + 120 + 30 + 180 + 30) / 60, 1)


def test_the_time_model_is_read_from_the_course_file_and_refuses_an_unknown_key():
    import yaml

    from dataops.course.catalog import COURSE_FILE

    written = yaml.safe_load(COURSE_FILE.read_text(encoding="utf-8"))["time_model"]
    assert set(written) == set(vars(COURSE.time_model)), "every parameter of the model is written in course.yaml"
    assert all(getattr(COURSE.time_model, k) == v for k, v in written.items())
    with pytest.raises(ValueError, match="words_per_minut"):
        TimeModel.from_dict({"words_per_minut": 180})


def test_every_block_fits_its_minutes_by_the_model():
    times = COURSE.times().set_index("notebook")
    assert len(TIMED) == 6 and sum(b.minutes for b in TIMED) == 120
    for block in TIMED:
        row = times.loc[block.notebook]
        assert row["modelled_core"] <= block.minutes, f"{block.notebook}: core path {row['modelled_core']} min > {block.minutes}"
        assert row["fits"]
    assert (times["modelled_total"] >= times["modelled_core"]).all()


def test_block_0_is_set_up_before_class_and_says_so():
    block = COURSE.blocks[0]
    assert block.minutes == 0
    first = "".join(json.loads(block.master.read_text())["cells"][0]["source"])
    minutes = notebook_minutes(block.master, COURSE.time_model).total
    assert re.search(rf"\*\*Antes de clase · unos {round(minutes)} minutos\*\* \(fuera de los 120 minutos", first), minutes


@pytest.mark.parametrize("block", TIMED, ids=[b.notebook for b in TIMED])
def test_the_table_of_minutes_per_section_is_the_models(block):
    compared = compare_sections(block.master, COURSE.time_model)
    planned = planned_sections(block.master)
    assert (planned["row"] == "intro").sum() == 1 and (planned["row"] == "total").sum() == 1
    assert planned.loc[planned["row"] == "total", "minutes"].iloc[0] == block.minutes
    in_slot = planned[planned["row"].isin(["intro", "section", "margin"])]
    assert in_slot["minutes"].sum() == block.minutes, "the rows and the margin add up to the block's minutes"
    assert (in_slot["minutes"] >= 0).all()
    rows = compared[compared["row"].isin(["intro", "section", "optional"])]
    assert rows["modelled"].notna().all(), "a row of the table names a section the notebook does not have"
    far = rows[(rows["planned"] - rows["modelled"]).abs() > TOLERANCE_MIN]
    assert far.empty, far.to_dict("records")
    numbered = [s for s in modelled_sections(block.master, COURSE.time_model)["section"] if s not in ("inicio", "optional")]
    listed = [re.match(r"\d+", label).group(0) for label in planned.loc[planned["row"] == "section", "label"]]
    assert listed == numbered, "one row per numbered section of the core path, in order"


@pytest.mark.parametrize("block", TIMED, ids=[b.notebook for b in TIMED])
def test_headings_and_title_give_the_tables_minutes(block):
    nb = json.loads(block.master.read_text())
    planned = planned_sections(nb)
    rows = {re.match(r"\d+", r.label).group(0): r.minutes for r in planned.itertuples() if r.row == "section"}
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert f"**Bloque {block.block} · {block.minutes} minutos" in text
    headings = dict(re.findall(r"^## (\d+)\. .*\((\d+) min\)\s*$", text, re.M))
    assert {k: float(v) for k, v in headings.items()} == rows


@pytest.mark.parametrize("block", COURSE.blocks, ids=[b.notebook for b in COURSE.blocks])
def test_the_core_path_runs_with_every_optional_cell_skipped(block):
    for path in (block.master, block.learner):
        assert undefined_in_core(path) == [], path.name


def test_the_independence_check_catches_a_name_only_an_optional_cell_defines():
    assert undefined_in_core(TINY) == []  # its last cell reads `reto`, but is optional itself
    broken = {"cells": TINY["cells"][:-1] + [code("print(reto + pista(1))")]}
    assert [name for _, name in undefined_in_core(broken)] == ["pista", "reto"]
    shell = {"cells": [code("import sys\n!{sys.executable} -m dataops.cli pipeline plan\nsys.version")]}
    assert undefined_in_core(shell) == []


def test_graded_points_of_the_rubric_are_earned_in_the_core_path():
    """A block whose exercises count for the rubric keeps them in its core path: «Para ir más lejos»
    holds no graded cell with points there (block 2's self-checks are formative, category null)."""
    for block in TIMED:
        if block.category is None:
            continue
        nb = json.loads(block.master.read_text())
        cells = cell_times(nb, COURSE.time_model)
        graded = [i for i, c in enumerate(nb["cells"]) if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
        assert graded and not cells.loc[graded, "optional"].any(), block.notebook


def test_every_optional_section_says_it_is_outside_the_block():
    for block in TIMED:
        nb = json.loads(block.master.read_text())
        cells = cell_times(nb, COURSE.time_model)
        opening = [i for i in cells.index[cells["optional"]] if "Para ir más lejos" in "".join(nb["cells"][i]["source"])]
        assert opening, f"{block.notebook} has no «Para ir más lejos» section"
        assert f"Fuera de los {block.minutes} minutos del bloque" in "".join(nb["cells"][opening[0]]["source"]), block.notebook


def test_the_course_table_shows_planned_and_modelled_minutes():
    table = COURSE.table()
    assert {"minutes", "modelled", "with_optional"} <= set(table.columns)
    assert (table["with_optional"] >= table["modelled"]).all()


class FakePapermill:
    """papermill's two calls the runner makes, without a kernel: the notebook copied as if executed."""

    class PapermillExecutionError(Exception):
        pass

    @staticmethod
    def inspect_notebook(path: str) -> dict:
        return {}

    @staticmethod
    def execute_notebook(source: str, target: str, **kwargs) -> None:
        shutil.copyfile(source, target)


def test_make_runs_table_shows_planned_and_modelled_minutes(tmp_path, capsys):
    from dataops.runner import RESULT_COLUMNS, _run, time_verdict

    results = _run(FakePapermill, COURSE, [b.master for b in TIMED[:2]], tmp_path, None, None, False)
    assert list(results.columns) == RESULT_COLUMNS
    times = COURSE.times().set_index("notebook")
    for row in results.itertuples():
        assert row.minutes == times.loc[row.notebook, "minutes"]
        assert row.modelled == times.loc[row.notebook, "modelled_core"] and row.with_optional == times.loc[row.notebook, "modelled_total"]
    assert time_verdict(results).startswith("✔ el recorrido básico de cada bloque cabe en sus minutos")
    over = results.assign(modelled=results["minutes"] + 3)
    assert time_verdict(over).startswith("✘ se pasa de sus minutos: 01_pipeline_existente 18.0 > 15")
    assert time_verdict(pd.DataFrame(columns=RESULT_COLUMNS)) == ""


def test_dataops_course_prints_the_minutes_and_the_verdict(capsys):
    from dataops import cli

    assert cli.main(["course", "--sections", "--check"]) == 0
    out = capsys.readouterr().out
    assert "✔ el recorrido básico de cada bloque cabe en sus minutos" in out and "Total del bloque" in out
    assert all(b.notebook in out for b in COURSE.blocks)


def test_a_course_file_with_a_wrong_time_model_is_one_config_error(tmp_path):
    from dataops.course.catalog import COURSE_FILE, load_course
    from dataops.errors import ConfigError

    bad = tmp_path / "course.yaml"
    bad.write_text(COURSE_FILE.read_text(encoding="utf-8").replace("words_per_minute:", "palabras_por_minuto:"), encoding="utf-8")
    with pytest.raises(ConfigError, match="no se puede leer el mapa del curso"):
        load_course(bad)
