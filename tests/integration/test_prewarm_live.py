"""The real submitting child started ahead (pyflink's JVM, Flink's planner): warmed, then let go
without a word, it exits without submitting anything."""

from __future__ import annotations

import json
import re
import time

import pytest

from dataops.flink import job, prewarm

pytestmark = pytest.mark.integration


def test_the_real_child_warms_up_and_goes_away_untold_without_submitting(pipeline):
    p = pipeline
    before = set(p.flink.jobs()["jid"])
    cmd, env = job.submit_command(p.settings)
    t0 = time.monotonic()
    with prewarm.ahead("live-test", cmd, env) as child:
        while not child.ready():  # the JVM started, the planner warm: it waits to be told
            assert child.proc.poll() is None and time.monotonic() - t0 < 120, child.proc.returncode
            time.sleep(0.2)
        warm_s = time.monotonic() - t0
    assert child.proc.returncode == 0, child.proc.returncode  # untold: it went away by itself
    print(f"\nthe submitting child warmed up in {warm_s:.1f} s")
    assert set(p.flink.jobs()["jid"]) == before  # nothing submitted


GEN_TO_BLACKHOLE = """
CREATE TEMPORARY TABLE gen (a INT) WITH ('connector' = 'datagen', 'rows-per-second' = '1')
;
CREATE TEMPORARY TABLE sink (a INT) WITH ('connector' = 'blackhole')
;
EXECUTE STATEMENT SET BEGIN INSERT INTO sink SELECT a FROM gen; END
"""


def test_the_real_child_told_to_submit_submits_in_a_warm_jvm(pipeline, tmp_path):
    """What `up` does on a machine with cores to spare, on a job of its own (datagen -> blackhole, its
    own name and checkpoint folder: the course's job and its checkpoints are not touched)."""
    p = pipeline
    sql = tmp_path / "gen.sql"
    sql.write_text(GEN_TO_BLACKHOLE)
    config = {**job.job_config(p.settings), "pipeline.name": "prewarm-test", "pipeline.jars": "",
              "execution.checkpointing.dir": (tmp_path / "chk").as_uri(), "execution.checkpointing.interval": "3600 s"}  # fmt: skip
    cmd, env = job.submit_command(p.settings)
    cmd = [*cmd[: cmd.index("--sql")], "--sql", str(sql), "--params", "{}", "--config", json.dumps(config)]
    with prewarm.ahead("live-test-told", cmd, env):
        child = prewarm.take("live-test-told", cmd)
        assert child is not None
        t0 = time.monotonic()
        while not child.ready():
            assert child.proc.poll() is None and time.monotonic() - t0 < 120, child.proc.returncode
            time.sleep(0.2)
        out = child.run(None, 120, "el envío", "mira el log")
    assert out is not None and out.returncode == 0, out.stderr[-2000:] if out else None
    jid = json.loads(out.stdout.strip().splitlines()[-1])["jid"]
    try:
        assert jid in set(p.flink.jobs()["jid"])
        assert re.search(r"planned in \d+\.\d s, submitted in \d+\.\d s", out.stderr), out.stderr[-500:]
        print(f"\n{re.search(r'planned in .*', out.stderr).group(0)}")
    finally:
        p.flink.cancel(jid)
