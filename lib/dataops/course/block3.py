"""Block 3's exercise: customise the automation (a topic ``crypto-alerts``, a pre-flight check
that the prices API answers, an end-to-end flow check), with a self-check that reads the
broker's real configuration and the step report, and takes the API down for a moment to see
whether the pre-flight check notices."""

from __future__ import annotations


import pandas as pd

from dataops.automation import checks as _checks
from dataops.automation.declaration import Declaration, parse
from dataops.classroom.namespace import resolve
from dataops.course.selfcheck import SelfCheck
from dataops.errors import DataOpsError
from dataops.pipeline import Pipeline

ALERTS_TOPIC = "crypto-alerts"
ONE_DAY_MS = "86400000"
FLOW_KINDS = ("topic_flowing", "table_fresh")
OUTAGE_S = 6.0


def _preflight_under_outage(p: Pipeline, extension: Declaration) -> tuple[list[_checks.Outcome], list[_checks.Outcome]]:
    """The learner's pre-flight checks with the API up, then during a short injected outage."""
    up = [_checks.run_check(p, c) for c in extension.preflight]
    fault = p.source.inject_fault("outage", duration_s=OUTAGE_S)
    try:
        down = [_checks.run_check(p, c) for c in extension.preflight]
    finally:
        p.source.clear_faults(fault["id"])
    return up, down


def check_setup(p: Pipeline, report: pd.DataFrame | None) -> SelfCheck:
    """Practice 1: ``report`` is what one ``p.apply()`` returned: every course step ✔, end to end
    included, and a plan with nothing pending afterwards."""
    from dataops.automation import resources as res
    from dataops.automation.engine import OK, SETTLED, STEPS

    check = SelfCheck("Práctica 1 · montaje automático", todo="monta el pipeline con un comando: informe = p.apply(...)")
    managed = p.settings.runs.manages  # in `confluent` the cloud makes the connector, the job and the sink
    cloud_made = {step for step, kind in ((res.STEP_CONNECTOR, "connector"), (res.STEP_JOB, "job"), (res.STEP_SINK, "sink"))
                  if kind not in managed}  # fmt: skip
    if report is None:
        check.done = False
        return check
    if not isinstance(report, pd.DataFrame) or "estado" not in report:
        check.add("informe es el resultado de p.apply()", False, f"es un {type(report).__name__}")
        return check
    marks = dict(zip(report["paso"], report["estado"]))
    for step in (s for s in STEPS if s not in cloud_made):
        check.add(f"paso {step}", marks.get(step) == OK,
                  "validación omitida: no uses validate=False" if step == STEPS[-1] and marks.get(step) == "–"
                  else f"estado {marks.get(step, 'ausente')}: lee su columna arreglo")  # fmt: skip
    plan = p.plan()
    rows = plan[~plan["plan"].isin(SETTLED)]
    what = "; ".join(f"{r.recurso}: {r.plan}" + (f" ({r.cambios})" if isinstance(r.cambios, str) and r.cambios else "") for r in rows.itertuples())
    check.add("después, el plan no tiene nada pendiente (lo que corre es lo declarado)", not plan.attrs["pending"],
              f"pendiente: {what[:300]}; mira p.plan(): alguien cambió algo a mano después de aplicar")  # fmt: skip
    return check


def check_custom_setup(p: Pipeline, extension: str, report: pd.DataFrame | None) -> SelfCheck:
    """``extension``: the learner's YAML (topics, preflight, validation) added to the declaration;
    ``report``: what ``p.apply(extension)`` returned."""
    check = SelfCheck("Práctica 2 · automatización a medida", todo="escribe mi_extension y aplícala con p.apply(mi_extension)")
    if not isinstance(extension, str) or not extension.strip():
        check.done = False
        return check
    try:
        p.declaration(extension)  # refers only to what the project's declaration and it declare
        mine = _parse_alone(p, extension)
    except DataOpsError as exc:
        check.add("tu extensión es una declaración válida", False, str(exc))
        return check
    if not (mine.topics or mine.preflight or mine.validation or mine.connectors):
        check.done = False  # only comments: the stub as handed out
        return check
    topic = mine.topic(resolve(p.settings, ALERTS_TOPIC))  # in a class, the learner's
    check.add(f"declara el tópico {ALERTS_TOPIC}", topic is not None, "añade una entrada en topics: con name: crypto-alerts")
    if topic is not None:
        check.add("con 1 partición", topic.partitions == 1, f"declaraste {topic.partitions}")
        check.add("retención de 1 día (retention.ms = 86 400 000)", topic.config.get("retention.ms") == ONE_DAY_MS,
                  f"declaraste {topic.config.get('retention.ms', 'nada')}: 1 día son 24 × 3600 × 1000 ms")  # fmt: skip
        check.add("política de borrado (cleanup.policy = delete)", topic.config.get("cleanup.policy") == "delete",
                  f"declaraste {topic.config.get('cleanup.policy', 'nada')}")  # fmt: skip
    real = p.kafka.topic_config(ALERTS_TOPIC, ["retention.ms", "cleanup.policy"])
    wanted = {"partitions": "1", "retention.ms": ONE_DAY_MS, "cleanup.policy": "delete"}
    check.add("en el broker, crypto-alerts existe con 1 partición, 1 día y delete", real == wanted,
              "¿aplicaste la extensión? el broker tiene " + (str(real) if real else "ningún crypto-alerts"))  # fmt: skip
    check.add("un chequeo previo (preflight) propio", bool(mine.preflight), "añade una entrada en preflight:")
    if mine.preflight:
        up, down = _preflight_under_outage(p, mine)
        check.add("tu chequeo previo pasa con la API en marcha", all(o.ok for o in up),
                  "; ".join(f"{o.name}: {o.detail}" for o in up if not o.ok))  # fmt: skip
        check.add("tu chequeo previo falla con la API caída (se provoca un corte de unos segundos)", not all(o.ok for o in down),
                  "siguió pasando: ¿preguntas a la API de precios (kind: http a /api/v3/…) o solo a un puerto?")  # fmt: skip
    flows = [c for c in mine.validation if c.kind in FLOW_KINDS and (c.topic in _data_topics(p) or c.table)]
    check.add("un chequeo de que los mensajes fluyen de punta a punta", bool(flows),
              f"añade en validation: un chequeo kind: topic_flowing sobre {p.settings.topic_exploded} (o table_fresh)")  # fmt: skip
    ok_report = isinstance(report, pd.DataFrame) and bool(report.attrs.get("ok"))
    names = [c.name for c in (*mine.preflight, *mine.validation)]
    text = " ".join(report["detalle"].astype(str)) if isinstance(report, pd.DataFrame) else ""
    check.add("el informe de apply: todos los pasos ✔, tus chequeos incluidos", ok_report and all(n in text for n in names),
              "vuelve a ejecutar informe = p.apply(mi_extension) y mira la fila con ✘")  # fmt: skip
    return check


