"""Each learner's Iceberg table on the class server: a SQL catalog and warehouse of their own
(``<state>/class/iceberg/<learner>``), written by the server (their Iceberg sink on the class's
Connect worker, their table made by the front), read by the learner.

- **Who writes**: the server only (root). The learner's ``p.apply()`` asks the front to create their
  table (``POST /iceberg/table``); their sink's catalog and Kafka login are put in by the front
  (:func:`sink_overrides`), so a sink of theirs can only write their own catalog.
- **Who reads**: the learner, by the file system: their folder is ``root:<their group>``, mode
  2750 (new files and folders inherit the group, and are group-readable), closed to the others; on
  a server without Unix users (tests, a class without the hub) it is root's.
"""

from __future__ import annotations

import os
from pathlib import Path

from dataops.classroom import broker, connect
from dataops.classroom.namespace import prefix
from dataops.config import Settings, load_settings
from dataops.paths import StatePaths

SINK = "org.apache.iceberg.connect.IcebergSinkConnector"


def learner_dir(paths: StatePaths, learner: str) -> Path:
    return paths.classroom / "iceberg" / learner


def _server_layer(s: Settings, learner: str):  # -> IcebergLayer
    """``learner``'s catalog as the server opens it (the ``local`` profile's layer, in their folder)."""
    from dataops.iceberg.layer import IcebergLayer

    return IcebergLayer(load_settings(profile="local", state_dir=s.paths.root, iceberg_dir=learner_dir(s.paths, learner)))


def prepare(s: Settings, learner: str) -> Path:
    """``learner``'s folder with an empty catalog in it (so they can open it read-only before their
    first table), given to their group when they have a Unix user (:func:`give_to`)."""
    folder = learner_dir(s.paths, learner)
    folder.mkdir(parents=True, exist_ok=True)
    _server_layer(s, learner).catalog()  # type: ignore[attr-defined]  # makes catalog.db with its tables
    give_to(folder, learner)
    return folder


def give_to(folder: Path, learner: str) -> bool:
    """``folder`` (and what is in it) readable by ``learner``'s group only: ``root:<group>``, folders
    2750, files 640; True when the learner has a Unix user (else the folder stays root's, 700)."""
    import grp
    import pwd

    try:
        gid = pwd.getpwnam(learner).pw_gid
        grp.getgrgid(gid)
    except KeyError:
        folder.chmod(0o700)
        return False
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            os.chown(Path(root) / name, 0, gid)
            (Path(root) / name).chmod(0o2750)
        for name in files:
            os.chown(Path(root) / name, 0, gid)
            (Path(root) / name).chmod(0o640)
    os.chown(folder, 0, gid)
    folder.chmod(0o2750)
    return True


def ensure_table(s: Settings, learner: str, name: str) -> str:
    """Create ``learner``'s table ``name`` (under their namespace) unless it exists; what was done.

    Raises:
        RefusedError: ``name`` is not under their namespace (one line).
    """
    from dataops.errors import RefusedError

    if name.split(".", 1)[0] != learner:
        raise RefusedError(403, f"la tabla {name!r} no es tuya: en la clase tus tablas están en el namespace {learner!r}")
    layer = _server_layer(s, learner)
    done = str(layer.ensure_table(name))  # type: ignore[attr-defined]
    give_to(learner_dir(s.paths, learner), learner)
    return done


def sink_overrides(s: Settings, learner: str) -> dict[str, str]:
    """What the front puts in ``learner``'s Iceberg sink: their catalog, and their Kafka login for the
    sink's coordinator (``iceberg.kafka.*``)."""
    login = f"${{file:{connect.login_file(s.paths, learner)}:sasl.jaas.config}}"
    return {**_server_layer(s, learner).java_catalog_config(), "iceberg.kafka.bootstrap.servers": broker.bootstrap(s),
            "iceberg.kafka.security.protocol": "SASL_PLAINTEXT", "iceberg.kafka.sasl.mechanism": broker.MECHANISM,
            "iceberg.kafka.sasl.jaas.config": login,
            # the sink's transactional ids (its workers' and its coordinator's) under the learner's prefix, which their ACLs cover
            "iceberg.coordinator.transactional.prefix": prefix(learner),
            "iceberg.control.group-id-prefix": f"cg-control-{prefix(learner)}"}  # and its control groups


def check_sink(learner: str, config: dict[str, str]) -> str | None:
    """Why ``learner``'s sink config may not run (one line), or None."""
    tables = [t.strip() for t in config.get("iceberg.tables", "").split(",") if t.strip()]
    if not tables or any(t.split(".", 1)[0] != learner for t in tables):
        return f"iceberg.tables={config.get('iceberg.tables')!r}: en la clase tu sink solo escribe tablas de tu namespace ({learner}.…)"
    if not config.get("iceberg.control.topic", "").startswith(prefix(learner)):
        return f"iceberg.control.topic: en la clase es un topic tuyo ({prefix(learner)}…)"
    return None
