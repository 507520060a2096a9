"""Iceberg maintenance on the real catalog: compaction keeps every row once, expiry and orphan
removal shrink what a day of commits leaves, and the live sink keeps committing throughout."""

from __future__ import annotations

import time
from collections import Counter

import pyarrow as pa
import pytest

from dataops.iceberg import maintenance
from dataops.contract import contract_for
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture()
def scratch(pipeline):
    """A table of the course's schema in a namespace of its own, with 30 one-commit batches."""
    catalog = pipeline.iceberg.catalog()
    name = f"scratch.maintenance_{int(time.time() * 1000)}"
    catalog.create_namespace_if_not_exists("scratch")
    table = catalog.create_table(name, schema=contract_for(pipeline.settings).iceberg_schema())
    arrow = table.schema().as_arrow()
    t0 = 1_700_000_000
    for batch in range(30):
        rows = [{"coin_id": coin, "usd": 100.0 + batch, "usd_market_cap": 1e9, "usd_24h_vol": 1e7, "usd_24h_change": 0.5,
                 "last_updated_at": t0 + 5 * batch, "event_time": pa.scalar((t0 + 5 * batch) * 1_000_000, pa.timestamp("us", "UTC")).as_py(),
                 "processed_at": None} for coin in ("bitcoin", "ethereum")]  # fmt: skip
        table.append(pa.Table.from_pylist(rows, schema=arrow))
    yield name
    catalog.drop_table(name)


def keys(layer, name) -> Counter:
    rows = layer.read(name, columns=("coin_id", "last_updated_at", "usd"))
    return Counter(zip(rows["coin_id"], rows["last_updated_at"], rows["usd"]))


def test_maintenance_compacts_expires_and_removes_orphans_without_changing_a_row(pipeline, scratch):
    layer = pipeline.iceberg
    before = keys(layer, scratch)
    assert sum(before.values()) == 60 and len(before) == 60
    stats = maintenance.table_stats(layer, scratch)
    assert stats["snapshots"] == 30 and stats["data_files"] == 30

    steps = maintenance.maintain(layer, scratch, keep_s=0, orphan_age_s=0).set_index("paso")["resultado"]

    assert keys(layer, scratch) == before  # every row once, same values
    after = maintenance.table_stats(layer, scratch)
    assert after["data_files"] == 1 and after["snapshots"] == 1, steps.to_dict()
    assert "30 ficheros pequeños → 1 (60 filas)" in steps["compactación"]
    assert int(steps["snapshots caducados"]) == 30  # the 30 appends; the compaction's snapshot is current
    assert int(steps["ficheros huérfanos borrados"]) >= 30  # at least the 30 small data files
    table = layer.table(scratch)
    assert table.properties["write.metadata.delete-after-commit.enabled"] == "true"
    # what is left on disk is exactly what the table references
    assert maintenance.table_stats(layer, scratch)["files_on_disk"] == len(maintenance.referenced_files(table))
    again = maintenance.maintain(layer, scratch, keep_s=0, orphan_age_s=0).set_index("paso")["resultado"]
    assert again["compactación"].startswith("nada que compactar") and again["snapshots caducados"] == "0"


def test_maintenance_of_the_live_table_loses_and_repeats_nothing_and_the_sink_goes_on(pipeline):
    p = pipeline
    layer = p.iceberg
    wait_for(lambda: len(layer.files()) >= maintenance.MIN_SMALL_FILES, 120, "enough small files in the live table")
    before = _table_keys(layer)
    steps = maintenance.maintain(layer, keep_s=300, orphan_age_s=3600).set_index("paso")["resultado"]
    assert "ficheros pequeños" in steps["compactación"], steps.to_dict()
    after = _table_keys(layer)
    changed = {k: (n, after.get(k, 0)) for k, n in before.items() if after.get(k, 0) != n}
    assert not changed, f"rows lost or repeated by the compaction (before, after): {list(changed.items())[:5]}"
    newest = max(ts for _, ts in after)
    wait_for(lambda: max(ts for _, ts in _table_keys(layer)) > newest, 60, "the sink to commit new rows after the compaction")
    status = p.connect.status(p.settings.iceberg_connector_name)
    assert status["tasks"][0]["state"] == "RUNNING"


def _table_keys(layer) -> Counter:
    rows = layer.read(columns=("coin_id", "last_updated_at"))
    return Counter(zip(rows["coin_id"], rows["last_updated_at"].astype(int)))


def test_the_monitor_runs_maintenance_on_its_schedule(pipeline, scratch):
    import threading

    from dataops.monitor.service import maintain_forever

    settings = pipeline.settings.model_copy(update={"iceberg_table": scratch, "maintenance_interval_s": 0.5})
    stop = threading.Event()
    thread = threading.Thread(target=maintain_forever, args=(settings, stop), daemon=True)
    thread.start()
    try:
        wait_for(lambda: maintenance.table_stats(pipeline.iceberg, scratch)["data_files"] == 1, 60, "a scheduled compaction")
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
