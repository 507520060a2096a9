"""The stack's commands of the ``dataops`` CLI: up, down, status, logs, install, config."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from dataops.cli_registry import CliContext, SubParsers, non_negative_seconds, positive_int
from dataops.errors import ConfigError

if TYPE_CHECKING:
    from dataops.config import Settings


def cmd_up(args: argparse.Namespace, ctx: CliContext) -> int:
    p = ctx.pipeline(args, **({"low_memory": True} if args.low_memory else {}))
    from dataops.stack.engines import expand

    components, with_ = expand(args.components), expand(args.with_)  # a group stands for its components
    for name in (*components, *with_):  # an unknown name is refused before anything starts
        p.stack.component(name)
    mode = " en modo de poca memoria (los componentes que ya corren siguen en el suyo)" if p.settings.low_memory else ""
    print(f"Arrancando el pipeline local{mode}…", flush=True)
    if components:
        p.stack.up(components)
    else:
        p.up(setup=not args.no_setup, ready_timeout_s=args.ready_timeout if args.ready_timeout > 0 else None)
    if with_:
        p.stack.up(with_)
    started = [*components, *with_]
    _provision_cloud(p.settings, started)
    print()
    ctx.print_frame(p.status())
    _confluent_hint(p.settings, started)
    return 0


def _provision_cloud(settings: Settings, started: list[str]) -> None:
    """With the whole of the cloud fixtures up: their managed side (connector, job, Tableflow's table
    and sink), made as Confluent Cloud would run it (:mod:`dataops.profiles.standin`)."""
    from dataops.stack.engines import GROUPS

    if set(GROUPS["cloud-fixtures"]) <= set(started):
        from dataops.automation.standin import provision

        print("Lo gestionado de la nube (conector, job, Tableflow), sobre los servicios locales:", flush=True)
        provision(settings)


def _confluent_hint(settings: Settings, started: list[str]) -> None:
    """After starting the SASL_SSL broker or the Tableflow-shaped catalog: how the ``confluent``
    profile reaches them (no secret printed)."""
    from dataops.iceberg import engine as iceberg_engine
    from dataops.kafka import sasl

    if sasl.NAME in started:
        where = sasl.client_env_file(settings.paths)
        print(f"\nPerfil confluent contra {sasl.NAME}: DATAOPS_ENV_FILE={where} "
              f"(o dataops.connect(profile=\"confluent\", env_file=\"{where}\"))", flush=True)
    if iceberg_engine.FRONT in started:
        where = iceberg_engine.client_env_file(settings.paths)
        print(f"\nCatálogo de Tableflow local: sus ajustes DATAOPS_TABLEFLOW_* están en {where}", flush=True)
    if sasl.NAME in started and iceberg_engine.FRONT in started:
        from dataops.profiles import standin

        where = standin.client_env(settings)
        print(f"\nTodo el perfil confluent en un fichero: DATAOPS_ENV_FILE={where}", flush=True)


def cmd_down(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        p = ctx.pipeline(args)
    except ConfigError as exc:  # a broken .env must not keep the stack running
        print(f"warning: {exc}; stopping with the default settings", file=sys.stderr)
        p = ctx.connect(profile="local", env_file="/dev/null")
    p.down()
    return 0


def cmd_status(args: argparse.Namespace, ctx: CliContext) -> int:
    ctx.print_frame(ctx.pipeline(args).status())
    return 0


def cmd_logs(args: argparse.Namespace, ctx: CliContext) -> int:
    print(ctx.pipeline(args).logs(args.component, args.lines))
    return 0


def cmd_install(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataops import stack

    paths = ctx.pipeline(args).settings.paths
    stack.install_artifacts(paths)
    print(f"JVM artifacts in {paths.lib} and {paths.plugins}")
    return 0


def cmd_config(args: argparse.Namespace, ctx: CliContext) -> int:
    for key, value in ctx.pipeline(args).settings.masked().items():
        print(f"{key:<28} {value}")
    return 0


def add_commands(sub: SubParsers) -> None:
    """Add ``up``, ``down``, ``status``, ``logs``, ``install`` and ``config`` to ``sub``."""
    p = sub.add_parser("up", help="start the local pipeline (idempotent) and set it up")
    p.add_argument("components", nargs="*", help="only these components (no set-up)")
    p.add_argument("--no-setup", action="store_true", help="skip topic and connector set-up")
    p.add_argument("--with", dest="with_", action="append", default=[], metavar="COMPONENT",
                   help="also start an optional component: prometheus (scrapes the monitor, evaluates the alert rules), "
                        "schema-registry (Apicurio Registry, Confluent's API, Basic auth), kafka-sasl (a broker on SASL_SSL "
                        "with PLAIN, as Confluent Cloud), or the group cloud-fixtures (local stand-ins of the confluent "
                        "profile's services: kafka-sasl, schema-registry, iceberg-rest and its Tableflow front, and "
                        "connect-cloud, with the managed connector, Flink job and Tableflow sink made on them)")
    p.add_argument("--ready-timeout", type=non_negative_seconds, default=120.0, metavar="SECONDS",
                   help="after set-up, wait this long for every layer to report (default 120; 0: do not wait)")
    p.add_argument("--low-memory", action="store_true",
                   help="start the components with small heaps and lean JVM flags, about 1 GB in all (8 GB laptops; "
                        "also DATAOPS_LOW_MEMORY=1); running components keep their mode: `dataops down` first")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("down", help="stop what this project started")
    p.set_defaults(func=cmd_down)

    p = sub.add_parser("status", help="one table: component, pid, port, health, uptime, address, memory mode")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("logs", help="the last lines of a component's log")
    p.add_argument("component", help="simulator, kafka, connect, flink-jobmanager, flink-taskmanager, flink-submit, mvn, "
                                            "prometheus, schema-registry, kafka-sasl")
    p.add_argument("-n", "--lines", type=positive_int, default=50, help="how many lines (default 50)")
    p.set_defaults(func=cmd_logs)

    p = sub.add_parser("install", help="download the JVM artifacts with mvn (done by `up` when missing)")
    p.set_defaults(func=cmd_install)

    p = sub.add_parser("config", help="print the settings (secrets masked)")
    p.set_defaults(func=cmd_config)
