"""Run the explode job's own SQL on a few raw bodies in a local Flink (no Kafka), print its verdicts.

A child process of ``tests/integration/test_dlq.py`` with the Flink wheels on ``PYTHONPATH``:
the job's function and views (``polls``, ``coin_rows``) are planned from ``lib/dataops/flink/explode.sql``
exactly as submitted, over a ``raw_polls`` made of the given bodies instead of the Kafka topic.
Reads a JSON list of bodies on stdin; prints one JSON line: a list of
``[body index, poll_error, coin_id, reason]``.
"""

from __future__ import annotations

import json
import os
import re
import sys


def main() -> int:
    os.environ.setdefault("_python_worker_execution_mode", "process")
    from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment

    from dataops.config import load_settings
    from dataops.flink.job import EXPLODE_SQL, job_params
    from dataops.flink.submit import VIEW, plan_statements

    bodies = json.load(sys.stdin)
    settings = load_settings(env_file="/nonexistent")
    tenv = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    tenv.get_config().set("table.local-time-zone", "UTC")
    tenv.get_config().set("pipeline.jars", settings.paths.flink_udf_jar.as_uri())  # JSON_MEMBERS
    rows = [(b, "t", 0, i) for i, b in enumerate(bodies)]
    schema = DataTypes.ROW([DataTypes.FIELD("body", DataTypes.STRING()), DataTypes.FIELD("src_topic", DataTypes.STRING()),
                            DataTypes.FIELD("src_partition", DataTypes.INT()), DataTypes.FIELD("src_offset", DataTypes.BIGINT())])
    tenv.create_temporary_view("raw_elements", tenv.from_elements(rows, schema))
    tenv.create_temporary_view("raw_polls", tenv.sql_query(
        "SELECT *, CAST(NULL AS TIMESTAMP_LTZ(3)) AS src_timestamp FROM raw_elements"))
    for statement in plan_statements(EXPLODE_SQL.read_text(), job_params(settings)):
        view = VIEW.match(statement)
        if view:
            tenv.create_temporary_view(view.group(1), tenv.sql_query(view.group(2)))
        elif re.match(r"(?:\s*--[^\n]*\n)*\s*CREATE TEMPORARY FUNCTION", statement):
            tenv.execute_sql(statement)
    out = [[r[0], r[1], None, None] for r in tenv.sql_query(
        "SELECT src_offset, poll_error FROM polls WHERE poll_error IS NOT NULL").execute().collect()]
    out += [[r[0], None, r[1], r[2]] for r in tenv.sql_query(
        "SELECT src_offset, coin_id, reason FROM coin_rows").execute().collect()]
    print(json.dumps(sorted(out, key=lambda x: (x[0], x[2] or ""))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
