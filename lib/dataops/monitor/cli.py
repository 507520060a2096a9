"""The monitor's command of the ``dataops`` CLI: ``monitor`` (the newest metrics, or live lines)."""

from __future__ import annotations

import argparse

from dataops.cli_registry import CliContext, SubParsers, positive, positive_int


def cmd_monitor(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataops.monitor import start_monitoring
    from dataops.monitor.dashboard import console

    p = ctx.pipeline(args)
    if not args.console:
        ctx.print_frame(p.monitor.latest())
        return 0
    monitor = start_monitoring(args.topic or None, interval_s=args.interval, settings=p.settings, dashboard=False)
    try:
        console(monitor, interval_s=args.interval, iterations=args.count, log=p.settings.paths.alert_log)
    except KeyboardInterrupt:
        pass
    finally:
        monitor.stop()
    return 0


def add_commands(sub: SubParsers) -> None:
    """Add ``monitor`` to ``sub``."""
    p = sub.add_parser("monitor", help="the newest metrics; with --console, live lines per topic and an ALERT line when a rule fires")
    p.add_argument("--console", action="store_true", help="print messages so far and messages/s per topic every --interval; Ctrl-C stops")
    p.add_argument("--topic", action="append", help="topic to show, repeatable (default crypto-prices and crypto-prices-exploded)")
    p.add_argument("--interval", type=positive, default=5.0, help="seconds between lines (default 5)")
    p.add_argument("--count", type=positive_int, default=None, help="stop after this many rounds (default: until Ctrl-C)")
    p.set_defaults(func=cmd_monitor)
