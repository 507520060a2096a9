"""`dataops reset` brings a class's leftovers back to what a fresh `up` gives."""

from __future__ import annotations

import pytest

from dataops.course import block3
from dataops.course.reset import internal_topic, reset
from dataops.metrics import METRICS, Sample
from tests.course.checkout import course_checkout
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration


def test_reset_undoes_what_a_class_leaves_behind(pipeline, tmp_path):
    p = pipeline
    data = course_checkout(tmp_path / "course")  # a copy: the real data/ may hold a developer's edits
    rules = data / "alerts" / "rules.yaml"
    committed = rules.read_text()
    rules.write_text(committed.replace("severity: CRITICAL", "severity: LOW"))  # a learner's edit
    p.kafka.ensure_topic("crypto-alerts", 1, {"retention.ms": "86400000", "cleanup.policy": "delete"})
    assert p.apply(block3.LAB, validate=False).attrs["ok"]  # a practice's topic and connector, left behind
    p.connect.pause(p.settings.iceberg_connector_name)
    wait_for(lambda: "PAUSED" in p.connect.states()[p.settings.iceberg_connector_name], 30, "the sink to pause")
    p.source.inject_fault("latency", duration_s=90, delay_s=0.2)
    p.monitor.store.write([Sample("metrica_del_alumno", 1.0)])
    try:
        steps = reset(p, data_dir=data).set_index("paso")["resultado"]
    finally:  # never leave the session's sink paused or its source slowed
        p.connect.resume(p.settings.iceberg_connector_name)
        p.source.clear_faults()
    assert "crypto-alerts" in steps["tópicos añadidos"] and "metrica_del_alumno" in steps["métricas añadidas"]
    assert block3.LAB_CONNECTOR in steps["conectores añadidos"] and block3.LAB_CONNECTOR not in p.connect.states()
    assert block3.LAB_TOPIC in steps["tópicos añadidos"]
    assert p.source.faults().empty
    assert "data/alerts/rules.yaml" in steps["ficheros del curso (data/)"] and rules.read_text() == committed
    assert not any("PAUSED" in states for states in p.connect.states().values())
    user_topics = {t for t in p.kafka.topic_names() if not internal_topic(t)}
    assert user_topics == {t.name for t in p.declaration().topics}
    assert set(p.monitor.store.metrics()) <= set(METRICS)
    assert p.health()["state"].isin(["green", "amber"]).all()
