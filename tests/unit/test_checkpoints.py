"""Which checkpoint the explode job resumes from, on real checkpoint-like folders."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from dataops.flink import job as explode_job
from dataops.flink.checkpoints import JAVA_STREAM, MAGIC, choose, metadata_problem, runs
from dataops.config import load_settings
from dataops.errors import CheckpointError, StackError
from dataops.flink.layer import root_cause

pytestmark = pytest.mark.unit


def metadata(chk_id: int, version: int = 6) -> bytes:
    """A _metadata shaped like Flink 2.2's: header, operator states, closing properties."""
    body = b"\x00\x00\x00\x00\x00\x00\x00\x10\x00\x0cCorrelate[6]" + bytes(range(256)) * 8
    props = JAVA_STREAM + b"sr\x00...CheckpointProperties...t\x00\x10FORWARD_BACKWARD"
    return struct.pack(">iiq", MAGIC, version, chk_id) + body + props


def make_chk(root: Path, jid: str, n: int, content: bytes | None) -> Path:
    """``root/jid/chk-n``; ``content`` None leaves it without _metadata (a checkpoint in progress)."""
    chk = root / jid / f"chk-{n}"
    chk.mkdir(parents=True)
    (root / jid / "shared").mkdir(exist_ok=True)
    if content is not None:
        (chk / "_metadata").write_bytes(content)
    return chk


# -- one folder ------------------------------------------------------------------------------


def test_a_complete_checkpoint_has_no_problem(tmp_path: Path) -> None:
    assert metadata_problem(make_chk(tmp_path, "a", 7, metadata(7))) == ""
    assert metadata_problem(make_chk(tmp_path, "a", 8, metadata(8, version=3)[:200])) == ""  # no properties before v4


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "sin _metadata: nunca se completó"),
        (b"", "_metadata está truncado (0 bytes)"),
        (metadata(7)[:10], "_metadata está truncado (10 bytes)"),
        (metadata(7)[:1000], "_metadata está truncado (1000 bytes, faltan sus propiedades finales)"),
        (b"PK\x03\x04" + metadata(7)[4:], "_metadata no es un checkpoint de Flink (cabecera incorrecta)"),
        (metadata(6), "_metadata es del checkpoint 6, no del 7"),
    ],
)
def test_an_unusable_checkpoint_says_why(tmp_path: Path, content: bytes | None, problem: str) -> None:
    assert metadata_problem(make_chk(tmp_path, "a", 7, content)) == problem


# -- choosing among runs ------------------------------------------------------------------------


def test_the_newest_complete_checkpoint_of_the_newest_run_wins(tmp_path: Path) -> None:
    make_chk(tmp_path, "run1", 40, metadata(40))
    make_chk(tmp_path, "run2", 3, metadata(3))  # a run started afresh numbers from 1 again
    newest = make_chk(tmp_path, "run2", 4, metadata(4))
    (tmp_path / "run2" / "chk-9.broken").mkdir()  # moved aside by hand: not a checkpoint any more
    choice = choose(tmp_path, ["run1", "run2"])
    assert choice.checkpoint == newest and choice.skipped == [] and choice.refused is None
    assert choice.describe() == "resumed from chk-4"


def test_a_checkpoint_that_never_completed_is_passed_over_and_named(tmp_path: Path) -> None:
    complete = make_chk(tmp_path, "run", 11, metadata(11))
    make_chk(tmp_path, "run", 12, None)
    make_chk(tmp_path, "run", 13, None)
    choice = choose(tmp_path, ["run"])
    assert choice.checkpoint == complete and [p.name for p, _ in choice.skipped] == ["chk-13", "chk-12"]
    assert choice.describe() == (
        "resumed from chk-11 (chk-13 skipped: sin _metadata: nunca se completó; chk-12 skipped: sin _metadata: nunca se completó)"
    )


def test_a_truncated_newest_checkpoint_is_refused_not_replaced_by_an_older_one(tmp_path: Path) -> None:
    make_chk(tmp_path, "run1", 5, metadata(5))
    make_chk(tmp_path, "run2", 7, metadata(7))
    broken = make_chk(tmp_path, "run2", 8, metadata(8)[:10])
    make_chk(tmp_path, "run2", 9, None)
    choice = choose(tmp_path, ["run1", "run2"])
    assert choice.checkpoint is None and choice.refused == (broken, "_metadata está truncado (10 bytes)")
    assert choice.describe().startswith("cannot resume from chk-8: _metadata está truncado (10 bytes) (chk-9 skipped")


def test_no_checkpoint_at_all_starts_from_the_offsets(tmp_path: Path) -> None:
    make_chk(tmp_path, "run", 1, None)
    choice = choose(tmp_path, ["run", "gone"])
    assert choice.checkpoint is None and choice.refused is None and choice.describe().startswith("submitted")


def test_a_run_from_the_offsets_supersedes_the_earlier_runs() -> None:
    assert runs("a\nb from=/x/a/chk-3\n") == ["a", "b"]  # lines written before `from=` was recorded count
    assert runs("a from=offsets\nb from=/x/a/chk-3\nc from=offsets\nd from=/x/c/chk-2\n\n") == ["c", "d"]
    assert runs("") == []


# -- ensure_explode_job: says so, never falls back silently ---------------------------------------


class FakeFlink:
    state = "RUNNING"
    cause = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def live_job(self, name: str) -> None:
        return None

    def wait_running(self, jid: str, timeout: float) -> str:
        return self.state

    def failure(self, jid: str) -> str:
        return self.cause


