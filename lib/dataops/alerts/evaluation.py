"""Evaluation of alert rules over the metric history: status now, timeline, episodes.

Pure and vectorized: the history is sorted by (series, ts) once (:class:`_Prepared`),
then each rule is one pass with numpy/pandas (:func:`_run`), no per-row Python loops.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import pandas as pd

from dataops.alerts.rules import OPS, Rule
from dataops.errors import DataOpsError
from dataops.metrics import METRICS

logger = logging.getLogger(__name__)

_BASE_COLS = ("ts", "metric", "value")
_NS = 1_000_000_000


def _ts_ns(values: pd.Series | pd.Index) -> np.ndarray:
    idx = pd.DatetimeIndex(values)
    if idx.tz is None:
        idx = idx.tz_localize("UTC")
    return idx.as_unit("ns").asi8


def _to_ts(value: Any) -> pd.Timestamp:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return pd.Timestamp(value, unit="s", tz="UTC")
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")


class _Prepared:
    """The history sorted by (series, ts) once, shared by every rule."""

    def __init__(self, history: pd.DataFrame, now: Any = None) -> None:
        missing = {"ts", "metric", "value"} - set(history.columns)
        if missing:
            raise DataOpsError(f"al histórico le faltan columnas: {', '.join(sorted(missing))}", "pasa el DataFrame que devuelve `MetricsStore.query()`")
        self.label_cols = [c for c in history.columns if c not in _BASE_COLS]
        ts = _ts_ns(history["ts"])
        values = history["value"].to_numpy(dtype="float64", na_value=np.nan)
        if now is not None:
            self.now = _to_ts(now).value
            keep = ts <= self.now
            if not keep.all():
                history, ts, values = history[keep], ts[keep], values[keep]
        else:
            self.now = int(ts.max()) if len(ts) else pd.Timestamp.now(tz="UTC").value
        keys = ["metric", *self.label_cols]
        codes = np.zeros(len(history), dtype=np.int64)
        for col in keys:
            c, uniq = pd.factorize(history[col].fillna(""))
            codes = codes * (len(uniq) + 1) + c
        series_code, _ = pd.factorize(codes)
        order = np.lexsort((ts, series_code))
        self.ts = ts[order]
        self.values = values[order]
        code_sorted = series_code[order]
        n_series = int(series_code.max()) + 1 if len(series_code) else 0
        self.starts = np.searchsorted(code_sorted, np.arange(n_series), side="left")
        self.ends = np.searchsorted(code_sorted, np.arange(n_series), side="right")
        first_rows = order[self.starts] if n_series else np.array([], dtype=np.int64)
        self.series = history.iloc[first_rows][keys].reset_index(drop=True).fillna("")
        self.series = self.series.astype(str)
        self.metrics = set(self.series["metric"])

    def select(self, rule: Rule) -> np.ndarray:
        """Series ids (rows of :attr:`series`) the rule applies to."""
        mask = self.series["metric"].isin(rule.metrics).to_numpy().copy()
        for key, val in rule.labels.items():
            mask = mask & ((self.series[key] == val).to_numpy() if key in self.series else False)
        return np.flatnonzero(mask)

    def labels_text(self, sid: int) -> str:
        row = self.series.iloc[sid]
        return ",".join(f"{c}={row[c]}" for c in sorted(self.label_cols) if row[c] != "")


@dataclass(frozen=True)
class _Run:
    """Arrays of one rule over its series (concatenated, sorted by series then ts)."""

    sids: np.ndarray
    bounds: np.ndarray  # start offset of each series in the arrays, plus the total
    ts: np.ndarray
    value: np.ndarray
    measure: np.ndarray
    cond: np.ndarray
    firing: np.ndarray
    pending_start: np.ndarray  # ts where the current condition episode started (valid where cond)


def _run(rule: Rule, prep: _Prepared) -> _Run:
    sids = prep.select(rule)
    lengths = prep.ends[sids] - prep.starts[sids]
    bounds = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    n = int(bounds[-1])
    if len(sids) == 1:
        rows = np.arange(prep.starts[sids[0]], prep.ends[sids[0]])
    elif len(sids):
        rows = np.concatenate([np.arange(prep.starts[s], prep.ends[s]) for s in sids])
    else:
        rows = np.array([], dtype=np.int64)
    ts, value = prep.ts[rows], prep.values[rows]
    grp = np.repeat(np.arange(len(sids)), lengths)
    first = np.zeros(n, dtype=bool)
    first[bounds[:-1][lengths > 0]] = True
    measure = value
    if rule.condition in ("rate", "rate_of_change") and n:
        # One monotonic time axis for all series: a gap longer than the window between them.
        span = int(ts.max() - ts.min()) + int(rule.window_s * _NS) + _NS
        axis = ts - ts.min() + grp.astype(np.int64) * span
        window = int(rule.window_s * _NS)
        if rule.condition == "rate":
            rolled = pd.Series(value, index=pd.DatetimeIndex(axis.astype("datetime64[ns]")))
            measure = getattr(rolled.rolling(pd.Timedelta(window, "ns")), rule.agg)().to_numpy()
        else:
            base = np.searchsorted(axis, axis - window, side="right") - 1
            valid = base >= bounds[grp]
            base_v = value[np.where(valid, base, 0)]
            with np.errstate(divide="ignore", invalid="ignore"):
                change = value - base_v
                if rule.change == "relative":
                    change = change / np.abs(base_v) * 100.0
            measure = np.where(valid, change, np.nan)
    with np.errstate(invalid="ignore"):
        if rule.condition == "range":
            cond = np.zeros(n, dtype=bool)
            if rule.min is not None:
                cond |= measure < rule.min
            if rule.max is not None:
                cond |= measure > rule.max
        elif rule.condition == "rate_of_change":
            limit = rule.value
            cond = {"both": np.abs(measure) > limit, "up": measure > limit, "down": measure < -limit}[rule.direction]
        else:
            cond = OPS[rule.op](measure, rule.value)
    cond = cond & ~np.isnan(measure)
    prev = np.concatenate(([False], cond[:-1])) & ~first
    new_episode = cond & ~prev
    idx = np.arange(n)
    start_idx = np.maximum.accumulate(np.where(new_episode, idx, 0)) if n else idx
    pending_start = ts[start_idx] if n else ts
    firing = cond & (ts - pending_start >= int(rule.for_s * _NS))
    return _Run(sids, bounds, ts, value, measure, cond, firing, pending_start)


_RESULT_COLS = ["rule", "severity", "metric", "labels", "firing", "value", "since", "pending_since", "ts", "status", "condition", "description"]


def evaluate(rules: Iterable[Rule], history: pd.DataFrame, now: Any = None, stale_after_s: float | None = 300.0) -> pd.DataFrame:
    """Evaluate every rule on every matching series, as of ``now``.

    Args:
        rules: The rules (e.g. :func:`load_rules`).
        history: Long metric frame of :meth:`MetricsStore.query`.
        now: Evaluation time (Timestamp or UNIX seconds); default the newest sample.
        stale_after_s: A series whose newest sample is older than this is ``stale`` and never
            fires (a deleted consumer group, a coin no longer served); None keeps every series.

    Returns:
        One row per rule and series: rule, severity, metric, labels ("k=v,..."),
        firing, value (the evaluated quantity), since (firing start), pending_since,
        ts (last sample), status (firing, pending, ok, stale, no_data: a known metric with no
        sample yet or no series matching the labels, unknown_metric: a name the monitor never records).
    """
    prep = _Prepared(history, now)
    out: list[pd.DataFrame] = []
    for rule in rules:
        common = {"rule": rule.name, "severity": rule.severity, "condition": rule.describe(), "description": rule.description}
        if not prep.metrics.intersection(rule.metrics):
            # A metric the monitor records but has no sample of yet (a fresh stack) is "no_data":
            # not enough data for a verdict. A name the monitor never records is a typo.
            known = bool(set(rule.metrics) & set(METRICS))
            logger.debug("rule %s: metric %s not in the history", rule.name, rule.metric)
            status = "no_data" if known else "unknown_metric"
            out.append(pd.DataFrame([{**common, "metric": "|".join(rule.metrics), "labels": _labels_filter(rule), "status": status}]))
            continue
        run = _run(rule, prep)
        nonempty = run.bounds[1:] > run.bounds[:-1]
        if not nonempty.any():
            out.append(pd.DataFrame([{**common, "metric": "|".join(rule.metrics), "labels": _labels_filter(rule), "status": "no_data"}]))
            continue
        last = run.bounds[1:][nonempty] - 1
        sids = run.sids[nonempty]
        cond = run.cond[last]
        pend = run.pending_start[last]
        stale = (prep.now - run.ts[last] > int(stale_after_s * _NS)) if stale_after_s is not None else np.zeros(len(last), bool)
        cond = cond & ~stale
        firing = cond & (prep.now - pend >= int(rule.for_s * _NS))
        since_ns = pend + int(rule.for_s * _NS)
        status = np.where(stale, "stale", np.where(firing, "firing", np.where(cond, "pending", "ok")))
        out.append(
            pd.DataFrame(
                {
                    **common,
                    "metric": prep.series["metric"].to_numpy()[sids],
                    "labels": [prep.labels_text(s) for s in sids],
                    "firing": firing,
                    "value": run.measure[last],
                    "since": pd.to_datetime(np.where(firing, since_ns, np.iinfo(np.int64).min), utc=True),
                    "pending_since": pd.to_datetime(np.where(cond, pend, np.iinfo(np.int64).min), utc=True),
                    "ts": pd.to_datetime(run.ts[last], utc=True),
                    "status": status,
                }
            )
        )
    if not out:
        return pd.DataFrame(columns=_RESULT_COLS)
    frame = pd.concat(out, ignore_index=True).reindex(columns=_RESULT_COLS)
    frame["firing"] = frame["firing"].eq(True)
    frame["value"] = frame["value"].astype(float)
    for col in ("since", "pending_since", "ts"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def _labels_filter(rule: Rule) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(rule.labels.items()))


def timeline(rule: Rule, history: pd.DataFrame, now: Any = None) -> pd.DataFrame:
    """The rule over time, per series: ts, metric, labels, value, measure, condition_true, firing.

    ``measure`` is what the condition compares (the windowed aggregate for ``rate``,
    the change for ``rate_of_change``, else the value). Empty when the metric is absent.
    """
    return _timeline(rule, _Prepared(history, now))


def _timeline(rule: Rule, prep: _Prepared) -> pd.DataFrame:
    run = _run(rule, prep)
    lengths = np.diff(run.bounds)
    metric_names = prep.series["metric"].to_numpy()[run.sids] if len(run.sids) else np.array([], dtype=object)
    labels = np.array([prep.labels_text(s) for s in run.sids], dtype=object)
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(run.ts, utc=True),
            "metric": np.repeat(metric_names, lengths),
            "labels": np.repeat(labels, lengths),
            "value": run.value,
            "measure": run.measure,
            "condition_true": run.cond,
            "firing": run.firing,
        }
    )


def episodes(rule: Rule, history: pd.DataFrame) -> pd.DataFrame:
    """Firing episodes of a rule: metric, labels, start, end (first and last firing sample)."""
    return _episodes(_timeline(rule, _Prepared(history)))


def _episodes(tl: pd.DataFrame) -> pd.DataFrame:
    f = tl["firing"].to_numpy()
    same = np.concatenate(([False], (tl["metric"].to_numpy()[1:] == tl["metric"].to_numpy()[:-1]) & (tl["labels"].to_numpy()[1:] == tl["labels"].to_numpy()[:-1])))
    prev = np.concatenate(([False], f[:-1])) & same
    nxt = np.concatenate((f[1:] & same[1:], [False]))
    starts, ends = np.flatnonzero(f & ~prev), np.flatnonzero(f & ~nxt)
    return pd.DataFrame(
        {
            "metric": tl["metric"].to_numpy()[starts],
            "labels": tl["labels"].to_numpy()[starts],
            "start": tl["ts"].to_numpy()[starts],
            "end": tl["ts"].to_numpy()[ends],
        }
    )
