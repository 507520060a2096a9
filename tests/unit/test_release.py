"""``dataops release DIR``: the learner's edition holds no solution, no right answer and no hidden case.

The release is built once into a temporary folder, then every file of it is read and searched for
each distinctive line of the masters' solution regions, each right answer of
``tests/course/answers.py`` (its ``*_RIGHT`` strings and the bodies of its ``*_right`` functions) and
each hidden grading case (the source lines of :mod:`dataops.course.hidden` and every case's label and
hint). The release's own library then runs as a learner's would: it knows it is the learner's
edition, its self-checks judge on the formative cases (a right answer passes, a blank one is
"not done"), ``dataops grade`` says in one line that grading needs the instructor's edition, and the
unit tests it ships pass there on their own.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dataops.config import PROJECT_ROOT
from dataops.course import block2, block4, block5, release
from dataops.course.hidden import block2 as hidden2
from dataops.course.hidden import block4 as hidden4
from dataops.course.hidden import block5 as hidden5
from tests.course import answers

pytestmark = pytest.mark.unit

SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
# Shorter lines are the rules' and declaration's common syntax, which the shipped rule files use too
# (``severity: HIGH``, ``labels: {coin: ethereum}``, ``metric: price_change_24h``).
MIN_CHARS = 25
# Lines of a solution that the learner's edition holds on purpose, and why.
ON_PURPOSE = {
    "if: github.ref == 'refs/heads/main'": "block 6's self-check hint names it when the deploy job runs on every branch",
    # Boilerplate of any GitHub workflow, in the project's own workflow that block 6 runs in a clone
    # (the release keeps it): the statement of practice 7 offers these steps by name.
    "- uses: actions/checkout@v6": "the project's workflow (.github/workflows/dataops.yml) checks out, as every workflow",
    "- uses: actions/setup-python@v6": "the project's workflow sets up Python, a step practice 7's statement offers",
}


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("release") / "curso"
    release.release(target)
    return target


def _read(path: Path) -> str:
    """A file's text; a notebook's also as its cells' sources, since its JSON escapes quotes and backslashes."""
    text = path.read_bytes().decode("utf-8", errors="ignore")
    if path.suffix == ".ipynb":
        cells = json.loads(text)["cells"]
        text += "\n" + "\n".join(s if isinstance(s := c["source"], str) else "".join(s) for c in cells)
    return text


@pytest.fixture(scope="module")
def texts(edition) -> dict[str, str]:
    return {p.relative_to(edition).as_posix(): _read(p) for p in sorted(edition.rglob("*")) if p.is_file() and not p.is_symlink()}


def _found(texts: dict[str, str], needles: list[str]) -> list[str]:
    return [f"{needle!r} in {path}" for needle in dict.fromkeys(needles) for path, text in texts.items() if needle in text]


def _solution_lines() -> list[str]:
    lines = []
    for master in sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(master.read_text(encoding="utf-8"))["cells"]:
            for region in SOLUTION.findall("".join(cell["source"])):
                lines += [s for s in (line.strip() for line in region.splitlines()) if len(s) >= MIN_CHARS and s not in ON_PURPOSE]
    return lines


def _right_answers() -> list[str]:
    """The right answers' text: ``*_RIGHT`` strings (and a dict's string values), each line of the
    ``*_right`` functions' bodies."""
    found: list[str] = []
    for name, value in vars(answers).items():
        if name.endswith("_RIGHT") or name.endswith("_RIGHT_VARIANTS"):
            values = list(value.values()) if isinstance(value, dict) else [value]
            found += [line.strip() for v in values if isinstance(v, str) for line in v.splitlines() if len(line.strip()) >= MIN_CHARS]
        elif name.endswith("_right") and callable(value):
            found += [line.strip() for line in inspect.getsource(value).splitlines()[1:] if len(line.strip()) >= MIN_CHARS]
    return [line for line in found if line not in ON_PURPOSE]


def _hidden_cases() -> list[str]:
    """Each hidden case's label and hint, and each source line of the hidden modules past their imports."""
    found = [text for label, hint, _ in [*hidden4.volatility_cases(), *hidden4.market_cap_cases(), *hidden4.correlation_cases(),
                                         *hidden4.frozen_cases(), *hidden4.outlier_cases(), *hidden4.api_health_cases()]
             for text in (label, hint)]  # fmt: skip
    found += [text for label, _, _, hint in hidden2.frozen_cases() for text in (label, hint)]
    # Block 5's live drill (eth_drill) makes the first two incidents happen before the learner's eyes.
    drill = {incident for _, _, incident in block5.ETH_RULES.values()}
    found += [scenario.description for scenario, _ in hidden5.eth_cases() if scenario.description not in drill]
    for module in (hidden2, hidden4, hidden5):
        source = inspect.getsource(module).split("\n\n\n", 1)[1]  # past the docstring and imports
        found += [s for s in (line.strip() for line in source.splitlines()) if len(s) >= MIN_CHARS and not s.startswith(('"""', "def "))]
    return [text for text in found if text not in drill]


