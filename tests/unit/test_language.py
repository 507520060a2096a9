"""The detector of English prose in notebook outputs (tests/notebooks/test_course.py runs it on
every executed master and learner version)."""

from __future__ import annotations

import json

import pytest

from dataops.course.language import english, english_lines

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("line", [
    "error: port 8790 needed by simulator is already in use: stop the process listening on 8790",
    "Kafka is not reachable: start the stack with make up",
    "the connector failed and its task will be restarted",
    "✘ the topic must have 1 partition",
])  # fmt: skip
def test_english_sentences_are_caught(line):
    assert english(line)


@pytest.mark.parametrize("line", [
    "✔ Práctica 1 · montaje automático: todo en orden",
    "El tópico crypto-prices-dlq recibe lo que no cumple el contrato, con su motivo",
    "  coin_id   usd   usd_24h_change  event_time",
    "SELECT coin_id, usd FROM precios WHERE usd IS NOT NULL ORDER BY ts",
    "ejecuta `make up` o `dataops doctor`; mira http://localhost:8083/connectors",
    "Kafka, Connect, Flink, Iceberg y DuckDB: la dead letter queue guarda el motivo",
    "retention.ms=86400000 cleanup.policy=delete",
    "  motivo: missing_or_null:usd, not_finite:usd_market_cap  (3 filas)",
    "p.kafka.latest() · json.loads · isNaN",
    "dbc8157 Spanish where a learner reads it: the details and the fixes of the plan",
    "* 3f2a9c1 (HEAD -> main) Merge the branch that adds the schema check",
    "",
])  # fmt: skip
def test_spanish_and_code_are_not(line):
    assert not english(line)


def test_english_lines_reads_every_kind_of_output(tmp_path):
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": ["✔ listo\n", "the stack is not running, start it\n"]},
        {"output_type": "error", "ename": "DataOpsError", "evalue": "Connect is down: restart it with make up", "traceback": []},
        {"output_type": "display_data", "data": {"text/html": "<table><tr><td>this cell has failed to run</td></tr></table><script>var the=1, and=2;</script>",
                                                 "text/plain": "ignored when html is there"}, "metadata": {}},
        {"output_type": "execute_result", "data": {"text/plain": "paso  estado\n0  tópicos  ✔"}, "metadata": {}, "execution_count": 1},
    ]  # fmt: skip
    nb = {"cells": [{"cell_type": "markdown", "source": "the prose of a markdown cell is not an output", "metadata": {}},
                    {"cell_type": "code", "source": "", "outputs": outputs, "metadata": {}, "execution_count": 1}]}  # fmt: skip
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb))
    assert english_lines(path) == [(2, "the stack is not running, start it"), (2, "DataOpsError: Connect is down: restart it with make up"),
                                   (2, "this cell has failed to run")]  # fmt: skip