@pytest.fixture()
def job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    settings = load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / "state")
    root = settings.paths.flink_checkpoints
    root.mkdir(parents=True)
    explode_job.job_ids_file(settings).write_text("run1 from=offsets\nrun2 from=/x/run1/chk-5\n")
    submitted: list[Path | None] = []

    def submit(s: Any, restore: Path | None = None, client_config: Any = None) -> str:
        submitted.append(restore)
        if FakeFlink.state == "submit-fails":
            raise StackError("falló el envío del job de Flink (boom)")
        if FakeFlink.state == "refused" and restore is not None:  # JobInitializationException
            raise CheckpointError("Flink no pudo restaurarlo: java.lang.IllegalStateException: Cannot map state", "mira x", checkpoint=str(restore))
        return "jid-new"

    monkeypatch.setattr(explode_job, "FlinkLayer", FakeFlink)
    monkeypatch.setattr(explode_job, "submit_sql_job", submit)
    monkeypatch.setattr(FakeFlink, "state", "RUNNING")
    return {"settings": settings, "root": root, "submitted": submitted, "log": settings.paths.log_file("flink-submit")}


def test_up_resumes_past_an_incomplete_checkpoint_and_logs_it(job: dict[str, Any]) -> None:
    complete = make_chk(job["root"], "run2", 6, metadata(6))
    make_chk(job["root"], "run2", 7, None)
    done = explode_job.ensure_explode_job(job["settings"])
    assert done == "resumed from chk-6 (chk-7 skipped: sin _metadata: nunca se completó)"
    assert job["submitted"] == [complete]
    assert "restore: resumed from chk-6 (chk-7 skipped" in job["log"].read_text()


def test_up_refuses_a_truncated_checkpoint_in_one_line_and_submits_nothing(job: dict[str, Any]) -> None:
    make_chk(job["root"], "run2", 6, metadata(6))
    make_chk(job["root"], "run2", 7, metadata(7)[:1000])
    with pytest.raises(CheckpointError) as err:
        explode_job.ensure_explode_job(job["settings"])
    assert job["submitted"] == []
    text = str(err.value)
    assert "\n" not in text and err.value.checkpoint.endswith("chk-7")
    assert err.value.message.startswith("no se puede reanudar el job de Flink desde chk-7 (_metadata está truncado (1000 bytes")
    assert "DATAOPS_FLINK_RESTORE=offsets dataops up" in err.value.hint
    assert "cannot resume from run2/chk-7: _metadata está truncado" in job["log"].read_text()


def test_up_refuses_when_flink_cannot_restore_and_does_not_fall_back(job: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    make_chk(job["root"], "run2", 6, metadata(6))
    monkeypatch.setattr(FakeFlink, "state", "FAILED")
    monkeypatch.setattr(FakeFlink, "cause", "java.lang.IllegalStateException: Cannot map checkpoint state for operator x")
    with pytest.raises(CheckpointError, match="Flink no pudo restaurarlo: java.lang.IllegalStateException: Cannot map"):
        explode_job.ensure_explode_job(job["settings"])
    assert len(job["submitted"]) == 1  # no second submission from the offsets


def test_up_refuses_when_flink_refuses_the_checkpoint_at_submission(job: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    make_chk(job["root"], "run2", 6, metadata(6))
    monkeypatch.setattr(FakeFlink, "state", "refused")
    with pytest.raises(CheckpointError, match=r"desde chk-6 \(Flink no pudo restaurarlo: java.lang.IllegalStateException: Cannot map state\)") as err:
        explode_job.ensure_explode_job(job["settings"])
    assert len(job["submitted"]) == 1 and err.value.hint.startswith("si `dataops up` vuelve a fallar igual")
    assert "FLINK_RESTORE=offsets" in err.value.hint  # no fallback without the learner's say


def test_a_submission_that_fails_for_another_reason_is_not_blamed_on_the_checkpoint(job: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    make_chk(job["root"], "run2", 6, metadata(6))
    monkeypatch.setattr(FakeFlink, "state", "submit-fails")
    with pytest.raises(StackError) as err:
        explode_job.ensure_explode_job(job["settings"])
    assert not isinstance(err.value, CheckpointError) and "boom" in str(err.value) and "chk-6" not in str(err.value)
    assert len(job["submitted"]) == 1  # no second try from elsewhere


def test_up_from_the_offsets_when_asked_on_purpose(job: dict[str, Any]) -> None:
    make_chk(job["root"], "run2", 7, metadata(7)[:10])
    settings = job["settings"].model_copy(update={"flink_restore": "offsets"})
    assert explode_job.ensure_explode_job(settings).startswith("submitted from the committed consumer offsets")
    assert job["submitted"] == [None]
    assert "DATAOPS_FLINK_RESTORE=offsets" in job["log"].read_text()


def test_root_cause_is_one_line() -> None:
    trace = "\n".join([
        "org.apache.flink.runtime.client.JobInitializationException: Could not start the JobMaster.",
        "\tat org.apache.flink.runtime.jobmaster.DefaultJobMasterServiceProcess.lambda$new$0(Unknown Source)",
        "Caused by: java.util.concurrent.CompletionException: java.lang.IllegalStateException: Failed to rollback",
        "Caused by: java.lang.IllegalStateException: Failed to rollback to checkpoint/savepoint file:/c/chk-7",
        "\tat org.apache.flink.runtime.checkpoint.Checkpoints.loadAndValidateCheckpoint(Checkpoints.java:150)",
        "Caused by: java.io.EOFException",
    ])  # fmt: skip
    assert root_cause(trace) == (
        "java.io.EOFException in java.lang.IllegalStateException: Failed to rollback to checkpoint/savepoint file:/c/chk-7"
    )
    assert root_cause("java.lang.RuntimeException: boom") == "java.lang.RuntimeException: boom"
    assert root_cause("") == ""
