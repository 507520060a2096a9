"""``dataops class up|status|reset|down``: the class server's broker and its learners.

The commands run with the server's own settings (the ``local`` profile's ports and state folder):
they are the instructor's, never a learner's.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from dataops.classroom import access, broker, hub, monitors, roster, simulators
from dataops.classroom import connect as class_connect
from dataops.classroom import flink as class_flink
from dataops.classroom import iceberg as class_iceberg
from dataops.classroom import room as room_view
from dataops.cli_registry import CliContext, SubParsers, positive
from dataops.config import Settings, load_settings
from dataops.errors import ConfigError


def server_settings() -> Settings:
    """The class server's own settings (the instructor's: the ``local`` profile's ports and state folder)."""
    return load_settings(profile="local")


_settings = server_settings


def saved_roster(s: Settings) -> Path:
    """The roster of the last ``class up``, kept beside the class's state."""
    return s.paths.classroom / "roster.yaml"


def _roster(s: Settings, given: Path | None) -> roster.Roster:
    if given is not None:
        return roster.load(given)
    if not saved_roster(s).is_file():
        raise ConfigError("no hay clase: falta la lista de alumnos", "ejecuta `dataops class up --roster clase.yaml`")
    return roster.load(saved_roster(s))


def cmd_class_up(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataops.stack import Stack

    s = _settings()
    room = _roster(s, args.roster)
    Stack(s).up([*broker.names(s), class_connect.NAME, *class_flink.names(s), class_connect.FRONT], progress=not args.quiet)
    broker.set_quotas(s)
    if args.roster is not None:
        saved_roster(s).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.roster, saved_roster(s))
    gone = [name for name in access.with_settings(s.paths) if name not in room]
    from dataops.classroom.room import stop_sessions

    stop_sessions(s, gone)  # their JupyterLab, when the hub runs
    for learner in gone:
        monitors.stop(s, learner)  # first: it logs in as them
        class_connect.delete_connectors(s, learner)
        class_flink.cancel_jobs(s, learner)
        access.revoke(s, learner)
        simulators.stop(s, learner)
    admin = access.admin_client(s)
    watched = _monitor_ports(s, room.learners)
    for learner, port in simulators.ports(s, room.learners).items():
        access.grant(s, learner, {**simulators.start(s, learner, port), **watched[learner]}, admin=admin)
        class_iceberg.prepare(s, learner)
        monitors.start(s, learner)
    from dataops.classroom.front import refresh

    refresh(s, room.learners)  # what the front adds to each connector, as this server adds it
    if args.hub:
        hub.write_settings(s, room.learners)
        Stack(s).up([hub.NAME], progress=not args.quiet)  # a running hub reads the new roster at the next log-in
    ctx.print_frame(room_view.status(s, room.learners))
    print(f"\n{len(room.learners)} alumnos en {broker.bootstrap(s)}" + (f"; retirados: {', '.join(gone)}" if gone else "")
          + ". Cada sesión de alumno usa su fichero de la columna settings (DATAOPS_ENV_FILE).")  # fmt: skip
    if args.hub:
        print(f"JupyterHub en http://{s.host}:{s.class_hub_port}/ : los alumnos entran con su usuario y el código de la clase, "
              f"{hub.INSTRUCTOR} con su contraseña (ambos en {hub.secrets_file(s.paths)}).")  # fmt: skip
    return 0


