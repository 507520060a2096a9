"""A learner's Kafka user and rights on the class broker: granted, revoked, reset; the room's state.

Every change goes through the administrator's listener (:func:`dataops.classroom.broker.admin_config`).
A learner gets a SCRAM-SHA-512 user named after them, with a random password, and ALLOW-ALL ACLs
on their own prefixes only (:func:`dataops.classroom.namespace.acl_prefixes`); everything else the
broker refuses them. Their settings (profile ``class``, their name, the broker, their user and
password) go to one dotenv file, mode 600, which the server hands to that learner's session.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from dataops.classroom import broker, connect
from dataops.classroom.namespace import acl_prefixes, prefix
from dataops.config import ENV_PREFIX, Settings
from dataops.errors import StackError
from dataops.paths import StatePaths, write_private

if TYPE_CHECKING:
    import pandas as pd
    from confluent_kafka.admin import AclBinding, AdminClient

ITERATIONS = 8192
TIMEOUT_S = 15.0
_HINT = f"mira `dataops logs {broker.NAME}`; `dataops class up` lo vuelve a arrancar"


def learners_dir(paths: StatePaths) -> Path:
    """Where each learner's settings file is (one ``<learner>.env`` each)."""
    return paths.classroom / "learners"


def env_file(paths: StatePaths, learner: str) -> Path:
    """The learner's settings for the class profile (dotenv, mode 600)."""
    return learners_dir(paths) / f"{learner}.env"


def with_settings(paths: StatePaths) -> list[str]:
    """The learners who have a settings file (every learner ``class up`` has granted)."""
    return sorted(f.stem for f in learners_dir(paths).glob("*.env"))


def acl_bindings(learner: str) -> list[AclBinding]:
    """The learner's rights: ALL on each of their prefixes, for their user only, from any host."""
    from confluent_kafka.admin import AclBinding, AclOperation, AclPermissionType, ResourcePatternType, ResourceType

    return [
        AclBinding(getattr(ResourceType, kind), name, ResourcePatternType.PREFIXED, f"User:{learner}", "*",
                   AclOperation.ALL, AclPermissionType.ALLOW)  # fmt: skip
        for kind, names in acl_prefixes(learner).items()
        for name in names
    ]


def admin_client(s: Settings) -> AdminClient:
    """An administrator's client of the class broker."""
    from confluent_kafka.admin import AdminClient

    return AdminClient({**broker.admin_config(s), "log_level": 0})


def _wait(futures: Iterable[Any], what: str, ignore: tuple[str, ...] = ()) -> None:
    """Wait for each of an admin call's futures; the first failure is one :class:`StackError` line."""
    from confluent_kafka import KafkaException

    for future in futures:
        try:
            future.result(timeout=TIMEOUT_S)
        except KafkaException as exc:
            error = exc.args[0]
            if error.name() not in ignore:
                raise StackError(f"el broker de la clase no pudo {what}: {error.str()}", _HINT) from None
        except TimeoutError:
            raise StackError(f"el broker de la clase no respondió en {TIMEOUT_S:g} s al {what}", _HINT) from None


def learner_settings(s: Settings, learner: str, password: str) -> dict[str, str]:
    """What a learner's session needs: the ``class`` profile, whose namespace, the broker and the login."""
    return {
        f"{ENV_PREFIX}PROFILE": "class",
        f"{ENV_PREFIX}LEARNER": learner,
        f"{ENV_PREFIX}KAFKA_BOOTSTRAP": broker.bootstrap(s),
        f"{ENV_PREFIX}KAFKA_API_KEY": learner,
        f"{ENV_PREFIX}KAFKA_API_SECRET": password,
        f"{ENV_PREFIX}CONNECT_PORT": str(s.class_front_port),  # the class's Connect, through its front
        f"{ENV_PREFIX}ICEBERG_DIR": str(s.paths.classroom / "iceberg" / learner),  # their catalog (dataops.classroom.iceberg)
        # what their session writes (metrics, alert log, runs) apart from everyone's; the hub's sessions write in their home
        f"{ENV_PREFIX}STATE_DIR": str(s.paths.classroom / "sessions" / learner),
    }


def saved_settings(paths: StatePaths, learner: str) -> dict[str, str]:
    """``learner``'s settings file as ``{NAME: value}`` (without the ``DATAOPS_`` prefix); {} without one."""
    from dotenv import dotenv_values

    target = env_file(paths, learner)
    values = dotenv_values(target) if target.is_file() else {}
    return {k[len(ENV_PREFIX):]: v for k, v in values.items() if k.startswith(ENV_PREFIX) and v is not None}


def saved(paths: StatePaths, learner: str, name: str = "KAFKA_API_SECRET") -> str | None:
    """The setting ``DATAOPS_<name>`` in ``learner``'s settings file (their Kafka password by
    default), or None without one."""
    return saved_settings(paths, learner).get(name)


def saved_password(paths: StatePaths, learner: str) -> str | None:
    """The Kafka password in ``learner``'s settings file, or None without one."""
    return saved(paths, learner)


