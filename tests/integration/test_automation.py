"""The pipeline as code against the real stack: plan, apply, validate, drift, the three
troubleshooting cases, a broken declaration, the CLI's exit codes, and block 3's self-checks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dataops import automation
from dataops.automation.engine import FAILED, OK, SKIPPED, STEPS
from dataops.course import block3
from dataops.errors import DeclarationError
from tests.course import answers
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration

SCRATCH_TOPIC = """
topics:
  - {name: t-auto-drift, partitions: 1, config: {retention.ms: "3600000", cleanup.policy: delete}}
"""


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dataops.cli", *args], capture_output=True, text=True, timeout=300, env=env)


def topic_config(p, name: str) -> dict[str, str]:
    from confluent_kafka.admin import ConfigResource

    admin = p.kafka.admin()
    resource = ConfigResource("TOPIC", name)
    current = admin.describe_configs([resource])[resource].result(timeout=30)
    return {k: current[k].value for k in ("retention.ms", "cleanup.policy")}


def snapshot(p) -> tuple:
    """What runs: topics with partitions, connector configs, live jobs."""
    topics = p.kafka.topics().groupby("topic").size().to_dict()
    connectors = {name: p.connect.config(name) for name in p.connect.states()}
    jobs = sorted(p.flink.jobs().query("state == 'RUNNING'")["name"])
    return topics, connectors, jobs


def test_apply_then_plan_is_empty_and_a_second_apply_changes_nothing(pipeline):
    p = pipeline
    first = p.apply(validate=False)
    assert first.attrs["ok"], first.to_dict("records")
    plan = p.plan()
    assert not plan.attrs["pending"] and set(plan["plan"]) == {"unchanged"}, plan.to_dict("records")
    second = p.apply(validate=False)
    assert second.attrs["ok"] and second.attrs["changed"] == [], second.attrs


def test_plan_of_a_fresh_namespace_creates_every_resource(pipeline):
    decl = automation.scratch_declaration(pipeline.settings, "t-fresh")
    plan = pipeline.plan(decl)
    assert len(plan) == 8 and set(plan["plan"]) == {"create"} and plan.attrs["pending"], plan.to_dict("records")


def test_a_topic_changed_by_hand_is_drift_and_apply_restores_it(pipeline):
    p = pipeline
    try:
        assert p.apply(SCRATCH_TOPIC, validate=False).attrs["ok"]
        p.kafka.ensure_topic("t-auto-drift", 1, {"retention.ms": "60000"})  # by hand
        row = p.plan(SCRATCH_TOPIC).set_index("recurso").loc["topic t-auto-drift"]
        assert row["plan"] == "drift" and "retention.ms: 60000 → 3600000" in row["cambios"], row.to_dict()
        report = p.apply(SCRATCH_TOPIC, validate=False)
        assert report.attrs["changed"] == ["topic t-auto-drift"], report.attrs
        assert topic_config(p, "t-auto-drift") == {"retention.ms": "3600000", "cleanup.policy": "delete"}
        assert not p.plan(SCRATCH_TOPIC).attrs["pending"]
    finally:
        automation.destroy(p, automation.parse(SCRATCH_TOPIC, p.settings))


def test_the_three_troubleshooting_cases_are_named_and_repaired(pipeline):
    import dataops

    p = pipeline
    wrong_url = dataops.connect(simulator_port=pipeline.settings.simulator_port + 7).validate(within_s=5)
    row = wrong_url.set_index("paso").loc["prerrequisitos"]
    assert row["estado"] == FAILED and "DATAOPS_SIMULATOR_PORT" in row["arreglo"], row.to_dict()
    try:
        assert p.apply(block3.LAB, validate=False).attrs["ok"]
        block3.delete_topic_by_hand(p)
        assert block3.break_connector_by_hand(p).endswith("FAILED")
        report = p.validate(block3.LAB, within_s=5).set_index("paso")
        assert report.loc["topics", "estado"] == FAILED and "borrado a mano" in report.loc["topics", "detalle"]
        assert report.loc["conector", "estado"] == FAILED and "FAILED" in report.loc["conector", "detalle"]
        assert report.loc["validación end-to-end", "estado"] == SKIPPED
        plan = p.plan(block3.LAB).set_index("recurso")["plan"]
        assert plan[f"topic {block3.LAB_TOPIC}"] == "drift" and plan[f"connector {block3.LAB_CONNECTOR}"] == "drift"
        repaired = p.apply(block3.LAB, within_s=90)
        assert repaired.attrs["ok"], repaired.to_dict("records")
        assert p.connect.states()[block3.LAB_CONNECTOR] == ["RUNNING", "RUNNING"]
    finally:
        automation.destroy(p, block3.lab_declaration(p))


def test_a_connector_paused_by_hand_is_drift_and_apply_resumes_it(pipeline):
    p = pipeline
    sink = p.settings.iceberg_connector_name
    p.connect.pause(sink)
    try:
        wait_for(lambda: "PAUSED" in p.connect.states()[sink], 30, "the sink to pause")
        assert p.plan().set_index("recurso").loc[f"sink {sink}", "plan"] == "drift"
        report = p.apply(validate=False)
        assert report.attrs["ok"] and "reanudado (estaba en pausa)" in report.set_index("paso").loc["sink de Iceberg", "detalle"]
        assert set(p.connect.states()[sink]) == {"RUNNING"}
    finally:
        p.connect.resume(sink)


def test_a_broken_declaration_changes_nothing(pipeline, tmp_path):
    p = pipeline
    before = snapshot(p)
    broken = {
        "negative partitions": "topics:\n  - {name: t-broken, partitions: -1}\n",
        "a connector on an undeclared topic": ("topics:\n  - {name: t-broken, partitions: 1}\nconnectors:\n"
                                               "  - {name: t-broken-src, kind: http_source, url: http://x, topic: nope}\n"),
        "an unknown key": "topics:\n  - {name: t-broken, partitions: 1, replicas: 3}\n",
    }  # fmt: skip
    for text in broken.values():
        with pytest.raises(DeclarationError, match=r"^extensión línea \d+: "):
            p.apply(text)
    path = tmp_path / "broken.yaml"
    path.write_text(broken["a connector on an undeclared topic"])
    out = cli("pipeline", "apply", "--extra", str(path))
    assert out.returncode != 0 and "broken.yaml línea 4" in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert snapshot(p) == before


def test_apply_stops_at_the_first_failing_step_and_touches_nothing(pipeline):
    p = pipeline
    text = SCRATCH_TOPIC + "preflight:\n  - {name: api-falsa, kind: http, url: \"http://127.0.0.1:9/nada\", timeout_s: 1}\n"
    report = p.apply(text)
    assert not report.attrs["ok"]
    assert list(report["paso"]) == list(STEPS)
    assert list(report["estado"]) == [FAILED] + [SKIPPED] * (len(STEPS) - 1), report.to_dict("records")
    assert "api-falsa" in report.iloc[0]["detalle"] and report.iloc[0]["arreglo"]
    assert "t-auto-drift" not in p.kafka.topic_names()


def test_cli_plan_exit_codes(pipeline, tmp_path):
    pipeline.apply(validate=False)
    assert cli("pipeline", "plan").returncode == 0
    extra = tmp_path / "extra.yaml"
    extra.write_text("topics:\n  - {name: t-cli-pending, partitions: 1}\n")
    pending = cli("pipeline", "plan", "--extra", str(extra))
    assert pending.returncode == 2 and "t-cli-pending" in pending.stdout and "create" in pending.stdout
    extra.write_text("topics:\n  - {name: t-cli-pending, partitions: 0}\n")
    broken = cli("pipeline", "plan", "--extra", str(extra))
    assert broken.returncode == 1 and "extra.yaml línea 2" in broken.stderr
    assert "t-cli-pending" not in pipeline.kafka.topic_names()


# ---- block 3's self-checks on the live pipeline: the right answer ✔, each known-wrong one ✘ -----


def test_practice_1_self_check(pipeline):
    assert not block3.check_setup(pipeline, None).done
    assert block3.check_setup(pipeline, pipeline.apply(within_s=90)).passed
    skipped = block3.check_setup(pipeline, pipeline.apply(validate=False))
    assert skipped.failed == ["paso validación end-to-end"], skipped
    stopped = block3.check_setup(pipeline, pipeline.apply("preflight:\n  - {name: x, kind: http, url: \"http://127.0.0.1:9/\"}\n"))
    assert "paso prerrequisitos" in stopped.failed, stopped


def test_practice_2_self_check_rejects_each_known_wrong_answer(pipeline):
    p = pipeline
    report = p.apply(answers.EXTENSION_RIGHT, within_s=90)
    assert report.attrs["ok"], report.to_dict("records")
    assert block3.check_custom_setup(p, answers.EXTENSION_RIGHT, report).passed
    assert not block3.check_custom_setup(p, "# todavía nada", None).done
    for name, (text, line) in answers.EXTENSION_WRONG.items():
        result = block3.check_custom_setup(p, text, report)
        assert not result.passed and any(line in case for case in result.failed), (name, str(result))
    # the broker is read, not the declaration: a retention changed by hand is ✘
    p.kafka.ensure_topic("crypto-alerts", 1, {"retention.ms": "3600000"})
    try:
        result = block3.check_custom_setup(p, answers.EXTENSION_RIGHT, report)
        assert result.failed == ["en el broker, crypto-alerts existe con 1 partición, 1 día y delete"], str(result)
    finally:
        p.apply(answers.EXTENSION_RIGHT, validate=False)
    assert OK in set(report["estado"])


def test_two_applies_at_once_submit_the_job_once(pipeline):
    import threading

    decl = automation.scratch_declaration(pipeline.settings, "t-twice")
    reports: list = []
    try:
        threads = [threading.Thread(target=lambda: reports.append(pipeline.apply(decl, validate=False))) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert len(reports) == 2 and all(r.attrs["ok"] for r in reports), [r.to_dict("records") for r in reports]
        job = decl.jobs[0].name
        actions = sorted(dict(r.attrs["actions"])[f"job {job}"] for r in reports)
        assert actions[0].startswith("running") and actions[1] == "submitted", actions
        jobs = pipeline.flink.jobs()
        assert len(jobs[(jobs["name"] == job) & (jobs["state"] == "RUNNING")]) == 1, jobs
    finally:
        automation.destroy(pipeline, decl)
