"""The ``confluent`` profile end to end on the cloud fixtures: the session stack's simulator and Flink,
the fixtures beside them (the SASL_SSL broker, the registry, the Tableflow-shaped REST catalog and
``connect-cloud``), and their managed side made by ``provision`` (the HTTP source and the Iceberg sink
on ``connect-cloud``, the explode job on the session's Flink with SASL_SSL options). Then read as a
user of the profile reads their Confluent Cloud account: one ``.env``, ``p.kafka`` over SASL_SSL,
``p.duck`` through the OAuth2 front.

No skip: without Java or a download the fixture fails with the one line that says how to fix it.
"""

from __future__ import annotations

import json
import re
import stat
import time
from pathlib import Path

import pytest
import requests

import dataops
from dataops.automation.standin import provision, withdraw
from dataops.contract import contract_for
from dataops.kafka import sasl
from dataops.kafka_connect import cloud as connect_cloud
from dataops.profiles import standin
from dataops.profiles.confluent import CONFLUENT
from dataops.registry import avro
from dataops.registry import local as registry_local
from dataops.runner import run_notebooks
from dataops.stack.engines import expand

pytestmark = pytest.mark.integration

TIMINGS: dict[str, float] = {}
NOT_AVRO = "dataops.not-avro"  # the header on a poll the converter kept as JSON (lib/stack/avro-converter)


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


def _newest(user, topic: str) -> list:
    """The newest few records of every partition, with their sizes and schema ids as the broker holds them."""
    return user.kafka.read(topic, {p: max(0, end - 6) for p, end in user.kafka.end_offsets(topic).items()})


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


def test_prices_reach_the_exploded_topic_over_sasl_ssl_in_avro_with_the_registry(user):
    """The stand-in's default: the exploded rows in Confluent's wire format, the contract's Avro
    schema registered by Flink under ``<topic>-value``, decoded by ``p.kafka`` through the registry."""
    deadline = time.monotonic() + 60
    while True:  # the newest bytes: a topic switched from JSON keeps its older JSON rows
        newest = _newest(user, user.settings.topic_exploded)
        if (newest and all(r.schema_id is not None for r in newest)) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert newest and all(r.schema_id is not None for r in newest), [r.value for r in newest[:2]]
    assert all(r.size_bytes < len(r.value.encode()) for r in newest)  # Avro's body: no field names
    rows = user.kafka.latest(user.settings.topic_exploded, 5)  # decoded by the layer, through the registry
    payloads = [r for r in rows["payload"] if isinstance(r, dict)]
    assert len(payloads) == len(rows) and {"coin_id", "usd", "last_updated_at", "event_time"} <= set(payloads[0])
    assert set(r["coin_id"] for r in payloads) <= set(user.settings.coins)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["event_time"]) for r in payloads)
    subject = avro.subject(user.settings.topic_exploded)
    registered = user.schema_registry.subjects().set_index("subject")
    assert subject in registered.index
    assert list(registered.loc[subject, "fields"]) == [c.name for c in contract_for(user.settings).columns]
    assert {r.schema_id for r in newest} == {int(registered.loc[subject, "id"])}  # written with the registered version


