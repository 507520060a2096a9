"""The DuckDB layer's command of the ``dataops`` CLI: ``sql`` (a query on the Iceberg table)."""

from __future__ import annotations

import argparse

from dataops.cli_registry import CliContext, SubParsers


def cmd_sql(args: argparse.Namespace, ctx: CliContext) -> int:
    ctx.print_frame(ctx.pipeline(args).sql(args.query))
    return 0


def add_commands(sub: SubParsers) -> None:
    """Add ``sql`` to ``sub``."""
    p = sub.add_parser("sql", help="run a DuckDB query on the Iceberg table (crypto_prices_exploded)")
    p.add_argument("query", help='e.g. "SELECT coin_id, count(*) FROM crypto_prices_exploded GROUP BY 1"')
    p.set_defaults(func=cmd_sql)
