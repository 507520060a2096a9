"""The Tableflow-shaped Iceberg REST catalog for real: Iceberg's REST catalog server (``iceberg-rest``)
and its front (``tableflow``) started on free ports and a fresh state folder (the server's build shared
with the suite's), a table written the way Tableflow materializes a topic (namespace = the cluster
id, table = the topic), then read from outside as the ``confluent`` profile does: ``p.iceberg``
(pyiceberg's REST catalog) and DuckDB (``ATTACH … TYPE iceberg`` with an OAuth2 secret), through
the front only. Nothing else of the stack is started.

No skip: without Java or the download the fixture fails with the one line that says how to fix it.
"""

from __future__ import annotations

import stat

import duckdb
import psutil
import pyarrow as pa
import pytest
import requests

import dataops
from dataops.artifacts import link_tree
from dataops import ConfigError
from dataops.duck.layer import attach_tableflow
from dataops.iceberg import engine
from dataops.stack import Stack
from dataops.paths import StatePaths

from tests.integration.helpers import own_components

pytestmark = pytest.mark.integration

TOPIC = "crypto-prices-exploded"
ROWS = pa.table({"coin_id": ["bitcoin", "ethereum", "solana"], "usd": [97000.5, 3600.25, 210.0],
                 "last_updated_at": [1764800000, 1764800001, 1764800002],
                 "event_time": pa.array([1764800000_000000, 1764800001_000000, 1764800002_000000], pa.timestamp("us", tz="UTC"))})  # fmt: skip
TIMINGS: dict[str, float] = {}


def _share(suite: StatePaths, own: StatePaths) -> None:
    engine.install(suite)  # the build is kept in the suite's state folder
    link_tree(engine.lib(suite), engine.lib(own))


@pytest.fixture(scope="module")
def catalog():
    """Both components on free ports and a fresh state folder (a fresh catalog); stopped after."""
    with own_components("tableflow-test", [engine.BACKEND, engine.FRONT], ["iceberg_rest_port", "tableflow_port"],
                        _share, TIMINGS) as s:  # fmt: skip
        yield s


@pytest.fixture(scope="module")
def table(catalog):
    """The project, standing in for Tableflow, materializes the topic: through the backend, not the front."""
    writer = engine.writer_catalog(catalog)
    namespace = engine.namespace(catalog)
    writer.create_namespace(namespace)
    created = writer.create_table(f"{namespace}.{TOPIC}", schema=ROWS.schema)
    created.append(ROWS)
    return f"{namespace}.{TOPIC}"


def outside(catalog, **overrides) -> dataops.Pipeline:
    """The ``confluent`` profile as a user fills it, from the file the front wrote (Kafka's settings
    are required by the profile, never reached here)."""
    return dataops.connect(profile="confluent", env_file=engine.client_env_file(catalog.paths), kafka_bootstrap="127.0.0.1:1",
                           kafka_api_key="unused", kafka_api_secret="unused", **overrides)  # fmt: skip


def test_both_run_and_the_unguarded_server_listens_on_loopback_only(catalog):
    status = Stack(catalog).status().set_index("component")
    assert status.loc[engine.BACKEND, "health"] == "up" and status.loc[engine.FRONT, "health"] == "up"
    print(f"\niceberg-rest and tableflow started in {TIMINGS['start_s']:.1f} s")
    assert TIMINGS["start_s"] < 120
    pid = int(status.loc[engine.BACKEND, "pid"])
    listening = {c.laddr for c in psutil.Process(pid).net_connections("tcp") if c.status == psutil.CONN_LISTEN}
    assert {(a.ip.removeprefix("::ffff:"), a.port) for a in listening} == {("127.0.0.1", catalog.iceberg_rest_port)}


def test_p_iceberg_reads_the_topic_table_through_the_front(catalog, table):
    p = outside(catalog)
    assert str(p.settings.tableflow_endpoint).startswith(f"http://127.0.0.1:{catalog.tableflow_port}/iceberg/catalog/organizations/")
    tables = p.iceberg.tables()
    assert tables.to_dict("records") == [{"namespace": engine.namespace(catalog), "table": table}]
    rows = p.iceberg.read(table).sort_values("coin_id")
    assert list(rows["coin_id"]) == ["bitcoin", "ethereum", "solana"] and list(rows["usd"]) == [97000.5, 3600.25, 210.0]
    assert p.iceberg.row_count(table) == 3


