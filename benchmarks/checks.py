"""Do the self-checks catch wrong answers made mechanically from the masters' solutions?

Each graded exercise's solution is mutated (numbers ±2 %, ±10 % and sign; comparisons swapped; labels and
fields replaced by sibling ones; filters and conditions dropped: :mod:`dataops.course.mutants`); every
mutant that behaves differently from the master on the exercise's own data is run through the graded
cell, hidden test included (:mod:`dataops.course.mutation`).

Prints, per exercise and overall:
  check_mutants[<exercise>]          mutants counted: behaving differently, not listed as right answers
  check_mutants_caught[<exercise>]   those the graded cell gives 0 points
  check_mutation_score[<exercise>]   caught / counted (targets: >= 0.9 each, >= 0.95 overall)
then the survivors, the ones listed as right answers (data/course/equivalent_mutants.yaml) with why,
and the graded exercises no mutant reaches here.
No running stack needed.
Usage: .venv/bin/python benchmarks/checks.py [--exercise 02.frozen ...] [--limit N] [--same]
"""

from __future__ import annotations

import argparse
import time

from _common import dataops  # noqa: F401 - puts lib/ on the path

from dataops.course import mutation
from dataops.course.mutation_registry import EXERCISES, UNCOVERED


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", nargs="*", help="only these exercises (e.g. 02.frozen)")
    parser.add_argument("--limit", type=int, help="at most N mutants per exercise (a quick look)")
    parser.add_argument("--same", action="store_true", help="also list the mutants that behave as the master on the exercise's data")
    args = parser.parse_args()
    chosen = [e for e in EXERCISES if not args.exercise or e.key in args.exercise]
    t0 = time.monotonic()
    results = mutation.run(chosen, limit=args.limit)
    table = mutation.summary(results)
    for row in table.itertuples():
        print(f"check_mutants[{row.exercise}]={row.mutants}")
        print(f"check_mutants_caught[{row.exercise}]={row.caught}")
        print(f"check_mutation_score[{row.exercise}]={row.score:.3f}")
    counted, caught = int(table["mutants"].sum()), int(table["caught"].sum())
    print(f"check_mutants={counted}")
    print(f"check_mutants_caught={caught}")
    print(f"check_mutation_score={caught / counted if counted else 1.0:.3f}")
    print(f"check_mutants_generated={len(results)}")
    print(f"check_mutants_same={int((results['verdict'] == 'same').sum())}")
    print(f"check_mutants_equivalent={int((results['verdict'] == 'equivalent').sum())}")
    print(f"check_mutation_s={time.monotonic() - t0:.1f}")
    survivors = results[results["verdict"] == "survived"]
    print(f"\nsurvivors ({len(survivors)}): wrong answers the hidden cases miss")
    for row in survivors.itertuples():
        print(f"  {row.exercise}: {row.mutant}")
    why = mutation.load_equivalents()
    listed = results[results["verdict"] == "equivalent"]
    print(f"\nright answers too ({len(listed)}), not counted: data/course/{mutation.EQUIVALENTS_FILE.name}")
    for row in listed.itertuples():
        print(f"  {row.exercise}: {row.mutant}  ({why[(row.exercise, row.mutant)][:100]}…)")
    stale = sorted(set(why) - {(r.exercise, r.mutant) for r in listed.itertuples()})
    stale = [k for k in stale if k[0] in {e.key for e in chosen} and not args.limit]
    if stale:
        print(f"\nlisted as right but not surviving (stale entries, {len(stale)}):")
        for exercise, mutant in stale:
            print(f"  {exercise}: {mutant}")
    if args.same:
        same = results[results["verdict"] == "same"]
        print(f"\nbehave as the master on the exercise's own data ({len(same)}), not counted:")
        for row in same.itertuples():
            print(f"  {row.exercise}: {row.mutant}")
    print("\nnot covered here:")
    for e in chosen:
        if e.not_covered:
            print(f"  {e.key} ({e.check}), partly: {e.not_covered}")
    for u in UNCOVERED:
        print(f"  {u.key} ({u.check}): {u.why}")


if __name__ == "__main__":
    main()
