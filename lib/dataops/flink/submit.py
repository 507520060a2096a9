"""Submit a Flink SQL file to the session cluster (runs in a child process).

Run by :func:`dataops.flink.job.submit_sql_job` with the Flink wheels on ``PYTHONPATH``:
pyflink starts its own JVM gateway to plan the job, so it stays out of the
notebook's process. Prints one JSON line: ``{"jid": ..., "restored_from": ...}``.

With ``--when-told`` it starts ahead (:mod:`dataops.flink.prewarm`, while ``up`` starts the stack): it
starts the JVM and warms the planner on a throw-away query (together ~10 s of a cold JVM, under a
second in a warm one), then reads one JSON line on stdin, ``{"restore": PATH or null}``, and submits;
an empty line or the end of stdin: it exits without submitting anything.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path


#: The environment variable carrying ``{"params": {...}, "config": {...}}`` that the command line must not
#: (the job's Kafka security options, a TLS client's settings): merged over ``--params`` and ``--config``.
SECRETS_VAR = "DATAOPS_FLINK_SUBMIT_SECRETS"
VIEW = re.compile(r"(?:\s*--[^\n]*\n)*\s*CREATE TEMPORARY VIEW (\w+) AS\s+(.*)", re.S)


def plan_statements(sql: str, params: dict[str, str]) -> list[str]:
    """Fill ``${name}`` placeholders and split on lines holding only ``;``."""
    text = re.sub(r"\$\{(\w+)\}", lambda m: params[m.group(1)], sql)
    return [s.strip() for s in re.split(r"\n;\s*\n|\n;\s*$", text) if s.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sql", required=True, help="the SQL file")
    ap.add_argument("--params", required=True, help="JSON object of ${placeholders}")
    ap.add_argument("--config", required=True, help="JSON object of Flink configuration")
    ap.add_argument("--restore", default=None, help="checkpoint or savepoint to resume from")
    ap.add_argument("--when-told", action="store_true", help="warm up, then wait for one JSON line on stdin: {\"restore\": PATH|null}")
    args = ap.parse_args(argv)
    # What must not be on a command line (others may read it): the Kafka login, the key stores' password.
    hidden = json.loads(os.environ.pop(SECRETS_VAR, "") or "{}")
    params = {**json.loads(args.params), **hidden.get("params", {})}
    flink_config = {**json.loads(args.config), **hidden.get("config", {})}

    os.environ.setdefault("_python_worker_execution_mode", "process")
    from pyflink.common import Configuration
    from pyflink.table import EnvironmentSettings, TableEnvironment

    def environment(restore: str | None) -> TableEnvironment:
        conf = Configuration()
        for key, value in flink_config.items():
            conf.set_string(key, str(value))
        if restore:
            conf.set_string("execution.state-recovery.path", restore)
        return TableEnvironment.create(EnvironmentSettings.new_instance().in_streaming_mode().with_configuration(conf).build())

    def prepare(tenv: TableEnvironment) -> str:
        """Every statement but the last (tables, views); the last one (the STATEMENT SET that submits)."""
        *first, last = plan_statements(Path(args.sql).read_text(), params)
        for statement in first:
            view = VIEW.match(statement)
            if view:
                # A view registered as a Table is planned once and shared by every sink that
                # reads it; a SQL view would be inlined, repeating its JSON parsing per use.
                tenv.create_temporary_view(view.group(1), tenv.sql_query(view.group(2)))
            else:
                tenv.execute_sql(statement)
        return last

    if args.when_told:
        os.nice(10)  # a guest beside the components starting (its JVM inherits it); yielding, even so,
        # it slowed their start on 2 cores as much as it saved: prewarm.MIN_CPUS
        try:  # the very job, planned and explained, not run: planned again later in 0.1-0.3 s
            warm = environment(None)
            warm.explain_sql(prepare(warm))
        except Exception as exc:  # noqa: BLE001 - only a warm-up: the submission will say what is wrong
            print(f"warm-up: {type(exc).__name__}: {str(exc)[:300]}", file=sys.stderr)
        print(json.dumps({"ready": True}), flush=True)
        line = sys.stdin.readline()
        if not line.strip():
            return 0  # not needed after all: nothing submitted
        args.restore = json.loads(line).get("restore")

    t0 = time.monotonic()
    tenv = environment(args.restore)
    last = prepare(tenv)
    t1 = time.monotonic()
    result = tenv.execute_sql(last)  # the final STATEMENT SET submits the job
    print(f"planned in {t1 - t0:.1f} s, submitted in {time.monotonic() - t1:.1f} s", file=sys.stderr)
    client = result.get_job_client() if result is not None else None
    if client is None:
        print(json.dumps({"error": "the SQL file submitted no job"}))
        return 1
    print(json.dumps({"jid": str(client.get_job_id()), "restored_from": args.restore}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
