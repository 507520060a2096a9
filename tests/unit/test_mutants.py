"""Wrong answers made mechanically from the masters' solutions (``dataops.course.mutants``) and whether the
self-checks catch them (``dataops.course.mutation``): the operators on tiny examples, every graded exercise
either judged or said why not, and the scores of the exercises quick to judge (benchmarks/checks.py runs
them all, block 2's alerts and block 6's workflow included)."""

from __future__ import annotations

import json

import pytest

from dataops.config import PROJECT_ROOT
from dataops.course import mutation
from dataops.course.mutants import moved, python_mutants, vocabulary, yaml_mutants
from dataops.course.mutation_registry import EXERCISES, UNCOVERED

pytestmark = pytest.mark.unit

CODE = '''def f(filas):
    limite = filas["coin_id"].map({"bitcoin": 15}).fillna(25)
    ok = (filas["usd"].abs() > limite) & filas["coin_id"].eq("bitcoin")
    return filas.loc[ok, "usd"], g(x, window_s=60)
'''


def _descriptions(mutants) -> set[str]:
    return {m.description for m in mutants}


def test_numbers_move_by_2_and_10_percent_and_flip_sign_and_integers_stay_integers():
    assert moved(4) == [5, 3, -4]
    assert moved(5000) == [5100, 4900, 5500, 4500, -5000]
    assert moved(-15) == [-16, -14, -17, -13, 15]
    assert moved(0.5) == [0.51, 0.49, 0.55, 0.45, -0.5]
    assert moved(0) == []


def test_python_operators_each_make_the_slip_they_name():
    found = _descriptions(python_mutants(CODE))
    expected = {
        "number @ line 2: 25 → 26", "number @ line 2: 25 → 22", "number @ line 2: 25 → -25",
        "comparison @ line 3: > → >=", "comparison @ line 3: > → <", "comparison @ line 3: > → <=",
        "comparison @ line 3: .eq() → .ne()",
        "label @ line 2: 'bitcoin' → 'ethereum'", "label @ line 3: 'bitcoin' → 'solana'",
        "field @ line 3: 'usd' → 'usd_market_cap'", "field @ line 4: 'usd' → 'usd_24h_change'",
        "drop @ line 2: .fillna(…) → —", "drop @ line 3: .abs(…) → —", "drop @ line 3: right side of & → —",
        "drop @ line 4: .loc[mask, …] → […]", "drop @ line 4: window_s=… → —", "drop @ line 2: entry 'bitcoin' → —",
    }  # fmt: skip
    assert expected <= found, expected - found
    assert not any("'coin_id'" in d and "field" in d for d in found)  # an id has no sibling field


def test_python_mutants_stay_on_the_solution_lines_and_run():
    mutants = python_mutants(CODE, lines=range(3, 4))
    assert mutants and all(m.where == "line 3" for m in mutants)
    for m in mutants:
        compile(m.text, "<mutant>", "exec")
    assert len({m.text for m in mutants}) == len(mutants)  # no two mutants alike


def test_an_answer_s_own_label_is_replaced_by_another_of_its_kind():
    found = _descriptions(python_mutants('mi_metrica = "mi_dispersion"\n', labels={"mi_dispersion": "metric"}))
    assert "label @ line 1: 'mi_dispersion' → 'price'" in found
    assert len(found) == len(vocabulary()["metric"])


YAML = """- name: ALTA
  metric: price
  labels: {coin: ethereum}
  op: ">"
  value: 5000
  severity: MEDIUM
  config: {retention.ms: "86400000"}
  if: github.ref == 'refs/heads/main'
"""


def test_yaml_operators_change_one_value_key_or_entry_and_keep_quotes():
    mutants = {m.description: m.text for m in yaml_mutants(YAML)}
    for description in ["number @ 0/value: 5000 → 5100", "comparison @ 0/op: > → >=", "label @ 0/severity: MEDIUM → CRITICAL",
                        "label @ 0/labels/coin: ethereum → bitcoin", "label @ 0/metric: price → price_change_24h",
                        "drop @ 0: labels: … → —", "drop @ /: item 1 → —", "comparison @ 0/if: == → !=",
                        "label @ 0/if: main → develop",
                        "number @ 0/config/retention.ms: '86400000' → '88128000'"]:  # fmt: skip
        assert description in mutants, description
    assert 'retention.ms: "88128000"' in mutants["number @ 0/config/retention.ms: '86400000' → '88128000'"]
    moved_up = mutants["number @ 0/value: 5000 → 5100"]
    assert "value: 5100" in moved_up and "value: 5000" not in moved_up
    assert not any(d.startswith("drop @ 0: name:") for d in mutants)  # a rule without its name is not a slip


def test_every_graded_exercise_is_judged_here_or_says_why_not():
    graded = set()
    for path in sorted((PROJECT_ROOT / "notebooks").glob("0*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell["cell_type"] == "code" and meta.get("grade"):
                graded.add(meta["grade_id"])
    assert {e.check for e in EXERCISES} | {u.check for u in UNCOVERED} == graded
    assert not {e.check for e in EXERCISES} & {u.check for u in UNCOVERED}
    assert all(u.why for u in UNCOVERED)


def test_each_listed_right_answer_names_an_exercise_and_says_why():
    listed = mutation.load_equivalents()
    assert listed and {key for key, _ in listed} <= {e.key for e in EXERCISES}
    assert all(len(why.split()) >= 10 for why in listed.values())


# The exercises quick to judge: all their mutants. Block 2's alerts and block 6's workflow (a backtest,
# or a git commit and the workflow linter, per mutant) are in benchmarks/checks.py; a few of theirs here.
QUICK = ["02.schema", "02.frozen", "02.metric", "03.extension", "04.volatility", "04.market_cap", "04.correlation",
         "05.dashboard", "05.eth_rules"]


@pytest.fixture(scope="module")
def results():
    quick = [e for e in EXERCISES if e.key in QUICK]
    slow = [e for e in EXERCISES if e.key not in QUICK]
    return mutation.run(quick), mutation.run(slow, limit=4)


def test_the_quick_exercises_catch_their_mutants(results):
    quick, _ = results
    table = mutation.summary(quick).set_index("exercise")
    assert list(table.index) == QUICK
    assert (table["mutants"] >= 5).all(), table
    assert (table["score"] >= 0.9).all(), table
    assert table["caught"].sum() / table["mutants"].sum() >= 0.95, table
    assert quick[quick["verdict"] == "survived"].empty, quick[quick["verdict"] == "survived"]


def test_the_slow_exercises_catch_their_first_mutants(results):
    _, slow = results
    assert set(slow["exercise"]) == {e.key for e in EXERCISES} - set(QUICK)
    assert slow[slow["verdict"] == "survived"].empty, slow[slow["verdict"] == "survived"]
    assert (slow["verdict"] == "caught").sum() >= 6
