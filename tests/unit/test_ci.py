"""CI/CD without the stack: schema compatibility, the configuration check, the workflow lint, the
local runner's order and gating, each job failing on its own kind of bad change, and Practice 7's
self-check on known-wrong workflows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dataops.ci import checks, workflow
from dataops.config import PROJECT_ROOT
from dataops.course import block6
from tests.course import answers

pytestmark = pytest.mark.unit
ROW = json.loads((PROJECT_ROOT / "data" / "schemas" / "exploded_row.json").read_text())


def _changed(**edits) -> dict:
    new = json.loads(json.dumps(ROW))
    for field, spec in edits.items():
        if spec is None:
            new["properties"].pop(field)
        else:
            new["properties"][field] = spec
    return new


@pytest.mark.parametrize("new, reason", [
    (_changed(usd_24h_change={"type": "number"}), "usd_24h_change: type null/number → number"),
    (_changed(usd={"type": "number", "exclusiveMinimum": 10}), "usd: exclusiveMinimum 0 → 10"),
    (_changed(coin_id=None), "coin_id: removed"),
    ({**ROW, "required": [*ROW["required"], "source"], "properties": {**ROW["properties"], "source": {"type": "string"}}}, "source: newly required"),
])  # fmt: skip
def test_a_backward_incompatible_schema_change_is_named_with_its_field_and_reason(new, reason):
    problems = checks.incompatible(ROW, new)
    assert any(reason in p for p in problems), problems


def test_compatible_changes_pass():
    wider = _changed(usd_24h_change={"type": ["number", "null", "string"]})
    optional = {**ROW, "properties": {**ROW["properties"], "source": {"type": "string"}}, "additionalProperties": True}
    assert checks.incompatible(ROW, ROW) == [] and checks.incompatible(ROW, wider) == [] and checks.incompatible(ROW, optional) == []


class _Registry:
    """The registry's answer to test_compatibility: ``refuse`` subjects get the verdict given."""

    def __init__(self, refuse: dict[str, str]) -> None:
        self.refuse, self.asked = refuse, []

    def test_compatibility(self, subject, schema):
        self.asked.append((subject, schema["name"]))
        if subject in self.refuse:
            return {"compatible": False, "level": "BACKWARD", "messages": [self.refuse[subject]]}
        return {"compatible": True, "level": "BACKWARD", "messages": []}


def test_the_registry_gate_asks_for_each_contract_as_its_topics_next_avro_version():
    from dataops.config import load_settings

    settings = load_settings(env_file="/nonexistent")
    ok = _Registry({})
    assert checks.registry_problems(ok, settings) == []
    assert ok.asked == [("crypto-prices-value", "raw_poll"), ("crypto-prices-exploded-value", "exploded_row")]
    refused = _Registry({"crypto-prices-exploded-value": "READER_FIELD_MISSING_DEFAULT_VALUE eur"})
    (line,) = checks.registry_problems(refused, settings)
    assert line.startswith("exploded_row.json: el Schema Registry (BACKWARD) no lo acepta como siguiente versión "
                           "de crypto-prices-exploded-value: READER_FIELD_MISSING_DEFAULT_VALUE eur")  # fmt: skip


def test_the_project_passes_its_own_checks():
    assert checks.schema_problems() == []
    assert checks.config_problems() == []
    report = checks.sample_quality()
    assert report.passed and report.summary()["success_rate"] == 100.0


def test_the_workflow_lint_names_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: x\non: push\njobs:\n  a:\n    steps:\n      - run: echo\n")  # no runs-on
    problems = checks.lint_workflow(bad)
    assert any(p.startswith("bad.yml: ") and "$.jobs.a: 'runs-on' is a required property" in p for p in problems), problems
    good = tmp_path / "good.yml"
    good.write_text("name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo\n")
    assert checks.lint_workflow(good) == []  # the same workflow with runs-on: the lint named the one problem
    assert checks.lint_workflow(checks.WORKFLOW) == []


def test_config_problems_name_the_file_and_the_unknown_thing(tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data, symlinks=True)
    rules = data / "alerts" / "rules.yaml"
    rules.write_text(rules.read_text().replace("metric: topic_lag", "metric: topic_lagg"))
    (data / "pipeline" / "pipeline.yaml").write_text(
        (data / "pipeline" / "pipeline.yaml").read_text().replace("partitions: 1", "partitions: -1", 1))
    problems = checks.config_problems(workflow=None, data=data)
    assert any("rule processing_lag reads topic_lagg" in p for p in problems), problems
    assert any(p.startswith("pipeline.yaml") and "partitions" in p for p in problems), problems


