"""The grader is honest on every graded block, checked without the stack.

Under nbgrader a graded cell earns its points when it runs without raising and 0 when it raises.
Each graded cell of the masters prints a self-check, and its hidden test asserts that the self-check
passed, so a ✘ or a "not done yet" scores 0. Here every graded cell of blocks 2-6 runs on its own (the
master's source, hidden test included): the learner's blank answers (the answer cells as handed out)
make it raise; so do the known-wrong answers of the exercises whose check needs no running stack, and
their right answers pass. Reflections left as handed out count for no participation, and the rubric
turns no points into 0 and full points into 100.

tests/notebooks/test_course.py grades the masters of every block end to end (nbgrader running the
notebooks against the stack), and blocks 1-2 blank and wrong. Grading blocks 3-6 blank or wrong end to
end would mean running each of those notebooks once more against the stack (they apply the declaration,
start the live monitor, run the alert drill, clone the project for CI), which is why this test runs the
graded cells alone instead. The wrong answers of the checks that drive the stack are not run here:
block 3's apply needs it; block 5's dashboard and drill run offline in tests/unit/test_block5_known_wrong.py,
block 6's workflows in tests/unit/test_ci.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from dataops.course import grading
from dataops.course.catalog import load_course
from tests.course import answers

pytestmark = pytest.mark.unit

COURSE = load_course()
HIDDEN = re.compile(r"(?s)\A(?P<visible>.*?)### BEGIN HIDDEN TESTS\n(?P<hidden>.*?)### END HIDDEN TESTS\s*\Z")


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _nbgrader(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def graded_cells(path: Path) -> dict[str, dict]:
    """grade_id -> the graded code cell of a notebook."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return {_nbgrader(c)["grade_id"]: c for c in cells if c["cell_type"] == "code" and _nbgrader(c).get("grade")}


def answer_cells(path: Path) -> list[str]:
    """The sources of a notebook's answer cells (nbgrader solution cells that are not graded), in order."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [_source(c) for c in cells if c["cell_type"] == "code" and _nbgrader(c).get("solution") and not _nbgrader(c).get("grade")]


GRADED = [(b, gid) for b in COURSE.blocks if b.master.exists() for gid in graded_cells(b.master)]


def test_every_block_with_points_has_graded_cells_and_the_notebook_test_grades_them_all():
    blocks = {b.notebook for b, _ in GRADED}
    assert {b.notebook for b in COURSE.blocks if b.category} <= blocks, blocks
    assert len(GRADED) == 13  # tests/notebooks/test_course.py: 13 exercises in the masters, all passed


@pytest.mark.parametrize("block, grade_id", GRADED, ids=[f"{b.notebook}-{g}" for b, g in GRADED])
def test_each_graded_cell_scores_what_its_self_check_says_and_the_learner_sees_no_hidden_test(block, grade_id):
    master = graded_cells(block.master)[grade_id]
    parts = HIDDEN.match(_source(master))
    assert parts, f"{grade_id}: no hidden test, so any output would score its points"
    printed = re.findall(r"^print\((\w+)\)$", parts["visible"], re.M)
    assert len(printed) == 1, parts["visible"]
    name = printed[0]
    assert parts["hidden"].strip() == f"assert {name}.passed, {name}.failed"  # ✘ and "not done yet" raise: 0 points
    assert float(_nbgrader(master)["points"]) > 0
    learner = graded_cells(block.learner).get(grade_id)
    assert learner is not None and _source(learner).strip() == parts["visible"].strip()


# The cells of a block between its answers and a graded cell that drive the stack, as they come out
# for blank answers: each check returns "not done yet" before it looks at what they produced.
STAND_INS = {
    "check_extension": "informe_2 = None  # p.apply(mi_extension, ...) on the stack",
    "check_simulacro": "simulacro = block5.eth_drill(None, reglas_eth, None, limite_alerta_s)  # p and the alert manager: the stack's",
    "check_workflow": "block6.place_workflow(repo, mi_workflow)",
}


@pytest.fixture(scope="module")
def histories() -> dict:
    """The metric histories block 2's alert exercise designs on (hist_eth, hist_api, hist_cal)."""
    from dataops import scenarios

    return {f"hist_{k}": scenarios.render_history(s)[0] for k, s in (("eth", "eth_flash_crash"), ("api", "api_outage"), ("cal", "schema_drift"))}


@pytest.fixture()
def scope(tmp_path, monkeypatch, histories):
    """What the notebooks import and set before their exercises; ``p`` is a Pipeline nothing starts."""
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(tmp_path / "state"))
    import dataops
    from dataops import alerts, automation, quality, scenarios, widgets
    from dataops.config import load_settings
    from dataops.course import block2, block3, block4, block5, block6
    from dataops.pipeline import Pipeline

    hist = {name: frame.copy() for name, frame in histories.items()}
    (tmp_path / "repo").mkdir()
    return {"pd": pd, "dataops": dataops, "alerts": alerts, "automation": automation, "quality": quality, "scenarios": scenarios,
            "widgets": widgets, "block2": block2, "block3": block3, "block4": block4, "block5": block5, "block6": block6,
            "p": Pipeline(load_settings(env_file="/nonexistent")), "espera_s": 1, "limite_alerta_s": 1, "repo": tmp_path / "repo", **hist}  # fmt: skip


