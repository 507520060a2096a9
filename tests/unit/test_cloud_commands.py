"""The confluent profile's commands, as text: each one against the flags its CLI page documents,
the script through ``bash -n``, the job's SQL carried over, and no secret anywhere."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess

import pytest

from dataops.automation import load
from dataops.automation.cloud_commands import commands, connector_config, job_statements, plan_rows, script
from dataops.automation.confluent_cli import CLI, HTTP_SOURCE_V2_KEYS, check
from dataops.config import load_settings

pytestmark = pytest.mark.unit

SECRETS = {"DATAOPS_KAFKA_API_KEY": "FAKEKEY7Q2", "DATAOPS_KAFKA_API_SECRET": "fake-secret-s3cr3t-value",
           "DATAOPS_SCHEMA_REGISTRY_API_SECRET": "fake-sr-secret-zz9", "DATAOPS_FLINK_API_SECRET": "fake-flink-secret-yy8",
           "DATAOPS_TABLEFLOW_API_SECRET": "fake-tf-secret-xx7", "DATAOPS_COINGECKO_API_KEY": "fake-cg-key-ww6"}  # fmt: skip


@pytest.fixture()
def settings(tmp_path, monkeypatch):
    for var in [v for v in os.environ if v.startswith("DATAOPS_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("DATAOPS_ENV_FILE", str(tmp_path / "absent.env"))
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return load_settings(profile="confluent", state_dir=tmp_path, kafka_bootstrap="pkc-x.eu-west-1.aws.confluent.cloud:9092")


@pytest.fixture()
def decl(settings):
    return load(settings)


def test_every_command_is_documented_and_quoted(settings, decl):
    cmds = commands(decl, settings)
    paths = {next(name for name in CLI if list(c.argv[1:1 + len(name.split())]) == name.split()) for c in cmds}
    assert paths == set(CLI)  # every documented command is used, and only those
    for c in cmds:
        assert check(c.argv) == [], c.line
        assert shlex.split(c.line) == list(c.argv)


def test_the_checker_catches_wrong_commands():
    assert check(["confluent", "kafka", "topic", "create", "t", "--partitions", "3"]) == []
    assert any("no documentado --replicas" in p for p in check(["confluent", "kafka", "topic", "create", "t", "--replicas", "3"]))
    assert any("falta el argumento <topic>" in p for p in check(["confluent", "kafka", "topic", "create", "--partitions", "3"]))
    assert any("falta --sql" in p for p in check(["confluent", "flink", "statement", "create", "job", "--compute-pool", "lfcp-1"]))
    assert any("falta --cloud" in p for p in check(["confluent", "flink", "artifact", "create", "a", "--artifact-file", "a.jar",
                                                     "--region", "eu-west-1"]))  # fmt: skip
    assert any("necesita un valor" in p for p in check(["confluent", "tableflow", "topic", "enable", "t", "--cluster", "--wait"]))
    assert any("no documentado" in p for p in check(["confluent", "tableflow", "topic", "enable", "t", "--format", "ICEBERG"]))
    assert any("argumentos de más" in p for p in check(["confluent", "environment", "use", "env-1", "env-2"]))
    assert check(["confluent", "kafka", "topic", "produce", "t"]) == ["comando no documentado: confluent kafka topic produce"]
    assert check(["kafka-topics", "--create"])


def test_the_script_passes_bash_n_and_fills_what_is_set(settings, decl, tmp_path):
    text = script(decl, settings.model_copy(update={"confluent_cluster_id": "lkc-abc123"}))
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    assert "--cluster lkc-abc123" in text and "${DATAOPS_CONFLUENT_ENVIRONMENT_ID}" in text
    assert ': "${DATAOPS_CONFLUENT_ENVIRONMENT_ID:?' in text and "DATAOPS_CONFLUENT_CLUSTER_ID:?" not in text
    path = tmp_path / "cloud.sh"
    path.write_text(text)
    bash = shutil.which("bash")
    assert bash
    done = subprocess.run([bash, "-n", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    path.write_text(text.replace('| jq -r .id)"', '| jq -r .id"', 1))  # an unclosed $( ): the check can fail
    assert subprocess.run([bash, "-n", str(path)], capture_output=True).returncode != 0


def test_no_secret_in_the_script_or_the_plan(settings, decl):
    text = script(decl, settings) + "\n".join(" ".join(r) for r in plan_rows(decl, settings))
    for value in SECRETS.values():
        assert value not in text
    assert settings.kafka_api_secret.get_secret_value() == SECRETS["DATAOPS_KAFKA_API_SECRET"]  # they were set
    assert '"kafka.api.secret": "${DATAOPS_KAFKA_API_SECRET}"' in text


def test_the_connector_config_uses_documented_keys(settings, decl):
    (c,) = decl.connectors
    config = connector_config(c, settings)
    assert set(config) <= HTTP_SOURCE_V2_KEYS
    assert config["connector.class"] == "HttpSourceV2" and config["api1.topics"] == c.topic
    assert config["http.api.base.url"] + config["api1.http.api.path"] == c.url
    assert config["api1.request.interval.ms"] == str(int(c.poll_interval_s * 1000))


def _local_statements(settings, job):
    from dataops.flink.job import EXPLODE_SQL, job_params
    from dataops.flink.submit import plan_statements

    return plan_statements(EXPLODE_SQL.read_text(), {**job_params(settings), "source_topic": job.source, "good_topic": job.sink,
                                                      "dlq_topic": job.dead_letter})  # fmt: skip


def _norm(sql: str) -> str:
    return " ".join(line for line in sql.splitlines() if not line.lstrip().startswith("--")).split()


def test_the_flink_statements_are_the_jobs_sql(settings, decl):
    (job,) = decl.jobs
    cloud = dict(job_statements(job, settings, decl))
    local = _local_statements(settings, job)
    # every view of the job, with the same SELECT
    for statement in local:
        m = re.search(r"CREATE TEMPORARY VIEW (\w+) AS\s+(.*)", statement, re.S)
        if m:
            body = cloud[f"{job.name}-view-{m.group(1).replace('_', '-')}"]
            assert _norm(body) == _norm(f"CREATE VIEW {m.group(1)} AS\n{m.group(2)}")
    # the statement set: the same two SELECTs, into the declared topics
    (final,) = [s for s in local if "EXECUTE STATEMENT SET" in s]
    expected = final.replace("INSERT INTO exploded", f"INSERT INTO `{job.sink}`").replace("INSERT INTO dead_letters",
                                                                                          f"INSERT INTO `{job.dead_letter}`")  # fmt: skip
    assert _norm(cloud[job.name]) == _norm(expected)
    assert re.findall(r"INSERT INTO `([\w.-]+)`", cloud[job.name]) == [job.sink, job.dead_letter]
    # tables are topics: no Kafka connector options; the sink topics get the job's columns and the declared partitions
    assert not any("'connector'" in sql or "TEMPORARY" in sql for sql in cloud.values())
    exploded = cloud[f"{job.name}-table-exploded"]
    assert exploded.startswith(f"CREATE TABLE `{job.sink}`") and "coin_id" in exploded
    assert exploded.rstrip().endswith(f"INTO {decl.topic(job.sink).partitions} BUCKETS")
    assert "confluent-artifact://" in cloud[f"{job.name}-function"] and "org.dataops.flink.JsonMembers" in cloud[f"{job.name}-function"]
    assert f"FROM `{job.source}`" in cloud[f"{job.name}-view-raw-polls"]


def test_plan_lists_the_commands_instead_of_placeholders(settings, decl):
    rows = plan_rows(decl, settings)
    assert all(r[1] == "cloud-managed" and r[2].startswith("confluent ") for r in rows)
    labels = [r[0] for r in rows]
    assert f"connector {decl.connectors[0].name}" in labels and f"tableflow {decl.sinks[0].topic}" in labels
    assert f"flink statement {decl.jobs[0].name}" in labels
    assert not any("--compute-pool POOL_ID" in r[2] or '--sql "…"' in r[2] or "http-source.json" in r[2] for r in rows)


def test_cli_prints_the_script(tmp_path, monkeypatch, capsys):
    from dataops.cli import main

    for var in [v for v in os.environ if v.startswith("DATAOPS_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("DATAOPS_ENV_FILE", str(tmp_path / "absent.env"))
    monkeypatch.setenv("DATAOPS_FLINK_COMPUTE_POOL_ID", "lfcp-xyz789")
    assert main(["pipeline", "plan", "--commands"]) == 0
    out = capsys.readouterr().out
    assert "set -euo pipefail" in out and "--compute-pool lfcp-xyz789" in out
