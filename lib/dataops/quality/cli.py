"""The data-quality command of the ``dataops`` CLI: ``quality`` (the suite on one layer, or on the
recorded samples; a CI gate with ``--min-success``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from dataops.cli_registry import CliContext, SubParsers, percent, positive, positive_int


def cmd_quality(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataops import quality

    suite = quality.load_suite(args.suite)
    if args.samples:
        from dataops.quality.samples import run_on_samples

        layer, report = "samples", run_on_samples(suite=suite)
    else:
        p = ctx.pipeline(args)
        if args.when_up and not all(p.stack.process(name) for name in ("kafka", "flink-taskmanager")):
            print("the project's stack is not running: live run skipped (`make up` starts it)")
            return 0
        layer = "table" if args.table else args.layer
        report = quality.run_on_layer(p, layer, suite, n=args.polls, minutes=args.minutes)
    ctx.print_frame(report.results[["check", "status", "failing_rows", "message"]])
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


def add_commands(sub: SubParsers) -> None:
    """Add ``quality`` to ``sub``."""
    p = sub.add_parser("quality", help="run the data-quality suite on one layer (exit 1 on a failure, or below --min-success)")
    p.add_argument("--layer", choices=["raw", "exploded", "table"], default="raw",
                   help="raw polls (crypto-prices), exploded rows (crypto-prices-exploded) or the Iceberg table (default raw)")
    p.add_argument("--table", action="store_true", help="the same as --layer table")
    p.add_argument("--samples", action="store_true", help="the recorded samples in data/samples instead of a live layer (no stack needed)")
    p.add_argument("--when-up", action="store_true", help="only when this project's stack is running (else exit 0 saying so): a CI step")
    p.add_argument("--report", type=Path, help="write the JSON report to this file or folder (e.g. build/reports)")
    p.add_argument("--min-success", type=percent, default=None,
                   help="exit 1 when the success rate (%%) is below this, instead of on any failure (a CI gate)")
    p.add_argument("--polls", type=positive_int, default=500, help="newest raw polls (or exploded rows) checked (default 500)")
    p.add_argument("--minutes", type=positive, default=None, help="only records of the last minutes (table: default 60; topics: all of --polls)")
    p.add_argument("--suite", help="suite YAML (default data/quality/suite.yaml)")
    p.set_defaults(func=cmd_quality)
