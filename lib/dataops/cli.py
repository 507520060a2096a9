"""The ``dataops`` command: run and inspect the local pipeline.

Every sub-command has ``--help``. Errors print one line (``error: … : what to do``)
and exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Sequence

from dataops import pack, profiles, runner
from dataops.alerts import cli as alerts_cli
from dataops.automation import cli as automation_cli
from dataops.ci import cli as ci_cli
from dataops.classroom import cli as class_cli
from dataops.cli_registry import CliContext, CommandModule
from dataops.course import cli as course_cli
from dataops.dlq import cli as dlq_cli
from dataops.doctor import cli as doctor_cli
from dataops.duck import cli as duck_cli
from dataops.errors import DataOpsError, UsageError
from dataops.iceberg import cli as iceberg_cli
from dataops.monitor import cli as monitor_cli
from dataops.quality import cli as quality_cli
from dataops.simulator import cli as simulator_cli
from dataops.stack import cli as stack_cli

if TYPE_CHECKING:
    from dataops.pipeline import Pipeline

# Every module that adds sub-commands (see dataops.cli_registry), in the order `dataops --help` lists them.
COMMAND_MODULES: tuple[CommandModule, ...] = (
    doctor_cli,  # doctor
    stack_cli,  # up, down, status, logs, install, config
    automation_cli,  # pipeline plan|apply|setup|validate
    simulator_cli,  # fault
    monitor_cli,  # monitor
    duck_cli,  # sql
    alerts_cli,  # alerts, prometheus-rules, scenario
    quality_cli,  # quality
    dlq_cli,  # dlq [export|replay]
    class_cli,  # class up|status|reset|down
    iceberg_cli,  # maintain
    runner,  # notebooks
    course_cli,  # course, learner, reset, grade
    ci_cli,  # ci, schemas, check-config
    pack,  # pack
)


def _connect(profile: str | None = None, **overrides: Any) -> Pipeline:
    """:func:`dataops.pipeline.connect`, looked up when a command runs."""
    from dataops import pipeline

    return pipeline.connect(profile, **overrides)


class OneLineParser(argparse.ArgumentParser):
    """argparse, except that a refused command line is one :class:`UsageError` line, not usage and an exit.

    Its sub-command parsers are of this class too (``add_subparsers`` builds them with the parent's class).
    """

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", f"mira `{self.prog} --help`")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="dataops", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=profiles.names(), help="override DATAOPS_PROFILE")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_commands(sub)
    return parser


def _crash_log() -> Path:
    """Where an unexpected error's traceback goes: the logs of the settings' state folder
    (``DATAOPS_STATE_DIR``), else a temp file."""
    import tempfile

    from dataops.config import ENV_PREFIX, PROJECT_ROOT, load_settings

    try:
        folder = load_settings().paths.logs
    except Exception:  # noqa: BLE001 - e.g. a broken .env: the variable alone, else the default
        folder = Path(os.environ.get(f"{ENV_PREFIX}STATE_DIR") or PROJECT_ROOT / ".stack") / "logs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir())
    return folder / "cli-errors.log"


def main(argv: Sequence[str] | None = None, ctx: CliContext | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return args.func(args, ctx or CliContext(connect=_connect))
    except DataOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - never a traceback on the terminal: one line, the rest in a log
        import time
        import traceback

        trace = traceback.format_exc()
        log = _crash_log()
        with log.open("a", encoding="utf-8") as fh:
            fh.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} dataops {' '.join(sys.argv[1:] if argv is None else argv)}\n{trace}")
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        print(f"error: {type(exc).__name__} inesperado: {first}: el traceback está en {log}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
