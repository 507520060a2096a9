"""Alert rules over the metric history, an alert manager and the notifiers.

The course's severity levels and rules live in ``data/alerts/levels.yaml`` and
``data/alerts/rules.yaml``. Typical use in a notebook::

    from dataops import alerts
    rules = alerts.load_rules()
    results = alerts.evaluate(rules, monitor.history(minutes=60))
    manager = alerts.AlertManager()
    manager.process(results)      # fired / resolved events, routed by severity
    manager.active()

:func:`evaluate`, :func:`timeline` and :func:`backtest` are pure and vectorized
(one pass per rule with numpy/pandas, no per-row Python loops).
"""

from __future__ import annotations

import html
import json
import logging
import smtplib
import sys
import threading
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Iterable, Mapping, Protocol, Sequence, TextIO
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import requests
import yaml

from dataops.config import PROJECT_ROOT
from dataops.errors import ConfigError, DataOpsError
from dataops.metrics import METRICS

logger = logging.getLogger(__name__)

ALERTS_DIR = PROJECT_ROOT / "data" / "alerts"
LEVELS_FILE = ALERTS_DIR / "levels.yaml"
RULES_FILE = ALERTS_DIR / "rules.yaml"
DEFAULT_LOG_FILE = PROJECT_ROOT / ".stack" / "alerts" / "alerts.jsonl"

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
CONDITIONS = ("threshold", "range", "rate", "rate_of_change")
OPS = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}
AGGS = ("mean", "sum", "max", "min")
CHANGES = ("relative", "absolute")
DIRECTIONS = ("both", "up", "down")
_BASE_COLS = ("ts", "metric", "value")
_NS = 1_000_000_000

SEVERITY_COLORS = {"CRITICAL": "#b00020", "HIGH": "#e65100", "MEDIUM": "#f9a825", "LOW": "#1565c0"}
SEVERITY_ICONS = {"CRITICAL": "🔴", "HIGH": "🟠", "MEDIUM": "🟡", "LOW": "🔵"}


class AlertConfigError(ConfigError):
    """A rules or levels file (or a :class:`Rule`) is invalid."""


class AlertDeliveryError(DataOpsError):
    """A notifier could not deliver an alert."""


