"""The pipeline's health per layer: the course's traffic light, from the newest samples."""

from __future__ import annotations

import time
from typing import Any, Iterable, Mapping

import pandas as pd

from dataops.config import Settings


# Health states: the course's traffic light, plus "waiting" for a layer that has not reported yet.
HEALTH_STATES = ("green", "amber", "red", "waiting")


# The layers whose colour follows an alert rule: red past the rule's threshold, amber past a tenth of it.
HEALTH_METRICS = ("api_error_rate", "topic_lag", "data_freshness")
AMBER_FRACTION = 0.1


def health_thresholds(rules: Iterable[Any] | None = None) -> dict[str, tuple[float, float]]:
    """``metric -> (amber, red)`` for :data:`HEALTH_METRICS`, from the alert rules (``data/alerts/rules.yaml``):
    red is the threshold of the rule that fires on the metric going up, amber a tenth of it."""
    from dataops import alerts

    out: dict[str, tuple[float, float]] = {}
    for rule in alerts.load_rules() if rules is None else rules:
        if rule.condition not in ("threshold", "rate") or rule.op not in (">", ">=") or rule.labels:
            continue
        for metric in set(rule.metrics) & set(HEALTH_METRICS):
            red = float(rule.value)
            if metric not in out or red < out[metric][1]:
                out[metric] = (AMBER_FRACTION * red, red)
    missing = set(HEALTH_METRICS) - set(out)
    if missing:
        raise alerts.AlertConfigError(
            f"ninguna regla de alerta da el umbral de salud de {', '.join(sorted(missing))}",
            "deja en data/alerts/rules.yaml una regla `metric > value` para cada una",
        )
    return out