def _toy(tmp_path: Path, jobs: str) -> Path:
    repo = tmp_path / "toy"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "dataops.yml").write_text("name: t\non: push\njobs:\n" + jobs)
    subprocess.run(["git", "init", "-q", "-b", "feature/x", str(repo)], check=True)
    return repo


def test_the_runner_follows_needs_stops_at_a_failure_and_keeps_deploy_to_main(tmp_path):
    repo = _toy(tmp_path, """
  deploy: {needs: [b], if: "github.ref == 'refs/heads/main'", runs-on: u, steps: [{run: touch deployed}]}
  b: {needs: a, runs-on: u, steps: [{run: touch b}]}
  a: {runs-on: u, steps: [{uses: actions/checkout@v6}, {run: touch a}]}
""")
    table = workflow.run(repo, echo=None).set_index("job")
    assert list(table.index) == ["a", "b", "deploy"] and list(table["estado"]) == ["✔", "✔", "–"]
    assert "solo en main" in table.loc["deploy", "detalle"] and not (repo / "deployed").exists()
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "-b", "main"], check=True)
    assert list(workflow.run(repo, echo=None)["estado"]) == ["✔", "✔", "✔"] and (repo / "deployed").exists()
    (repo / ".github" / "workflows" / "dataops.yml").write_text(
        (repo / ".github" / "workflows" / "dataops.yml").read_text().replace("touch a", "echo 'a broke' && false"))
    table = workflow.run(repo, echo=None).set_index("job")
    assert table.loc["a", "estado"] == "✘" and "a broke" in table.loc["a", "detalle"]
    assert table.loc["deploy", "estado"] == "–" and table.loc["b", "estado"] == "–"


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    return block6.scratch_repo(tmp_path_factory.mktemp("ci"))


def test_make_in_block_6s_clone_leaves_the_projects_venv_alone(clone):
    """The clone shares the project's venv: its `make venv` must find it installed, not reinstall it
    from the clone (deleted later) — and without writing to it (a hub learner cannot)."""
    stamp = clone / ".venv" / "bin" / ".installed"
    assert stamp.exists(), "the project's venv has no install stamp: run `make venv`"
    before = stamp.stat().st_mtime
    up_to_date = subprocess.run(["make", "-q", "-C", str(clone), "venv"], capture_output=True, text=True)
    assert up_to_date.returncode == 0, up_to_date.stdout + up_to_date.stderr
    assert stamp.stat().st_mtime == before


@pytest.mark.parametrize("job, path, old, new, why", [
    ("schema-validation", "data/schemas/exploded_row.json", '"type": ["number", "null"]}', '"type": "number"}', "usd_24h_change"),
    ("infrastructure-validation", "data/alerts/rules.yaml", "metric: frozen_coins", "metric: frozen_coinz", "frozen_coinz"),
    ("infrastructure-validation", "data/pipeline/pipeline.yaml", "partitions: 1", "partitions: -1", "partitions"),
    ("data-quality", "data/quality/price_ranges.yaml", "bitcoin: {min: 1000, max: 200000}", "bitcoin: {min: 1000, max: 50000}", "success rate"),
])  # fmt: skip
def test_each_job_fails_on_its_own_kind_of_bad_change_and_deploy_is_skipped(tmp_path, job, path, old, new, why):
    repo = block6.scratch_repo(tmp_path)  # on main: only the failure keeps deploy from running
    text = (repo / path).read_text()
    assert old in text, (path, old)
    block6.commit(repo, path, text.replace(old, new, 1), f"a bad change for {job}")
    table = workflow.run(repo, echo=None, env={"PYTHONPATH": str(repo / "lib")}, assume=block6.ASSUMED).set_index("job")
    assert table.loc[job, "estado"] == "✘" and why in table.loc[job, "detalle"], table.loc[job, "detalle"]
    assert (table["estado"] == "✘").sum() == 1 and table.loc["deploy", "estado"] == "–", table.to_dict("records")


def test_practice_7_passes_the_right_workflow(clone):
    block6.git(clone, "checkout", "-q", "-B", "practice-right", "main")
    assert block6.check_workflow(clone).done is False  # not placed yet: not done, whatever the project's workflow says
    block6.place_workflow(clone, answers.WORKFLOW_RIGHT)
    check = block6.check_workflow(clone)
    assert check.passed, str(check)


@pytest.mark.parametrize("case", answers.WORKFLOW_RIGHT_VARIANTS)
def test_practice_7_accepts_each_valid_way_of_saying_main_only(clone, case):
    block6.git(clone, "checkout", "-q", "-B", f"practice-ok-{abs(hash(case))}", "main")
    block6.place_workflow(clone, answers.WORKFLOW_RIGHT_VARIANTS[case])
    check = block6.check_workflow(clone)
    assert check.passed, (case, str(check))