# ---- configuration -----------------------------------------------------------------
@dataclass(frozen=True)
class Level:
    """A severity level of the course (block 2, "Niveles de Severidad").

    Attributes:
        name: CRITICAL, HIGH, MEDIUM or LOW.
        condition: What the level means, e.g. "Pipeline completamente caído".
        response_time: Target response, as text ("< 5 minutos").
        response_time_s: The same target in seconds.
        escalation: How people are reached ("Llamada + SMS").
        channels: Notifier channels the alerts of this level are routed to.
    """

    name: str
    condition: str
    response_time: str
    response_time_s: float
    escalation: str
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One alert rule over one metric (or several, each evaluated as its own series).

    Attributes:
        name: Unique id of the rule.
        metric: Metric name, or a tuple of names.
        condition: ``threshold``, ``range``, ``rate`` or ``rate_of_change``.
        op: Comparison for threshold/rate (``>``, ``>=``, ``<``, ``<=``).
        value: Threshold (threshold, rate) or the change limit (rate_of_change, % when relative).
        min: Lower bound of ``range`` (fires below).
        max: Upper bound of ``range`` (fires above).
        window_s: Window of ``rate`` and ``rate_of_change``.
        agg: Aggregate of ``rate`` over the window: mean, sum, max or min.
        change: ``relative`` (%) or ``absolute`` for ``rate_of_change``.
        direction: ``both``, ``up`` or ``down`` for ``rate_of_change``.
        for_s: The condition must hold continuously this long before firing.
        severity: A level name.
        labels: Only series whose labels match these.
        description: Text for the alert card (Spanish in the course files).
    """

    name: str
    metric: str | tuple[str, ...]
    condition: str = "threshold"
    op: str = ">"
    value: float | None = None
    min: float | None = None
    max: float | None = None
    window_s: float = 0.0
    agg: str = "mean"
    change: str = "relative"
    direction: str = "both"
    for_s: float = 0.0
    severity: str = "LOW"
    labels: Mapping[str, str] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        where = f"rule {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise AlertConfigError("a rule has no name", "give every rule a unique `name`")
        metrics = (self.metric,) if isinstance(self.metric, str) else tuple(self.metric or ())
        if not metrics or not all(isinstance(m, str) and m for m in metrics):
            raise AlertConfigError(f"{where} has no metric", "set `metric` to a name or a list of names")
        object.__setattr__(self, "metric", metrics[0] if len(metrics) == 1 else metrics)
        object.__setattr__(self, "labels", {str(k): str(v) for k, v in dict(self.labels or {}).items()})
        if self.condition not in CONDITIONS:
            raise AlertConfigError(f"{where} has unknown condition type {self.condition!r}", f"use one of {', '.join(CONDITIONS)}")
        if not isinstance(self.severity, str) or not self.severity:
            raise AlertConfigError(f"{where} has no severity", f"use one of {', '.join(SEVERITIES)}")
        object.__setattr__(self, "severity", self.severity.upper())
        for attr in ("value", "min", "max", "window_s", "for_s"):
            raw = getattr(self, attr)
            if raw is not None:
                object.__setattr__(self, attr, _number(raw, f"{where}: `{attr}`"))
        if self.for_s < 0 or self.window_s < 0:
            raise AlertConfigError(f"{where} has a negative duration", "`for_s` and `window_s` are seconds >= 0")
        if self.condition in ("threshold", "rate"):
            if self.op not in OPS:
                raise AlertConfigError(f"{where} has invalid operator {self.op!r}", f"use one of {' '.join(OPS)}")
            if self.value is None:
                raise AlertConfigError(f"{where} has no threshold", "set `value` to a number")
        if self.condition == "range":
            if self.min is None and self.max is None:
                raise AlertConfigError(f"{where} has an empty range", "set `min` and/or `max`")
            if self.min is not None and self.max is not None and self.min > self.max:
                raise AlertConfigError(f"{where} has invalid threshold: min {self.min:g} > max {self.max:g}", "swap `min` and `max`")
        if self.condition in ("rate", "rate_of_change") and self.window_s <= 0:
            raise AlertConfigError(f"{where} needs a window", "set `window_s` to seconds > 0")
        if self.condition == "rate" and self.agg not in AGGS:
            raise AlertConfigError(f"{where} has unknown aggregate {self.agg!r}", f"use one of {', '.join(AGGS)}")
        if self.condition == "rate_of_change":
            if self.value is None or self.value < 0:
                raise AlertConfigError(f"{where} has invalid threshold {self.value!r}", "set `value` to a change >= 0")
            if self.change not in CHANGES or self.direction not in DIRECTIONS:
                raise AlertConfigError(
                    f"{where} has invalid change {self.change!r}/direction {self.direction!r}",
                    f"use change in {CHANGES} and direction in {DIRECTIONS}",
                )

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metric names as a tuple."""
        return (self.metric,) if isinstance(self.metric, str) else tuple(self.metric)

    def describe(self) -> str:
        """The condition as a short text, e.g. ``topic_lag > 1000``."""
        m = "|".join(self.metrics)
        if self.condition == "threshold":
            text = f"{m} {self.op} {self.value:g}"
        elif self.condition == "range":
            text = f"{m} outside [{'' if self.min is None else f'{self.min:g}'}, {'' if self.max is None else f'{self.max:g}'}]"
        elif self.condition == "rate":
            text = f"{self.agg}({m}, {self.window_s:g}s) {self.op} {self.value:g}"
        else:
            unit = "%" if self.change == "relative" else ""
            text = f"change({m}, {self.window_s:g}s) {self.direction} > {self.value:g}{unit}"
        return text + (f" for {self.for_s:g}s" if self.for_s else "")


