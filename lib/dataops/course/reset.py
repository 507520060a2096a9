"""``dataops reset``: the next class starts from the pipeline a fresh ``up`` gives.

Clears the simulator's faults, resumes paused connectors, deletes the connectors and cancels
the Flink jobs the declaration does not have (a demo's or a practice's), deletes the topics
learners created (every topic the set-up does not declare, except Kafka's and Connect's internal
ones), deletes the metrics learners wrote (every series the monitor does not record), then
runs the set-up again, which recreates what a learner deleted by hand and resubmits the job.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from dataops import setup
from dataops.automation.resources import forget_applied
from dataops.metrics import METRICS


def internal_topic(name: str) -> bool:
    """Kafka's and Kafka Connect's own topics (``__consumer_offsets``, ``_connect-configs``…)."""
    return name.startswith("_")


def reset(p: Any, ready_timeout_s: float = 120.0) -> pd.DataFrame:
    """Bring the running pipeline back to a fresh ``up``; one row per step: what it did."""
    steps = []
    steps.append(("fallos del simulador", f"{p.source.clear_faults()} quitados"))
    paused = [name for name, states in p.connect.states().items() if "PAUSED" in states]
    for name in paused:
        p.connect.resume(name)
    steps.append(("conectores en pausa", f"reanudados: {', '.join(paused)}" if paused else "ninguno"))
    declaration = p.declaration()
    extra_connectors = sorted(set(p.connect.states()) - {c.name for c in (*declaration.connectors, *declaration.sinks)})
    for name in extra_connectors:  # a demo's or a practice's connectors, left behind
        p.connect.delete(name)
    forget_applied(p.settings, [f"{kind}/{name}" for name in extra_connectors for kind in ("connector", "sink")])
    steps.append(("conectores añadidos", f"borrados: {', '.join(extra_connectors)}" if extra_connectors else "ninguno"))
    jobs = p.flink.jobs()
    extra_jobs = jobs[(~jobs["name"].isin([j.name for j in declaration.jobs])) & (jobs["state"] == "RUNNING")]
    for jid in extra_jobs["jid"]:
        p.flink.cancel(jid)
    steps.append(("jobs de Flink añadidos", f"cancelados: {', '.join(extra_jobs['name'])}" if len(extra_jobs) else "ninguno"))
    declared = {t.name for t in declaration.topics}
    extra = sorted(t for t in p.kafka.topic_names() if t not in declared and not internal_topic(t))
    for name in extra:
        p.kafka.delete_topic(name)
    forget_applied(p.settings, [f"topic/{name}" for name in extra])  # a later apply creates them, not "drift"
    steps.append(("tópicos añadidos", f"borrados: {', '.join(extra)}" if extra else "ninguno"))
    custom = sorted(m for m in p.monitor.store.metrics() if m not in METRICS)
    gone = p.monitor.store.delete(custom)
    steps.append(("métricas añadidas", f"borradas: {', '.join(custom)} ({gone} muestras)" if custom else "ninguna"))
    redone = setup.changes(p.setup())
    steps.append(("montaje (pipeline setup)", "; ".join(f"{s}: {a}" for s, a in zip(redone["step"], redone["action"])) or "nada que rehacer"))
    if ready_timeout_s:
        p.wait_ready(ready_timeout_s, progress=False)
        steps.append(("todas las capas", "informan y ninguna en rojo"))
    return pd.DataFrame(steps, columns=["paso", "resultado"])