def test_p_duck_of_the_confluent_profile_queries_the_topics_table_by_the_local_name(catalog, table):
    """``p.duck`` and ``p.sql`` in the confluent profile: DuckDB on the catalog through the front,
    the topic's table (``"<cluster id>"."crypto-prices-exploded"``) under the local table's short name."""
    p = outside(catalog)
    assert p.settings.confluent_cluster_id == engine.namespace(catalog)  # from the file the front wrote
    got = p.duck.per_coin()
    assert list(got["coin_id"]) == ["bitcoin", "ethereum", "solana"] and list(got["records"]) == [1, 1, 1]
    assert list(got["avg_usd"]) == [97000.5, 3600.25, 210.0]
    assert int(p.sql("SELECT count(*) AS n FROM crypto_prices_exploded")["n"].iloc[0]) == 3
    with pytest.raises(ConfigError, match="rechazó la clave y el secreto"):
        outside(catalog, tableflow_api_secret="not-the-secret").duck.per_coin()


def test_duckdb_attaches_the_catalog_with_an_oauth2_secret(catalog, table):
    namespace, name = table.split(".", 1)
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    alias = attach_tableflow(con, outside(catalog).settings)
    got = con.sql(f'SELECT coin_id, usd FROM {alias}."{namespace}"."{name}" ORDER BY coin_id').fetchall()
    assert got == [("bitcoin", 97000.5), ("ethereum", 3600.25), ("solana", 210.0)]


def test_a_wrong_secret_is_one_spanish_line_naming_the_setting(catalog, table):
    wrong = outside(catalog, tableflow_api_secret="not-the-secret")
    with pytest.raises(ConfigError) as by_pyiceberg:
        wrong.iceberg.read(table)
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    with pytest.raises(ConfigError) as by_duckdb:
        attach_tableflow(con, wrong.settings)
    for err in (by_pyiceberg.value, by_duckdb.value):
        line = str(err)
        assert "\n" not in line and "rechazó la clave y el secreto" in line and "DATAOPS_TABLEFLOW_API_SECRET" in line
        assert "not-the-secret" not in line
    anonymous = requests.get(f"{wrong.settings.tableflow_endpoint}/v1/namespaces", timeout=10)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["type"] == "NotAuthorizedException"


def test_writes_through_the_front_are_refused_and_change_nothing(catalog, table):
    from pyiceberg.exceptions import ForbiddenError

    p = outside(catalog)
    rest = p.iceberg.catalog()
    # pyiceberg reads the catalog's config: no write endpoint listed, so it refuses before asking.
    with pytest.raises(NotImplementedError, match="POST /v1/{prefix}/namespaces"):
        rest.create_namespace("lkc-other")
    with pytest.raises((NotImplementedError, ForbiddenError)):
        rest.load_table(table).append(ROWS)
    # A client that asks all the same (with a valid token) gets 403 from the front.
    auth = {"Authorization": f"Bearer {engine.token(catalog).json()['access_token']}"}
    namespace, name = table.split(".", 1)
    base = str(p.settings.tableflow_endpoint)
    for path, body in ((f"{base}/v1/namespaces", {"namespace": ["lkc-other"]}),
                       (f"{base}/v1/namespaces/{namespace}/tables/{name}", {"requirements": [], "updates": []})):  # fmt: skip
        refused = requests.post(path, json=body, headers=auth, timeout=10)
        assert refused.status_code == 403 and refused.json()["error"]["message"] == "the catalog is read-only for external engines"
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    alias = attach_tableflow(con, p.settings)
    with pytest.raises(duckdb.Error, match="403"):
        con.execute(f'INSERT INTO {alias}."{namespace}"."{name}" VALUES (\'dogecoin\', 0.3, 1764800003, TIMESTAMPTZ \'2025-12-03 22:13:23+00\')')
    assert engine.writer_catalog(catalog).load_table(table).scan().to_arrow().num_rows == 3
    assert [ns for ns in engine.writer_catalog(catalog).list_namespaces()] == [(engine.namespace(catalog),)]


def test_the_secret_is_in_no_log_no_command_and_only_in_private_files(catalog, table):
    secret = engine.catalog_config(catalog.paths)["client_secret"]
    paths = catalog.paths
    for name in (engine.BACKEND, engine.FRONT):
        for path in (paths.log_file(name), paths.pid_file(name)):
            assert secret not in path.read_text(encoding="utf-8"), path
    for path in (engine.config_file(paths), engine.client_env_file(paths)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and secret in path.read_text(encoding="utf-8")
