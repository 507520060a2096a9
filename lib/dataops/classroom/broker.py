"""The class server's Kafka broker (``kafka-class``, started by ``dataops class up``): one broker
every learner shares, and that itself keeps them apart.

- **Learners** log in on the ``CLASS`` listener (``DATAOPS_KAFKA_CLASS_PORT``, 9096) with SASL/SCRAM
  (SCRAM-SHA-512): each a user of their own, stored by the broker (KRaft), added and removed
  while it runs (:mod:`dataops.classroom.access`).
- **Rights** are the broker's: Kafka's ``StandardAuthorizer``, no access without an ACL
  (``allow.everyone.if.no.acl.found=false``), each learner granted prefixed ACLs on their own
  names only (:func:`dataops.classroom.namespace.acl_prefixes`).
- **The administrator** (``User:admin``, the one super user) has a listener of its own,
  ``INTERNAL`` (9097, SASL PLAIN), also the broker's own link to itself, and the KRaft controller
  (9098) takes only that user as well: on a server where learners have shells, a loopback port
  is no boundary, so no port of this broker lets anyone in without a password. The password is
  made once (``<state>/class/admin.json``, mode 600) and sits in the broker's properties file
  (mode 600), never on a command line.
- Plaintext SASL on loopback: SCRAM never sends the password, and traffic on ``lo`` is readable
  only by root, who can read every file anyway.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from dataops import subproc
from dataops.config import Settings
from dataops.engine import Component, java_cmd, stack_jvm_flags, properties
from dataops.errors import StackError
from dataops.kafka.engine import broker_answers, format_once, node_properties
from dataops.kafka.security import PLAIN_MODULE, SCRAM_MODULE, jaas_line
from dataops.paths import StatePaths, write_private

NAME = "kafka-class"
#: A second broker (``DATAOPS_CLASS_NODES=2``): broker only, node 2 of the first one's cluster (whose
#: KRaft controller it follows), the same listeners, logins and ACLs (the cluster's metadata) on the
#: controller's port + 1 (learners) and + 2 (the administrator). Topics spread their partitions over both.
NAME_2 = "kafka-class-2"
ADMIN = "admin"
MECHANISM = "SCRAM-SHA-512"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
HEAP, LOW_MEMORY_HEAP = "384m", "192m"
#: Every user's quotas (Kafka's default user entity): what one learner may take of the shared broker,
#: so a runaway loop in one notebook cannot starve the room. A learner's pipeline writes a few KB/s;
#: a backfill of a month a few MB once. 25 learners at their limit write 25 MB/s, within one disk.
QUOTAS = {"producer_byte_rate": 1024 * 1024, "consumer_byte_rate": 4 * 1024 * 1024, "controller_mutation_rate": 10}


def admin_file(paths: StatePaths) -> Path:
    return paths.classroom / "admin.json"


def config_file(paths: StatePaths) -> Path:
    return paths.conf / f"{NAME}.properties"


def admin_password(paths: StatePaths) -> str:
    """The administrator's password: made the first time, then read back."""
    try:
        return str(json.loads(admin_file(paths).read_text(encoding="utf-8"))["password"])
    except (OSError, ValueError, KeyError, TypeError):
        password = secrets.token_urlsafe(32)
        write_private(admin_file(paths), json.dumps({"user": ADMIN, "password": password}))
        return password


def admin_jaas(password: str) -> str:
    """The administrator's JAAS line (PLAIN): the broker's own, the listeners' (which accept this user only), a client's."""
    return jaas_line(PLAIN_MODULE, ADMIN, password, **{f"user_{ADMIN}": password})


def broker_properties(s: Settings, paths: StatePaths, password: str) -> dict[str, object]:
    """The broker's ``server.properties``: SCRAM for learners, PLAIN for the administrator, ACLs on."""
    h = s.host
    admin = admin_jaas(password)
    return {
        **node_properties(s, paths.data / NAME, s.kafka_class_controller_port),
        "listeners": f"CLASS://{h}:{s.kafka_class_port},INTERNAL://{h}:{s.kafka_class_internal_port},"
                     f"CONTROLLER://{h}:{s.kafka_class_controller_port}",
        "advertised.listeners": f"CLASS://{h}:{s.kafka_class_port},INTERNAL://{h}:{s.kafka_class_internal_port}",
        "listener.security.protocol.map": "CLASS:SASL_PLAINTEXT,INTERNAL:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
        "inter.broker.listener.name": "INTERNAL",
        "sasl.enabled.mechanisms": "PLAIN",
        "sasl.mechanism.inter.broker.protocol": "PLAIN",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.class.sasl.enabled.mechanisms": MECHANISM,
        f"listener.name.class.{MECHANISM.lower()}.sasl.jaas.config": f"{SCRAM_MODULE} required;",
        "listener.name.internal.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.internal.plain.sasl.jaas.config": admin,
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": admin,
        "authorizer.class.name": AUTHORIZER,
        "super.users": f"User:{ADMIN}",
        "allow.everyone.if.no.acl.found": "false",
    }  # fmt: skip


def second_ports(s: Settings) -> tuple[int, int]:
    """The second broker's learners' and administrator's listeners."""
    return s.kafka_class_controller_port + 1, s.kafka_class_controller_port + 2


