"""The block 3 demo: the pipeline set up by hand, one call per resource, in a scratch namespace,
beside the one-command path; both measured on the spot.

Each manual call prints the command a person would type for it (``kafka-topics.sh``,
``curl`` to Kafka Connect, ``flink run``…). Scratch names carry a prefix
(``demo-manual-crypto-prices``…) so the course's pipeline is never touched.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import pandas as pd

from dataops.automation import checks as _checks
from dataops.automation import resources as res
from dataops.automation.declaration import Declaration, load
from dataops.automation.engine import apply, destroy, scratch_settings
from dataops.classroom.namespace import resolve
from dataops.config import Settings
from dataops.errors import NotOfferedError
from dataops.facade import Layers


def scratch_declaration(settings: Settings, prefix: str) -> Declaration:
    """The project's declaration with every name under ``prefix`` (topics, connector, job, table, sink)."""
    return load(scratch_settings(settings, prefix))


def _commands(p: Layers, r: res.Resource) -> str:
    s = p.settings
    if r.kind == "topic":
        configs = " ".join(f"--config {k}={v}" for k, v in r.spec.config.items())
        login = "" if s.runs.kafka_auth == "none" else " --command-config client.properties"  # the SASL login, in a file
        return (f"kafka-topics.sh --bootstrap-server {s.bootstrap_servers}{login} --create --topic {r.name} "
                f"--partitions {r.spec.partitions} {configs}")  # fmt: skip
    if r.kind in ("connector", "sink"):
        return f"curl -X PUT {s.connect_url}/connectors/{r.name}/config -H 'Content-Type: application/json' -d @{r.name}.json"
    if r.kind == "job":
        return (f"sql-client.sh -j {s.paths.flink_udf_jar.name} -f explode.sql   "
                f"# {r.spec.source} → {r.spec.sink}, luego espera a RUNNING en {s.flink_url}")
    return f"pyiceberg create table {r.name} --schema exploded_row.json"


class ManualSetup:
    """The manual path: call :meth:`topic`, :meth:`connector`, :meth:`table`, :meth:`job`,
    :meth:`sink` and :meth:`check` one by one, then :meth:`summary` and :meth:`cleanup`."""

    def __init__(self, p: Layers, prefix: str = "demo-manual") -> None:
        self.p = p
        self.prefix = prefix
        self.decl = scratch_declaration(p.settings, prefix)
        self._resources = {(r.kind, r.name): r for r in res.resources(self.decl, p.settings)}
        self.steps: list[tuple[str, float, str]] = []
        destroy(p, self.decl)  # leftovers of an interrupted demo: the manual path starts from nothing

    def _run(self, what: str, command: str, action: Callable[[], str]) -> None:
        t0 = time.monotonic()
        done = action()
        seconds = time.monotonic() - t0
        self.steps.append((what, seconds, done))
        print(f"  paso {len(self.steps)}: {what} → {done} ({seconds:.1f} s)\n      a mano sería: {command}", flush=True)

    def _one(self, kind: str, name: str) -> None:
        r = self._resources.get((kind, name))
        if r is None:  # a kind the profile leaves to the cloud (connectors, jobs, tables in `confluent`)
            s = self.p.settings
            what = {"connector": "el conector", "job": "el job de Flink", "table": "la tabla", "sink": "el sink"}.get(kind, kind)
            raise NotOfferedError(f"en el perfil {s.profile!r} {what} {name} lo crea la nube, no este cuaderno",
                                  "`dataops pipeline plan --commands` escribe las órdenes de `confluent` que lo crean")  # fmt: skip
        current, problem = res.actual(self.p, r)
        self._run(r.label, _commands(self.p, r), lambda: res.make_so(self.p, r, current, problem))

    def topic(self, short: str) -> None:
        """Create one topic, e.g. ``topic("crypto-prices")`` (the scratch prefix is added)."""
        self._one("topic", resolve(self.p.settings, f"{self.prefix}-{short}"))  # in a class, under the learner's prefix

    def connector(self) -> None:
        self._one("connector", self.decl.connectors[0].name)

    def table(self) -> None:
        self._one("table", self.decl.tables[0].name)

    def job(self) -> None:
        self._one("job", self.decl.jobs[0].name)

    def sink(self) -> None:
        self._one("sink", self.decl.sinks[0].name)

    def check(self, within_s: float = 60.0) -> None:
        """Look for a fresh poll in DuckDB, by hand."""
        check = _checks.end_to_end(self.decl, True, within_s)[0]

        def look() -> str:
            outcome = _checks.run_check(self.p, check)
            return outcome.detail if outcome.ok else f"✘ {outcome.detail}"

        table = self.decl.tables[0].name
        self._run("comprobar en DuckDB", f"duckdb -c \"SELECT count(*) FROM {table} WHERE processed_at > now() - INTERVAL 1 MINUTE\"", look)

    def summary(self) -> dict[str, Any]:
        """Steps, seconds, and what the path left behind (resources that exist now)."""
        return {"camino": "a mano", "pasos": len(self.steps), "segundos": round(sum(s for _, s, _ in self.steps), 1),
                "dejó": left_behind(self.p, self.decl)}  # fmt: skip

    def cleanup(self) -> pd.DataFrame:
        return destroy(self.p, self.decl)


def left_behind(p: Layers, decl: Declaration) -> str:
    """The declaration's resources that exist now, counted by kind (e.g. ``4 topics, 1 connector…``)."""
    counts: dict[str, int] = {}
    for r in res.resources(decl, p.settings):
        if res.actual(p, r)[0] is not None:
            counts[r.kind] = counts.get(r.kind, 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "nada"


def automated(p: Layers, prefix: str = "demo-auto", progress: bool = True) -> tuple[dict[str, Any], pd.DataFrame]:
    """The one-command path in a scratch namespace: its summary and its step report."""
    decl = scratch_declaration(p.settings, prefix)
    destroy(p, decl)  # leftovers of an interrupted demo: the automated path starts from nothing too
    t0 = time.monotonic()
    report = apply(p, decl, progress=progress)
    summary = {"camino": "un comando", "pasos": 1, "segundos": round(time.monotonic() - t0, 1), "dejó": left_behind(p, decl)}
    return summary, report


def compare(*summaries: dict[str, Any]) -> pd.DataFrame:
    """The paths side by side: steps, seconds, what each left behind."""
    return pd.DataFrame(list(summaries), columns=["camino", "pasos", "segundos", "dejó"])


def cleanup(p: Layers, prefix: str) -> pd.DataFrame:
    """Remove a scratch namespace's resources."""
    return destroy(p, scratch_declaration(p.settings, prefix))