def health(
    latest: pd.DataFrame,
    settings: Settings,
    expected_since: float | None = None,
    now: float | None = None,
    grace_s: float | None = None,
    thresholds: Mapping[str, tuple[float, float]] | None = None,
    newest_ts: float | None = None,
) -> pd.DataFrame:
    """Green/amber/red per layer from the newest samples (thresholds: the course's alert rules).

    A layer whose metric has no sample yet is ``waiting``, with a detail naming what it waits
    for: right after set-up no consumer group has committed offsets and the table has no
    commit, and that is not a failure. It turns ``red`` only when the data is still missing
    ``grace_s`` after ``expected_since`` (when the pipeline was last started or changed), and
    the detail then says so.

    Args:
        latest: Newest sample per series (:meth:`MetricsStore.latest`).
        settings: The loaded settings.
        expected_since: UNIX time from which every layer should report; None: unknown, a
            missing sample stays ``waiting``.
        now: Reference time (default: now).
        grace_s: How long a missing sample may stay ``waiting`` (default ``settings.health_grace_s``).
        thresholds: ``metric -> (amber, red)`` (default :func:`health_thresholds` of the alert rules).
        newest_ts: UNIX time of the store's newest sample, however old (default: the newest in ``latest``,
            which a reader may have cut to recent samples); it says whether the monitor is alive.

    Returns:
        One row per layer: ``layer``, ``state`` (one of :data:`HEALTH_STATES`), ``detail``.
    """
    now = time.time() if now is None else now
    grace = settings.health_grace_s if grace_s is None else grace_s
    limits = health_thresholds() if thresholds is None else thresholds

    def colour(metric: str, value: float) -> str:
        amber, red = limits[metric]
        return "red" if value > red else "amber" if value > amber else "green"
    missing_for = None if expected_since is None else max(now - expected_since, 0.0)

    def values(metric: str) -> pd.Series:
        rows = latest[latest["metric"] == metric] if len(latest) else latest
        return rows["value"] if len(rows) else pd.Series(dtype=float)

    def row(layer: str, state: str, detail: str) -> dict[str, str]:
        return {"layer": layer, "state": state, "detail": detail}

    def no_sample(layer: str, waits_for: str, missing: str) -> dict[str, str]:
        if missing_for is not None and missing_for > grace:
            return row(layer, "red", f"{missing} desde hace {missing_for:.0f} s (límite {grace:.0f} s)")
        return row(layer, "waiting", f"esperando {waits_for}")

    out = []
    err = values("api_error_rate")
    if "source" not in settings.runs.sampled:
        out.append(row("Fuente", "green", "CoinGecko (cloud): sin registro local"))
    elif err.empty:
        out.append(no_sample("Fuente", "el primer sondeo de la API", "sin sondeos de la API"))
    else:
        e = float(err.iloc[0])
        out.append(row("Fuente", colour("api_error_rate", e), f"errores API {e:.0f} %"))
    conn = latest[latest["metric"] == "connector_status"] if len(latest) else latest
    if conn.empty:
        out.append(no_sample("Kafka Connect", "el estado de los conectores", "sin estado de conectores"))
    else:
        bad = conn[conn["value"] < 1]
        detail = ", ".join(f"{c}: {s}" for c, s in zip(bad["connector"], bad["state"])) or f"{len(conn)} conectores RUNNING"
        out.append(row("Kafka Connect", "red" if len(bad) else "green", detail))
    # The lag of the pipeline's two readers: Flink commits offsets on its first checkpoint,
    # the Iceberg sink on its first table commit.
    readers = {settings.flink_job_name: "Flink (primer checkpoint)", settings.iceberg_sink_group: "el sink de Iceberg (primer commit)"}
    lag_rows = latest[(latest["metric"] == "topic_lag") & latest.get("group", pd.Series(dtype=str)).isin(readers)] if len(latest) else latest
    silent = [what for group, what in readers.items() if lag_rows.empty or group not in set(lag_rows["group"])]
    if silent:
        out.append(no_sample("Kafka", "el primer commit de offsets de " + " y de ".join(silent), "sin métricas de lag de " + " ni de ".join(silent)))
    else:
        lag = float(lag_rows["value"].max())
        out.append(row("Kafka", colour("topic_lag", lag), f"lag máx. {lag:.0f} mensajes"))
    job = values("flink_job_running")
    if job.empty:
        out.append(no_sample("Flink", f"el estado del job {settings.flink_job_name}", f"sin estado del job {settings.flink_job_name}"))
    else:
        running = job.iloc[0] == 1
        out.append(row("Flink", "green" if running else "red", "job RUNNING" if running else "job parado"))
    fresh = values("data_freshness")
    if fresh.empty:
        out.append(no_sample("Iceberg", "el primer commit del sink en la tabla", "la tabla no tiene datos"))
    else:
        f = float(fresh.iloc[0])
        out.append(row("Iceberg", colour("data_freshness", f), f"frescura {f:.0f} s"))
    avail = values("pipeline_availability")
    if fresh.empty:
        out.append(no_sample("DuckDB", "filas en la tabla Iceberg", "DuckDB no tiene filas que leer"))
    else:
        a = float(avail.iloc[0]) if not avail.empty else 0.0
        out.append(row("DuckDB", "green", f"disponibilidad {a:.0f} %"))
    # The monitor itself: a dead monitor must not read as "all quiet" (its silence is unknown, not fine).
    limit = 3 * settings.monitor_interval_s + 15
    newest = newest_ts if newest_ts is not None else pd.to_datetime(latest["ts"], utc=True).max().timestamp() if len(latest) else None
    if newest is None:
        out.append(no_sample("Monitor", "la primera muestra del monitor", "el monitor no escribe muestras (`dataops status`)"))
    elif now - newest > limit:
        out.append(row("Monitor", "red", f"última muestra hace {now - newest:.0f} s (límite {limit:.0f} s): ¿parado? `dataops up` lo arranca"))
    else:
        out.append(row("Monitor", "green", f"última muestra hace {max(now - newest, 0):.0f} s"))
    return pd.DataFrame(out, columns=["layer", "state", "detail"])
