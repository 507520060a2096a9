"""The Iceberg table's command of the ``dataops`` CLI: ``maintain`` (the four steps of
:mod:`dataops.iceberg.maintenance`, now; the monitor runs them every 10 minutes)."""

from __future__ import annotations

import argparse

from dataops.cli_registry import CliContext, SubParsers, non_negative_seconds


def cmd_maintain(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataops.iceberg.maintenance import maintain

    p = ctx.pipeline(args)
    ctx.print_frame(maintain(p.iceberg, args.table, keep_s=args.keep_s, orphan_age_s=args.orphan_age_s))
    return 0


def add_commands(sub: SubParsers) -> None:
    """Add ``maintain`` to ``sub``."""
    p = sub.add_parser("maintain", help="compact the table's small files, expire old snapshots, delete orphan files "
                                        "(the monitor runs it every maintenance_interval_s)")  # fmt: skip
    p.add_argument("--table", help="namespace.table (default: the exploded rows' table)")
    p.add_argument("--keep-s", type=non_negative_seconds, default=3600.0, help="keep the snapshots of the last this many seconds (default 3600)")
    p.add_argument("--orphan-age-s", type=non_negative_seconds, default=3600.0,
                   help="delete unreferenced files only when older than this (default 3600; a sink's file in flight is younger)")  # fmt: skip
    p.set_defaults(func=cmd_maintain)
