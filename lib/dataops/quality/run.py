"""Running a suite: on given polls/rows, on a Kafka topic, on the Iceberg table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import pandas as pd

from dataops.quality.checks import _RUNNERS, _result
from dataops.quality.polls import TimedPoll, _normalise_rows, explode_polls
from dataops.quality.suite import NO_DATA, RESULT_COLUMNS, Check, CheckResult, QualityReport, Suite
from dataops.facade import Layers


def run_suite(
    suite: Suite,
    polls: Sequence[Any] | None = None,
    rows: pd.DataFrame | None = None,
    now: datetime | pd.Timestamp | float | None = None,
) -> QualityReport:
    """Run every check of ``suite`` on the datasets given (checks of a missing dataset are skipped).

    Args:
        suite: From :func:`load_suite`.
        polls: Raw polls (JSON strings/bytes, dicts or Kafka ``Record``s) for ``raw_poll`` checks.
        rows: Exploded rows for ``exploded_row`` checks.
        now: Reference time of ``freshness`` (default: now, UTC); a number is unix seconds.

    Returns:
        A :class:`QualityReport`; its ``score`` is the % of checks passed, weighted equally.
    """
    ref = _timestamp(now)
    data: dict[str, tuple[list[Any] | None, pd.DataFrame]] = {}
    if polls is not None:
        polls = list(polls)
        data["raw_poll"] = (polls, explode_polls(polls, suite.contract))
    if rows is not None:
        data["exploded_row"] = (None, _normalise_rows(rows))
    results: list[CheckResult] = []
    for check in suite.checks:
        if check.dataset not in data:
            continue
        raw, frame = data[check.dataset]
        lacking = _lacking_data(check, raw, frame)
        if lacking:
            results.append(CheckResult(check.name, check.dataset, check.type, "no_data", False, 0, "", f"{NO_DATA}: {lacking}"))
            continue
        try:
            results.append(_RUNNERS[check.type](check, suite, raw, frame, ref))
        except (KeyError, TypeError, ValueError) as exc:  # a bad parameter fails its check, not the suite
            results.append(_result(check, False, 0, [], f"el check no pudo ejecutarse: {type(exc).__name__}: {exc}"))
    results += _run_custom(suite, data)
    frame = pd.DataFrame([r.__dict__ for r in results], columns=RESULT_COLUMNS)
    frame["passed"] = frame["passed"].astype(bool)
    frame["failing_rows"] = frame["failing_rows"].astype("int64")
    return QualityReport(frame)


def _run_custom(suite: Suite, data: dict[str, tuple[list[Any] | None, pd.DataFrame]]) -> list[CheckResult]:
    """The suite's tests of your own, each on the exploded rows of what was given, isolated."""
    from dataops.quality.custom import CUSTOM_TYPE, run_custom

    frame = data["exploded_row"][1] if "exploded_row" in data else data["raw_poll"][1] if "raw_poll" in data else None
    out = []
    for test in suite.custom:
        if frame is None or not len(frame):
            out.append(CheckResult(test.name, test.dataset, CUSTOM_TYPE, "no_data", False, 0, "", f"{NO_DATA}: 0 registros"))
        else:
            out.append(run_custom(test, frame))
    return out


def _lacking_data(check: Check, raw: list[Any] | None, frame: pd.DataFrame) -> str:
    """Why a check's dataset is too small to judge ("" when it is enough): no record at all,
    or fewer polls than a ``frozen_prices`` run needs."""
    records = len(raw) if raw is not None else len(frame)
    if not records:
        return "0 registros"
    if check.type == "frozen_prices":
        need = int(check.params.get("min_polls", 5))
        polls = int(frame.groupby("coin_id").size().max()) if len(frame) and "coin_id" in frame else 0
        if polls < need:
            return f"{polls} polls por moneda (la comprobación necesita {need})"
    return ""


def run_on_topic(kafka_layer: Any, topic: str, suite: Suite, n: int = 500, now: Any = None, minutes: float | None = None) -> QualityReport:
    """Check the ``n`` newest records of a raw topic (through ``KafkaLayer.latest``), oldest first,
    with their Kafka timestamps as ``poll_time``; with ``minutes``, only those of the last minutes."""
    frame = _recent(kafka_layer.latest(topic, n=n), minutes, now)
    polls = [] if not len(frame) else [
        TimedPoll(value, int(ts.value // 1_000_000)) for value, ts in zip(frame["value"][::-1], frame["timestamp"][::-1])
    ]  # fmt: skip
    return run_suite(suite, polls=polls, now=now)


def _recent(frame: pd.DataFrame, minutes: float | None, now: Any) -> pd.DataFrame:
    if minutes is None or not len(frame):
        return frame
    return frame[frame["timestamp"] >= _timestamp(now) - pd.Timedelta(minutes=minutes)]


def run_on_table(iceberg_layer: Any, suite: Suite, minutes: float = 60, now: Any = None) -> QualityReport:
    """Check the exploded rows of the Iceberg table whose ``event_time`` lies in the ``minutes``
    up to ``now`` (through ``IcebergLayer.read``). The window is pushed down to the scan, so
    pyiceberg skips the data files whose event times lie outside it (a year of history costs
    little more than the window)."""
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThanOrEqual

    ref = _timestamp(now)
    start = ref - pd.Timedelta(minutes=minutes)
    window = And(GreaterThanOrEqual("event_time", start.floor("us").to_pydatetime().isoformat()),  # pyiceberg: µs at most
                 LessThanOrEqual("event_time", ref.ceil("us").to_pydatetime().isoformat()))
    rows = _normalise_rows(iceberg_layer.read(row_filter=window))
    if len(rows) and "event_time" in rows:
        rows = rows[(rows["event_time"] >= start) & (rows["event_time"] <= ref)].reset_index(drop=True)
    return run_suite(suite, rows=rows, now=ref)


LAYERS = ("raw", "exploded", "table")


def run_on_layer(p: Layers, layer: str, suite: Suite, n: int = 500, minutes: float | None = None, now: Any = None) -> QualityReport:
    """The suite on one layer of the pipeline: ``raw`` (the newest ``n`` polls of the raw topic),
    ``exploded`` (the newest ``n`` rows of the exploded topic) or ``table`` (the Iceberg table's
    last ``minutes``, default 60). With ``minutes``, the topics' records are limited to those
    minutes too. The report's ``layer`` says which."""
    if layer == "raw":
        report = run_on_topic(p.kafka, p.settings.topic_raw, suite, n=n, now=now, minutes=minutes)
    elif layer == "exploded":
        latest = _recent(p.kafka.latest(p.settings.topic_exploded, n=n), minutes, now)
        # a record that is not a JSON object (a poisoned one) is a row with no field: the schema check fails it
        payloads = [row if isinstance(row, dict) else {} for row in latest["payload"][::-1]] if len(latest) else []
        rows = pd.DataFrame(payloads)
        report = run_suite(suite, rows=rows, now=now)
    elif layer == "table":
        report = run_on_table(p.iceberg, suite, minutes=60 if minutes is None else minutes, now=now)
    else:
        from dataops.errors import ConfigError

        raise ConfigError(f"capa desconocida {layer!r}", f"elige entre {', '.join(LAYERS)}")
    return replace(report, layer=layer)


def _timestamp(value: Any) -> pd.Timestamp:
    if value is None:
        return pd.Timestamp.now(tz="UTC")
    if isinstance(value, (int, float)):
        return pd.Timestamp(value, unit="s", tz="UTC")
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