@pytest.mark.parametrize("condition", [
    "github.ref == 'refs/heads/main'", "github.ref_name == 'main'", "'refs/heads/main' == github.ref", "'main' == github.ref_name",
    "${{ github.ref == 'refs/heads/main' }}", "${{ github.ref_name == 'main' }}", "(github.ref == 'refs/heads/main')",
    "github.ref == 'refs/heads/Main'",  # GitHub compares strings ignoring case
    "github.event_name == 'push' && github.ref == 'refs/heads/main'", "success() && github.ref_name == 'main'",
    "github.ref_name == 'main' && github.ref_type == 'branch'", "!(github.ref != 'refs/heads/main')",
    "github.repository == 'equipo/datos' && github.ref == 'refs/heads/main'",  # an unmodelled context cannot widen it
    "needs.data-quality.result == 'success' && github.ref_name == 'main'",
])  # fmt: skip
def test_a_main_only_condition_is_recognised_however_it_is_written(condition):
    assert workflow.Job("deploy", [], condition, []).main_only, condition


@pytest.mark.parametrize("condition", [
    "", "always()", "github.ref == 'refs/heads/develop'", "github.ref != 'refs/heads/main'", "github.ref_name != 'main'",
    "github.ref == 'refs/heads/main' || github.event_name == 'pull_request'", "github.ref == 'refs/heads/main' || true",
    "github.base_ref == 'main'",  # a pull request into main is not main
    "contains(github.ref, 'main')", "startsWith(github.ref, 'refs/heads/main')", "endsWith(github.ref_name, 'main')",
    "github.repository == 'equipo/datos'",
    'github.ref == "refs/heads/main"',  # GitHub's expressions quote strings with single quotes only
    "github.ref == refs/heads/main", "github.ref == 'refs/heads/main' &&",
])  # fmt: skip
def test_a_condition_that_also_runs_elsewhere_or_never_is_not_main_only(condition):
    assert not workflow.Job("deploy", [], condition, []).main_only, condition


def test_the_local_runner_skips_a_ref_name_deploy_off_main(tmp_path):
    repo = _toy(tmp_path, """
  deploy: {if: "github.ref_name == 'main'", runs-on: u, steps: [{run: touch deployed}]}
""")
    assert list(workflow.run(repo, echo=None)["estado"]) == ["–"] and not (repo / "deployed").exists()
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "-b", "main"], check=True)
    assert list(workflow.run(repo, echo=None)["estado"]) == ["✔"] and (repo / "deployed").exists()


@pytest.mark.parametrize("case", answers.WORKFLOW_WRONG)
def test_practice_7_rejects_each_known_wrong_workflow(clone, case):
    text, where = answers.WORKFLOW_WRONG[case]
    block6.git(clone, "checkout", "-q", "-B", f"practice-{abs(hash(case))}", "main")
    block6.place_workflow(clone, text)
    check = block6.check_workflow(clone)
    assert not check.passed and any(where in f for f in check.failed), (case, check.failed)


def test_dataops_ci_on_the_project_itself(tmp_path):
    import os

    env = {**os.environ, "DATAOPS_STATE_DIR": str(tmp_path)}  # no stack of its own: the live quality step says it skips
    out = subprocess.run([sys.executable, "-m", "dataops.cli", "ci", "schema-validation", "data-quality", "infrastructure-validation"],
                         cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("✔") >= 3 and "✘" not in out.stdout


def test_block_6s_clone_runs_with_the_sessions_settings_a_learners_on_a_class_server(monkeypatch, tmp_path):
    """On a class server the clone's deploy job must set the learner's namespace up, never start a
    local stack of its own: the session's settings file goes to the clone."""
    from types import SimpleNamespace

    from dataops.config import PROJECT_ROOT
    from dataops.course.block6 import scratch_env

    p = SimpleNamespace(settings=SimpleNamespace(state_dir=tmp_path))
    monkeypatch.setenv("DATAOPS_ENV_FILE", "/srv/clase/learners/ana.env")
    env = scratch_env(p, tmp_path / "clone")
    assert env["DATAOPS_ENV_FILE"] == "/srv/clase/learners/ana.env" and env["DATAOPS_STATE_DIR"] == str(tmp_path.resolve())
    monkeypatch.delenv("DATAOPS_ENV_FILE")
    assert scratch_env(p, tmp_path / "clone").get("DATAOPS_ENV_FILE") == (str(PROJECT_ROOT / ".env") if (PROJECT_ROOT / ".env").exists() else None)
