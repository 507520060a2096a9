"""The ``confluent`` profile end to end on the cloud fixtures: the session stack's simulator and Flink,
the fixtures beside them (the SASL_SSL broker, the registry, the Tableflow-shaped REST catalog and
``connect-cloud``), and their managed side made by ``provision`` (the HTTP source and the Iceberg sink
on ``connect-cloud``, the explode job on the session's Flink with SASL_SSL options). Then read as a
user of the profile reads their Confluent Cloud account: one ``.env``, ``p.kafka`` over SASL_SSL,
``p.duck`` through the OAuth2 front.

No skip: without Java or a download the fixture fails with the one line that says how to fix it.
"""

from __future__ import annotations

import stat
import time

import pytest
import requests

import dataops
from dataops.automation.standin import provision, withdraw
from dataops.kafka import sasl
from dataops.kafka_connect import cloud as connect_cloud
from dataops.profiles import standin
from dataops.stack.engines import expand

pytestmark = pytest.mark.integration

TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def cloud(pipeline):
    """The fixtures up and provisioned; afterwards the cloud job canceled and the fixtures stopped
    (the session's Flink gets its slot back)."""
    names = expand(["cloud-fixtures"])
    t0 = time.monotonic()
    try:
        pipeline.stack.up(names, progress=False)
        TIMINGS["actions"] = provision(pipeline.settings, say=lambda line: None)  # type: ignore[assignment]
        TIMINGS["up_s"] = time.monotonic() - t0
        yield pipeline
    finally:
        withdraw(pipeline.settings)
        for name in reversed(names):
            pipeline.stack.stop(name)


@pytest.fixture(scope="module")
def user(cloud):
    """The ``confluent`` profile as its user has it: the one file the fixtures wrote."""
    return dataops.connect(env_file=standin.client_env(cloud.settings))


def _ticks(user) -> set[int]:
    return set(map(int, user.sql("SELECT DISTINCT last_updated_at FROM crypto_prices_exploded")["last_updated_at"]))


def test_the_managed_side_is_made_and_a_second_provision_changes_nothing(cloud):
    made = dict(TIMINGS["actions"])  # type: ignore[arg-type]
    kinds = {key.split("/")[0] for key in made}
    assert kinds == {"topic", "connector", "job", "table", "sink"}, made
    print(f"\ncloud fixtures up and provisioned in {TIMINGS['up_s']:.1f} s: {made}")
    again = dict(provision(cloud.settings, say=lambda line: None))
    assert set(again) == set(made)
    assert all(a in ("exists", "unchanged") or a.startswith("running") for a in again.values()), again


def test_the_user_file_is_the_profile_and_private(cloud, user):
    where = standin.client_env(cloud.settings)
    assert stat.S_IMODE(where.stat().st_mode) == 0o600
    assert user.settings.profile == "confluent" and user.settings.kafka_bootstrap == f"{cloud.settings.host}:{cloud.settings.kafka_sasl_port}"


def test_prices_reach_the_exploded_topic_over_sasl_ssl(user):
    rows = user.kafka.latest(user.settings.topic_exploded, 20, wait_s=60)
    payloads = [r for r in rows["payload"] if isinstance(r, dict)]
    assert payloads and {"coin_id", "usd", "last_updated_at"} <= set(payloads[0])
    assert set(r["coin_id"] for r in payloads) <= set(user.settings.coins)


def test_a_price_change_reaches_duckdb_through_the_tableflow_front_once(user):
    """A tick the simulator makes after the test starts is seen through the front, each coin's row once."""
    start = time.time()
    deadline = time.monotonic() + 90
    seen: set[int] = set()
    while time.monotonic() < deadline and not any(t >= start for t in seen):
        time.sleep(1.0)
        seen = _ticks(user)
    fresh = sorted(t for t in seen if t >= start)
    assert fresh, f"no price newer than the test reached DuckDB in 90 s (newest {max(seen, default=None)})"
    print(f"\nfirst new price through the front after {time.time() - start:.1f} s")
    dup = user.sql("SELECT coin_id, last_updated_at, count(*) AS n FROM crypto_prices_exploded "
                   "GROUP BY ALL HAVING count(*) > 1")  # fmt: skip
    assert dup.empty, f"rows written twice: {dup.head().to_dict('records')}"


def test_no_secret_in_the_connectors_configs_the_jobs_or_the_logs(cloud):
    secret = sasl.credentials(cloud.settings.paths)["secret"].get_secret_value()
    base = connect_cloud.url(cloud.settings)
    names = requests.get(f"{base}/connectors", timeout=10).json()
    assert sorted(names) == sorted([cloud.settings.connector_name, cloud.settings.iceberg_connector_name])
    for name in names:
        assert secret not in requests.get(f"{base}/connectors/{name}/config", timeout=10).text, name
    job = cloud.flink.live_job(cloud.settings.flink_job_name + standin.JOB_SUFFIX)
    assert job is not None and job["state"] == "RUNNING"
    for part in ("", "/plan", "/config", "/exceptions"):
        assert secret not in requests.get(f"{cloud.settings.flink_url}/jobs/{job['jid']}{part}", timeout=10).text, part
    for log in cloud.settings.paths.logs.glob("*"):
        if log.is_file():
            assert secret not in log.read_text(encoding="utf-8", errors="replace"), log
    assert stat.S_IMODE(connect_cloud.config_file(cloud.settings.paths).stat().st_mode) == 0o600
