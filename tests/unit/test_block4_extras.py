"""Block 4's optional extra challenges: each self-check gives ✔ to the right answer, ✘ with a hint
to each known-wrong one, and "not done yet" to the blank answer (the stub returns None)."""

from __future__ import annotations

import pytest

from dataops.course import block4
from dataops.course.selfcheck import NOT_DONE
from tests.course import answers

pytestmark = pytest.mark.unit

EXTRAS = {
    "congelados": (block4.check_frozen_10min, answers.frozen_10min_right, answers.FROZEN_10MIN_WRONG, answers.FROZEN_10MIN_FAILS_ON),
    "outliers": (block4.check_outliers, answers.outliers_right, answers.OUTLIERS_WRONG, answers.OUTLIERS_FAILS_ON),
    "salud de la API": (block4.check_api_health, answers.api_health_right, answers.API_HEALTH_WRONG, answers.API_HEALTH_FAILS_ON),
}


@pytest.mark.parametrize("name", EXTRAS)
def test_the_right_answer_passes(name):
    check, right, _, _ = EXTRAS[name]
    result = check(right)
    assert result.passed and "✘" not in str(result), str(result)


@pytest.mark.parametrize("name", EXTRAS)
def test_a_blank_answer_is_not_done(name):
    check, _, _, _ = EXTRAS[name]
    for blank in (None, lambda *args: None):  # no function yet, or the learner's stub as handed out
        result = check(blank)
        assert not result.done and not result.passed and NOT_DONE in str(result), str(result)


@pytest.mark.parametrize("name, wrong", [(n, w) for n, (_, _, ws, _) in EXTRAS.items() for w in ws])
def test_each_known_wrong_answer_gets_a_cross_with_a_hint_on_the_line_it_is_wrong_about(name, wrong):
    check, _, wrongs, fails_on = EXTRAS[name]
    result = check(wrongs[wrong])
    assert result.done and not result.passed and "✘" in str(result), (wrong, str(result))
    assert all(hint for case, ok, hint in result.items if not ok), str(result)
    assert any(fails_on[wrong] in failed for failed in result.failed), (wrong, fails_on[wrong], result.failed)


@pytest.mark.parametrize("name", EXTRAS)
def test_every_known_wrong_answer_names_the_line_it_must_fail_on(name):
    _, _, wrongs, fails_on = EXTRAS[name]
    assert set(wrongs) == set(fails_on)


@pytest.mark.parametrize("name", ["congelados", "outliers"])
def test_every_case_group_has_positives_or_negatives_on_several_coins(name):
    cases = {"congelados": block4.frozen_cases, "outliers": block4.outlier_cases}[name]()
    rows = [(row["coin_id"], fails) for _, _, group in cases for row, fails in group]
    assert len({coin for coin, fails in rows if fails}) >= 3 and len({coin for coin, _ in rows}) >= 5


def test_the_frozen_edges_are_ten_minutes_and_nine_fifty_five():
    rows, _, group = block4._frame(block4.frozen_cases())
    for label, coin, span_s in [("exactamente 10 min sin cambiar ya es congelado", "ethereum", 600),
                                ("9 min 55 s sin cambiar todavía no", "cardano", 595)]:  # fmt: skip
        mine = rows[(group == label) & (rows["coin_id"] == coin)]
        run = mine[mine["usd"] == mine["usd"].mode()[0]]["event_time"]  # the still price is the most frequent one
        assert (run.max() - run.min()).total_seconds() == span_s, label


def test_the_outlier_edges_bracket_three_sigma_per_coin_not_globally():
    rows, expected, _ = block4._frame(block4.outlier_cases())
    by_coin = rows.groupby("coin_id")["usd"]
    z = (rows["usd"] - by_coin.transform("mean")).abs() / by_coin.transform("std")
    top = z.groupby(rows["coin_id"]).max()
    assert 2.95 < top["solana"] < 3 < top["binancecoin"] < 3.05
    global_z = (rows["usd"] - rows["usd"].mean()).abs() / rows["usd"].std()
    assert (global_z[rows["coin_id"] == "bitcoin"] > 3).all() and not (global_z[expected] > 3).any()


def test_the_api_cases_fix_the_p95_whatever_the_interpolation():
    for _, _, cases in block4.api_health_cases():
        for times, threshold, healthy in cases:
            if times.dropna().empty:
                continue
            p95 = {m: times.dropna().quantile(0.95, interpolation=m) for m in ("linear", "lower", "higher", "nearest", "midpoint")}
            assert {v <= threshold for v in p95.values()} == {healthy}, (p95, threshold, healthy)


def test_a_learner_function_that_raises_is_a_cross_not_a_crash():
    result = block4.check_api_health(lambda tiempos_ms, umbral_ms: tiempos_ms["p95"])
    assert result.done and not result.passed and "KeyError" in str(result)
    assert not block4.check_outliers(lambda filas: filas["precio"]).passed

