"""Resuming the explode job when its checkpoint is broken, on the real Flink: a truncated
``_metadata``, one that Flink refuses, and a submission that fails. Each stops `up` with one line
and nothing submitted elsewhere (an older checkpoint, or the offsets, may repeat rows): the learner
opts in to the committed offsets (`DATAOPS_FLINK_RESTORE=offsets`), or fixes the cause, and then
the job runs and every served row is in the table once."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest

from dataops.errors import StackError
from dataops.flink import job as explode_job
from dataops.flink.checkpoints import JAVA_STREAM, metadata_problem
from tests.integration.helpers import account, copies_by_layer, polls_after, wait_for

pytestmark = pytest.mark.integration


def _stop_job(p) -> Path:
    """Stop the explode job once it has committed everything it read; its newest complete checkpoint.

    The source connector is paused meanwhile so that nothing is in flight: when the learner opts in
    to the committed consumer offsets, Flink has committed them (asynchronously, after the sinks'
    transactions). A job stopped between the two would repeat that checkpoint's rows: on this stack
    about one stop in three taken right after a poll did, which is why `up` asks before using them.
    The pause counts as done only once the task says PAUSED: a task in the middle of a poll when
    asked still sends that poll, and a poll landing just before the cancel is one the committed
    offsets repeat (the likely cause of CI's one poll's coins written twice)."""
    name = p.settings.connector_name
    polls_after(p, p.source.last_seq(), 1, 60, "a poll through the job")  # it has checkpointed rows
    p.connect.pause(name)
    try:
        wait_for(lambda: {t["state"] for t in p.connect.status(name)["tasks"]} == {"PAUSED"},
                 3 * p.settings.poll_interval_s + 30, "the source task to pause (its last poll sent)")  # fmt: skip
        ends = p.kafka.end_offsets(p.settings.topic_raw)
        wait_for(lambda: (p.kafka.consumer_groups(p.settings.flink_job_name)["lag"] <= 1).all(), 30,
                 "the job's committed offsets to reach the end of the raw topic")  # fmt: skip
        time.sleep(3 * p.settings.flink_checkpoint_interval_s)  # a checkpoint after: the sinks' commits are done too
        assert p.kafka.end_offsets(p.settings.topic_raw) == ends, "the paused source still wrote to the raw topic"
        live = p.flink.live_job(p.settings.flink_job_name)
        assert live, "the explode job is not running"
        p.flink.cancel(live["jid"])
    finally:
        p.connect.resume(p.settings.connector_name)
    assert p.flink.live_job(p.settings.flink_job_name) is None
    chk = explode_job.restore_choice(p.settings).checkpoint
    assert chk is not None and chk.parent.name == live["jid"], chk
    return chk


def _job_step(p) -> str:
    """What `up` (its set-up) did to the job: one line."""
    steps = p.setup()
    line = steps.loc[steps["step"] == f"job {p.settings.flink_job_name}", "action"].iloc[0]
    assert "\n" not in line
    return line


def _exactly_once(p, seq0: int) -> None:
    seq = polls_after(p, p.source.last_seq(), 2, 90, "polls after the restore")
    result = account(p, seq0, seq, timeout=90)
    assert result.exact, (f"lost {result.lost.head(6).to_dict('records')}, repeated {result.repeated.head(3).to_dict('records')} "
                          f"({copies_by_layer(p, result.repeated.head(3))}), changed {result.changed.head(3).to_dict('records')}")  # fmt: skip


def _refused(p, chk: Path) -> str:
    """`up` (its set-up) stops on the checkpoint with one line; nothing is submitted."""
    with pytest.raises(StackError) as err:
        p.setup()
    text = str(err.value)
    assert "\n" not in text and f"no se puede reanudar el job de Flink desde {chk.name} (" in text, text
    assert "FLINK_RESTORE=offsets dataops up" in (err.value.hint or ""), text
    assert p.flink.live_job(p.settings.flink_job_name) is None  # nothing submitted from elsewhere
    return err.value.message


def _from_the_offsets_on_purpose(p, monkeypatch) -> str:
    monkeypatch.setattr(p, "settings", p.settings.model_copy(update={"flink_restore": "offsets"}))
    done = _job_step(p)
    monkeypatch.undo()
    return done


def test_a_truncated_checkpoint_stops_up_in_one_line_and_the_offsets_on_purpose_repeat_nothing(pipeline, monkeypatch):
    p = pipeline
    seq0 = p.source.last_seq()
    chk = _stop_job(p)
    meta = chk / "_metadata"
    meta.write_bytes(meta.read_bytes()[: meta.stat().st_size // 2])
    older = sorted(c.name for c in chk.parent.glob("chk-*") if c != chk and (c / "_metadata").is_file())
    assert older, "no older complete checkpoint: the test would not show that it is not used"

    refusal = _refused(p, chk)
    assert "_metadata está truncado" in refusal and not any(f"{name} " in refusal for name in older)
    assert f"cannot resume from {chk.parent.name}/{chk.name}" in p.settings.paths.log_file("flink-submit").read_text()
    assert _from_the_offsets_on_purpose(p, monkeypatch) == "submitted from the committed consumer offsets (DATAOPS_FLINK_RESTORE=offsets)"
    _exactly_once(p, seq0)
    assert _job_step(p).startswith("running")


def _refused_by_flink(meta: Path) -> None:
    """Change one byte of the first operator's id: the header and the closing properties stay whole
    (our own check passes), but the state no longer belongs to any operator of the job."""
    data = bytearray(meta.read_bytes())
    (name_len,) = struct.unpack(">H", data[24:26])  # after magic, version, checkpoint id, master states, operators
    (uid_len,) = struct.unpack(">H", data[26 + name_len : 28 + name_len])
    data[28 + name_len + uid_len] ^= 0xFF
    meta.write_bytes(bytes(data))


def test_a_checkpoint_flink_refuses_stops_up_in_one_line_not_a_crash_loop(pipeline, monkeypatch):
    p = pipeline
    seq0 = p.source.last_seq()
    chk = _stop_job(p)
    _refused_by_flink(chk / "_metadata")
    assert metadata_problem(chk) == "" and JAVA_STREAM in (chk / "_metadata").read_bytes()  # our own check passes

    refusal = _refused(p, chk)
    assert "Flink no pudo restaurarlo: " in refusal and "Cannot map checkpoint/savepoint state for operator" in refusal
    assert "allowNonRestoredState" not in refusal, refusal  # Flink's advice would drop rows silently
    _refused(p, chk)  # the same line again, not a loop of submissions
    assert _from_the_offsets_on_purpose(p, monkeypatch).startswith("submitted from the committed consumer offsets")
    _exactly_once(p, seq0)
    assert _job_step(p).startswith("running")
    assert explode_job.restore_choice(p.settings).checkpoint.parent != chk.parent  # the new run's checkpoints


def test_a_failed_submission_is_one_spanish_line_and_changes_nothing(pipeline, tmp_path, monkeypatch):
    p = pipeline
    seq0 = p.source.last_seq()
    chk = _stop_job(p)
    ids = explode_job.job_ids_file(p.settings)
    before = ids.read_text(), (chk / "_metadata").read_bytes()
    log = p.settings.paths.log_file("flink-submit")
    logged = log.stat().st_size
    bad = tmp_path / "explode.sql"
    bad.write_text(explode_job.EXPLODE_SQL.read_text().replace("FROM coin_rows\n", "FROM coin_rowz\n", 1))
    monkeypatch.setattr(explode_job, "EXPLODE_SQL", bad)

    with pytest.raises(StackError) as err:
        p.setup()
    text = str(err.value)
    assert "\n" not in text and "falló en job de Flink: job crypto-explode: falló el envío del job de Flink (" in text, text
    attempts = log.read_text()[logged:]  # one submission, from the checkpoint; not blamed on it, no fallback
    assert attempts.count(" submit (restore=") == 1 and f"restore={chk})" in attempts and "restore: " not in attempts
    assert "coin_rowz" in err.value.message and "vuelve a `dataops up`" in (err.value.hint or ""), text
    assert p.flink.live_job(p.settings.flink_job_name) is None
    assert (ids.read_text(), (chk / "_metadata").read_bytes()) == before  # no run recorded, the checkpoint untouched

    monkeypatch.undo()
    assert _job_step(p) == f"resumed from {chk.name}"
    _exactly_once(p, seq0)
