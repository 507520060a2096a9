"""The CI commands of the ``dataops`` CLI: ci, schemas, check-config."""

from __future__ import annotations

import argparse
from pathlib import Path

from dataops.cli_registry import CliContext, SubParsers


def _report(problems: list[str], what: str) -> int:
    """The verdict, then each problem (the last line printed is the first problem: what CI shows)."""
    print(f"{what}: {'✔ ok' if not problems else f'✘ {len(problems)} problem(s)'}")
    for line in reversed(problems):
        print(f"  ✘ {line}")
    return 1 if problems else 0


def cmd_ci(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataops.ci import workflow

    print(f"Running the workflow's jobs locally ({args.repo.resolve()}):", flush=True)
    table = workflow.run(args.repo, only=args.jobs or None, skip=args.skip)
    print()
    ctx.print_frame(table)
    return 1 if (table["estado"] == workflow.FAILED).any() else 0


def cmd_schemas(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataops.ci.checks import registry_problems, schema_problems

    problems = schema_problems(args.against)
    what = "schemas" + (f" (vs {args.against})" if args.against else "")
    if args.registry:
        p = ctx.pipeline(args)
        problems += registry_problems(p.schema_registry, p.settings)
        what += " (vs the Schema Registry)"
    return _report(problems, what)


def cmd_check_config(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataops.ci import workflow
    from dataops.ci.checks import WORKFLOW, config_problems

    if args.workflow and not args.no_workflow:
        workflow.load(args.workflow)  # a file that is no workflow at all is a wrong argument, not a problem found
    return _report(config_problems(None if args.no_workflow else args.workflow or WORKFLOW), "configuration")


def add_commands(sub: SubParsers) -> None:
    """Add ``ci``, ``schemas`` and ``check-config`` to ``sub``."""
    p = sub.add_parser("ci", help="run the GitHub workflow's jobs locally in dependency order (✔/✘ table; exit 1 on a failure)")
    p.add_argument("jobs", nargs="*", help="only these jobs (default: all, in needs: order)")
    p.add_argument("--skip", action="append", default=[], metavar="JOB", help="do not run this job (repeatable), e.g. integration-tests")
    p.add_argument("--repo", type=Path, default=Path("."), help="the repository whose workflow runs (default: here)")
    p.set_defaults(func=cmd_ci)

    p = sub.add_parser("schemas", help="the recorded samples fit data/schemas; with --against REF, no backward-incompatible change")
    p.add_argument("--against", metavar="GIT_REF", help="compare each schema with its version at this revision, e.g. HEAD~1 or origin/main")
    p.add_argument("--registry", action="store_true",
                   help="also ask the Schema Registry (the profile's) whether each schema, as Avro, may be its topic's next version")  # fmt: skip
    p.set_defaults(func=cmd_schemas)

    p = sub.add_parser("check-config", help="the declaration, rules, levels, suite and scenarios parse and refer to what exists; lint the workflow")
    p.add_argument("--workflow", type=Path, default=None, help="the workflow file to lint (default .github/workflows/dataops.yml)")
    p.add_argument("--no-workflow", action="store_true", help="do not lint a workflow")
    p.set_defaults(func=cmd_check_config)
