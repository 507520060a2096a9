"""The ``dataops`` command: run and inspect the local pipeline.

Every sub-command has ``--help``. Errors print one line (``error: … : what to do``)
and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from dataops.dlq import cli as dlq_cli
from dataops.iceberg import maintenance
from dataops.ci import cli as ci_cli
from dataops.course import cli as course_cli
from dataops.errors import DataOpsError


def _pipeline(args: argparse.Namespace):
    from dataops.pipeline import connect

    return connect(profile=args.profile)


def _print_frame(df) -> None:
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 80):
        print(df.to_string(index=False))


def cmd_up(args: argparse.Namespace) -> int:
    p = _pipeline(args)
    print("Starting the local pipeline…", flush=True)
    if args.components:
        p.stack.up(args.components)
    else:
        p.up(setup=not args.no_setup, ready_timeout_s=args.ready_timeout if args.ready_timeout > 0 else None)
    if args.with_:
        p.stack.up(args.with_)
    print()
    _print_frame(p.status())
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from dataops.errors import ConfigError
    from dataops.pipeline import connect

    try:
        p = _pipeline(args)
    except ConfigError as exc:  # a broken .env must not keep the stack running
        print(f"warning: {exc}; stopping with the default settings", file=sys.stderr)
        p = connect(profile="local", env_file="/dev/null")
    p.down()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    _print_frame(_pipeline(args).status())
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    print(_pipeline(args).logs(args.component, args.lines))
    return 0


def cmd_install(args: argparse.Namespace) -> int:
    from dataops import stack

    p = _pipeline(args)
    paths = p.settings.paths
    stack.install_artifacts(paths)
    print(f"JVM artifacts in {paths.lib} and {paths.plugins}")
    return 0


def _declaration(p, args: argparse.Namespace):
    from dataops import automation

    return automation.load(p.settings, path=args.file, extra=args.extra)


def cmd_pipeline_plan(args: argparse.Namespace) -> int:
    try:  # exit 2 means "changes pending" here: an error is 1
        p = _pipeline(args)
        plan = p.plan(_declaration(p, args))
    except DataOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _print_frame(plan)
    pending = plan.attrs["pending"]
    print("changes pending: run `dataops pipeline apply`" if pending else "nothing to do: what runs is what is declared")
    return 2 if pending else 0


def cmd_pipeline_apply(args: argparse.Namespace) -> int:
    p = _pipeline(args)
    decl = _declaration(p, args)
    print(f"Applying {decl.source}:", flush=True)
    report = p.apply(decl, validate=not args.no_validate, progress=True, within_s=args.within)
    return 0 if report.attrs["ok"] else 1


def cmd_pipeline_validate(args: argparse.Namespace) -> int:
    p = _pipeline(args)
    decl = _declaration(p, args)
    print(f"Validating {decl.source}:", flush=True)
    report = p.validate(decl, progress=True, within_s=args.within)
    return 0 if report.attrs["ok"] else 1


def cmd_config(args: argparse.Namespace) -> int:
    for key, value in _pipeline(args).settings.masked().items():
        print(f"{key:<28} {value}")
    return 0


def cmd_fault(args: argparse.Namespace) -> int:
    src = _pipeline(args).source
    if args.clear or args.name == "clear":
        print(f"{src.clear_faults()} fault(s) cleared")
        return 0
    if not args.name:
        _print_frame(src.faults())
        return 0
    params = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep:
            raise DataOpsError(f"--param {item!r} is not KEY=VALUE", "e.g. --param coin=ethereum")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    fault = src.inject_fault(args.name, duration_s=args.duration, **params)
    print(json.dumps(fault))
    return 0


def cmd_monitor(args: argparse.Namespace) -> int:
    from dataops.monitor import start_monitoring
    from dataops.monitor.dashboard import console

    p = _pipeline(args)
    if not args.console:
        _print_frame(p.monitor.latest())
        return 0
    monitor = start_monitoring(args.topic or None, interval_s=args.interval, settings=p.settings, dashboard=False)
    try:
        console(monitor, interval_s=args.interval, iterations=args.count, log=p.settings.paths.alert_log)
    except KeyboardInterrupt:
        pass
    finally:
        monitor.stop()
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    _print_frame(_pipeline(args).sql(args.query))
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    import time

    from dataops import alerts

    rules = alerts.load_rules(args.rules)
    p = _pipeline(args)
    columns = ["rule", "severity", "metric", "labels", "status", "value", "since"]
    if not args.watch:
        results = alerts.evaluate(rules, p.metrics(minutes=args.minutes))
        _print_frame(results[columns] if args.all else results[results["status"] != "ok"][columns])
        firing = results[results["status"] == "firing"]
        if args.fail_on:  # a post-deploy gate: only these levels fail it
            firing = firing[firing["severity"].isin([level.upper() for level in args.fail_on])]
            print(f"\n{len(firing)} firing at {'/'.join(level.upper() for level in args.fail_on)}: {'✘' if len(firing) else '✔'}")
        return 1 if len(firing) else 0
    log = p.settings.paths.alert_log
    logfile = alerts.LogFileNotifier(log, p.settings.log_max_bytes, p.settings.log_backups)
    manager = alerts.AlertManager(notifiers=[alerts.ConsoleNotifier(), logfile])
    print(f"Evaluating {len(rules)} rules every {args.watch:g} s (events also in {log}); Ctrl-C to stop.", flush=True)
    while True:
        manager.process(alerts.evaluate(rules, p.metrics(minutes=args.minutes)))
        time.sleep(args.watch)


def cmd_prometheus_rules(args: argparse.Namespace) -> int:
    from dataops import alerts

    rules = alerts.load_rules(args.rules)
    text = alerts.to_prometheus_yaml(rules)
    if not args.out:
        print(text, end="")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"{len(rules)} alerting rules in {args.out} (check: promtool check rules {args.out})")
    return 0


def cmd_quality(args: argparse.Namespace) -> int:
    from dataops import quality

    suite = quality.load_suite(args.suite)
    if args.samples:
        from dataops.ci.checks import sample_quality

        layer, report = "samples", sample_quality(suite=suite)
    else:
        p = _pipeline(args)
        if args.when_up and not all(p.stack.process(name) for name in ("kafka", "flink-taskmanager")):
            print("the project's stack is not running: live run skipped (`make up` starts it)")
            return 0
        layer = "table" if args.table else args.layer
        report = quality.run_on_layer(p, layer, suite, n=args.polls, minutes=args.minutes)
    _print_frame(report.results[["check", "status", "failing_rows", "message"]])
    if args.report:
        print(f"\nreport: {report.to_json(args.report)}")
    summary = report.summary()
    if summary["success_rate"] is None:
        print("\nscore: not enough data yet (no check had records to judge): wait for a few polls and run it again")
        return 1
    print(f"\n{layer}: {summary['passed']}/{summary['passed'] + summary['failed']} passed, "
          f"success rate {summary['success_rate']:.1f}% ({summary['band']})")  # fmt: skip
    if args.min_success is not None:
        return 0 if summary["success_rate"] >= args.min_success else 1
    return 0 if report.passed else 1


def cmd_scenario(args: argparse.Namespace) -> int:
    from dataops import alerts, scenarios

    if not args.name:
        _print_frame(scenarios.scenarios())
        return 0
    scenario = scenarios.load_scenario(args.name)
    if args.replay:
        p = _pipeline(args)

        def pause(duration_s: float) -> str:
            """The scenario's stopped consumer: the Iceberg sink connector, paused for a while."""
            import threading

            name = p.settings.iceberg_connector_name
            p.connect.pause(name)
            threading.Timer(duration_s, p.connect.resume, args=(name,)).start()
            return f"{name} paused for {duration_s:g} s"

        print(f"Replaying {scenario.name} at {args.speed:g}x ({scenario.duration_s / args.speed:.0f} s)…", flush=True)
        _print_frame(scenarios.replay(scenario, p.source, pause_consumer=pause, speed=args.speed))
        return 0
    history, incidents = scenarios.render_history(scenario, seed=args.seed)
    report = alerts.backtest(alerts.load_rules(args.rules), history, incidents)
    _print_frame(report[["rule", "severity", "episodes", "precision", "detected", "recall", "mean_delay_s"]])
    return 0


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be greater than 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dataops", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["local", "confluent"], help="override DATAOPS_PROFILE")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("up", help="start the local pipeline (idempotent) and set it up")
    p.add_argument("components", nargs="*", help="only these components (no set-up)")
    p.add_argument("--no-setup", action="store_true", help="skip topic and connector set-up")
    p.add_argument("--with", dest="with_", action="append", default=[], metavar="COMPONENT",
                   help="also start an optional component: prometheus (scrapes the monitor, evaluates the alert rules)")
    p.add_argument("--ready-timeout", type=float, default=120.0, metavar="SECONDS",
                   help="after set-up, wait this long for every layer to report (default 120; 0: do not wait)")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("down", help="stop what this project started")
    p.set_defaults(func=cmd_down)

    p = sub.add_parser("status", help="one table: component, pid, port, health, uptime")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("logs", help="the last lines of a component's log")
    p.add_argument("component", help="simulator, kafka, connect, flink-jobmanager, flink-taskmanager, flink-submit, mvn")
    p.add_argument("-n", "--lines", type=int, default=50, help="how many lines (default 50)")
    p.set_defaults(func=cmd_logs)

    p = sub.add_parser("install", help="download the JVM artifacts with mvn (done by `up` when missing)")
    p.set_defaults(func=cmd_install)

    p = sub.add_parser("pipeline", help="pipeline automation")
    psub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    helps = {
        "plan": ("desired vs actual per resource; exit 0 when nothing to do, 2 when changes are pending", cmd_pipeline_plan),
        "apply": ("make the pipeline what data/pipeline/pipeline.yaml declares (idempotent), step by step", cmd_pipeline_apply),
        "setup": ("the same as apply (the course's setup-pipeline)", cmd_pipeline_apply),
        "validate": ("the checks alone: prerequisites, each resource, end to end (exit 1 on a ✘)", cmd_pipeline_validate),
    }
    for name, (text, func) in helps.items():
        ps = psub.add_parser(name, help=text, description=text)
        ps.add_argument("--file", type=Path, default=None, help="the declaration (default data/pipeline/pipeline.yaml)")
        ps.add_argument("--extra", type=Path, default=None, help="a YAML file whose resources and checks extend the declaration")
        if name != "plan":
            ps.add_argument("--within", type=_positive, default=60.0, help="seconds the end-to-end checks may wait (default 60)")
        if name in ("apply", "setup"):
            ps.add_argument("--no-validate", action="store_true", help="skip the end-to-end validation")
        ps.set_defaults(func=func)

    p = sub.add_parser("config", help="print the settings (secrets masked)")
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("fault", help="inject a fault into the CoinGecko simulator, list or clear faults")
    p.add_argument("name", nargs="?", help="rate_limit, outage, latency, malformed, schema_drift, freeze, missing_coin, spike; `clear` clears them all")
    p.add_argument("--duration", type=float, default=30.0, help="seconds (default 30)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="fault parameter, repeatable")
    p.add_argument("--clear", action="store_true", help="clear every active fault")
    p.set_defaults(func=cmd_fault)

    p = sub.add_parser("monitor", help="the newest metrics; with --console, live lines per topic and an ALERT line when a rule fires")
    p.add_argument("--console", action="store_true", help="print messages so far and messages/s per topic every --interval; Ctrl-C stops")
    p.add_argument("--topic", action="append", help="topic to show, repeatable (default crypto-prices and crypto-prices-exploded)")
    p.add_argument("--interval", type=_positive, default=5.0, help="seconds between lines (default 5)")
    p.add_argument("--count", type=int, default=None, help="stop after this many rounds (default: until Ctrl-C)")
    p.set_defaults(func=cmd_monitor)

    p = sub.add_parser("sql", help="run a DuckDB query on the Iceberg table (crypto_prices_exploded)")
    p.add_argument("query", help='e.g. "SELECT coin_id, count(*) FROM crypto_prices_exploded GROUP BY 1"')
    p.set_defaults(func=cmd_sql)

    p = sub.add_parser("alerts", help="evaluate the alert rules on the monitor's metrics (exit 1 when one fires)")
    p.add_argument("--minutes", type=float, default=15.0, help="history evaluated (default 15)")
    p.add_argument("--rules", help="rules YAML (default data/alerts/rules.yaml)")
    p.add_argument("--all", action="store_true", help="also list the rules that are ok")
    p.add_argument("--watch", type=float, metavar="SECONDS", help="keep evaluating; print and log each fired/resolved alert")
    p.add_argument("--fail-on", action="append", metavar="LEVEL", help="exit 1 only when an alert of this level fires (repeatable; e.g. CRITICAL)")
    p.set_defaults(func=cmd_alerts)

    p = sub.add_parser("prometheus-rules", help="the alert rules as a Prometheus rule file (YAML on stdout, or --out FILE)")
    p.add_argument("--rules", help="rules YAML (default data/alerts/rules.yaml)")
    p.add_argument("--out", type=Path, help="write the rule file here instead of printing it")
    p.set_defaults(func=cmd_prometheus_rules)

    p = sub.add_parser("quality", help="run the data-quality suite on one layer (exit 1 on a failure, or below --min-success)")
    p.add_argument("--layer", choices=["raw", "exploded", "table"], default="raw",
                   help="raw polls (crypto-prices), exploded rows (crypto-prices-exploded) or the Iceberg table (default raw)")
    p.add_argument("--table", action="store_true", help="the same as --layer table")
    p.add_argument("--samples", action="store_true", help="the recorded samples in data/samples instead of a live layer (no stack needed)")
    p.add_argument("--when-up", action="store_true", help="only when this project's stack is running (else exit 0 saying so): a CI step")
    p.add_argument("--report", type=Path, help="write the JSON report to this file or folder (e.g. build/reports)")
    p.add_argument("--min-success", type=float, default=None,
                   help="exit 1 when the success rate (%%) is below this, instead of on any failure (a CI gate)")
    p.add_argument("--polls", type=int, default=500, help="newest raw polls (or exploded rows) checked (default 500)")
    p.add_argument("--minutes", type=float, default=None, help="only records of the last minutes (table: default 60; topics: all of --polls)")
    p.add_argument("--suite", help="suite YAML (default data/quality/suite.yaml)")
    p.set_defaults(func=cmd_quality)

    p = sub.add_parser("scenario", help="list the incident scenarios, backtest the rules on one, or replay it live")
    p.add_argument("name", nargs="?", help="scenario name (none: list them)")
    p.add_argument("--replay", action="store_true", help="inject its faults into the running simulator (a stopped consumer pauses the Iceberg sink)")
    p.add_argument("--speed", type=_positive, default=1.0, help="replay speed-up (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the rendered history (default 0)")
    p.add_argument("--rules", help="rules YAML (default data/alerts/rules.yaml)")
    p.set_defaults(func=cmd_scenario)

    dlq_cli.add_commands(sub, _pipeline, _print_frame, _positive)
    maintenance.add_commands(sub, _pipeline, _print_frame)
    course_cli.add_commands(sub, _pipeline, _print_frame)
    ci_cli.add_commands(sub, _print_frame)
    return parser


def _crash_log() -> Path:
    """Where an unexpected error's traceback goes (the state folder's logs, else a temp file)."""
    import tempfile

    from dataops.config import PROJECT_ROOT

    folder = PROJECT_ROOT / ".stack" / "logs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir())
    return folder / "cli-errors.log"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DataOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - never a traceback on the terminal: one line, the rest in a log
        import time
        import traceback

        log = _crash_log()
        with log.open("a", encoding="utf-8") as fh:
            fh.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} dataops {' '.join(sys.argv[1:])}\n{traceback.format_exc()}")
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        print(f"error: unexpected {type(exc).__name__}: {first}: the traceback is in {log}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
