"""The dead letters: what the Flink job or the Iceberg sink rejected, by reason, and replayed once fixed.

One topic (``topic_dlq``) holds two kinds of letter:

* the Flink job's (JSON with ``reason``, ``granularity`` ``poll`` or ``coin``, the coin's
  ``coin_entry`` and the whole ``raw`` poll), for a poll or a coin that breaks the record
  contract (:mod:`dataops.contract`);
* the Iceberg sink's (the exploded row as it was, the error in Kafka Connect's
  ``__connect.errors.*`` headers), for a row the sink could not convert.

Replaying: a dead letter is *fixed* when its coin entry now meets the contract, because
someone edited it (``export`` → edit the JSONL file → ``replay FILE``), a fix function
changed it, or the contract changed. ``replay`` checks each entry with the same rules as the
job, skips the ones whose ``(coin_id, last_updated_at)`` is already in the table, produces
the rest to the raw topic as polls (so they go through the whole pipeline again) and waits
until they land.

Example::

    p.dlq.by_reason()
    p.dlq.replay(fix=lambda coin, entry: {**entry, "usd_24h_vol": abs(entry["usd_24h_vol"])})
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from dataops.contract import KEY, contract_for
from dataops.errors import DataOpsError
from dataops.facade import Layers
from dataops.userfiles import read_text

logger = logging.getLogger(__name__)

LETTER_COLUMNS = ["letter", "time", "source", "reason", "coin_id", "entry", "raw", "detail"]
SUMMARY_COLUMNS = ["reason", "count", "newest", "example"]
REPLAY_COLUMNS = ["line", "coin_id", "last_updated_at", "status", "detail"]
# Replay statuses.
SENT, LANDED, IN_TABLE, INVALID, TWICE, WOULD_SEND = "sent", "landed", "already_in_table", "still_invalid", "twice_in_input", "would_send"

_CONNECT = "__connect.errors."
# Kafka Connect's stage of a sink error → the reason shown for it.
_SINK_REASONS = {"VALUE_CONVERTER": "sink_unreadable", "KEY_CONVERTER": "sink_unreadable", "HEADER_CONVERTER": "sink_unreadable",
                 "TRANSFORMATION": "sink_cannot_convert", "TASK_PUT": "sink_cannot_convert"}  # fmt: skip


def _short(text: str, width: int = 80) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def parse_letter(record: Any, row_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """One dead-letter record (:class:`dataops.kafka.layer.Record`) as a row of :data:`LETTER_COLUMNS`."""
    letter = f"{record.topic}/{record.partition}/{record.offset}"
    when = pd.to_datetime(record.timestamp_ms, unit="ms", utc=True)
    headers = {k: (v.decode("utf-8", "replace") if isinstance(v, bytes) else v) for k, v in (record.headers or {}).items()}
    if f"{_CONNECT}stage" in headers:  # the Iceberg sink's, through Kafka Connect
        stage = headers.get(f"{_CONNECT}stage", "")
        error = headers.get(f"{_CONNECT}exception.class.name", "").rsplit(".", 1)[-1]
        message = headers.get(f"{_CONNECT}exception.message") or ""
        try:
            row = json.loads(record.value) if record.value else None
        except json.JSONDecodeError:
            row = None
        coin_id = row.get(KEY) if isinstance(row, dict) else record.key
        entry = {k: v for k, v in row.items() if k in row_fields} if isinstance(row, dict) else None
        return {"letter": letter, "time": when, "source": "sink", "reason": _SINK_REASONS.get(stage, f"sink_{stage.lower()}"),
                "coin_id": coin_id, "entry": entry, "raw": record.value, "detail": f"{error}: {message}".strip(": ")}  # fmt: skip
    try:
        value = json.loads(record.value) if record.value else {}
    except json.JSONDecodeError:
        value = {}
    if not isinstance(value, dict) or "reason" not in value:
        return {"letter": letter, "time": when, "source": "?", "reason": "unknown_letter", "coin_id": None,
                "entry": None, "raw": record.value, "detail": "neither the Flink job's nor Kafka Connect's"}  # fmt: skip
    entry = None
    if value.get("coin_entry") is not None:
        try:
            entry = json.loads(value["coin_entry"])
        except json.JSONDecodeError:
            entry = value["coin_entry"]
    return {"letter": letter, "time": when, "source": "flink", "reason": value["reason"], "coin_id": value.get("coin_id"),
            "entry": entry, "raw": value.get("raw"), "detail": value.get("granularity", "")}  # fmt: skip


def summarise(letters: pd.DataFrame) -> pd.DataFrame:
    """Dead letters by reason: how many, the newest, one example; most frequent first."""
    if letters.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    rows = []
    for reason, group in letters.groupby("reason", sort=False):
        newest = group.sort_values("time").iloc[-1]
        if newest["source"] == "sink":
            example = f"{newest['coin_id']}: {newest['detail']}"
        elif newest["entry"] is not None:
            example = f"{newest['coin_id']}: {json.dumps(newest['entry'], allow_nan=True)}"
        else:
            example = newest["raw"] if newest["raw"] is not None else "(null value)"
        rows.append({"reason": reason, "count": len(group), "newest": newest["time"], "example": _short(example)})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS).sort_values(["count", "newest"], ascending=False, ignore_index=True)


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The lines of a replay file; a line that is not a JSON object is one error naming it."""
    path = Path(path)
    text = read_text(path, "el fichero de replay", DataOpsError, hint="da el fichero que escribió `dataops dlq export`",
                     empty_hint="escribe antes en él las dead letters que quieras arreglar: `dataops dlq export FICHERO`")
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataOpsError(f"{path} línea {number} no es JSON ({exc.msg})", "pon un objeto JSON por línea, como los escribe `dataops dlq export`") from None
        if not isinstance(item, dict) or not ({"entry", "raw"} & set(item)):
            raise DataOpsError(f"{path} línea {number} no tiene ni 'entry' ni 'raw'",
                               "cada línea es {\"coin_id\": …, \"entry\": {…}} o {\"raw\": \"<un sondeo entero>\"}")  # fmt: skip
        out.append(item)
    return out


