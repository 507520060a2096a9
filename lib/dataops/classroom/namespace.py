"""A learner's namespace on a class server: every name of their pipeline under ``<learner>.``.

The shared engines hold every learner's resources side by side; a learner's are those whose name
starts with their prefix (``ana.crypto-prices``, ``connect-ana.crypto-prices-iceberg``, the
Iceberg namespace ``ana``). The prefixes end in a dot, which no learner's name contains, so no
learner's prefix is the start of another's (``ana.`` is not a prefix of ``ana_b.``): a prefixed
ACL granted to one learner can never cover another's resource.
"""

from __future__ import annotations

from typing import Any

from dataops.config import ENV_PREFIX, Settings
from dataops.errors import ConfigError

#: The settings that name a learner's resources: each default gets the learner's prefix.
PREFIXED = ("topic_raw", "topic_exploded", "topic_dlq", "topic_iceberg_control", "connector_name",
            "iceberg_connector_name", "flink_job_name")  # fmt: skip


def prefix(learner: str) -> str:
    """What starts every name of ``learner``'s: ``ana.``."""
    return f"{learner}."


def own_prefix(s: Settings) -> str:
    """The active learner's prefix, or "" outside a class (the names the library makes up itself,
    like a reader's consumer group, carry it, so the learner's rights cover them)."""
    return prefix(s.learner) if s.learner else ""


def resolve(s: Settings, name: str) -> str:
    """A name as the notebooks write it, as the active learner's: in a class ``crypto-prices`` is
    ``ana.crypto-prices`` (so every notebook runs unchanged in a namespace). The course's names have
    no dot and every learner's prefix ends in one: a name with a dot is taken as given (theirs, or
    another learner's, which the engines refuse), and so is an internal one (``_…``). Outside a
    class, every name as given."""
    mine = own_prefix(s)
    return mine + name if mine and "." not in name and not name.startswith("_") else name


def names(s: Settings) -> dict[str, Any]:
    """The ``class`` profile's names for ``s.learner``: each of :data:`PREFIXED`'s defaults under
    the prefix, and the Iceberg table in a namespace named after the learner.

    Raises:
        ConfigError: No learner set (one line: the server sets it; by hand, ``DATAOPS_LEARNER``).
    """
    if not s.learner:
        raise ConfigError(f"el perfil 'class' necesita saber de qué alumno es: {ENV_PREFIX}LEARNER no está definida",
                          f"el servidor de la clase la define en tu sesión; a mano: export {ENV_PREFIX}LEARNER=<tu usuario>")  # fmt: skip
    fields = type(s).model_fields
    out: dict[str, Any] = {name: prefix(s.learner) + str(fields[name].default) for name in PREFIXED}
    table = str(fields["iceberg_table"].default).split(".", 1)[1]
    out["iceberg_table"] = f"{s.learner}.{table}"
    return out


def acl_prefixes(learner: str) -> dict[str, tuple[str, ...]]:
    """Kafka resource type -> the name prefixes ``learner`` may use: topics, consumer groups (their
    own, the Iceberg sink's ``connect-`` and control ``cg-control-`` groups), transactional ids
    (their own, and their source connectors' ``connect-<connector>-<task>``, the class's Connect
    worker being the group ``connect``)."""
    p = prefix(learner)
    return {"TOPIC": (p,), "GROUP": (p, f"connect-{p}", f"cg-control-{p}"), "TRANSACTIONAL_ID": (p, f"connect-{p}")}
