"""Block 4's library: tests of your own in the suite (isolated), the JSON report and its bands,
and Practice 4's self-checks against the right answers and each known-wrong one."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from dataops import quality
from dataops.course import block4
from dataops.quality.report import band, history
from tests.course import answers

pytestmark = pytest.mark.unit


def rows() -> pd.DataFrame:
    frame = pd.DataFrame([block4._row(c, ch, 0) for c, ch in
                          [("bitcoin", 16.0), ("ethereum", 2.0), ("solana", 24.0), ("cardano", -1.0), ("binancecoin", 0.5)]])  # fmt: skip
    frame["processed_at"] = frame["event_time"]
    return frame


@quality.custom_test("volatilidad_extrema", message="Cambio 24 h por encima del límite")
def volatile(filas):
    return answers.volatility_right(filas)


def test_a_custom_test_runs_in_the_suite_and_names_its_failing_rows():
    report = quality.run_suite(quality.load_suite().with_tests(volatile), rows=rows(), now=rows()["event_time"].max())
    mine = report.results.set_index("check").loc["volatilidad_extrema"]
    assert mine["status"] == "failed" and mine["failing_rows"] == 1 and mine["type"] == "custom"
    assert "coin_id=bitcoin" in mine["sample"] and "(1 filas)" in mine["message"]
    assert len(report.results) > 1  # the suite's own checks ran too


def test_a_test_that_raises_is_its_own_failure_and_the_rest_still_run():
    def broken(filas):
        return filas["no_such_column"] > 1

    def passing(filas):
        return filas["usd"] < 0

    suite = quality.load_suite().with_tests(broken, passing, lambda filas: "sí")
    results = quality.run_suite(suite, rows=rows()).results.set_index("check")
    assert results.loc["broken", "status"] == "failed" and "KeyError" in results.loc["broken", "message"]
    assert results.loc["passing", "status"] == "passed"
    assert "devolvió str" in results.loc["<lambda>", "message"]


def test_registering_a_test_twice_replaces_it():
    suite = quality.load_suite().with_tests(volatile).with_tests(quality.custom_test("volatilidad_extrema")(lambda f: True))
    assert [t.name for t in suite.custom] == ["volatilidad_extrema"]
    assert quality.run_suite(suite, rows=rows()).results.set_index("check").loc["volatilidad_extrema", "status"] == "passed"


def test_no_rows_is_no_data_for_a_custom_test():
    results = quality.run_suite(quality.load_suite().with_tests(volatile), rows=rows().iloc[0:0]).results
    assert results.set_index("check").loc["volatilidad_extrema", "status"] == "no_data"


@pytest.mark.parametrize("rate, label", [(100, "excelente"), (85, "excelente"), (84.9, "bueno"), (70, "bueno"),
                                         (69.9, "necesita mejorar"), (0, "necesita mejorar"), (math.nan, "sin datos")])  # fmt: skip
def test_the_course_bands(rate, label):
    assert band(rate) == label


def test_the_json_report_has_the_summary_and_one_entry_per_test(tmp_path):
    report = quality.run_suite(quality.load_suite().with_tests(volatile), rows=rows())
    path = report.to_json(tmp_path)
    assert path.parent == tmp_path and path.name.startswith("quality-datos-") and path.suffix == ".json"
    data = json.loads(path.read_text())
    s = data["summary"]
    assert s["total"] == len(report.results) == len(data["tests"])
    assert s["passed"] + s["failed"] + s["no_data"] == s["total"]
    assert s["success_rate"] == round(report.score, 1) and s["band"] == band(report.score)
    assert {"name", "status", "failing_rows", "message"} <= set(data["tests"][0])
    assert history(tmp_path)["success_rate"].tolist() == [s["success_rate"]]
    again = [report.to_json(tmp_path) for _ in range(2)]  # the same report twice in one millisecond: nothing overwritten
    assert len({path, *again}) == 3 and len(history(tmp_path)) == 3


# ---- Practice 4's self-checks: the right answer ✔, each known-wrong one ✘ --------------------------
EXERCISES = {
    "volatilidad": (block4.check_volatility, answers.volatility_right, answers.VOLATILITY_WRONG, answers.VOLATILITY_FAILS_ON),
    "capitalización": (block4.check_market_cap, answers.market_cap_right, answers.MARKET_CAP_WRONG, answers.MARKET_CAP_FAILS_ON),
    "correlación": (block4.check_correlation, answers.correlation_right, answers.CORRELATION_WRONG, answers.CORRELATION_FAILS_ON),
}


@pytest.mark.parametrize("name", EXERCISES)
def test_the_right_answer_passes_and_a_blank_one_is_not_done(name):
    check, right, _, _ = EXERCISES[name]
    assert check(right).passed, str(check(right))
    assert not check(None).done


@pytest.mark.parametrize("name, wrong", [(n, w) for n, (_, _, ws, _) in EXERCISES.items() for w in ws])
def test_each_known_wrong_answer_gets_a_cross_with_a_hint_on_the_line_it_is_wrong_about(name, wrong):
    check, _, wrongs, fails_on = EXERCISES[name]
    result = check(wrongs[wrong])
    assert result.done and not result.passed, (wrong, str(result))
    assert all(hint for case, ok, hint in result.items if not ok), str(result)
    assert any(fails_on[wrong] in failed for failed in result.failed), (wrong, fails_on[wrong], result.failed)


@pytest.mark.parametrize("name", EXERCISES)
def test_every_known_wrong_answer_names_the_line_it_must_fail_on(name):
    _, _, wrongs, fails_on = EXERCISES[name]
    assert set(wrongs) == set(fails_on)


def test_compare_layers_marks_each_test_type_per_layer():
    good = quality.run_suite(quality.load_suite(), rows=rows(), now=rows()["event_time"].max())
    bad_rows = rows()
    bad_rows.loc[0, "usd"] = 1.0  # bitcoin at 1 USD: out of its range
    bad = quality.run_suite(quality.load_suite(), rows=bad_rows, now=rows()["event_time"].max())
    table = quality.compare_layers({"buena": good, "mala": bad})
    assert table.loc["rango", "buena"] == "✔" and table.loc["rango", "mala"] == "✘ 1"
    assert table.loc["estructura", "buena"] == "✔"
