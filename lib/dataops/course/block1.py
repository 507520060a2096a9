"""Block 1, Fundamentos: the comparisons and the four principles, each shown by a number
measured on the running pipeline rather than quoted."""

from __future__ import annotations

import re
import time

import pandas as pd

from dataops import alerts, quality, scenarios
from dataops.config import DATA_DIR, PROJECT_ROOT
from dataops.pipeline import Pipeline

REFLECTION_MIN_WORDS = 12  # an answer, not a word or two


def comparison() -> pd.DataFrame:
    """DevOps, DataOps and MLOps side by side (the course's table)."""
    return pd.DataFrame(
        {
            "DevOps": ["aplicaciones", "código", "tests unitarios", "disponibilidad, latencia"],
            "DataOps": ["pipelines de datos", "datos + código", "tests de datos", "calidad, frescura"],
            "MLOps": ["modelos", "modelos + datos", "validación de modelos", "deriva, rendimiento"],
        },
        index=pd.Index(["foco", "artefacto", "calidad", "monitorización"], name="dimensión"),
    )


def ecosystem() -> pd.DataFrame:
    """The tools the course names, and what plays their part in this course."""
    rows = [
        ("Great Expectations / Deequ", "tests de calidad de datos", "dataops.quality + data/quality/suite.yaml", 4),
        ("Datadog / Prometheus + Grafana", "métricas y paneles", "el monitor (/metrics en formato Prometheus) + plots", 5),
        ("Airflow / Prefect", "orquestación y automatización", "dataops up / pipeline setup (idempotentes)", 3),
        ("GitHub Actions", "CI/CD", "make test en .ci/run (el workflow llega en el bloque 6)", 6),
    ]
    return pd.DataFrame(rows, columns=["herramienta", "para qué", "en este curso", "bloque"])


def _seconds(value: float | None) -> str:
    return "sin medir todavía (ejecuta p.up())" if value is None else f"{value:.0f} s"


def principles(p: Pipeline) -> pd.DataFrame:
    """The four principles, each with one number measured now on the running pipeline."""
    up = p.last_up()
    raw = p.kafka.latest(p.settings.topic_raw)
    age = None
    if len(raw):
        stamps = [v.get("last_updated_at") for v in raw.loc[0, "payload"].values() if isinstance(v, dict)]
        age = time.time() - max(s for s in stamps if isinstance(s, (int, float))) if stamps else None
    latest = p.monitor.latest()
    throughput = latest[(latest["metric"] == "throughput") & (latest.get("topic") == p.settings.topic_raw)]["value"] if len(latest) else []
    owners = who_owns_what()
    rows = [
        ("automatización", "un solo comando monta el pipeline", f"dataops up: {_seconds(up['seconds'] if up else None)}"),
        ("testing de datos", "frescura < 5 min del último sondeo",
         "sin sondeos todavía" if age is None else f"{age:.0f} s → {'✔' if age < 300 else '✘'}"),
        ("observabilidad", "mensajes por segundo en crypto-prices, ahora",
         "sin muestra todavía" if not len(throughput) else f"{float(throughput.iloc[0]):.2f} msg/s"),
        ("colaboración", "cada rol es dueño de un fichero del repo", f"{len(owners)} roles, {int(owners['cuántos'].sum())} piezas versionadas"),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["principio", "qué medimos", "valor medido"])


def who_owns_what() -> pd.DataFrame:
    """Who owns what in this project: each role, the file it changes, and how many pieces that file holds now."""
    suite = quality.load_suite()
    rules = alerts.load_rules()
    levels = alerts.load_levels()
    schemas = sorted((DATA_DIR / "schemas").glob("*.json"))
    rows = [
        ("ingeniería de datos", "lib/dataops/flink/explode.sql, data/schemas/", "contratos de datos", len(schemas)),
        ("ciencia de datos", "data/quality/suite.yaml", "checks de calidad", len(suite.checks)),
        ("plataforma", "pom.xml, Makefile, lib/dataops/stack/", "componentes del stack local", len(_stack_names())),
        ("negocio", "data/alerts/levels.yaml, rules.yaml", "niveles de servicio y reglas", len(levels) + len(rules)),
    ]
    return pd.DataFrame(rows, columns=["rol", "es dueño de", "qué", "cuántos"])


def _stack_names() -> list[str]:
    from dataops.config import load_settings
    from dataops.stack import components

    return [c.name for c in components(load_settings()) if not c.optional]


def before_after(p: Pipeline) -> pd.DataFrame:
    """Before and after DataOps in this project, the "after" measured here."""
    up = p.last_up()
    history, incidents = scenarios.render_history("api_outage")
    bt = alerts.backtest(alerts.load_rules(), history, incidents)
    delay = bt.loc[bt["rule"] == "api_failure", "mean_delay_s"]
    series = p.monitor.latest()
    tests = sum(len(re.findall(r"^def test_", f.read_text(encoding="utf-8"), re.M)) for f in (PROJECT_ROOT / "tests").rglob("test_*.py"))
    rows = [
        ("montaje", "30+ min de pasos manuales", f"un comando: {_seconds(up['seconds'] if up else None)}"),
        ("problemas", "se descubren tarde, por los usuarios",
         f"una caída de la API se detecta en {float(delay.iloc[0]):.0f} s (backtest de api_failure)" if len(delay) else "sin backtest"),
        ("visibilidad", "ninguna", f"{series['metric'].nunique() if len(series) else 0} métricas vivas, cada {p.settings.monitor_interval_s:g} s"),
        ("despliegues", "manuales", f"make test: {tests} tests antes de cada cambio"),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["aspecto", "antes", "después (medido)"])


def reflection_text(answer: str) -> str:
    """An answer cell's own words (the stub and the prompt lines removed)."""
    lines = [line for line in str(answer).splitlines() if not line.strip().startswith(("✏️", "**Pregunta", ">"))]
    return " ".join(lines).strip()


def reflection_answered(answer: str) -> bool:
    """True when an answer cell holds an answer of its own: at least :data:`REFLECTION_MIN_WORDS` words."""
    return len(re.findall(r"\w+", reflection_text(answer))) >= REFLECTION_MIN_WORDS