def grant(s: Settings, learner: str, extra: dict[str, str] | None = None, admin: AdminClient | None = None) -> Path:
    """Give ``learner`` a Kafka user and the rights on their prefixes (idempotent).

    The password is the one in the learner's settings file, when there is one (``class up`` again
    changes nothing for a learner), else a new one (after :func:`revoke`: a reset). ``extra``
    settings (their simulator's port and token) go to the file too. ``admin``: a client to reuse
    (one for a whole roster).

    Returns:
        The learner's settings file.

    Raises:
        StackError: The broker refused or did not answer (one line).
    """
    from confluent_kafka.admin import ScramCredentialInfo, ScramMechanism, UserScramCredentialUpsertion

    password = saved_password(s.paths, learner) or secrets.token_urlsafe(24)
    admin = admin or admin_client(s)
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, ITERATIONS)
    _wait(admin.alter_user_scram_credentials([UserScramCredentialUpsertion(learner, info, password.encode())]).values(),
          f"crear el usuario de Kafka de {learner}")  # fmt: skip
    _wait(admin.create_acls(acl_bindings(learner)).values(), f"dar los permisos de {learner}")
    target = env_file(s.paths, learner)
    head = f"# {learner}'s session on the class server (`dataops class up`): the class profile, their Kafka user.\n"
    values = {**learner_settings(s, learner, password), **(extra or {})}
    write_private(target, head + "".join(f"{k}={v}\n" for k, v in values.items()))
    connect.write_login(s, learner, password)
    refresh_session(learner, target)
    return target


def refresh_session(learner: str, source: Path) -> bool:
    """Copy ``learner``'s settings file over the copy their hub session reads (``~/.dataops/class.env``),
    when they have one: after a reset, their next ``dataops.connect()`` uses the new password.
    Only root can (written as the learner: :func:`dataops.classroom.hub_config.put_as`); True when copied."""
    import os

    from dataops.classroom.hub_config import SESSION_ENV, existing_user, put_as

    user = existing_user(learner)
    if user is None or os.geteuid() != 0 or not (Path(user.pw_dir) / SESSION_ENV).is_file():
        return False
    put_as(user, SESSION_ENV, source.read_bytes(), replace=True)
    return True


def revoke(s: Settings, learner: str) -> None:
    """Take ``learner``'s rights and Kafka user away (their settings file too)."""
    from confluent_kafka.admin import (AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType, ResourceType,
                                       ScramMechanism, UserScramCredentialDeletion)  # fmt: skip

    admin = admin_client(s)
    mine = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, f"User:{learner}", None, AclOperation.ANY, AclPermissionType.ANY)
    _wait(admin.delete_acls([mine]).values(), f"quitar los permisos de {learner}")
    _wait(admin.alter_user_scram_credentials([UserScramCredentialDeletion(learner, ScramMechanism.SCRAM_SHA_512)]).values(),
          f"borrar el usuario de Kafka de {learner}", ignore=("RESOURCE_NOT_FOUND",))  # fmt: skip
    env_file(s.paths, learner).unlink(missing_ok=True)
    connect.forget_login(s, learner)


def wipe(s: Settings, learner: str) -> dict[str, int]:
    """Delete ``learner``'s topics and consumer groups (a fresh start); the counts deleted."""
    admin = admin_client(s)
    mine = prefix(learner)
    topics = [t for t in admin.list_topics(timeout=TIMEOUT_S).topics if t.startswith(mine)]
    if topics:
        _wait(admin.delete_topics(topics, operation_timeout=TIMEOUT_S).values(), f"borrar los topics de {learner}",
              ignore=("UNKNOWN_TOPIC_OR_PART",))  # fmt: skip
    groups = [g.group_id for g in admin.list_consumer_groups(request_timeout=TIMEOUT_S).result(timeout=TIMEOUT_S).valid
              if g.group_id.startswith(acl_prefixes(learner)["GROUP"])]  # fmt: skip
    count, deadline = len(groups), time.monotonic() + TIMEOUT_S
    while groups:  # a connector just deleted leaves its task's consumer in its group for a few seconds
        patient = time.monotonic() < deadline
        _wait(admin.delete_consumer_groups(groups, request_timeout=TIMEOUT_S).values(), f"borrar los grupos de {learner}",
              ignore=("GROUP_ID_NOT_FOUND",) + (("NON_EMPTY_GROUP",) if patient else ()))  # fmt: skip
        groups = [g.group_id for g in admin.list_consumer_groups(request_timeout=TIMEOUT_S).result(timeout=TIMEOUT_S).valid
                  if g.group_id in groups]  # fmt: skip
        if groups and not patient:
            raise StackError(f"los grupos de {learner} siguen en el broker de la clase: {', '.join(groups)}", _HINT)
        time.sleep(1 if groups else 0)
    return {"topics": len(topics), "groups": count}


def status(s: Settings, learners: Iterable[str]) -> pd.DataFrame:
    """One row per learner: has a Kafka user, how many ACLs, topics and consumer groups."""
    import pandas as pd
    from confluent_kafka.admin import AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType, ResourceType

    admin = admin_client(s)
    users = set(admin.describe_user_scram_credentials().result(timeout=TIMEOUT_S))
    everyone = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY, AclPermissionType.ANY)
    acls = [b.principal for b in admin.describe_acls(everyone).result(timeout=TIMEOUT_S)]
    topics = list(admin.list_topics(timeout=TIMEOUT_S).topics)
    groups = [g.group_id for g in admin.list_consumer_groups(request_timeout=TIMEOUT_S).result(timeout=TIMEOUT_S).valid]
    rows = [
        {"learner": name, "kafka_user": name in users, "acls": acls.count(f"User:{name}"),
         "topics": sum(t.startswith(prefix(name)) for t in topics),
         "groups": sum(g.startswith(acl_prefixes(name)["GROUP"]) for g in groups),
         "settings": str(env_file(s.paths, name)) if env_file(s.paths, name).is_file() else "-"}  # fmt: skip
        for name in learners
    ]
    return pd.DataFrame(rows, columns=["learner", "kafka_user", "acls", "topics", "groups", "settings"])