def test_the_checks_have_something_to_find():
    assert len(_solution_lines()) > 40
    assert len(_right_answers()) > 20
    assert len(_hidden_cases()) > 80


def test_each_needle_is_found_in_the_instructors_edition():
    """The same search over the instructor's files finds every needle: none is a form no file holds
    (beside the files, the answers built at import time: ``WORKFLOW_RIGHT_VARIANTS``, ``DASHBOARD_RIGHT``)."""
    mine = {f: _read(PROJECT_ROOT / f) for f in release.project_files() if not (PROJECT_ROOT / f).is_symlink()}
    mine["answers at run time"] = "\n".join(str(v) for n, v in vars(answers).items() if n.endswith(("_RIGHT", "_RIGHT_VARIANTS")))
    for needles in (_solution_lines(), _right_answers(), _hidden_cases()):
        assert [n for n in dict.fromkeys(needles) if not any(n in text for text in mine.values())] == []


def test_leaves_out_the_instructors_files(edition):
    for path in ("GUIA_INSTRUCTOR.md", "tests/course/answers.py", "lib/dataops/course/hidden", "lib/dataops/course/mutation.py",
                 "lib/dataops/course/mutants.py", "data/course/equivalent_mutants.yaml", "benchmarks/checks.py"):
        assert not (edition / path).exists(), path
    assert not list((edition / "notebooks").glob("[0-9][0-9]_*.ipynb")), "a master reached the learner's edition"
    learner = sorted(p.name for p in (PROJECT_ROOT / "notebooks" / "learner").glob("*.ipynb"))
    assert sorted(p.name for p in (edition / "notebooks" / "learner").glob("*.ipynb")) == learner
    assert (edition / "EDITION").read_text().strip() == "learner"


def test_no_solution_region_or_hidden_test(edition, texts):
    assert release.leaks(edition) == []
    markers = [f"{m} in {path}" for path, text in texts.items() if path.endswith(".ipynb")
               for m in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS") if m in text]  # fmt: skip
    assert markers == []


def test_no_line_of_a_solution(texts):
    assert _found(texts, _solution_lines()) == []


def test_no_right_answer(texts):
    assert _found(texts, _right_answers()) == []


def test_no_hidden_case(texts):
    assert _found(texts, _hidden_cases()) == []


def test_formative_cases_are_other_cases():
    learner = {c[0] for c in block4._formative_volatility() + block4._formative_correlation()} | {c[0] for c in block2._formative_frozen()}
    hidden = {c[0] for c in hidden4.volatility_cases() + hidden4.correlation_cases()} | {c[0] for c in hidden2.frozen_cases()}
    assert learner and not learner & hidden
    assert {sc.name for sc, _ in block5._formative_eth()}.isdisjoint(sc.name for sc, _ in hidden5.eth_cases())


def _python(edition: Path, code: str, *args: str) -> subprocess.CompletedProcess:
    """``code`` run by the learner's edition's library (the answers module comes from the instructor's tree)."""
    env = os.environ | {"PYTHONPATH": f"{edition / 'lib'}{os.pathsep}{PROJECT_ROOT}"}
    return subprocess.run([sys.executable, "-c", code, *args], cwd=edition.parent, env=env, capture_output=True, text=True, timeout=300)


SELF_CHECKS = """
import dataops, dataops.course.block4 as b4, dataops.course.block2 as b2, dataops.course.block5 as b5
from dataops.course import cases, edition
from dataops.runner import notebook_paths
from tests.course import answers as A
assert dataops.__file__.startswith(sys.argv[1]), dataops.__file__
assert edition.is_learner_edition() and cases.hidden("block4") is None
assert [p.parent.name for p in notebook_paths()] == ["learner"] * 7
from dataops.course import load_course
assert load_course().times()["fits"].all()  # the time model reads the learner versions there
stub = lambda rows: None  # block 2's answer cell as handed out: a function with an empty body
checks = [(b4.check_volatility, A.volatility_right, None), (b4.check_market_cap, A.market_cap_right, None),
          (b4.check_correlation, A.correlation_right, None), (b4.check_frozen_10min, A.frozen_10min_right, None),
          (b4.check_outliers, A.outliers_right, None), (b4.check_api_health, A.api_health_right, None),
          (b2.check_frozen_detector, A.frozen_right, stub), (b5.check_eth_alerts, A.ETH_RULES_RIGHT, None)]
for check, right, empty in checks:
    ok, blank = check(right), check(empty)
    assert ok.passed and cases.FORMATIVE_NOTE in str(ok), str(ok)
    assert not blank.done, str(blank)
print("ok")
"""


def test_the_learners_self_checks_judge_on_formative_cases(edition):
    run = _python(edition, "import sys\n" + SELF_CHECKS, str(edition))
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-2000:]


