"""The checks of ``apply`` and ``validate``: built-in prerequisites, the environment,
the declared pre-flight and validation checks, and the end-to-end one.

Every check returns a :class:`Outcome`: passed or not, what it saw, and on failure one
line saying what to do.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from dataops.automation.declaration import Check, Declaration
from dataops.config import ENV_PREFIX, PROJECT_ROOT, Settings
from dataops.errors import DataOpsError, ServiceUnavailableError
from dataops.facade import Layers


@dataclass
class Outcome:
    name: str
    ok: bool
    detail: str
    fix: str = ""


_CLUSTER = {"sasl_plain": "Confluent Cloud", "sasl_scram": "servidor de la clase"}  # whose Kafka, by how one logs in


def prerequisites(p: Layers, api: bool = False) -> list[Outcome]:
    """Java and the engines reachable (local profile), or the cluster elsewhere (confluent, a class).

    Args:
        api: Also ask the prices API for one price where the source is the real one (confluent). Only
            ``validate`` does: ``apply`` needs no API from here (the cloud's connector calls it).
    """
    from dataops import stack
    from dataops.engine import port_open

    s: Settings = p.settings
    if not s.runs.runs_stack:  # the cluster elsewhere is the prerequisite
        where = f"Kafka ({_CLUSTER.get(s.runs.kafka_auth, s.profile)})"
        try:
            p.kafka.topic_names()
            out = [Outcome(where, True, s.bootstrap_servers)]
        except DataOpsError as exc:
            out = [Outcome(where, False, exc.message, exc.hint or "revisa DATAOPS_KAFKA_BOOTSTRAP y la API key")]
        return out + ([_prices_api(p)] if api and s.runs.real_api else [])
    java = stack.java_version()
    out = [Outcome("java", bool(java), java or "no encontrado", "ejecuta `make venv` (Java desde PyPI) o pon en DATAOPS_JAVA_HOME un JDK 17 o 21")]
    engines = [("API de precios (simulador)", s.simulator_port, "simulator_port"), ("Kafka", s.kafka_port, "kafka_port"),
               ("Kafka Connect", s.connect_port, "connect_port"), ("Flink", s.flink_port, "flink_port")]  # fmt: skip
    for name, port, setting in engines:
        ok = port_open(s.host, port)
        out.append(Outcome(name, ok, f":{port}" if ok else f"no responde en {s.host}:{port}",
                           f"arranca el stack (`make up`) o corrige {ENV_PREFIX}{setting.upper()} en .env"))  # fmt: skip
    return out


def _prices_api(p: Layers) -> Outcome:
    """The real prices API answers a price with the key of the settings (one call)."""
    s: Settings = p.settings
    name = "API de precios (CoinGecko)"
    try:
        p.source.price(s.coins[:1], vs_currency=s.vs_currency)
        return Outcome(name, True, s.source_api_url)
    except ServiceUnavailableError as exc:
        return Outcome(name, False, exc.message, f"corrige {ENV_PREFIX}COINGECKO_URL en .env")
    except DataOpsError as exc:
        return Outcome(name, False, exc.message, exc.hint or f"revisa {ENV_PREFIX}COINGECKO_URL y la clave en .env")


def environment(s: Settings) -> list[Outcome]:
    """The profile, where the settings came from, and the settings that profile needs."""
    env_file = Path(os.environ.get(f"{ENV_PREFIX}ENV_FILE") or PROJECT_ROOT / ".env")
    source = f".env ({env_file})" if env_file.exists() else "valores por defecto (no hay .env)"
    out = [Outcome("perfil", True, f"{s.profile}, configuración de {source}")]
    for name in s.runs.required:
        try:
            s.require(name)
            out.append(Outcome(name, True, "definida"))
        except DataOpsError as exc:
            out.append(Outcome(name, False, exc.message, exc.hint or ""))
    if s.sends_api_key:
        detail = (f"{s.polls_per_minute:g} llamadas/min de {s.coingecko_calls_per_min} "
                  f"(60 / {s.poll_interval_s:g} s × 1 por sondeo), clave en {s.source_key_header}")  # fmt: skip
        try:
            s.check_rate_limit()
            out.append(Outcome("límite de CoinGecko", True, detail))
        except DataOpsError as exc:
            out.append(Outcome("límite de CoinGecko", False, exc.message, exc.hint or ""))
    return out


def init_env(example: Path | None = None, target: Path | None = None) -> str:
    """Copy ``.env.example`` to ``.env`` when there is none; never overwrite one. Returns what it did."""
    example = example or PROJECT_ROOT / ".env.example"
    target = target or Path(os.environ.get(f"{ENV_PREFIX}ENV_FILE") or PROJECT_ROOT / ".env")
    if target.exists():
        return f"{target.name} ya existe: no lo toco"
    target.write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    return f"{target.name} creado a partir de {example.name} (perfil local)"


def run_checks(p: Layers, checks: list[Check]) -> list[Outcome]:
    """Run declared checks, their outcomes in the same order. Checks of different kinds run side by
    side (each kind talks to its own service through its own client), those of one kind one after
    the other: an end-to-end validation that waits for a fresh poll in DuckDB and for messages in a
    topic waits once, for the slower of the two, not for one and then the next."""
    from concurrent.futures import ThreadPoolExecutor

    if len(checks) < 2:
        return [run_check(p, c) for c in checks]
    kinds = list(dict.fromkeys(c.kind for c in checks))
    with ThreadPoolExecutor(max_workers=len(kinds), thread_name_prefix="dataops-check") as pool:
        done = {kind: pool.submit(lambda k: [(c, run_check(p, c)) for c in checks if c.kind == k], kind) for kind in kinds}
        by_check = {id(c): outcome for future in done.values() for c, outcome in future.result()}
    return [by_check[id(c)] for c in checks]


def run_check(p: Layers, check: Check) -> Outcome:
    """Run one declared check."""
    try:
        return _CHECKS[check.kind](p, check)
    except DataOpsError as exc:
        return Outcome(check.name, False, exc.message, exc.hint or "")


def _http(p: Layers, c: Check) -> Outcome:
    s = p.settings
    # A check of the prices API sends its key, as the connector does (the real API, a strict simulator).
    to_api = s.sends_api_key and s.coingecko_api_key is not None and str(c.url).startswith(s.source_api_url)
    headers = {s.source_key_header: s.coingecko_api_key.get_secret_value()} if to_api else {}  # type: ignore[union-attr]
    try:
        status = requests.get(str(c.url), timeout=c.timeout_s, headers=headers).status_code
    except requests.RequestException as exc:
        return Outcome(c.name, False, f"{c.url} no responde ({type(exc).__name__})",
                       "revisa la URL (host, puerto) en la declaración o en .env, y que el servicio esté en marcha")  # fmt: skip
    ok = status == c.status
    return Outcome(c.name, ok, f"{c.url} → HTTP {status}", "" if ok else f"el servicio responde {status}, se esperaba {c.status}: ¿está caído o limitando peticiones?")


def _tcp(p: Layers, c: Check) -> Outcome:
    from dataops.engine import port_open

    ok = port_open(str(c.host), int(c.port or 0), timeout=c.timeout_s)
    return Outcome(c.name, ok, f"{c.host}:{c.port} {'acepta conexiones' if ok else 'no responde'}", "arranca el servicio o corrige host/puerto")


def _topic_flowing(p: Layers, c: Check) -> Outcome:
    topic = str(c.topic)
    if topic not in p.kafka.topic_names():
        return Outcome(c.name, False, f"el topic {topic} no existe", "ejecuta `dataops pipeline apply`")
    before = sum(p.kafka.end_offsets(topic).values())
    deadline = time.monotonic() + c.within_s
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = sum(p.kafka.end_offsets(topic).values())
        if now > before:
            return Outcome(c.name, True, f"{now - before} mensajes nuevos en {topic}")
    return Outcome(c.name, False, f"ningún mensaje nuevo en {topic} en {c.within_s:g} s",
                   "mira `dataops status` y `dataops logs connect`: ¿hay un conector en pausa o la API caída?")  # fmt: skip


def _table_fresh(p: Layers, c: Check) -> Outcome:
    """A poll newer than the check's start, seen as rows of the table through DuckDB."""
    from dataops.duck.layer import DuckLayer

    table = str(c.table)
    start = time.time()
    duck = DuckLayer(p.iceberg, tables=(table,), threads=1)
    try:
        deadline = time.monotonic() + c.within_s
        while time.monotonic() < deadline:
            time.sleep(1.0)
            try:
                got = duck.query(f"SELECT count(*) AS n, count(DISTINCT coin_id) AS coins FROM {table} "
                                 "WHERE processed_at >= to_timestamp(?)", [start]).iloc[0]  # fmt: skip
            except DataOpsError:
                continue  # no commit yet: the table has no data file to scan
            if got["n"] > 0:
                waited = time.time() - start
                return Outcome(c.name, True, f"{int(got['n'])} filas nuevas ({int(got['coins'])} monedas) en DuckDB tras {waited:.0f} s")
    finally:
        duck.close()
    return Outcome(c.name, False, f"ninguna fila nueva en {table} en {c.within_s:g} s",
                   "sigue los datos: `dataops status`, luego el conector, el job de Flink y el sink (`dataops logs COMPONENTE`)")  # fmt: skip


def _connector_running(p: Layers, c: Check) -> Outcome:
    states = p.connect.states().get(str(c.target))
    if states is None:
        return Outcome(c.name, False, f"el conector {c.target} no existe", "ejecuta `dataops pipeline apply`")
    ok = all(s == "RUNNING" for s in states)
    return Outcome(c.name, ok, f"{c.target}: {'/'.join(states)}", "mira `dataops logs connect`; `dataops pipeline apply` lo reinicia")


def _job_running(p: Layers, c: Check) -> Outcome:
    live = p.flink.live_job(str(c.target))
    ok = bool(live) and live["state"] == "RUNNING"
    return Outcome(c.name, ok, f"{c.target}: {live['state'] if live else 'no está en marcha'}",
                   "mira `dataops logs flink-jobmanager`; `dataops pipeline apply` lo vuelve a enviar")  # fmt: skip


_CHECKS = {"http": _http, "tcp": _tcp, "topic_flowing": _topic_flowing, "table_fresh": _table_fresh,
           "connector_running": _connector_running, "job_running": _job_running}  # fmt: skip


def end_to_end(decl: Declaration, managed: bool, within_s: float = 60.0) -> list[Check]:
    """The built-in end-to-end check (a fresh poll seen in DuckDB, per sink), then the declared ones."""
    built_in = [Check(name=f"poll nuevo visible en DuckDB ({s.table})", kind="table_fresh", table=s.table, within_s=within_s)
                for s in decl.sinks] if managed else []  # fmt: skip
    return built_in + list(decl.validation)
