"""``dataops doctor``: the table of what this machine needs, exit 0 when every row is ✔, 1 otherwise.

It runs with the stack down and with broken settings (that is one more ✘ row, not an error).
"""

from __future__ import annotations

import argparse

from dataops.cli_registry import CliContext, SubParsers
from dataops.doctor.report import diagnose
from dataops.errors import ConfigError


def cmd_doctor(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        report = ctx.pipeline(args).doctor()
    except ConfigError as exc:  # a broken .env or variable: its own row, the rest on the defaults
        report = diagnose(None, config_error=exc)
    shown = report[["comprobación", "estado", "encontrado"]].astype(str)
    widths = {c: max([len(c), *shown[c].str.len()]) for c in shown.columns}
    # Left-aligned: every cell padded to its column's width (pandas right-aligns text).
    shown = shown.apply(lambda col: col.str.ljust(widths[col.name])).rename(columns=lambda c: c.ljust(widths[c]))
    ctx.print_frame(shown)
    failed = report[report["estado"] == "✘"]
    print()
    if failed.empty:
        print("✔ todo listo: `make run` (o `dataops up`) arranca el pipeline")
        return 0
    print("Cómo arreglarlo:")
    for _, row in failed.iterrows():
        print(f"  ✘ {row['comprobación']}: {row['cómo arreglarlo']}")
    print("Después, vuelve a ejecutar `dataops doctor`.")
    return 1


def add_commands(sub: SubParsers) -> None:
    """Add ``doctor`` to ``sub``."""
    what = ("what this machine needs (Python, Java, Maven, memory, disk, the state folder, paths, downloads, ports): "
            "✔/✘ and the fix of each; exit 1 when one is ✘")  # fmt: skip
    p = sub.add_parser("doctor", help=what, description=what)
    p.set_defaults(func=cmd_doctor)