class DeadLetters:
    """The pipeline's dead letters (``p.dlq``).

    Args:
        pipeline: A connected :class:`dataops.Pipeline`.
    """

    def __init__(self, pipeline: Layers) -> None:
        self.p = pipeline
        self.settings = pipeline.settings
        self.contract = contract_for(self.settings)

    @property
    def topic(self) -> str:
        return self.settings.topic_dlq

    def letters(self, minutes: float | None = None) -> pd.DataFrame:
        """Every dead letter (of the last ``minutes``), oldest first, as :data:`LETTER_COLUMNS`."""
        records = self.p.kafka.read(self.topic, timeout=30.0)
        if minutes is not None:
            cutoff = (time.time() - minutes * 60) * 1000
            records = [r for r in records if r.timestamp_ms >= cutoff]
        rows = [parse_letter(r, self.contract.coin_fields) for r in records]
        return pd.DataFrame(rows, columns=LETTER_COLUMNS).sort_values("time", ignore_index=True)

    def by_reason(self, minutes: float | None = None) -> pd.DataFrame:
        """Dead letters by reason: ``reason``, ``count``, ``newest``, ``example``."""
        return summarise(self.letters(minutes))

    def export(self, path: str | Path, reason: str | None = None, minutes: float | None = None) -> int:
        """Write the dead letters (of one ``reason``) as JSONL to edit and replay; returns how many."""
        lines = self._as_lines(self.letters(minutes), reason)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(item, allow_nan=True) + "\n" for item in lines), encoding="utf-8")
        return len(lines)

    def _as_lines(self, letters: pd.DataFrame, reason: str | None) -> list[dict[str, Any]]:
        if reason is not None:
            letters = letters[letters["reason"] == reason]
        lines = []
        for row in letters.itertuples(index=False):
            if row.coin_id is not None and row.entry is not None:
                lines.append({"letter": row.letter, "reason": row.reason, "coin_id": row.coin_id, "entry": row.entry})
            elif row.source == "flink":
                lines.append({"letter": row.letter, "reason": row.reason, "raw": row.raw})
        return lines

    def replay(
        self,
        lines: str | Path | Iterable[dict[str, Any]] | None = None,
        fix: Callable[[str, Any], Any] | None = None,
        reason: str | None = None,
        wait_s: float = 60.0,
        dry_run: bool = False,
    ) -> pd.DataFrame:
        """Send fixed dead letters back through the pipeline, each ``(coin_id, last_updated_at)`` once.

        Args:
            lines: A JSONL file (or its parsed lines) as :meth:`export` writes them, edited; None:
                the dead letters themselves (of ``reason``), as they are.
            fix: Applied to each ``(coin_id, entry)`` first; returns the fixed entry (None: skip it).
            reason: Only the dead letters of this reason (when ``lines`` is None).
            wait_s: Wait this long for what was sent to land in the table (0: do not wait).
            dry_run: Check and report, produce nothing.

        Returns:
            One row per coin entry (:data:`REPLAY_COLUMNS`): ``landed`` / ``sent`` (not landed
            within ``wait_s``), ``already_in_table``, ``still_invalid`` (the reason in ``detail``),
            ``twice_in_input``, or ``would_send`` in a dry run.
        """
        if lines is None:
            items = self._as_lines(self.letters(), reason)
        elif isinstance(lines, (str, Path)):
            items = read_jsonl(lines)
        else:
            items = list(lines)
        rows: list[dict[str, Any]] = []
        polls: dict[int, dict[str, Any]] = {}  # line → the poll to produce
        seen: set[tuple[str, int]] = set()
        for number, coin_id, entry, problem in self._entries(items):
            key_ts = entry.get("last_updated_at") if isinstance(entry, dict) else None
            row = {"line": number, "coin_id": coin_id, "last_updated_at": key_ts, "status": INVALID, "detail": problem}
            rows.append(row)
            if problem:
                continue
            if fix is not None:
                entry = fix(coin_id, entry)
                if entry is None:
                    row.update(status="skipped", detail="the fix returned None")
                    continue
                row["last_updated_at"] = entry.get("last_updated_at") if isinstance(entry, dict) else None
            broken = self.contract.violation(coin_id, entry)
            if broken:
                row["detail"] = broken
                continue
            key = (coin_id, int(entry["last_updated_at"]))
            if key in seen:
                row.update(status=TWICE, detail="the same coin and last_updated_at earlier in the input")
                continue
            seen.add(key)
            row.update(status="pending", detail="")
            polls.setdefault(number, {})[coin_id] = entry
        pending = [r for r in rows if r["status"] == "pending"]
        landed = self._in_table({(r["coin_id"], int(r["last_updated_at"])) for r in pending})
        for r in pending:
            if (r["coin_id"], int(r["last_updated_at"])) in landed:
                r.update(status=IN_TABLE, detail="not sent again")
                polls[r["line"]].pop(r["coin_id"], None)
        to_send = [r for r in rows if r["status"] == "pending"]
        if dry_run:
            for r in to_send:
                r["status"] = WOULD_SEND
        elif to_send:
            self._produce([poll for poll in polls.values() if poll])
            for r in to_send:
                r["status"] = SENT
            if wait_s > 0:
                keys = {(r["coin_id"], int(r["last_updated_at"])) for r in to_send}
                found = self._wait_landed(keys, wait_s)
                for r in to_send:
                    if (r["coin_id"], int(r["last_updated_at"])) in found:
                        r.update(status=LANDED, detail="")
                    else:
                        r["detail"] = f"not in the table after {wait_s:g} s: see `dataops dlq` and `dataops status`"
        return pd.DataFrame(rows, columns=REPLAY_COLUMNS)

    def _entries(self, items: Iterable[dict[str, Any]]) -> Iterator[tuple[int, Any, Any, str]]:
        """``(line, coin_id, entry, problem)`` per coin entry of each input line (a ``raw`` line may hold several)."""
        for number, item in enumerate(items, start=1):
            if "entry" in item:
                yield number, item.get("coin_id"), item["entry"], "" if item.get("coin_id") else "no coin_id"
                continue
            raw = item.get("raw")
            try:
                poll = json.loads(raw) if isinstance(raw, str) else raw
            except json.JSONDecodeError:
                yield number, None, None, "unparseable_json"
                continue
            if not isinstance(poll, dict) or not poll:
                yield number, None, None, "not_a_json_object" if not isinstance(poll, dict) else "empty_poll"
                continue
            for coin_id, entry in poll.items():
                yield number, coin_id, entry, ""

    def _in_table(self, keys: set[tuple[str, int]]) -> set[tuple[str, int]]:
        """Which of these ``(coin_id, last_updated_at)`` are rows of the table already."""
        if not keys:
            return set()
        from pyiceberg.expressions import In

        # pyiceberg's In takes (term, literals) in its own __new__/__init__; type checkers see pydantic's field constructor
        in_keys = In("last_updated_at", sorted({ts for _, ts in keys}))  # type: ignore[call-arg, arg-type]
        rows = self.p.iceberg.read(columns=(KEY, "last_updated_at"), row_filter=in_keys)
        return keys & set(zip(rows[KEY], rows["last_updated_at"].astype("int64")))

    def _produce(self, polls: list[dict[str, Any]]) -> None:
        from confluent_kafka import KafkaException, Producer

        producer = Producer(self.settings.kafka_config(**{"enable.idempotence": True}))
        try:
            for poll in polls:
                producer.produce(self.settings.topic_raw, json.dumps(poll).encode("utf-8"))
            left = producer.flush(30)
        except (KafkaException, BufferError) as exc:
            raise DataOpsError(f"falló el replay a {self.settings.topic_raw}: {exc}", "revisa `dataops status`") from None
        if left:
            raise DataOpsError(f"Kafka no confirmó {left} sondeo(s) del replay en 30 s", "revisa `dataops status` y repite el replay")
        logger.info("replayed %d poll(s) to %s", len(polls), self.settings.topic_raw)

    def _wait_landed(self, keys: set[tuple[str, int]], wait_s: float) -> set[tuple[str, int]]:
        deadline = time.monotonic() + wait_s
        found: set[tuple[str, int]] = set()
        while True:
            found = self._in_table(keys)
            if found == keys or time.monotonic() >= deadline:
                return found
            time.sleep(1.0)


if TYPE_CHECKING:  # mypy checks the class against the protocol the Pipeline returns it as
    from dataops.dlq.protocol import DeadLetterQueue

    _CHECKED: type[DeadLetterQueue] = DeadLetters