def _letters_like(user, match, wait_s: float = 60) -> list[dict]:
    """The dead letters (of the last 10 minutes) ``match`` accepts, waiting up to ``wait_s`` for one."""
    deadline = time.monotonic() + wait_s
    while True:
        found = [row for row in user.dlq.letters(minutes=10).to_dict("records") if match(row)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(2)


def test_polls_reach_the_raw_topic_in_avro_and_a_poll_the_schema_cannot_carry_is_judged_as_in_json(cloud, user):
    """The HTTP source writes each poll through the project's converter: Avro by the raw contract's schema,
    registered under ``<raw topic>-value``, which the explode job decodes (``AVRO_POLL``). A poll that
    schema cannot carry (the simulator's ``schema_drift``: a field renamed) is kept as its JSON text, the
    ``dataops.not-avro`` header saying why, and the job judges it as in the JSON profile: its coins in
    the dead letters, by the same reasons, the raw text the poll's own."""
    topic = user.settings.topic_raw
    deadline = time.monotonic() + 60
    kept_aside = (avro.UNDECODABLE_HEADER, NOT_AVRO)  # (this test's drifted polls, the next test's value: a rerun finds them)
    while True:
        newest = [r for r in _newest(user, topic) if not any(h in r.headers for h in kept_aside)]
        if (newest and all(r.schema_id is not None for r in newest)) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert newest and all(r.schema_id is not None for r in newest), [r.value for r in newest[:2]]
    assert all(r.size_bytes < len(r.value.encode()) / 2 for r in newest)  # Avro's body: no coin's field names
    registered = user.schema_registry.subjects().set_index("subject")
    subject = avro.subject(topic)
    assert list(registered.loc[subject, "fields"]) == ["value"]  # the poll keyed by coin id: a map, wrapped
    assert {r.schema_id for r in newest} == {int(registered.loc[subject, "id"])}
    polls = [json.loads(r.value) for r in newest]  # decoded by p.kafka through the registry: the poll itself
    assert all(poll and set(poll) <= set(user.settings.coins) and "usd" in poll[next(iter(poll))] for poll in polls), polls[:1]

    start_ms = int(time.time() * 1000)
    cloud.source.inject_fault("schema_drift", duration_s=8, mode="rename")
    try:
        deadline = time.monotonic() + 60
        kept: list = []
        while not kept and time.monotonic() < deadline:
            time.sleep(2)
            kept = [r for r in _newest(user, topic) if r.timestamp_ms >= start_ms and r.schema_id is None]
    finally:
        cloud.source.clear_faults()
    assert kept, "no drifted poll reached the raw topic as JSON in 60 s"
    why = kept[0].headers.get(NOT_AVRO, b"").decode()
    assert re.search(r"\$\.[a-z0-9-]+\.\w+: (missing|a member the schema)", why), why
    body = kept[0].value
    assert isinstance(json.loads(body), dict)  # the poll's own text, as the API answered it
    contract = contract_for(user.settings)
    judged = {coin: contract.violation(coin, entry) for coin, entry in json.loads(body).items()}  # as in JSON
    assert any(judged.values()), judged
    letters = _letters_like(user, lambda row: row["raw"] == body)
    assert {row["coin_id"]: row["reason"] for row in letters} == {c: r for c, r in judged.items() if r}, letters[:2]


def test_a_raw_value_no_schema_decodes_goes_to_the_dead_letters_whole(user):
    """A value in the wire format with a schema id the registry does not have: the job sends it to the
    dead letters as ``undecodable_avro``, its bytes kept (base64), and goes on (the price test after this
    one sees a new price through the whole pipeline)."""
    import base64

    from confluent_kafka import Producer

    value = bytes([0]) + (2**31 - 7).to_bytes(4, "big") + f"no such schema {time.time()}".encode()
    producer = Producer(user.settings.kafka_config())
    producer.produce(user.settings.topic_raw, value=value)
    assert producer.flush(15) == 0
    letters = _letters_like(user, lambda row: row["raw"] == base64.b64encode(value).decode())
    assert [(row["reason"], row["detail"]) for row in letters] == [("undecodable_avro", "poll")], letters
    shown = [r for r in _newest(user, user.settings.topic_raw) if r.value == base64.b64encode(value).decode()]
    assert len(shown) == 1 and "2147483641" in shown[0].headers[avro.UNDECODABLE_HEADER].decode()  # p.kafka reads on past it


def test_a_value_the_sink_cannot_read_goes_to_the_dead_letters_and_the_sink_goes_on(cloud, user):
    """Not Avro on the Avro topic (someone wrote JSON by hand): the converter refuses it, Connect sends
    it to the DLQ with the reason in its headers, and the sink keeps running."""
    from confluent_kafka import Producer

    marker = f'{{"coin_id": "bogus-{int(time.time())}"}}'.encode()
    producer = Producer(user.settings.kafka_config())
    producer.produce(user.settings.topic_exploded, value=marker, key=b"bogus")
    assert producer.flush(15) == 0
    deadline = time.monotonic() + 60
    found = None
    while time.monotonic() < deadline and found is None:
        dlq = user.kafka.latest(user.settings.topic_dlq, 20, wait_s=5)
        found = next((v for v in dlq["value"] if v == marker or v == marker.decode()), None)
    assert found is not None, "the unreadable value never reached the dead letter topic"
    states = requests.get(f"{connect_cloud.url(cloud.settings)}/connectors/{cloud.settings.iceberg_connector_name}/status", timeout=10).json()
    assert states["connector"]["state"] == "RUNNING" and all(t["state"] == "RUNNING" for t in states["tasks"]), states


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


#: Why a cell may be skipped in ``confluent``: what the cloud runs for its user (no local stack; Connect,
#: Flink and the sink's group managed), what only the simulator has (faults, the served log), and a name
#: such a cell would have set. Anything else skipped would be a layer the profile should offer.
CLOUD_DOES_NOT_OFFER = (*(what for what, _ in CONFLUENT.absent.values()), "no tiene fallos inyectables",
                        "no tiene registro de respuestas servidas", "que Tableflow no expone", "lo crea la nube, no este cuaderno",
                        "que no existe en este perfil")  # fmt: skip


def _skips(executed) -> list[str]:
    lines = []
    for cell in json.loads(executed.read_text(encoding="utf-8"))["cells"]:
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            lines += [line for line in ("".join(text) if isinstance(text, list) else text).splitlines() if line.startswith("⏭")]
    return lines


def _cell_text(executed: Path, source: str) -> str:
    """The text outputs of the first code cell of ``executed`` whose source holds ``source``."""
    cell = next(c for c in json.loads(executed.read_text(encoding="utf-8"))["cells"] if source in "".join(c["source"]))
    return "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))


def test_every_master_runs_to_its_end_in_the_confluent_profile(cloud, tmp_path, monkeypatch):
    """The course's notebooks, unchanged, as a Confluent Cloud user runs them (the one ``.env``): each
    runs to its end; a cell that needs what the cloud does not offer says so in one Spanish line
    (⏭) and the notebook goes on; the self-checks that run judge the profile's data and none says
    ✘; no secret of the file reaches an output."""
    env_file = standin.client_env(cloud.settings)
    monkeypatch.setenv("DATAOPS_ENV_FILE", str(env_file))
    results = run_notebooks(output_dir=tmp_path, parameters={"espera_s": 60})
    print("\n" + results[["notebook", "status", "seconds", "checks"]].to_string(index=False))
    assert (results["status"] == "ok").all(), results.loc[results["status"] != "ok", ["notebook", "error"]].to_dict("records")
    assert not results["checks"].str.contains("✘").any(), results[["notebook", "checks"]].to_dict("records")
    passed = sum(int(m) for m in re.findall(r"(\d+) ✔", " ".join(results["checks"])))
    assert passed >= 10, results[["notebook", "checks"]].to_dict("records")  # the checks ran, not all skipped
    secrets = [v for k, v in (line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
               if k.endswith(("_SECRET", "_PASSWORD"))]  # fmt: skip
    assert len(secrets) == 3, "the Kafka, Tableflow and registry secrets"
    skips = []
    for executed in sorted(tmp_path.glob("*.ipynb")):
        text = executed.read_text(encoding="utf-8")
        assert not any(secret in text for secret in secrets), executed.name
        skips += [(executed.stem, line) for line in _skips(executed)]
    assert skips, "nothing skipped: the cells on the local stack ran in the confluent profile?"
    unexpected = [(nb, line) for nb, line in skips if not any(reason in line for reason in CLOUD_DOES_NOT_OFFER)]
    assert not unexpected, unexpected
    assert {nb for nb, _ in skips} >= {"00_entorno", "01_pipeline_existente"}
    # block 3's fault 1 breaks what this profile uses (the API's URL, not the local simulator's port)
    fault_1 = _cell_text(tmp_path / "03_automatizacion.ipynb", "block3.misconfigured(p)")
    assert "DATAOPS_COINGECKO_URL=" in fault_1 and "✘ prerrequisitos" in fault_1, fault_1


@pytest.mark.parametrize("which", ["kafka", "registry"])
def test_no_secret_in_the_connectors_configs_the_jobs_or_the_logs(cloud, which):
    if which == "kafka":
        secret = sasl.credentials(cloud.settings.paths)["secret"].get_secret_value()
    else:
        secret = registry_local.endpoint(cloud.settings).secret.get_secret_value()
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
