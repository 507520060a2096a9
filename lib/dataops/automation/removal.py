"""Removing a declared resource: ``destroy`` of a scratch namespace (block 3's practice, the demo's)."""

from __future__ import annotations

from dataops.automation.resources import Resource, job_settings
from dataops.errors import DataOpsError, TableNotFoundError
from dataops.facade import Layers


def destroy(p: Layers, r: Resource) -> str:
    """Remove one resource (for scratch namespaces); returns what was done."""
    if r.kind == "topic":
        present = r.name in p.kafka.topic_names()
        p.kafka.delete_topic(r.name)
        return "deleted" if present else "absent"
    if r.kind in ("connector", "sink"):
        if p.connect.config(r.name) is None:
            return "absent"
        p.connect.delete(r.name)
        kept = _delete_group(p, f"connect-{r.name}") if r.kind == "sink" else ""
        return "deleted" + (f"; {kept}" if kept else "")
    if r.kind == "job":
        from dataops.flink.job import job_ids_file

        live = p.flink.live_job(r.name)
        if live is not None:
            p.flink.cancel(live["jid"])
        job_ids_file(job_settings(p.settings, r.spec)).unlink(missing_ok=True)  # never resume a scratch job's checkpoint
        kept = _delete_group(p, r.name)
        return ("canceled" if live else "absent") + (f"; {kept}" if kept else "")
    if r.kind == "table":
        import shutil
        from urllib.parse import urlparse

        from pyiceberg.exceptions import NoSuchTableError

        try:
            location = p.iceberg.table(r.name).location()
        except TableNotFoundError:
            return "absent"
        try:
            p.iceberg.catalog().drop_table(r.name)
        except NoSuchTableError:  # dropped by someone else meanwhile
            return "absent"
        except Exception as exc:  # noqa: BLE001 - the catalog's own errors: one line with the cause
            raise DataOpsError(f"falló el borrado de la tabla {r.name}: {type(exc).__name__}: {_first_line(exc)}",
                               "revisa el catálogo (`p.iceberg.tables()`) y vuelve a lanzar la limpieza") from None
        if p.iceberg.local and location.startswith("file:"):  # the SQL catalog does not purge its files
            shutil.rmtree(urlparse(location).path, ignore_errors=True)
        return "dropped"
    raise ValueError(r.kind)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else "(no message)"


def _delete_group(p: Layers, group: str) -> str:
    """Drop a consumer group's committed offsets (a scratch resource's leftovers).

    Returns "" when they are gone (or there were none), else why the group is still there, to be
    shown beside what was done: a group with members (still shutting down), a broker that did not
    answer…
    """
    from confluent_kafka import KafkaError, KafkaException

    admin = p.kafka.admin()
    try:
        admin.delete_consumer_groups([group], request_timeout=10)[group].result(timeout=15)
    except KafkaException as exc:
        error = exc.args[0] if exc.args else None
        if isinstance(error, KafkaError) and error.code() == KafkaError.GROUP_ID_NOT_FOUND:
            return ""
        reason = error.str() if isinstance(error, KafkaError) else _first_line(exc)
    except Exception as exc:  # noqa: BLE001 - e.g. a timeout: reported, not raised (the rest of the clean-up goes on)
        reason = f"{type(exc).__name__}: {_first_line(exc)}"
    else:
        return ""
    return f"consumer group {group} kept ({reason})"