def _number(raw: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise AlertConfigError(f"{where} has invalid threshold {raw!r} (not a number)", "write a plain number, e.g. 1000")
    if np.isnan(raw):
        raise AlertConfigError(f"{where} has invalid threshold NaN", "write a plain number, e.g. 1000")
    return float(raw)


def _read_yaml(path: Path, key: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AlertConfigError(f"cannot read {path}", exc.strerror or str(exc)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise AlertConfigError(f"{path}{line}: malformed YAML ({problem})", "fix the indentation or quoting on that line") from None
    if not isinstance(data, dict) or key not in data:
        raise AlertConfigError(f"{path} has no `{key}:` section", f"start the file with `{key}:`")
    return data[key]


def load_levels(path: str | Path | None = None) -> dict[str, Level]:
    """Read the severity levels (default ``data/alerts/levels.yaml``), by name."""
    path = Path(path or LEVELS_FILE)
    raw = _read_yaml(path, "levels")
    if not isinstance(raw, dict) or not raw:
        raise AlertConfigError(f"{path}: `levels` must map names to levels", "see data/alerts/levels.yaml")
    levels: dict[str, Level] = {}
    for name, spec in raw.items():
        if not isinstance(spec, dict):
            raise AlertConfigError(f"{path}: level {name!r} must be a mapping", "give condition, response_time, escalation, channels")
        rt = spec.get("response_time_s", 0)
        levels[str(name).upper()] = Level(
            name=str(name).upper(),
            condition=str(spec.get("condition", "")),
            response_time=str(spec.get("response_time", "")),
            response_time_s=_number(rt, f"{path}: level {name!r} `response_time_s`"),
            escalation=str(spec.get("escalation", "")),
            channels=tuple(str(c) for c in spec.get("channels") or ()),
        )
    return levels


def load_rules(path: str | Path | None = None, levels: Mapping[str, Level] | None = None) -> list[Rule]:
    """Read the alert rules (default ``data/alerts/rules.yaml``) and check them.

    Args:
        path: The rules file.
        levels: Allowed severities; default the levels file.

    Raises:
        AlertConfigError: One line naming the file and what is wrong.
    """
    path = Path(path or RULES_FILE)
    allowed = set(levels or load_levels())
    raw = _read_yaml(path, "rules")
    if not isinstance(raw, list):
        raise AlertConfigError(f"{path}: `rules` must be a list", "write each rule as `- name: ...`")
    rules: list[Rule] = []
    known = {f for f in Rule.__dataclass_fields__}
    for i, spec in enumerate(raw, 1):
        if not isinstance(spec, dict):
            raise AlertConfigError(f"{path}: rule #{i} must be a mapping", "write each rule as `- name: ...`")
        spec = dict(spec)
        if isinstance(spec.get("condition"), dict):  # nested form: condition: {type: range, min: ...}
            nested = dict(spec.pop("condition"))
            spec["condition"] = nested.pop("type", None)
            spec.update(nested)
        unknown = set(spec) - known
        if unknown:
            raise AlertConfigError(f"{path}: rule {spec.get('name', f'#{i}')!r} has unknown field(s) {', '.join(sorted(unknown))}", f"use {', '.join(sorted(known))}")
        if isinstance(spec.get("metric"), list):
            spec["metric"] = tuple(spec["metric"])
        try:
            rule = Rule(**spec)
        except AlertConfigError as exc:
            raise AlertConfigError(f"{path}: {exc.message}", exc.hint) from None
        except TypeError as exc:
            raise AlertConfigError(f"{path}: rule #{i} is incomplete ({exc})", "give at least name and metric") from None
        if rule.severity not in allowed:
            raise AlertConfigError(f"{path}: rule {rule.name!r} has unknown severity {rule.severity!r}", f"use one of {', '.join(allowed)}")
        if any(r.name == rule.name for r in rules):
            raise AlertConfigError(f"{path}: rule name {rule.name!r} is repeated", "give every rule a unique name")
        rules.append(rule)
    return rules


# ---- evaluation ----------------------------------------------------------------------
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
            raise DataOpsError(f"history lacks column(s) {', '.join(sorted(missing))}", "pass the frame of MetricsStore.query()")
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


def backtest(rules: Iterable[Rule], history: pd.DataFrame, incidents: pd.DataFrame, tolerance_s: float = 0.0) -> pd.DataFrame:
    """Replay the rules on a history and score them against labelled incidents.

    Args:
        rules: The rules to test.
        history: Long metric frame.
        incidents: Columns ``start``, ``end``, optionally ``name`` and ``rule``
            (empty/missing rule: the incident applies to every rule).
        tolerance_s: A firing up to this long after an incident's end still detects it.

    Returns:
        One row per rule: episodes (count), firing (list of (start, end)),
        true_episodes, precision, incidents (names), delays_s (per incident, NaN
        when missed), detected, recall, mean_delay_s.
    """
    prep = _Prepared(history)
    inc = incidents.copy()
    inc["start"] = pd.to_datetime(inc["start"], utc=True)
    inc["end"] = pd.to_datetime(inc["end"], utc=True)
    inc["rule"] = inc["rule"].fillna("").astype(str) if "rule" in inc else ""
    inc["name"] = inc["name"].astype(str) if "name" in inc else [f"incident-{i}" for i in range(len(inc))]
    tol = pd.Timedelta(tolerance_s, "s")
    rows = []
    for rule in rules:
        tl = _timeline(rule, prep)
        eps = _episodes(tl)
        mine = inc[(inc["rule"] == "") | (inc["rule"] == rule.name)]
        ep_start, ep_end = pd.to_datetime(eps["start"], utc=True).to_numpy(), pd.to_datetime(eps["end"], utc=True).to_numpy()
        i_start, i_end = mine["start"].to_numpy(), (mine["end"] + tol).to_numpy()
        overlap = (ep_start[:, None] <= i_end[None, :]) & (ep_end[:, None] >= i_start[None, :])
        true_eps = int(overlap.any(axis=1).sum())
        fire_ts = tl["ts"].to_numpy()[tl["firing"].to_numpy()]
        fire_ts.sort()
        pos = np.searchsorted(fire_ts, i_start, side="left")
        found = pos < len(fire_ts)
        first = fire_ts[np.minimum(pos, max(len(fire_ts) - 1, 0))] if len(fire_ts) else i_start
        detected = found & (first <= i_end) if len(fire_ts) else np.zeros(len(mine), dtype=bool)
        delays = np.where(detected, (first - i_start) / np.timedelta64(1, "s"), np.nan) if len(mine) else np.array([])
        rows.append(
            {
                "rule": rule.name,
                "severity": rule.severity,
                "episodes": len(eps),
                "firing": list(zip(pd.to_datetime(ep_start, utc=True), pd.to_datetime(ep_end, utc=True))),
                "true_episodes": true_eps,
                "precision": true_eps / len(eps) if len(eps) else np.nan,
                "incidents": list(mine["name"]),
                "delays_s": [float(d) for d in delays],
                "detected": int(detected.sum()),
                "recall": float(detected.sum()) / len(mine) if len(mine) else np.nan,
                "mean_delay_s": float(np.nanmean(delays)) if detected.any() else np.nan,
            }
        )
    return pd.DataFrame(rows)


# ---- events and notifiers ------------------------------------------------------------
@dataclass(frozen=True)
class AlertEvent:
    """A transition of one alert: ``fired`` or ``resolved``.

    Attributes:
        kind: fired or resolved.
        rule: Rule name.
        severity: Level name.
        metric: Metric of the series.
        labels: Series labels as ``k=v,...``.
        value: The evaluated value at the transition.
        since: When the firing started.
        ts: When the transition was processed.
        description: Rule description.
        condition: The rule's condition as text.
        response_time: Target response of the level ("< 5 minutos").
        escalation: Escalation of the level ("Llamada + SMS").
    """

    kind: str
    rule: str
    severity: str
    metric: str
    labels: str
    value: float
    since: pd.Timestamp | None
    ts: pd.Timestamp
    description: str = ""
    condition: str = ""
    response_time: str = ""
    escalation: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (timestamps as ISO text, NaN as None)."""
        d = asdict(self)
        for k in ("since", "ts"):
            d[k] = None if d[k] is None or pd.isna(d[k]) else pd.Timestamp(d[k]).isoformat()
        d["value"] = None if d["value"] is None or pd.isna(d["value"]) else float(d["value"])
        return d

    def headline(self) -> str:
        """One line in Spanish, e.g. ``[CRITICAL] ALERTA api_failure: api_error_rate=7.5 desde ...``."""
        verb = "ALERTA" if self.kind == "fired" else "RESUELTA"
        series = self.metric + (f"{{{self.labels}}}" if self.labels else "")
        value = "n/d" if pd.isna(self.value) else f"{self.value:.4g}"
        since = "" if self.since is None or pd.isna(self.since) else f" desde {pd.Timestamp(self.since):%Y-%m-%d %H:%M:%S} UTC"
        return f"[{self.severity}] {verb} {self.rule}: {series}={value}{since}"


class Notifier(Protocol):
    """Something that delivers an event; ``channel`` names it in the levels file."""

    channel: str

    def send(self, event: AlertEvent) -> Any: ...


class NotebookNotifier:
    """HTML alert cards: displayed in IPython/Jupyter, always collected in :attr:`cards`."""

    channel = "notebook"

    def __init__(self, display: bool | None = None) -> None:
        self.cards: list[str] = []
        self.display = display

    def send(self, event: AlertEvent) -> str:
        card = render_card(event)
        self.cards.append(card)
        show = self.display
        if show is None:
            try:
                from IPython import get_ipython

                show = get_ipython() is not None
            except ImportError:
                show = False
        if show:
            from IPython.display import HTML, display

            display(HTML(card))
        return card


def render_card(event: AlertEvent) -> str:
    """The HTML card of an event (Spanish text)."""
    color = SEVERITY_COLORS.get(event.severity, "#616161") if event.kind == "fired" else "#2e7d32"
    icon = SEVERITY_ICONS.get(event.severity, "⚪") if event.kind == "fired" else "✅"
    title = "Alerta activa" if event.kind == "fired" else "Alerta resuelta"
    e = {k: html.escape(str(v)) for k, v in event.to_dict().items()}
    value = "n/d" if pd.isna(event.value) else f"{event.value:.4g}"
    rows = [
        ("Serie", f"{e['metric']}{' {' + e['labels'] + '}' if event.labels else ''}"),
        ("Condición", e["condition"]),
        ("Valor", html.escape(value)),
        ("Desde", e["since"] if event.since is not None else "—"),
        ("Respuesta", e["response_time"] or "—"),
        ("Escalado", e["escalation"] or "—"),
    ]
    cells = "".join(f"<tr><td style='padding:0 8px 0 0;color:#555'>{k}</td><td>{v}</td></tr>" for k, v in rows)
    return (
        f"<div class='dataops-alert' style='border-left:6px solid {color};padding:6px 10px;margin:4px 0;"
        f"background:#fafafa;font-family:sans-serif;font-size:13px'>"
        f"<div style='font-weight:bold;color:{color}'>{icon} {title} · {e['severity']} · {e['rule']}</div>"
        f"<div style='margin:2px 0 4px'>{e['description']}</div><table>{cells}</table></div>"
    )


class ConsoleNotifier:
    """One line per event to a stream (default stderr)."""

    channel = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, event: AlertEvent) -> str:
        line = event.headline()
        print(line, file=self.stream or sys.stderr, flush=True)
        return line


class LogFileNotifier:
    """Appends each event as one JSON line to a file."""

    channel = "log"

    def __init__(self, path: str | Path = DEFAULT_LOG_FILE) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, event: AlertEvent) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(event.to_dict(), ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        return self.path


class WebhookNotifier:
    """POSTs a Slack-compatible JSON body (``text`` + ``attachments``) to a URL.

    Args:
        url: The incoming-webhook address.
        name: Channel suffix: the notifier serves ``webhook:<name>``.
        timeout_s: Connect and read timeout.
    """

    def __init__(self, url: str, name: str = "slack", timeout_s: float = 5.0) -> None:
        self.url = url
        self.name = name
        self.channel = f"webhook:{name}"
        self.timeout_s = timeout_s

    @property
    def where(self) -> str:
        """The URL without its path and query: a Slack or Teams webhook path is its secret."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" + ("/…" if parts.path.strip("/") or parts.query else "")

    def __repr__(self) -> str:
        return f"WebhookNotifier({self.where!r}, name={self.name!r})"

    @staticmethod
    def body(event: AlertEvent) -> dict[str, Any]:
        """The JSON body sent for an event."""
        d = event.to_dict()
        color = SEVERITY_COLORS.get(event.severity, "#616161") if event.kind == "fired" else "#2e7d32"
        fields = [
            {"title": "Severidad", "value": event.severity, "short": True},
            {"title": "Regla", "value": event.rule, "short": True},
            {"title": "Valor", "value": "n/d" if d["value"] is None else f"{d['value']:.4g}", "short": True},
            {"title": "Desde", "value": d["since"] or "—", "short": True},
            {"title": "Serie", "value": event.metric + (f"{{{event.labels}}}" if event.labels else ""), "short": False},
        ]
        return {
            "text": event.headline(),
            "attachments": [{"color": color, "title": event.description or event.rule, "text": event.condition, "fields": fields}],
            "alert": d,
        }

    def send(self, event: AlertEvent) -> int:
        try:
            resp = requests.post(self.url, json=self.body(event), timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise AlertDeliveryError(f"webhook {self.name} at {self.where} did not answer", type(exc).__name__) from None
        if resp.status_code >= 300:
            raise AlertDeliveryError(f"webhook {self.name} at {self.where} answered {resp.status_code}", resp.text[:80].replace("\n", " "))
        return resp.status_code


class EmailNotifier:
    """Sends each event as a plain-text email over SMTP.

    Args:
        host: SMTP server.
        port: SMTP port.
        sender: From address.
        to: Recipient address(es).
        starttls: Upgrade the connection with STARTTLS.
        user: Login user (with ``password``), optional.
        password: Login password.
        timeout_s: Connection timeout.
    """

    channel = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        to: str | Sequence[str],
        starttls: bool = False,
        user: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.to = [to] if isinstance(to, str) else list(to)
        self.starttls, self.user, self.password, self.timeout_s = starttls, user, password, timeout_s

    def send(self, event: AlertEvent) -> None:
        msg = EmailMessage()
        msg["Subject"] = event.headline()
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg.set_content("\n".join(f"{k}: {v}" for k, v in event.to_dict().items()))
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise AlertDeliveryError(f"email via {self.host}:{self.port} failed", str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


# ---- manager -------------------------------------------------------------------------
@dataclass
class _State:
    rule: str
    severity: str
    metric: str
    labels: str
    state: str  # pending or firing
    value: float
    since: pd.Timestamp | None
    pending_since: pd.Timestamp | None
    last_seen: pd.Timestamp
    description: str = ""
    condition: str = ""


@dataclass
class _Undelivered:
    event: AlertEvent
    channel: str
    error: str
    attempts: int
    first_failed: pd.Timestamp
    last_failed: pd.Timestamp


class AlertManager:
    """Tracks each (rule, series) as pending → firing → resolved and notifies transitions once.

    Args:
        levels: Severity levels (routing); default the levels file.
        notifiers: Notifiers, matched to the levels' channels by their ``channel``;
            default a notebook, a console and a log-file notifier.
    """

    def __init__(self, levels: Mapping[str, Level] | None = None, notifiers: Iterable[Notifier] | None = None) -> None:
        self.levels = dict(levels or load_levels())
        if notifiers is None:
            notifiers = [NotebookNotifier(), ConsoleNotifier(), LogFileNotifier()]
        self.notifiers: dict[str, Notifier] = {n.channel: n for n in notifiers}
        self._states: dict[tuple[str, str, str], _State] = {}
        self._history: list[dict[str, Any]] = []
        self._undelivered: list[_Undelivered] = []

    def add_notifier(self, notifier: Notifier) -> None:
        """Add or replace the notifier of a channel."""
        self.notifiers[notifier.channel] = notifier

    def channels(self, severity: str) -> tuple[str, ...]:
        """The channels an alert of this severity goes to."""
        level = self.levels.get(severity)
        return level.channels if level else ()

    def process(self, results: pd.DataFrame, now: Any = None) -> pd.DataFrame:
        """Apply an :func:`evaluate` result; notify and return the transitions.

        Retries undelivered notifications first. Returns one row per event: kind,
        rule, severity, metric, labels, value, since, ts, delivered, failed, skipped.
        """
        now_ts = _to_ts(now) if now is not None else pd.Timestamp.now(tz="UTC")
        self.retry(now_ts)
        events: list[AlertEvent] = []
        for row in results.to_dict("records"):
            status = row.get("status")
            if status == "stale":  # the series stopped reporting: its alert resolves
                status = "ok"
            if status not in ("firing", "pending", "ok"):
                continue
            key = (row["rule"], row["metric"], row["labels"])
            old = self._states.get(key)
            since = None if pd.isna(row.get("since")) else pd.Timestamp(row["since"])
            pending_since = None if pd.isna(row.get("pending_since")) else pd.Timestamp(row["pending_since"])
            if old is not None and old.state == "firing" and (status == "ok" or (status == "pending" and pending_since != old.pending_since)):
                events.append(self._event("resolved", old, row.get("value", np.nan), now_ts))
                del self._states[key]
                old = None
            if status == "ok":
                self._states.pop(key, None)
                continue
            state = _State(
                row["rule"], row["severity"], row["metric"], row["labels"], status, row.get("value", np.nan),
                since, pending_since, now_ts, row.get("description", ""), row.get("condition", ""),
            )
            if status == "firing" and (old is None or old.state != "firing"):
                events.append(self._event("fired", state, state.value, now_ts))
            elif status == "firing":
                state.since = old.since
            self._states[key] = state
        return self._dispatch(events)

    def _event(self, kind: str, st: _State, value: Any, now: pd.Timestamp) -> AlertEvent:
        level = self.levels.get(st.severity)
        return AlertEvent(
            kind=kind, rule=st.rule, severity=st.severity, metric=st.metric, labels=st.labels,
            value=float(value) if value is not None and not pd.isna(value) else np.nan, since=st.since, ts=now,
            description=st.description or "", condition=st.condition or "",
            response_time=level.response_time if level else "", escalation=level.escalation if level else "",
        )

    def _dispatch(self, events: list[AlertEvent]) -> pd.DataFrame:
        rows = []
        for event in events:
            delivered, failed, skipped = [], [], []
            for channel in self.channels(event.severity):
                notifier = self.notifiers.get(channel)
                if notifier is None:
                    skipped.append(channel)
                    continue
                error = self._deliver(notifier, event)
                if error is None:
                    delivered.append(channel)
                else:
                    failed.append(channel)
                    self._undelivered.append(_Undelivered(event, channel, error, 1, event.ts, event.ts))
            row = {**event.to_dict(), "since": event.since, "ts": event.ts, "delivered": delivered, "failed": failed, "skipped": skipped}
            self._history.append(row)
            rows.append(row)
        cols = ["kind", "rule", "severity", "metric", "labels", "value", "since", "ts", "delivered", "failed", "skipped"]
        return pd.DataFrame(rows, columns=cols) if rows else pd.DataFrame(columns=cols)

    @staticmethod
    def _deliver(notifier: Notifier, event: AlertEvent) -> str | None:
        try:
            notifier.send(event)
            return None
        except Exception as exc:  # a broken notifier must never stop the others
            text = " ".join(str(exc).split()) or type(exc).__name__
            logger.warning("alert %s not delivered to %s: %s", event.rule, notifier.channel, text)
            return text

    def retry(self, now: Any = None) -> int:
        """Try the undelivered notifications again; returns how many went through."""
        now_ts = _to_ts(now) if now is not None else pd.Timestamp.now(tz="UTC")
        pending, self._undelivered = self._undelivered, []
        done = 0
        for item in pending:
            notifier = self.notifiers.get(item.channel)
            error = "no notifier for this channel" if notifier is None else self._deliver(notifier, item.event)
            if error is None:
                done += 1
                for row in self._history:
                    if row["rule"] == item.event.rule and row["ts"] == item.event.ts and row["kind"] == item.event.kind and row["labels"] == item.event.labels and item.channel in row["failed"]:
                        row["failed"] = [c for c in row["failed"] if c != item.channel]
                        row["delivered"] = [*row["delivered"], item.channel]
                        break
            else:
                item.error, item.attempts, item.last_failed = error, item.attempts + 1, now_ts
                self._undelivered.append(item)
        return done

    def undelivered(self) -> pd.DataFrame:
        """Notifications still waiting: kind, rule, severity, labels, channel, error, attempts, first/last failure."""
        cols = ["kind", "rule", "severity", "metric", "labels", "channel", "error", "attempts", "first_failed", "last_failed"]
        return pd.DataFrame(
            [
                {"kind": u.event.kind, "rule": u.event.rule, "severity": u.event.severity, "metric": u.event.metric, "labels": u.event.labels,
                 "channel": u.channel, "error": u.error, "attempts": u.attempts, "first_failed": u.first_failed, "last_failed": u.last_failed}
                for u in self._undelivered
            ],
            columns=cols,
        )

    def active(self) -> pd.DataFrame:
        """Alerts currently pending or firing."""
        cols = ["rule", "severity", "metric", "labels", "state", "value", "since", "pending_since", "last_seen", "description"]
        rows = [{c: getattr(s, c) for c in cols} for s in self._states.values()]
        order = {name: i for i, name in enumerate(SEVERITIES)}
        frame = pd.DataFrame(rows, columns=cols)
        if len(frame):
            frame = frame.sort_values(["severity", "rule"], key=lambda c: c.map(order) if c.name == "severity" else c).reset_index(drop=True)
        return frame

    def history(self) -> pd.DataFrame:
        """Every event processed so far, oldest first."""
        cols = ["kind", "rule", "severity", "metric", "labels", "value", "since", "ts", "delivered", "failed", "skipped"]
        return pd.DataFrame([{c: r[c] for c in cols} for r in self._history], columns=cols)
