"""Command line of the simulator: ``python -m dataops.simulator --help``, and the
``dataops fault`` command that injects faults into a running one.

Kept apart from :mod:`dataops.simulator.__main__` so that ``main`` can be
imported (and re-exported by the package) without running anything.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from dataops import rotation
from dataops.cli_registry import CliContext, SubParsers, positive
from dataops.errors import DataOpsError
from dataops.signals import until_stopped
from dataops.simulator.market import DEFAULT_COINS, KNOWN_COINS
from dataops.simulator.server import Simulator
from dataops.coingecko import FREE_TIER_CALLS_PER_MIN, PLANS
from dataops.simulator.strict import StrictRules

logger = logging.getLogger(__name__)

__all__ = ["add_commands", "main"]


KEYS_ENV = "DATAOPS_SIMULATOR_API_KEYS"


def read_keys(path: str | None) -> list[str]:
    """The keys strict mode accepts: one per line of ``path``, else ``$DATAOPS_SIMULATOR_API_KEYS``
    (comma-separated). Read here, never put on the command line (``ps`` would show them)."""
    if path:
        try:
            text = open(path, encoding="utf-8").read().replace(",", "\n")
        except OSError as exc:
            raise SystemExit(f"error: no se pudo leer --api-keys-file {path}: {exc.strerror}") from None
    else:
        text = os.environ.get(KEYS_ENV, "").replace(",", "\n")
    return [line.strip() for line in text.splitlines() if line.strip()]


def parser() -> argparse.ArgumentParser:
    """The simulator's command line (one simulator; :mod:`.many` runs several, each with these arguments)."""
    parser = argparse.ArgumentParser(
        prog="python -m dataops.simulator",
        description="CoinGecko-compatible price API simulator with fault injection.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8090, help="TCP port (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=42, help="random-walk seed (default: %(default)s)")
    parser.add_argument("--refresh-s", type=float, default=1.0, help="seconds per price tick (default: %(default)s)")
    parser.add_argument(
        "--coins",
        default=",".join(DEFAULT_COINS),
        help=f"comma-separated coin ids (default: %(default)s; known: {', '.join(KNOWN_COINS)})",
    )
    parser.add_argument("--log", default=None, help="JSON-lines file of the served log (appended)")
    parser.add_argument("--log-max-mb", type=float, default=rotation.DEFAULT_MAX_BYTES / 2**20,
                        help="size at which the served log rotates (default: %(default)g)")
    parser.add_argument("--log-backups", type=int, default=rotation.DEFAULT_BACKUPS,
                        help="rotated served-log files kept besides the current one (default: %(default)s)")
    parser.add_argument("--strict", action="store_true",
                        help="CoinGecko's key and rate-limit rules: every /api/v3 call needs an accepted key")
    parser.add_argument("--plan", choices=PLANS, default="demo",
                        help="the host strict mode plays: demo (api.coingecko.com) or pro (default: %(default)s)")
    parser.add_argument("--calls-per-min", type=int, default=FREE_TIER_CALLS_PER_MIN,
                        help="calls one key may make per minute in strict mode (default: %(default)s)")
    parser.add_argument("--api-keys-file", default=None,
                        help=f"file of accepted keys, one per line (default: ${KEYS_ENV}, comma-separated)")
    parser.add_argument("--control-token-file", default=None,
                        help="file holding the token that POST/DELETE on /_sim must carry (default: no token asked)")
    return parser


def parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> tuple[argparse.Namespace, StrictRules | None]:
    """The arguments and strict mode's rules; a wrong value exits with the parser's one-line error."""
    args = parser.parse_args(argv)
    if not args.refresh_s > 0:
        parser.error("--refresh-s debe ser > 0")
    if not args.log_max_mb > 0 or args.log_backups < 1:
        parser.error("--log-max-mb debe ser > 0 y --log-backups >= 1")
    strict = None
    if args.strict:
        keys = read_keys(args.api_keys_file)
        if not keys:
            parser.error(f"--strict necesita claves: --api-keys-file FICHERO o {KEYS_ENV}=clave1,clave2")
        if args.calls_per_min < 1:
            parser.error("--calls-per-min debe ser >= 1")
        strict = StrictRules(frozenset(keys), plan=args.plan, calls_per_min=args.calls_per_min)
    return args, strict


def make(args: argparse.Namespace, strict: StrictRules | None) -> Simulator:
    """The simulator the arguments describe, not yet serving.

    Raises:
        DataOpsError: A coin not in the catalog.
        OSError: The control token's file cannot be read.
    """
    control = Path(args.control_token_file).read_text(encoding="utf-8").strip() if args.control_token_file else None
    return Simulator(coins=args.coins.split(","), seed=args.seed, refresh_s=args.refresh_s, log_path=args.log,
                     log_max_bytes=int(args.log_max_mb * 2**20), log_backups=args.log_backups, strict=strict,
                     control_token=control)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the simulator until SIGTERM or Ctrl-C (``python -m dataops.simulator``).

    Args:
        argv: Command-line arguments (default ``sys.argv[1:]``).

    Returns:
        Process exit code.
    """
    args, strict = parse(parser(), argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if strict is not None:
        logger.info("strict mode: %s plan (%s), %d calls/min per key, %d key(s)",
                    strict.plan, strict.describe()["header"], strict.calls_per_min, len(strict.keys))

    try:
        sim = make(args, strict)
        server = sim.serve(args.host, args.port)
    except DataOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        until_stopped()
    finally:
        server.shutdown()
        server.server_close()
        sim.close()
    return 0


def parse_params(items: list[str]) -> dict[str, Any]:
    """``--param KEY=VALUE`` items as a fault's parameters (each VALUE read as JSON when it is).

    Raises:
        DataOpsError: An item that is not KEY=VALUE, or names the fault or its duration (one line).
    """
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise DataOpsError(f"--param {item!r} no es CLAVE=VALOR", "p. ej. `--param coin=ethereum`")
        if key == "name":
            raise DataOpsError(f"--param {item}: el nombre del fallo no es un parámetro", f"ponlo primero: `dataops fault {value or 'latency'}`")
        if key == "duration_s":
            raise DataOpsError(f"--param {item}: la duración no es un parámetro", f"dala con `--duration {value or '30'}`")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


def cmd_fault(args: argparse.Namespace, ctx: CliContext) -> int:
    src = ctx.pipeline(args).source
    if args.clear or args.name == "clear":
        print(f"{src.clear_faults()} fault(s) cleared")
        return 0
    if not args.name:
        ctx.print_frame(src.faults())
        return 0
    params = parse_params(args.param)
    fault = src.inject_fault(args.name, duration_s=args.duration, **params)
    print(json.dumps(fault))
    return 0


def add_commands(sub: SubParsers) -> None:
    """Add ``fault`` (inject, list or clear the running simulator's faults) to ``sub``."""
    p = sub.add_parser("fault", help="inject a fault into the CoinGecko simulator, list or clear faults")
    p.add_argument("name", nargs="?", help="rate_limit, outage, latency, malformed, schema_drift, freeze, missing_coin, spike; `clear` clears them all")
    p.add_argument("--duration", type=positive, default=30.0, help="seconds (default 30)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="fault parameter, repeatable")
    p.add_argument("--clear", action="store_true", help="clear every active fault")
    p.set_defaults(func=cmd_fault)
