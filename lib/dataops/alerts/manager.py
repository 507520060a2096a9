"""The alert manager: pending → firing → resolved per (rule, series), routed by severity.

Feed it :func:`~dataops.alerts.evaluate` results; it notifies each transition once,
keeps what could not be delivered and retries it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from dataops.alerts.evaluation import _to_ts
from dataops.alerts.notifiers import AlertEvent, ConsoleNotifier, LogFileNotifier, NotebookNotifier, Notifier
from dataops.alerts.rules import SEVERITIES, Level, load_levels

logger = logging.getLogger(__name__)


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
        self.unknown = False  # True while every series is stale (the monitor wrote nothing recent)

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
        # Every series stale means the monitor itself went quiet: unknown, so nothing resolves.
        # One series stale while others report (a deleted consumer group's lag) resolves as before.
        reported = results[results["status"].isin(["firing", "pending", "ok", "stale"])] if len(results) else results
        self.unknown = bool(len(reported)) and bool((reported["status"] == "stale").all())
        if self.unknown:
            return self._dispatch([])
        for row in results.to_dict("records"):
            status = row.get("status")
            if status == "stale":  # this series stopped reporting while others go on: its alert resolves
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