def scores(scope: dict, block, grade_id: str) -> bool:
    """Whether the master's graded cell runs without raising in ``scope`` (nbgrader: its points, else 0)."""
    try:
        exec(_source(graded_cells(block.master)[grade_id]), scope)  # noqa: S102 - the course's own cell
    except AssertionError:
        return False
    return True


@pytest.mark.parametrize("block, grade_id", GRADED, ids=[f"{b.notebook}-{g}" for b, g in GRADED])
def test_blank_answers_score_0_on_every_graded_cell(scope, block, grade_id):
    for answer in answer_cells(block.learner):
        exec(answer, scope)  # noqa: S102 - the learner's answer cells as handed out
    if grade_id in STAND_INS:
        exec(STAND_INS[grade_id], scope)  # noqa: S102
    assert not scores(scope, block, grade_id)
    assert "sin hacer" in str(scope[re.findall(r"^print\((\w+)\)$", _source(graded_cells(block.master)[grade_id]), re.M)[0]])


# grade_id -> (the right answer, the known-wrong ones), each as the names its answer cell sets
def _alerts(code: str) -> dict:
    return {"__code__": code}


RIGHT_AND_WRONG = {
    "check_respuesta_1": ({"respuesta_1": answers.SCHEMA_RIGHT}, {k: {"respuesta_1": v} for k, v in answers.SCHEMA_WRONG.items()}),
    "check_congelados": ({"detectar_congelados": answers.frozen_right}, {k: {"detectar_congelados": v} for k, v in answers.FROZEN_WRONG.items()}),
    "check_metrica": ({"mi_metrica": "dispersion_cambio_24h", "calcular_metrica": answers.metric_right},
                      {k: {"mi_metrica": n, "calcular_metrica": f} for k, (n, f) in answers.METRIC_WRONG.items()}),
    "check_alertas": (_alerts(answers.ALERTS_RIGHT), {k: _alerts(v) for k, v in answers.ALERTS_WRONG.items()}),
    "check_volatilidad": ({"volatilidad_extrema": answers.volatility_right},
                          {k: {"volatilidad_extrema": v} for k, v in answers.VOLATILITY_WRONG.items()}),
    "check_capitalizacion": ({"capitalizacion_inconsistente": answers.market_cap_right},
                             {k: {"capitalizacion_inconsistente": v} for k, v in answers.MARKET_CAP_WRONG.items()}),
    "check_correlacion": ({"correlacion_btc_eth": answers.correlation_right},
                          {k: {"correlacion_btc_eth": v} for k, v in answers.CORRELATION_WRONG.items()}),
    "check_reglas_eth": ({"reglas_eth": answers.ETH_RULES_RIGHT}, {k: {"reglas_eth": v} for k, v in answers.ETH_RULES_WRONG.items()}),
}  # fmt: skip
CASES = [(b, g, label, names, label is None) for b, g in GRADED if g in RIGHT_AND_WRONG
         for label, names in [(None, RIGHT_AND_WRONG[g][0]), *RIGHT_AND_WRONG[g][1].items()]]  # fmt: skip


@pytest.mark.parametrize("block, grade_id, label, names, right", CASES, ids=[f"{g}-{lab or 'right'}" for _, g, lab, _, _ in CASES])
def test_known_wrong_answers_score_0_and_the_right_one_its_points(scope, block, grade_id, label, names, right):
    names = dict(names)
    code = names.pop("__code__", None)
    if code is not None:
        exec(code, scope)  # noqa: S102 - the answer as a learner types it
    scope.update(names)
    assert scores(scope, block, grade_id) is right, (grade_id, label)


def test_every_block_s_wrong_answers_are_run_here_or_in_another_unit_test():
    with_stack = {"check_montaje", "check_extension"}  # block 3: p.apply on the running stack
    elsewhere = {"check_monitorizacion": "test_block5_known_wrong.py", "check_simulacro": "test_block5_known_wrong.py",
                 "check_workflow": "test_ci.py"}  # fmt: skip
    assert {g for _, g in GRADED} == set(RIGHT_AND_WRONG) | with_stack | set(elsewhere)
    assert all((Path(__file__).parent / test).exists() for test in elsewhere.values())


def test_reflections_as_handed_out_count_for_no_participation():
    handed_out = [ok for b in COURSE.blocks if b.learner.exists() for _, ok in grading.reflections(b.learner)]
    assert handed_out and not any(handed_out)
    masters = [ok for b in COURSE.blocks if b.master.exists() for _, ok in grading.reflections(b.master)]
    assert len(masters) == len(handed_out)


@pytest.mark.parametrize("share", [0, 1])
def test_the_rubric_gives_0_for_no_points_and_100_for_all(share):
    rows = []
    for block, grade_id in GRADED:
        top = float(_nbgrader(graded_cells(block.master)[grade_id])["points"])
        rows.append({"notebook": block.notebook, "exercise": grade_id, "category": block.category or "—", "points": top * share,
                     "max_points": top, "passed": bool(share), "hint": ""})  # fmt: skip
    exercises = pd.DataFrame(rows, columns=grading.EXERCISE_COLUMNS)
    answered = [bool(share)] * sum(len(grading.reflections(b.master)) for b in COURSE.blocks if b.master.exists())
    rubric = grading._rubric(COURSE, exercises, answered, {b.notebook for b in COURSE.blocks})
    assert rubric.set_index("category").loc["total", "points"] == 100 * share