def second_broker_properties(s: Settings, paths: StatePaths, password: str) -> dict[str, object]:
    """The second broker's ``server.properties``: the first's, as a broker-only node 2 on its own ports and storage."""
    learners, internal = second_ports(s)
    listeners = f"CLASS://{s.host}:{learners},INTERNAL://{s.host}:{internal}"
    return {**broker_properties(s, paths, password), "process.roles": "broker", "node.id": 2, "log.dirs": paths.data / NAME_2,
            "listeners": listeners, "advertised.listeners": listeners}  # fmt: skip


def _cluster_id(paths: StatePaths) -> str:
    """The first broker's cluster id, which the second one's storage is formatted with."""
    meta = paths.data / NAME / "meta.properties"
    for line in meta.read_text(encoding="utf-8").splitlines() if meta.is_file() else ():
        if line.startswith("cluster.id="):
            return line.split("=", 1)[1].strip()
    raise StackError(f"el primer broker de la clase no tiene almacenamiento formateado ({meta})", "ejecuta `dataops class up`")


def second_command(s: Settings, paths: StatePaths) -> list[str]:
    """The second broker's command line (its properties written mode 600, its storage formatted once)."""
    conf = paths.conf / f"{NAME_2}.properties"
    write_private(conf, properties(second_broker_properties(s, paths, admin_password(paths))))
    format_once(paths, paths.data / NAME_2, conf, cluster_id=_cluster_id(paths))
    heap = LOW_MEMORY_HEAP if s.low_memory else HEAP
    return java_cmd(paths, heap, "kafka.Kafka", str(conf), jvm_flags=stack_jvm_flags(s, "128m", "64m"))


def command(s: Settings, paths: StatePaths) -> list[str]:
    """The broker's command line; writes its properties (mode 600) and formats its storage once."""
    conf = config_file(paths)
    write_private(conf, properties(broker_properties(s, paths, admin_password(paths))))
    format_once(paths, paths.data / NAME, conf)
    heap = LOW_MEMORY_HEAP if s.low_memory else HEAP
    return java_cmd(paths, heap, "kafka.Kafka", str(conf), jvm_flags=stack_jvm_flags(s, "128m", "64m"))


def admin_config(s: Settings) -> dict[str, str]:
    """librdkafka's configuration of the administrator (password included: never log it)."""
    return {
        "bootstrap.servers": f"{s.host}:{s.kafka_class_internal_port}",
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanisms": "PLAIN",
        "sasl.username": ADMIN,
        "sasl.password": admin_password(s.paths),
    }


def set_quotas(s: Settings, quotas: dict[str, int] = QUOTAS) -> None:
    """Apply ``quotas`` (:data:`QUOTAS`) to every user (Kafka's ``ConfigCommand``: no Python client
    sets quotas). Kafka measures a rate over its last 11 one-second windows, and over no less than
    10 s: a burst under ten seconds' worth of quota goes through, a sustained flood is held back.

    Raises:
        StackError: The command failed (one line: its last line).
    """
    conf = s.paths.classroom / "admin.properties"  # the administrator's client settings (password: mode 600)
    admin = admin_config(s)
    write_private(conf, properties({"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
                                    "sasl.jaas.config": admin_jaas(admin["sasl.password"])}))  # fmt: skip
    values = ",".join(f"{k}={v}" for k, v in quotas.items())
    cmd = java_cmd(s.paths, "128m", "org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", admin["bootstrap.servers"],
                   "--command-config", str(conf), "--alter", "--entity-type", "users", "--entity-default", "--add-config", values)  # fmt: skip
    hint = f"mira `dataops logs {NAME}`; `dataops class up` lo vuelve a intentar"
    done = subproc.run(cmd, "las cuotas de los alumnos", hint, 120, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["sin salida"]
        raise StackError(f"no se pudieron poner las cuotas de los alumnos: {last[0][:200]}", hint)


def bootstrap(s: Settings) -> str:
    """Where learners connect."""
    return f"{s.host}:{s.kafka_class_port}"


def healthy(s: Settings) -> bool:
    """Ready when the administrator gets the broker's metadata (so ACLs and users can be set)."""
    if not admin_file(s.paths).is_file():
        return False
    return broker_answers(s.host, s.kafka_class_internal_port, {**admin_config(s), "log_level": 0})


def second_healthy(s: Settings) -> bool:
    """Ready when the administrator gets the cluster's metadata from the second broker itself."""
    if not admin_file(s.paths).is_file():  # (first: admin_config would make the password)
        return False
    internal = second_ports(s)[1]
    return broker_answers(s.host, internal, {**admin_config(s), "bootstrap.servers": f"{s.host}:{internal}", "log_level": 0})


def names(s: Settings) -> list[str]:
    """The class's brokers ``class up`` starts: the first, and the second when ``class_nodes`` is 2."""
    return [NAME, *([NAME_2] if s.class_nodes > 1 else [])]


def components(s: Settings) -> list[Component]:
    """The class broker(s), as optional components of the stack (started by ``dataops class up``)."""
    learners, internal = second_ports(s)
    return [
        Component(
            NAME,
            s.kafka_class_port,
            (s.kafka_class_port, s.kafka_class_internal_port, s.kafka_class_controller_port),
            f"sasl_plaintext://{s.host}:{s.kafka_class_port}",
            command,
            healthy,
            start_timeout=90,
            java=True,
            optional=True,
        ),
        Component(NAME_2, learners, (learners, internal), f"sasl_plaintext://{s.host}:{learners}", second_command, second_healthy,
                  start_timeout=90, java=True, optional=True, after=(NAME,)),  # fmt: skip
    ]