def _data_topics(p: Pipeline) -> set[str]:
    """The topics a flow check must watch to be end to end: after Flink (the raw topic still flows with Flink down)."""
    return {p.settings.topic_exploded}


def _parse_alone(p: Pipeline, extension: str) -> Declaration:
    return parse(extension, p.settings, "mi_extension")


# ---- troubleshooting: a scratch topic and connector to break on purpose ---------------------------
LAB_TOPIC, LAB_CONNECTOR = "crypto-lab-averias", "crypto-lab-source"
LAB = f"""
topics:
  - {{name: {LAB_TOPIC}, partitions: 1, config: {{retention.ms: "3600000", cleanup.policy: delete}}}}
connectors:
  - {{name: {LAB_CONNECTOR}, kind: http_source, url: "${{price_url}}", topic: {LAB_TOPIC}, poll_interval_s: 30}}
"""


def lab_declaration(p: Pipeline) -> Declaration:
    """Only the practice resources (to clean them up)."""
    return _parse_alone(p, LAB)


WRONG_PORT = 8099  # fault 1's mistyped port: nothing listens there


def misconfigured(p: Pipeline) -> Pipeline:
    """Avería 1: the pipeline as a ``.env`` with the prices API's port mistyped would make it, in this
    profile: the simulator's port where the source is the simulator; the API's URL where it is the
    real API (``confluent``), else that demo would find nothing wrong. Prints the setting it changed."""
    from urllib.parse import urlsplit

    from dataops.config import ENV_PREFIX
    from dataops.pipeline import connect

    if p.settings.runs.real_api:
        url = urlsplit(p.settings.coingecko_url)
        name, value = "coingecko_url", url._replace(netloc=f"127.0.0.1:{WRONG_PORT}", scheme="http").geturl()
    else:
        name, value = "simulator_port", WRONG_PORT
    print(f"configuración equivocada a propósito, como {ENV_PREFIX}{name.upper()}={value} en .env")
    return connect(profile=p.settings.profile, **{name: value})


def delete_topic_by_hand(p: Pipeline) -> str:
    """Avería 2: someone deletes the practice topic outside the automation."""
    p.kafka.delete_topic(LAB_TOPIC)
    return f"borrado a mano: {LAB_TOPIC}"


def broken_url(url: str) -> str:
    """``url`` with a blank in its path, after its host: no longer a URL (the task fails on it), yet
    still under the same host (the class server's front admits only the learner's own)."""
    host_end = url.find("/", url.find("://") + 3) if "://" in url else -1
    return f"{url[:host_end + 1]}api precios/{url[host_end + 1:]}" if host_end >= 0 else "http://api precios/v3"


def break_connector_by_hand(p: Pipeline, wait_s: float = 20.0) -> str:
    """Avería 3: someone edits the practice connector's URL by hand; its task fails. Waits for FAILED."""
    import time

    config = {k: v for k, v in (p.connect.config(LAB_CONNECTOR) or {}).items() if k != "name"}
    if not config:
        raise DataOpsError(f"el conector {LAB_CONNECTOR} no existe", "ejecuta antes `p.apply(block3.LAB)`")
    config["http.url"] = broken_url(config.get("http.url", ""))
    p.connect.put_config(LAB_CONNECTOR, config)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if "FAILED" in p.connect.states().get(LAB_CONNECTOR, []):
            return f"{LAB_CONNECTOR}: FAILED"
        time.sleep(0.5)
    return f"{LAB_CONNECTOR}: {'/'.join(p.connect.states().get(LAB_CONNECTOR, []))}"