def _monitor_ports(s: Settings, learners: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Each learner's monitor port and store for their settings file (the class's monitor serves them there)."""
    given = simulators.ports(s, learners, "MONITOR_PORT", s.class_monitor_port)
    return {learner: monitors.session_settings(s, learner, port) for learner, port in given.items()}


def cmd_class_status(args: argparse.Namespace, ctx: CliContext) -> int:
    s = _settings()
    ctx.print_frame(room_view.status(s, _roster(s, None).learners))
    return 0


def cmd_class_reset(args: argparse.Namespace, ctx: CliContext) -> int:
    s = _settings()
    room = _roster(s, None)
    learner = room.require(args.learner)
    port = simulators.ports(s, room.learners)[learner]  # before the reset forgets it
    monitor = _monitor_ports(s, room.learners)[learner]
    monitors.stop(s, learner)  # before their settings change: it logs in as them
    removed = class_connect.delete_connectors(s, learner)  # before their topics: a task would make them again
    cancelled = class_flink.cancel_jobs(s, learner)
    gone = access.wipe(s, learner)
    access.revoke(s, learner)
    simulators.stop(s, learner)  # its faults gone with it; a new token
    shutil.rmtree(class_iceberg.learner_dir(s.paths, learner), ignore_errors=True)  # their table and its files
    shutil.rmtree(s.paths.classroom / "sessions" / learner, ignore_errors=True)  # what their session wrote here (metrics, alerts)
    where = access.grant(s, learner, {**simulators.start(s, learner, port), **monitor})
    class_iceberg.prepare(s, learner)
    monitors.start(s, learner, fresh=True)
    print(f"{learner}: {removed} conectores, {cancelled} jobs de Flink, su tabla, {gone['topics']} topics y {gone['groups']} grupos borrados, su simulador limpio; "
          f"contraseña de Kafka y token nuevos en {where}")  # fmt: skip
    return 0


def cmd_class_down(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataops.stack import Stack

    s = _settings()
    stack = Stack(s)
    stopped = simulators.stop_all(s)
    sampled = monitors.stop_all(s)
    print(f"{stopped} simuladores y {sampled} monitores de alumnos parados")
    for second in (class_flink.TASKMANAGER_2, broker.NAME_2):  # (only when the class has two nodes)
        if stack.stop(second):
            print(f"{second} parado")
    for name in (hub.NAME, class_connect.FRONT, class_connect.NAME, class_flink.TASKMANAGER, class_flink.JOBMANAGER, broker.NAME):
        print(f"{name} parado" if stack.stop(name) else f"{name} no estaba en marcha")
    return 0


def cmd_class_fault(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataops.simulator.cli import parse_params

    s = _settings()
    room = _roster(s, None)
    targets = room.learners if args.all else [room.require(args.learner)]
    params = parse_params(args.param)
    for learner in targets:
        fault = simulators.source(s, learner).inject_fault(args.name, duration_s=args.duration, **params)
        print(f"{learner}: {fault['name']} durante {args.duration:g} s (id {fault['id']})")
    return 0


def add_commands(sub: SubParsers) -> None:
    """Add ``class`` and its actions to ``sub``."""
    p = sub.add_parser("class", help="a class on this server: its broker, each learner's Kafka user and rights",
                       description="A class on one server: a shared Kafka broker (kafka-class) where each learner of the "
                                   "roster is a SCRAM user allowed only names under '<learner>.'.")  # fmt: skip
    csub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ps = csub.add_parser("up", help="start the class broker and give each learner of the roster a user and rights (idempotent)",
                         description="Start kafka-class, give each learner of the roster a Kafka user and prefixed ACLs, "
                                     "write each learner's settings file; learners no longer on the roster lose theirs.")
    ps.add_argument("--roster", type=Path, default=None, help="YAML file `learners: [ana, bruno]` (default: the last one given)")
    ps.add_argument("--hub", action="store_true", help="also (re)start JupyterHub for the roster (as root: each learner's "
                    "JupyterLab runs as their own Unix user, made at first log-in)")
    ps.add_argument("--quiet", action="store_true", help="no progress bar")
    ps.set_defaults(func=cmd_class_up)
    ps = csub.add_parser("status", help="each learner: Kafka user, ACLs, topics, consumer groups, settings file")
    ps.set_defaults(func=cmd_class_status)
    ps = csub.add_parser("reset", help="delete a learner's topics and groups and give them a new password",
                         description="A fresh start for one learner: their topics and consumer groups deleted, their user "
                                     "and rights made again with a new password (their old settings file stops working).")
    ps.add_argument("learner", help="a learner of the roster")
    ps.set_defaults(func=cmd_class_reset)
    ps = csub.add_parser("fault", help="inject a fault into one learner's simulator, or into everyone's (a live demo)",
                         description="The instructor's `dataops fault` for the class: into --learner's simulator, or --all.")
    ps.add_argument("name", help="rate_limit, outage, latency, malformed, schema_drift, freeze, missing_coin, spike")
    who = ps.add_mutually_exclusive_group(required=True)
    who.add_argument("--learner", help="a learner of the roster")
    who.add_argument("--all", action="store_true", help="every learner of the roster")
    ps.add_argument("--duration", type=positive, default=30.0, help="seconds (default 30)")
    ps.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="fault parameter, repeatable")
    ps.set_defaults(func=cmd_class_fault)
    ps = csub.add_parser("down", help="stop JupyterHub, the class's Connect and broker (the learners' data, users and homes are kept)")
    ps.set_defaults(func=cmd_class_down)
