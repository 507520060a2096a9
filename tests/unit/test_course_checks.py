"""The block 2 self-checks accept the right answers and give ✘ to every known-wrong one."""

from __future__ import annotations

import pytest

from dataops import scenarios, widgets
from dataops.config import load_settings
from dataops.course import block1, block2
from tests.course import answers

pytestmark = pytest.mark.unit
SETTINGS = load_settings(env_file="/nonexistent")


def _fails_on(result, line: str) -> None:
    """The known-wrong answer gets ✘ on the line it is wrong about (not only "not passed")."""
    assert any(line in failed for failed in result.failed), (line, result.failed)


@pytest.mark.parametrize("wrong, fails_on", [("SCHEMA_WRONG", "SCHEMA_FAILS_ON"), ("FROZEN_WRONG", "FROZEN_FAILS_ON"),
                                             ("METRIC_WRONG", "METRIC_FAILS_ON"), ("ALERTS_WRONG", "ALERTS_FAILS_ON")])  # fmt: skip
def test_every_known_wrong_answer_names_the_line_it_must_fail_on(wrong, fails_on):
    assert set(getattr(answers, wrong)) == set(getattr(answers, fails_on))


def test_schema_answer():
    assert block2.check_schema_change(answers.SCHEMA_RIGHT, SETTINGS).passed
    assert not block2.check_schema_change({"topico": "", "motivo": ""}, SETTINGS).done


@pytest.mark.parametrize("case", sorted(answers.SCHEMA_WRONG))
def test_schema_answer_rejects(case):
    result = block2.check_schema_change(answers.SCHEMA_WRONG[case], SETTINGS)
    assert result.done and not result.passed and "✘" in str(result), str(result)
    _fails_on(result, answers.SCHEMA_FAILS_ON[case])


def test_frozen_detector():
    assert block2.check_frozen_detector(answers.frozen_right).passed
    blank = block2.check_frozen_detector(lambda rows: None)  # the learner's stub returns None
    assert not blank.done and "sin hacer" in str(blank)


@pytest.mark.parametrize("case", sorted(answers.FROZEN_WRONG))
def test_frozen_detector_rejects(case):
    result = block2.check_frozen_detector(answers.FROZEN_WRONG[case])
    assert result.done and not result.passed, str(result)
    _fails_on(result, answers.FROZEN_FAILS_ON[case])


def test_frozen_detector_that_raises_is_a_cross_not_a_crash():
    result = block2.check_frozen_detector(lambda rows: rows["no_such_column"])
    assert not result.passed and "KeyError" in str(result)


def test_custom_metric():
    assert block2.check_custom_metric("dispersion_cambio_24h", answers.metric_right).passed
    assert not block2.check_custom_metric("", None).done


@pytest.mark.parametrize("case", sorted(answers.METRIC_WRONG))
def test_custom_metric_rejects(case):
    name, fn = answers.METRIC_WRONG[case]
    result = block2.check_custom_metric(name, fn)
    assert result.done and not result.passed, str(result)
    _fails_on(result, answers.METRIC_FAILS_ON[case])


def _alerts(code: str):
    hist_eth, hist_api, hist_cal = (scenarios.render_history(s)[0] for s in ("eth_flash_crash", "api_outage", "schema_drift"))
    scope = {"widgets": widgets, "hist_eth": hist_eth, "hist_api": hist_api, "hist_cal": hist_cal}
    exec(code, scope)  # noqa: S102 - the answer as a learner types it
    return scope["alerta_eth"], scope["alerta_api"], scope["alerta_calidad"]


def test_alerts():
    assert block2.check_alerts(*_alerts(answers.ALERTS_RIGHT)).passed
    assert not block2.check_alerts(None, None, None).done


@pytest.mark.parametrize("case", sorted(answers.ALERTS_WRONG))
def test_alerts_reject(case):
    result = block2.check_alerts(*_alerts(answers.ALERTS_WRONG[case]))
    assert result.done and not result.passed, str(result)
    _fails_on(result, answers.ALERTS_FAILS_ON[case])


def test_reflections_need_an_answer_of_ones_own():
    assert block1.reflection_answered("Midiendo el lag, la frescura y los errores de la API con alertas por niveles en cada capa.")
    assert not block1.reflection_answered("✏️ Tu respuesta aquí (con tus palabras).")
    assert not block1.reflection_answered("no sé")


def test_the_reflection_prompts_state_the_words_the_check_wants():
    import json
    from pathlib import Path

    wanted = f"al menos {block1.REFLECTION_MIN_WORDS} palabras"
    masters = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    asking = 0
    for path in masters:
        cells = json.loads(path.read_text())["cells"]
        if not any(c.get("metadata", {}).get("nbgrader", {}).get("grade_id", "").startswith("reflexion") for c in cells):
            continue
        asking += 1
        prose = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown" and not c.get("metadata", {}).get("nbgrader"))
        assert wanted in prose.replace("**", ""), f"{path.name}: the reflection prompt must say {wanted!r}"
    assert asking >= 2


def test_block1_tables():
    assert list(block1.comparison().columns) == ["DevOps", "DataOps", "MLOps"]
    owners = block1.who_owns_what()
    assert len(owners) == 4 and (owners["cuántos"] > 0).all()
    assert set(block1.ecosystem()["bloque"]) <= {1, 2, 3, 4, 5, 6}


def test_the_learner_notebooks_are_generated_from_the_masters():
    from dataops.course import assignments

    assert assignments.stale() == [], "run `make learner` and commit notebooks/learner"


def unquoted_shell_expansions(source: str) -> list[str]:
    """The ``!`` shell lines of a code cell that expand a Python value without quotes: a path with
    a space (a home like "José Pérez") splits into two words there (found in CI, block 3)."""
    import re

    return [line for line in source.splitlines()
            if line.lstrip().startswith("!") and re.search(r"(?<![\"'])\{[^}]+\}(?![\"'])", line)]  # fmt: skip


def test_no_shell_line_of_a_notebook_splits_a_path_with_a_space():
    import json
    from pathlib import Path

    assert unquoted_shell_expansions("!{sys.executable} -m dataops.cli plan") != []  # the line CI met
    assert unquoted_shell_expansions('!"{sys.executable}" -m dataops.cli plan\nx = {1: 2}') == []
    root = Path(__file__).resolve().parents[2] / "notebooks"
    for path in sorted([*root.glob("[0-9][0-9]_*.ipynb"), *(root / "learner").glob("[0-9][0-9]_*.ipynb")]):
        cells = json.loads(path.read_text())["cells"]
        bad = [line for c in cells if c["cell_type"] == "code" for line in unquoted_shell_expansions("".join(c["source"]))]
        assert bad == [], f"{path.name}: quote the expansion, as in !\"{{sys.executable}}\": {bad}"


def test_navigation_links_point_to_notebooks_that_exist():
    import json
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "notebooks"
    for folder in (root, root / "learner"):
        notebooks = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
        assert notebooks
        for path in notebooks:
            text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown")
            links = re.findall(r"\]\(([^)]+\.ipynb)\)", text)
            assert links, f"{path.name} links to no other notebook"
            assert all((folder / link).exists() for link in links), (path.name, links)


def test_the_readme_course_map_follows_the_course_file():
    from pathlib import Path

    from dataops.course import load_course

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    course = load_course()
    for block in course.blocks:
        assert f"`{block.notebook}`" in readme, block.notebook
    assert course.table()["points"].sum() + course.rubric["participation"]["points"] == 100
