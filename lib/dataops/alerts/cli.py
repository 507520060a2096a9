"""The alerting commands of the ``dataops`` CLI: alerts, prometheus-rules, scenario (the rules
backtested on an incident scenario, or the scenario replayed live)."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from dataops.cli_registry import CliContext, SubParsers, non_negative_int, positive
from dataops.errors import AlertConfigError, DataOpsError, ScenarioError


def cmd_alerts(args: argparse.Namespace, ctx: CliContext) -> int:
    import time

    from dataops import alerts

    rules = alerts.load_rules(args.rules)
    if args.fail_on:
        levels = alerts.load_levels()
        unknown = [level for level in args.fail_on if level.upper() not in levels]
        if unknown:
            raise AlertConfigError(f"--fail-on {unknown[0]}: nivel desconocido", f"elige entre {', '.join(levels)}")
    p = ctx.pipeline(args)
    columns = ["rule", "severity", "metric", "labels", "status", "value", "since"]
    if not args.watch:
        results = alerts.evaluate(rules, p.metrics(minutes=args.minutes))
        ctx.print_frame(results[columns] if args.all else results[results["status"] != "ok"][columns])
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


def cmd_prometheus_rules(args: argparse.Namespace, ctx: CliContext) -> int:
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


def cmd_scenario(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataops import alerts, scenarios

    if not args.name:
        ctx.print_frame(scenarios.scenarios())
        return 0
    scenario = scenarios.load_scenario(args.name)
    rules = None if args.replay else alerts.load_rules(args.rules)  # a wrong file is refused before the history is rendered
    if args.replay:
        p = ctx.pipeline(args)
        name = p.settings.iceberg_connector_name
        timers: list[threading.Timer] = []
        failed: list[DataOpsError] = []

        def resume() -> None:
            try:
                p.connect.resume(name)
            except DataOpsError as exc:  # reported by the main thread once the replay is over
                failed.append(exc)

        def pause(duration_s: float) -> str:
            """The scenario's stopped consumer: the Iceberg sink connector, paused for a while."""
            p.connect.pause(name)
            timers.append(threading.Timer(duration_s, resume))
            timers[-1].start()
            return f"{name} paused for {duration_s:g} s"

        print(f"Replaying {scenario.name} at {args.speed:g}x ({scenario.duration_s / args.speed:.0f} s)…", flush=True)
        ctx.print_frame(scenarios.replay(scenario, p.source, pause_consumer=pause, speed=args.speed))
        for timer in timers:  # the command ends when the pauses do
            timer.join()
        if failed:
            raise ScenarioError(f"no se pudo reanudar el conector {name} al acabar la pausa del escenario ({failed[0].message})",
                                "sigue en pausa: `dataops up` lo reanuda")  # fmt: skip
        return 0
    history, incidents = scenarios.render_history(scenario, seed=args.seed)
    report = alerts.backtest(rules, history, incidents)
    ctx.print_frame(report[["rule", "severity", "episodes", "precision", "detected", "recall", "mean_delay_s"]])
    return 0


def add_commands(sub: SubParsers) -> None:
    """Add ``alerts``, ``prometheus-rules`` and ``scenario`` to ``sub``."""
    p = sub.add_parser("alerts", help="evaluate the alert rules on the monitor's metrics (exit 1 when one fires)")
    p.add_argument("--minutes", type=positive, default=15.0, help="history evaluated (default 15)")
    p.add_argument("--rules", help="rules YAML (default data/alerts/rules.yaml)")
    p.add_argument("--all", action="store_true", help="also list the rules that are ok")
    p.add_argument("--watch", type=positive, metavar="SECONDS", help="keep evaluating; print and log each fired/resolved alert")
    p.add_argument("--fail-on", action="append", metavar="LEVEL", help="exit 1 only when an alert of this level fires (repeatable; e.g. CRITICAL)")
    p.set_defaults(func=cmd_alerts)

    p = sub.add_parser("prometheus-rules", help="the alert rules as a Prometheus rule file (YAML on stdout, or --out FILE)")
    p.add_argument("--rules", help="rules YAML (default data/alerts/rules.yaml)")
    p.add_argument("--out", type=Path, help="write the rule file here instead of printing it")
    p.set_defaults(func=cmd_prometheus_rules)

    p = sub.add_parser("scenario", help="list the incident scenarios, backtest the rules on one, or replay it live")
    p.add_argument("name", nargs="?", help="scenario name (none: list them)")
    p.add_argument("--replay", action="store_true", help="inject its faults into the running simulator (a stopped consumer pauses the Iceberg sink)")
    p.add_argument("--speed", type=positive, default=1.0, help="replay speed-up (default 1)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the rendered history (default 0)")
    p.add_argument("--rules", help="rules YAML (default data/alerts/rules.yaml)")
    p.set_defaults(func=cmd_scenario)
