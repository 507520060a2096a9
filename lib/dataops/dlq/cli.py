"""``dataops dlq``: the dead letters by reason, ``export`` to a file to fix, ``replay`` the fixed file."""

from __future__ import annotations

import argparse
from pathlib import Path

from dataops.cli_registry import CliContext, SubParsers, non_negative_seconds, positive


def cmd_dlq(args: argparse.Namespace, ctx: CliContext) -> int:
    dlq = ctx.pipeline(args).dlq
    summary = dlq.by_reason(minutes=args.minutes)
    if summary.empty:
        print(f"no dead letters in {dlq.topic}" + (f" in the last {args.minutes:g} min" if args.minutes else ""))
        return 0
    ctx.print_frame(summary)
    print(f"\n{int(summary['count'].sum())} dead letters in {dlq.topic}; `dataops dlq export FILE` to fix them, `dataops dlq replay FILE` to send them back")
    return 0


def cmd_dlq_export(args: argparse.Namespace, ctx: CliContext) -> int:
    n = ctx.pipeline(args).dlq.export(args.file, reason=args.reason, minutes=args.minutes)
    print(f"{n} dead letters in {args.file}: fix the entries (one JSON object per line), then `dataops dlq replay {args.file}`")
    return 0


def cmd_dlq_replay(args: argparse.Namespace, ctx: CliContext) -> int:
    report = ctx.pipeline(args).dlq.replay(args.file, reason=args.reason, wait_s=args.wait, dry_run=args.dry_run)
    if report.empty:
        print("nothing to replay")
        return 0
    ctx.print_frame(report)
    counts = report["status"].value_counts()
    print("\n" + ", ".join(f"{n} {status}" for status, n in counts.items()))
    return 1 if counts.get("sent", 0) else 0


def add_commands(sub: SubParsers) -> None:
    """Add ``dlq`` (and its ``export`` / ``replay``) to ``sub``."""
    p = sub.add_parser("dlq", help="the dead letters by reason (reason, count, newest, example); export and replay them",
                       description="The dead letters (crypto-prices-dlq): what the Flink job or the Iceberg sink rejected, by reason. "
                                   "To send them back: `dataops dlq export FILE`, fix the entries in FILE, `dataops dlq replay FILE`.")
    p.add_argument("--minutes", type=positive, default=None, help="only the dead letters of the last minutes (default: all)")
    p.set_defaults(func=cmd_dlq)
    dsub = p.add_subparsers(dest="action", metavar="ACTION")
    ps = dsub.add_parser("export", help="write the dead letters as JSONL to fix (one coin entry or raw poll per line)",
                         description="Write the dead letters as JSONL: {\"coin_id\", \"entry\"} per rejected coin, {\"raw\"} per unreadable poll.")
    ps.add_argument("file", type=Path, help="the JSONL file to write")
    ps.add_argument("--reason", help="only this reason (as `dataops dlq` lists it)")
    ps.add_argument("--minutes", type=positive, default=None, help="only the dead letters of the last minutes")
    ps.set_defaults(func=cmd_dlq_export)
    ps = dsub.add_parser("replay", help="send fixed dead letters back to the raw topic, skipping what is already in the table",
                         description="Check each entry against the record contract, skip the (coin_id, last_updated_at) already in "
                                     "the table, produce the rest to the raw topic and wait for them to land. Without FILE: the "
                                     "dead letters as they are (useful after the contract or the table changed). Exit 1 when "
                                     "something sent has not landed within --wait.")
    ps.add_argument("file", type=Path, nargs="?", default=None, help="the JSONL file of `dataops dlq export`, fixed")
    ps.add_argument("--reason", help="without FILE: only the dead letters of this reason")
    ps.add_argument("--wait", type=non_negative_seconds, default=60.0, metavar="SECONDS", help="wait this long for the rows to land (default 60; 0: do not wait)")
    ps.add_argument("--dry-run", action="store_true", help="check and report, send nothing")
    ps.set_defaults(func=cmd_dlq_replay)
