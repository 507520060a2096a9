"""The pipeline-as-code commands of the ``dataops`` CLI: ``pipeline plan|apply|setup|validate``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dataops.cli_registry import CliContext, Command, SubParsers, positive
from dataops.errors import DataOpsError
from dataops.facade import Layers

if TYPE_CHECKING:
    from dataops.automation.declaration import Declaration


def _declaration(p: Layers, args: argparse.Namespace) -> Declaration:
    from dataops import automation

    return automation.load(p.settings, path=args.file, extra=args.extra)


def cmd_pipeline_plan(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.commands:
        return _print_cloud_commands(args)
    try:  # exit 2 means "changes pending" here: an error is 1
        p = ctx.pipeline(args)
        plan = p.plan(_declaration(p, args))
    except DataOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    ctx.print_frame(plan)
    pending = plan.attrs["pending"]
    print("cambios pendientes: ejecuta `dataops pipeline apply`" if pending else "nada que hacer: lo que corre es lo declarado")
    return 2 if pending else 0


def _print_cloud_commands(args: argparse.Namespace) -> int:
    """The declaration as the bash script of ``confluent`` commands (the confluent profile's settings)."""
    from dataops import automation
    from dataops.automation.cloud_commands import script
    from dataops.config import load_settings

    try:
        settings = load_settings(profile="confluent")
        print(script(automation.load(settings, path=args.file, extra=args.extra), settings), end="")
    except DataOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_pipeline_apply(args: argparse.Namespace, ctx: CliContext) -> int:
    p = ctx.pipeline(args)
    decl = _declaration(p, args)
    print(f"Applying {decl.source}:", flush=True)
    report = p.apply(decl, validate=not args.no_validate, progress=True, within_s=args.within)
    return 0 if report.attrs["ok"] else 1


def cmd_pipeline_validate(args: argparse.Namespace, ctx: CliContext) -> int:
    p = ctx.pipeline(args)
    decl = _declaration(p, args)
    print(f"Validating {decl.source}:", flush=True)
    report = p.validate(decl, progress=True, within_s=args.within)
    return 0 if report.attrs["ok"] else 1


def add_commands(sub: SubParsers) -> None:
    """Add ``pipeline`` and its actions to ``sub``."""
    p = sub.add_parser("pipeline", help="pipeline automation")
    psub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    helps: dict[str, tuple[str, Command]] = {
        "plan": ("desired vs actual per resource; exit 0 when nothing to do, 2 when changes are pending", cmd_pipeline_plan),
        "apply": ("make the pipeline what data/pipeline/pipeline.yaml declares (idempotent), step by step", cmd_pipeline_apply),
        "setup": ("the same as apply (the course's setup-pipeline)", cmd_pipeline_apply),
        "validate": ("the checks alone: prerequisites, each resource, end to end (exit 1 on a ✘)", cmd_pipeline_validate),
    }
    for name, (text, func) in helps.items():
        ps = psub.add_parser(name, help=text, description=text)
        ps.add_argument("--file", type=Path, default=None, help="the declaration (default data/pipeline/pipeline.yaml)")
        ps.add_argument("--extra", type=Path, default=None, help="a YAML file whose resources and checks extend the declaration")
        if name == "plan":
            ps.add_argument("--commands", action="store_true",
                            help="print, instead of the plan, the bash script of `confluent` CLI commands and Flink statements "
                                 "that build the declared pipeline on Confluent Cloud (ids from DATAOPS_CONFLUENT_*, else "
                                 "${DATAOPS_…}; secrets only as ${DATAOPS_…})")  # fmt: skip
        else:
            ps.add_argument("--within", type=positive, default=60.0, help="seconds the end-to-end checks may wait (default 60)")
        if name in ("apply", "setup"):
            ps.add_argument("--no-validate", action="store_true", help="skip the end-to-end validation")
        ps.set_defaults(func=func)