def test_grade_and_release_say_one_line_in_the_learners_edition(edition, tmp_path):
    for argv in (["grade", str(edition / "notebooks" / "learner")], ["release", str(tmp_path / "again")]):
        run = _python(edition, "import sys; from dataops.cli import main; sys.exit(main(sys.argv[1:]))", *argv)
        assert run.returncode == 2, run.stderr
        assert run.stderr.strip().count("\n") == 0 and "instructor" in run.stderr, run.stderr


def test_refuses_a_folder_that_is_not_empty_or_inside_the_project(tmp_path):
    (tmp_path / "x").write_text("")
    for target in (tmp_path, PROJECT_ROOT / "build" / "curso"):
        run = subprocess.run([sys.executable, "-m", "dataops.cli", "release", str(target)], capture_output=True, text=True, timeout=120,
                             env=os.environ | {"PYTHONPATH": f"{PROJECT_ROOT / 'lib'}{os.pathsep}{PROJECT_ROOT}"})  # fmt: skip
        assert run.returncode == 2 and run.stderr.startswith("error:") and run.stderr.strip().count("\n") == 0, run.stderr
    assert not (PROJECT_ROOT / "build" / "curso").exists()


def test_the_learners_makefile(edition):
    make = (edition / "Makefile").read_text()
    targets = re.findall(r"^([a-z-]+):", make, re.M)
    assert {"run", "lab", "test", "test-unit"} <= set(targets) and not {"learner", "grade", "release"} & set(targets)
    recipe = {t: make.split(f"\n{t}:", 1)[1].splitlines()[1].strip() for t in ("run", "lab", "test")}
    assert recipe == {"run": "$(BIN)/dataops notebooks", "lab": "$(BIN)/jupyter lab --notebook-dir=notebooks/learner",
                      "test": "$(BIN)/python -m pytest -m unit tests/unit"}  # fmt: skip
    assert "TEST_WORKERS" not in make  # the instructor's suite in processes, and its comment, stay out



def test_the_learners_readme_and_repository(edition):
    readme = (edition / "README.md").read_text(encoding="utf-8")
    assert readme == (PROJECT_ROOT / release.LEARNER_README).read_text(encoding="utf-8")
    assert "make lab" in readme and "Lo que necesitas" in readme
    for instructor_word in ("dataops grade", "make grade", "release", "masters", "GUIA_INSTRUCTOR", "benchmarks/"):
        assert instructor_word not in readme
    for command in re.findall(r"^make (\w+)", readme, re.M):  # every target it names is in the learner's Makefile
        assert re.search(rf"^{command}:", (edition / "Makefile").read_text(), re.M), command
    log = subprocess.run(["git", "-C", str(edition), "log", "--oneline"], capture_output=True, text=True, check=True).stdout
    status = subprocess.run(["git", "-C", str(edition), "status", "--porcelain"], capture_output=True, text=True, check=True).stdout
    assert log.count("\n") == 1 and status == ""  # one commit, and everything written is in it


def test_the_learners_unit_tests_pass_on_their_own(edition):
    env = os.environ | {"PYTHONPATH": f"{edition / 'lib'}{os.pathsep}{edition}"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "unit", "tests/unit", "-x"],
                         cwd=edition, env=env, capture_output=True, text=True, timeout=1200)  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:]
    assert re.search(r"^\d+ passed", run.stdout, re.M), run.stdout[-3000:]


def test_refuses_itself_when_a_master_would_ship(tmp_path, monkeypatch):
    from dataops.errors import DataOpsError

    monkeypatch.setattr(release, "INSTRUCTOR_ONLY", tuple(p for p in release.INSTRUCTOR_ONLY if not p.startswith("notebooks/")))
    with pytest.raises(DataOpsError, match="02_diseno_dataops.ipynb"):
        release.release(tmp_path / "curso")
    assert not (tmp_path / "curso").exists()
