"""Size rotation of the simulator's served log and of the alert log, on real files."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pandas as pd
import pytest

from dataops import rotation
from dataops.alerts import AlertEvent, LogFileNotifier
from dataops.simulator import served
from dataops.simulator.server import Simulator

pytestmark = pytest.mark.unit

T0 = 1_700_000_000.0


def _append(log: served.ServedLog, n: int, body: bytes = b'{"bitcoin":{"usd":1.0}}') -> None:
    for _ in range(n):
        log.append(ts=T0, path="/api/v3/simple/price", query="ids=bitcoin", status=200, latency_ms=0.1,
                   body=body, faults=[], keep_body=True)  # fmt: skip


def _entry_bytes(tmp_path: Path) -> int:
    probe = served.ServedLog(tmp_path / "probe" / "served.jsonl")
    _append(probe, 1)
    probe.close()
    return (tmp_path / "probe" / "served.jsonl").stat().st_size


def _all_pages(log: served.ServedLog, since: int, limit: int) -> list[int]:
    """Page through the log the way a reader does: ``since`` = the last seq it got."""
    seqs: list[int] = []
    while page := log.page(since, limit):
        seqs += [e["seq"] for e in page]
        since = page[-1]["seq"]
    return seqs


# -- the rotation itself -----------------------------------------------------------------------


def test_append_line_rotates_at_the_bound_and_keeps_the_newest_files(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "x.jsonl"
    line = "x" * 99  # 100 bytes with its newline
    rotated = [rotation.append_line(path, line, max_bytes=300, backups=2) for _ in range(3)]
    assert rotated == [False, False, False] and path.stat().st_size == 300  # exactly at the bound: no rotation yet
    assert rotation.append_line(path, line, max_bytes=300, backups=2)  # the next line would pass it
    assert [p.name for p in rotation.segments(path)] == ["x.jsonl.1", "x.jsonl"]
    for _ in range(20):
        rotation.append_line(path, line, max_bytes=300, backups=2)
    assert [p.name for p in rotation.segments(path)] == ["x.jsonl.2", "x.jsonl.1", "x.jsonl"]
    assert sum(p.stat().st_size for p in rotation.segments(path)) <= 3 * 300
    assert not (tmp_path / "logs" / "x.jsonl.3").exists()


def test_read_lines_spans_the_rotated_files_oldest_first(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    for i in range(10):
        rotation.append_line(path, json.dumps({"i": i}), max_bytes=30, backups=20)
    assert len(rotation.segments(path)) > 3
    assert [json.loads(x)["i"] for x in rotation.read_lines(path)] == list(range(10))
    assert [json.loads(x)["i"] for x in rotation.read_lines(path, last=3)] == [7, 8, 9]
    assert rotation.read_lines(path, last=0) == [] and rotation.read_lines(tmp_path / "none" / "b.jsonl") == []


def test_a_rotated_name_that_is_not_ours_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    (tmp_path / "a.jsonl.bak").write_text("keep me\n")
    for _ in range(10):
        rotation.append_line(path, "y" * 20, max_bytes=30, backups=1)
    assert (tmp_path / "a.jsonl.bak").read_text() == "keep me\n"
    assert [p.name for p in rotation.segments(path)] == ["a.jsonl.1", "a.jsonl"]


# -- the served log ------------------------------------------------------------------------------


def test_served_log_rotates_at_the_bound_and_stays_bounded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(served, "MAX_LOG_IN_MEMORY", 5)  # memory keeps less than the files
    size = _entry_bytes(tmp_path)
    path = tmp_path / "sim" / "served.jsonl"
    bound = 10 * size + 20  # ten entries a file (seq 100 is two bytes longer than seq 1), not eleven
    log = served.ServedLog(path, max_bytes=bound, backups=3)
    _append(log, 10)
    assert rotation.segments(path) == [path] and path.stat().st_size == 10 * size + 1  # nearly full, not rotated
    _append(log, 1)
    assert [p.name for p in rotation.segments(path)] == ["served.jsonl.1", "served.jsonl"]
    assert path.stat().st_size < size + 5  # the new file holds only the newest entry
    _append(log, 199)
    files = rotation.segments(path)
    assert len(files) == 4 and all(f.stat().st_size <= bound for f in files)
    assert log.last_seq == 210 and log.oldest_seq == 171  # 4 files of 10 entries: 171-180 ... 201-210


def test_served_log_pages_every_kept_entry_once_in_order_across_rotations(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(served, "MAX_LOG_IN_MEMORY", 5)  # older pages come from the files
    size = _entry_bytes(tmp_path)
    log = served.ServedLog(tmp_path / "served.jsonl", max_bytes=7 * size + 20, backups=3)
    _append(log, 49)  # seven files of seven entries: the newest four are kept
    oldest = log.oldest_seq
    assert oldest == 22
    for limit in (1, 3, 7, 10, 1000):
        assert _all_pages(log, 0, limit) == list(range(22, 50)), limit  # older than kept: what is kept
        assert _all_pages(log, 27, limit) == list(range(28, 50)), limit
    assert [e["seq"] for e in log.page(46, 10)] == [47, 48, 49]  # the newest ones, from memory
    assert log.page(49, 10) == [] and log.page(99, 10) == []
    entry = log.page(oldest, 1)[0]
    assert entry["seq"] == oldest + 1 and json.loads(entry["body"]) == {"bitcoin": {"usd": 1.0}}


def test_a_reader_paging_while_the_log_rotates_gets_each_entry_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(served, "MAX_LOG_IN_MEMORY", 3)
    size = _entry_bytes(tmp_path)
    log = served.ServedLog(tmp_path / "served.jsonl", max_bytes=5 * size, backups=50)  # nothing ages out
    seen: list[int] = []
    done = threading.Event()

    def writer() -> None:
        for _ in range(300):
            _append(log, 1)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    since = 0
    while not (done.is_set() and since == log.last_seq):
        page = log.page(since, 7)
        seen += [e["seq"] for e in page]
        since = page[-1]["seq"] if page else since
    thread.join()
    assert seen == list(range(1, 301))


def test_served_log_continues_its_seq_after_a_restart_on_a_fresh_rotated_file(tmp_path: Path) -> None:
    size = _entry_bytes(tmp_path)
    path = tmp_path / "served.jsonl"
    first = served.ServedLog(path, max_bytes=4 * size, backups=2)
    _append(first, 8)
    first.close()
    rotation.rotate(path, 2)  # as if it had just rotated: the newest entries are in served.jsonl.1
    assert not path.exists()
    second = served.ServedLog(path, max_bytes=4 * size, backups=2)
    assert second.last_seq == 8
    _append(second, 1)
    assert [e["seq"] for e in second.page(0, 100)] == [1, 2, 3, 4, 5, 6, 7, 8, 9]  # memory has only 9: files


def test_a_page_older_than_memory_is_read_from_the_files_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "served.jsonl"
    first = served.ServedLog(path)
    _append(first, 5)
    first.close()
    second = served.ServedLog(path)  # memory starts empty: the first five live only in the file
    _append(second, 2)
    assert [e["seq"] for e in second.page(2, 100)] == [3, 4, 5, 6, 7]
    assert second.oldest_seq == 1


def test_the_oldest_seq_kept_is_in_health_and_in_each_page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(served, "MAX_LOG_IN_MEMORY", 2)
    size = _entry_bytes(tmp_path)
    sim = Simulator(log_path=tmp_path / "served.jsonl", log_max_bytes=3 * size, log_backups=1)
    for _ in range(10):
        sim.handle("GET", "/api/v3/ping")
    status, headers, body = sim.handle("GET", "/_sim/requests", "since=0")
    health = json.loads(sim.handle("GET", "/_sim/health")[2])
    assert status == 200 and health["last_seq"] == 10
    kept = [e["seq"] for e in json.loads(body)]
    assert kept and kept[-1] == 10 and int(headers["X-Oldest-Seq"]) == kept[0] == health["oldest_seq"] > 1
    assert sim.handle("POST", "/_sim/requests")[0] == 405
    sim.close()


def test_served_log_refuses_a_bound_it_cannot_keep(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="backups"):
        served.ServedLog(tmp_path / "s.jsonl", max_bytes=100, backups=0)


# -- the alert log -------------------------------------------------------------------------------


def _event(i: int) -> AlertEvent:
    ts = pd.Timestamp(T0 + i, unit="s", tz="UTC")
    return AlertEvent("fired", f"RULE_{i}", "HIGH", "price", "coin=bitcoin", float(i), ts, ts)


def test_alert_log_rotates_and_keeps_every_recent_event_readable(tmp_path: Path) -> None:
    path = tmp_path / "alerts" / "alerts.jsonl"
    one = len(json.dumps(_event(0).to_dict(), ensure_ascii=False)) + 1
    log = LogFileNotifier(path, max_bytes=5 * one, backups=2)
    for i in range(40):
        log.send(_event(i))
    files = rotation.segments(path)
    assert len(files) == 3 and sum(f.stat().st_size for f in files) <= 3 * 5 * one + 3 * 40
    rules = [json.loads(line)["rule"] for line in rotation.read_lines(path)]
    assert rules == [f"RULE_{i}" for i in range(40 - len(rules), 40)] and len(rules) >= 10
    assert [json.loads(line)["rule"] for line in rotation.read_lines(path, last=2)] == ["RULE_38", "RULE_39"]


def test_two_writers_of_one_alert_log_lose_no_line(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    writers = [LogFileNotifier(path, max_bytes=2_000, backups=1000) for _ in range(2)]  # as two processes

    def send(notifier: LogFileNotifier, offset: int) -> None:
        for i in range(100):
            notifier.send(_event(offset + i))

    threads = [threading.Thread(target=send, args=(w, 1000 * n)) for n, w in enumerate(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rules = [json.loads(line)["rule"] for line in rotation.read_lines(path)]
    assert sorted(rules) == sorted(f"RULE_{n * 1000 + i}" for n in range(2) for i in range(100))
    assert all(f.stat().st_size <= 2_000 for f in rotation.segments(path))
