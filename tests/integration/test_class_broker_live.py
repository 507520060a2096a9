"""The class server's broker for real: ``kafka-class`` (a KRaft node with SCRAM users and ACLs)
started as a native process on free ports and a fresh state folder, two learners made by
``dataops class up``, and each of learner A's attempts on learner B's names refused by the broker
itself, with the same attempts on A's own names as the control that makes the test able to fail.

No skip: without Java or the jars the fixture fails with the one line that says how to fix it.
"""

from __future__ import annotations

import os
import socket
import stat
import time

import psutil
import pytest
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource

import dataops
from dataops import ConfigError
from dataops.artifacts import share_downloads
from dataops.classroom import access, broker, simulators
from dataops.classroom import connect as class_connect
from dataops.classroom import flink as class_flink
from dataops.cli import main
from dataops.stack import Stack
from tests.integration.helpers import cli, own_components

pytestmark = pytest.mark.integration

TIMINGS: dict[str, float] = {}
PORTS = ["kafka_class_port", "kafka_class_internal_port", "kafka_class_controller_port", "class_simulator_port",
         "class_connect_port", "class_front_port", "class_flink_port", "class_monitor_port"]  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The broker, and ``dataops class up`` run for the roster ana, bruno (the CLI in this process,
    with the fixture's state folder and ports in the environment)."""
    with own_components("kafka-class-test", [broker.NAME], PORTS, share_downloads, TIMINGS) as s:
        roster = tmp_path_factory.mktemp("class") / "clase.yaml"
        roster.write_text("learners: [ana, bruno]\n")
        with pytest.MonkeyPatch.context() as mp:
            for name in [k for k in os.environ if k.startswith("DATAOPS_") and k != "DATAOPS_CI"]:
                mp.delenv(name)  # a learner's session has only their settings file (the suite's ports are its own)
            for name in ("state_dir", *PORTS):
                mp.setenv(f"DATAOPS_{name.upper()}", str(getattr(s, name)))
            mp.delenv("DATAOPS_PROFILE", raising=False)
            cli("class", "up", "--roster", str(roster), "--quiet")
            try:
                yield s, mp
            finally:
                main(["class", "down"])


def learner(s, name: str) -> dataops.Pipeline:
    """The learner's pipeline, from the settings file ``class up`` wrote for them: as their session opens it."""
    return dataops.connect(env_file=access.env_file(s.paths, name))


def _admin_error(future) -> str | None:
    try:
        future.result(timeout=15)
        return None
    except KafkaException as exc:
        return exc.args[0].name()


def _produce_error(conf: dict, topic: str) -> str | None:
    errors: list = []
    producer = Producer({**conf, "enable.idempotence": True, "message.timeout.ms": 10000})
    producer.produce(topic, b'{"n": 1}', on_delivery=lambda err, msg: errors.append(err))
    producer.flush(15)
    return errors[0].name() if errors and errors[0] else None


def _consume_error(conf: dict, topic: str, group: str) -> str | None:
    """The first error a consumer in ``group`` subscribed to ``topic`` meets, None when it reads a record."""
    consumer = Consumer({**conf, "group.id": group, "auto.offset.reset": "earliest", "log_level": 0})
    consumer.subscribe([topic])
    try:
        for _ in range(30):
            msg = consumer.poll(1)
            if msg is not None:
                return msg.error().name() if msg.error() else None
        return "nothing read"
    finally:
        consumer.close()


def _attempts(conf: dict, topic: str, group: str) -> dict[str, str | None]:
    """Read, write, reconfigure and delete ``topic``, and join ``group``: each outcome (None: done)."""
    admin = AdminClient({**conf, "log_level": 0})
    change = ConfigResource("TOPIC", topic, incremental_configs=[ConfigEntry("retention.ms", "7200000", incremental_operation=AlterConfigOpType.SET)])
    outcome = {"write": _produce_error(conf, topic), "read": _consume_error(conf, topic, group),
               "reconfigure": _admin_error(admin.incremental_alter_configs([change])[change])}  # fmt: skip
    outcome["delete"] = _admin_error(admin.delete_topics([topic], operation_timeout=10)[topic])
    return outcome


def test_each_learner_gets_a_namespace_a_user_and_a_private_settings_file(server):
    s, _ = server
    assert Stack(s).status().set_index("component").loc[broker.NAME, "health"] == "up"
    print(f"\nkafka-class started in {TIMINGS['start_s']:.1f} s")
    status = access.status(s, ["ana", "bruno"]).set_index("learner")
    assert status["kafka_user"].all() and (status["acls"] == len(access.acl_bindings("ana"))).all()
    ana = learner(s, "ana").settings
    assert (ana.profile, ana.learner, ana.topic_raw, ana.iceberg_table) == ("class", "ana", "ana.crypto-prices", "ana.crypto_prices_exploded")
    assert ana.bootstrap_servers == broker.bootstrap(s)
    for path in (access.env_file(s.paths, "ana"), broker.admin_file(s.paths), broker.config_file(s.paths)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_learner_can_do_everything_in_their_namespace_and_nothing_in_anothers(server):
    s, _ = server
    ana, bruno = learner(s, "ana"), learner(s, "bruno")
    for p in (ana, bruno):
        assert p.kafka.ensure_topic(p.settings.topic_raw, 2, {"retention.ms": "3600000"}) == "created"
    conf = ana.settings.kafka_config()
    own = _attempts(conf, "ana.crypto-prices", "ana.reader")
    assert own == {"write": None, "read": None, "reconfigure": None, "delete": None}  # the control: each attempt can succeed
    assert _produce_error(bruno.settings.kafka_config(), "bruno.crypto-prices") is None  # something for ana to try to read
    theirs = _attempts(conf, "bruno.crypto-prices", "ana.reader-2")
    assert theirs == dict.fromkeys(("write", "read", "reconfigure", "delete"), "TOPIC_AUTHORIZATION_FAILED")
    assert _consume_error(conf, "ana.crypto-prices-none", "bruno.g") == "GROUP_AUTHORIZATION_FAILED"  # another's group
    assert bruno.kafka.topic_names() == ["bruno.crypto-prices"]  # untouched, and ana's invisible to bruno


def test_the_library_says_each_refusal_in_one_line(server):
    s, _ = server
    ana = learner(s, "ana")
    learner(s, "bruno").kafka.ensure_topic("bruno.crypto-prices-exploded", 1, {})
    calls = {"leer": lambda: ana.kafka.read("bruno.crypto-prices-exploded", timeout=3),
             "borrar": lambda: ana.kafka.delete_topic("bruno.crypto-prices-exploded"),
             "crear": lambda: ana.kafka.ensure_topic("bruno.extra", 1, {})}  # fmt: skip
    for verb, call in calls.items():
        with pytest.raises(ConfigError) as refused:
            call()
        line = str(refused.value)
        assert f"Kafka no deja a ana {verb} el topic 'bruno." in line and "'ana.'" in line and "\n" not in line
    assert "bruno.crypto-prices-exploded" in learner(s, "bruno").kafka.topic_names()


def test_no_listener_lets_in_a_learner_without_the_right_password(server):
    s, _ = server
    with pytest.raises(ConfigError, match="rechazó la API key de Kafka"):
        dataops.connect(env_file=access.env_file(s.paths, "ana"), kafka_api_secret="not-it").kafka.topic_names()
    with pytest.raises(ConfigError, match="rechazó la API key de Kafka"):
        dataops.connect(env_file=access.env_file(s.paths, "ana"), kafka_api_key="bruno").kafka.topic_names()
    password = access.saved_password(s.paths, "ana")
    for port in (s.kafka_class_internal_port, s.kafka_class_controller_port):  # the administrator's: PLAIN, admin only
        plain = {"bootstrap.servers": f"127.0.0.1:{port}", "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "PLAIN",
                 "sasl.username": "ana", "sasl.password": password, "log_level": 0}  # fmt: skip
        with pytest.raises(KafkaException):
            AdminClient(plain).list_topics(timeout=3)
    anonymous = AdminClient({"bootstrap.servers": broker.bootstrap(s), "log_level": 0})
    with pytest.raises(KafkaException):
        anonymous.list_topics(timeout=3)


def test_class_up_again_keeps_passwords_and_reset_gives_a_fresh_start(server, capsys):
    s, _ = server
    before = access.saved_password(s.paths, "bruno")
    cli("class", "up", "--quiet")
    assert access.saved_password(s.paths, "bruno") == before
    learner(s, "bruno").kafka.topic_names()  # still logs in
    old = dataops.connect(env_file=access.env_file(s.paths, "bruno"), kafka_api_secret=before)
    ana = learner(s, "ana")
    shared = Stack(s).pid(simulators.NAME)  # every learner's simulator in one process, each on its port
    listening = {c.laddr.port for c in psutil.Process(shared).net_connections("tcp") if c.status == psutil.CONN_LISTEN}
    assert {ana.settings.simulator_port, old.settings.simulator_port} <= listening
    fault = ana.source.inject_fault("freeze", duration_s=120)
    cli("class", "reset", "bruno")
    assert "contraseña de Kafka y token nuevos" in capsys.readouterr().out
    assert Stack(s).pid(simulators.NAME) == shared and ana.source.faults()["id"].tolist() == [fault["id"]]  # ana's untouched
    ana.source.clear_faults()
    with pytest.raises(ConfigError, match="no acepta tu token de control"):
        old.source.inject_fault("outage", duration_s=5)  # bruno's simulator anew, with his new token only
    learner(s, "bruno").source.clear_faults()
    assert access.saved_password(s.paths, "bruno") != before
    with pytest.raises(ConfigError, match="rechazó la API key de Kafka"):
        old.kafka.topic_names()
    assert learner(s, "bruno").kafka.topic_names() == []  # the topics deleted, the new password works
    assert main(["class", "reset", "nadie"]) == 2
    assert "no está en la lista de la clase" in capsys.readouterr().err


def test_no_password_in_a_log_or_a_command_line(server):
    s, _ = server
    secrets = [broker.admin_password(s.paths), *(access.saved_password(s.paths, n) for n in ("ana", "bruno"))]
    running = Stack(s).status().set_index("component")
    texts = [s.paths.log_file(name).read_text(errors="replace") for name in (broker.NAME, class_connect.NAME, class_connect.FRONT)]
    texts += [" ".join(psutil.Process(int(running.loc[name, "pid"])).cmdline()) for name in (broker.NAME, class_connect.NAME, class_connect.FRONT)]
    for secret in secrets:
        assert secret and all(secret not in text for text in texts)


def test_each_learner_has_a_simulator_whose_faults_only_they_and_the_instructor_change(server, capsys):
    s, _ = server
    ana, bruno = learner(s, "ana"), learner(s, "bruno")
    assert ana.settings.simulator_port != bruno.settings.simulator_port
    assert not ana.source.price("bitcoin").empty  # their own simulator serves them
    ana.source.inject_fault("outage", duration_s=60)
    assert ana.source.faults()["name"].tolist() == ["outage"] and bruno.source.faults().empty  # a fault hits its learner only
    intruder = dataops.connect(env_file=access.env_file(s.paths, "ana"), simulator_port=bruno.settings.simulator_port)
    for call in (lambda: intruder.source.inject_fault("outage", duration_s=60), lambda: intruder.source.clear_faults()):
        with pytest.raises(ConfigError, match="no acepta tu token de control"):
            call()
    assert bruno.source.faults().empty
    cli("class", "fault", "spike", "--learner", "bruno", "--duration", "60", "--param", "coin=bitcoin")
    assert bruno.source.faults()["name"].tolist() == ["spike"] and ana.source.faults()["name"].tolist() == ["outage"]
    cli("class", "fault", "latency", "--all", "--duration", "60")
    assert "latency" in ana.source.faults()["name"].tolist() and "latency" in bruno.source.faults()["name"].tolist()
    capsys.readouterr()
    cli("class", "status")
    assert capsys.readouterr().out.count(" up ") >= 2
    ana.source.clear_faults()
    bruno.source.clear_faults()


def test_a_learners_flood_is_slowed_to_their_quota(server):
    """Every user's default quota holds a flood back. Kafka measures a rate over no less than 10 s, so
    the test lowers the class's quota to 100 KB/s (the class's own, 1 MB/s, would need 10 MB to show):
    50 KB goes straight through, 1.5 MB takes about 15 s."""
    s, _ = server
    ana = learner(s, "ana")
    ana.kafka.ensure_topic("ana.flood", 1, {"retention.ms": "600000"})
    failed: list = []
    producer = Producer(ana.settings.kafka_config(**{"linger.ms": 5, "batch.size": 100_000, "log_level": 0}))

    def send(kilobytes: int) -> float:
        chunk = b"x" * 10_000
        t0 = time.monotonic()
        for _ in range(kilobytes // 10):
            while True:
                try:
                    producer.produce("ana.flood", chunk, on_delivery=lambda err, msg: err and failed.append(err))
                    break
                except BufferError:
                    producer.poll(0.1)
        assert producer.flush(90) == 0
        return time.monotonic() - t0

    broker.set_quotas(s, {**broker.QUOTAS, "producer_byte_rate": 100_000})
    try:
        small = send(50)
        flood = send(1500)
    finally:
        broker.set_quotas(s)
    print(f"\n50 KB in {small:.2f} s, 1.5 MB in {flood:.2f} s (quota 100 KB/s)")
    assert not failed and small < 2 and flood > 6


# ---- the class's Kafka Connect: one worker, each learner's own connectors through the front ------------


def _wait_for(check, within: float = 60, every: float = 1):
    deadline = time.monotonic() + within
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(every)


def _as_given(config: dict) -> dict:
    """A connector's config as a learner puts it (the front shows them theirs, with its name)."""
    return {k: v for k, v in config.items() if k != "name"}


def test_a_learners_pipeline_applies_its_connector_and_job_which_run_as_them(server):
    s, _ = server
    ana = learner(s, "ana")
    report = ana.apply(validate=False)
    steps = report.set_index("paso")["estado"]
    assert steps["conector"] == "✔" and steps["job de Flink"] == "✔" and steps["sink de Iceberg"] == "✔", report.to_string()
    jobs = ana.flink.jobs()
    assert jobs["name"].tolist() == ["ana.crypto-explode"] and jobs["state"].tolist() == ["RUNNING"]  # on the class's Flink
    assert _wait_for(lambda: not ana.kafka.latest(ana.settings.topic_exploded, 1).empty, 60)  # her rows, exploded by her job
    assert _wait_for(lambda: ana.iceberg.row_count() > 0, 60)  # in her table, by her sink, in her own catalog
    assert ana.sql("SELECT count(*) AS n FROM crypto_prices_exploded")["n"][0] > 0 and ana.settings.iceberg_dir.name == "ana"
    states = _wait_for(lambda: (st := ana.connect.states().get(ana.settings.connector_name)) and set(st) == {"RUNNING"} and st)
    assert states == ["RUNNING", "RUNNING"]
    assert _wait_for(lambda: not ana.kafka.latest(ana.settings.topic_raw, 1).empty, 30)  # her simulator's polls in her topic
    assert "override" not in str(ana.connect.config(ana.settings.connector_name))  # she reads back what she set
    config = class_connect.worker_session(s).get(f"{class_connect.worker_url(s)}/connectors/{ana.settings.connector_name}/config").json()
    assert config["producer.override.sasl.jaas.config"].startswith("${file:") and config["offsets.storage.topic"] == "ana.connect-offsets"
    assert access.saved_password(s.paths, "ana") not in str(config)  # the password stays in the login file
    assert ana.plan().set_index("recurso").loc[f"connector {ana.settings.connector_name}", "plan"] == "unchanged"
    assert stat.S_IMODE(class_connect.login_file(s.paths, "ana").stat().st_mode) == 0o600
    assert "ana.connect-offsets" in ana.kafka.topic_names()  # exactly-once offsets in a topic of hers


def test_another_learner_can_neither_see_nor_touch_a_learners_connectors(server):
    s, _ = server
    ana, bruno = learner(s, "ana"), learner(s, "bruno")
    name = ana.settings.connector_name
    assert name in ana.connect.states() and bruno.connect.states() == {}
    for call in (lambda: bruno.connect.status(name), lambda: bruno.connect.config(name), lambda: bruno.connect.pause(name),
                 lambda: bruno.connect.delete(name), lambda: bruno.connect.put_config(name, _as_given(ana.connect.config(name)))):  # fmt: skip
        with pytest.raises(dataops.DataOpsError, match="no es tuyo: en la clase solo son tuyos los conectores que empiezan por 'bruno.'") as refused:
            call()
        assert "\n" not in str(refused.value)
    jid = ana.flink.live_job("ana.crypto-explode")["jid"]
    assert bruno.flink.jobs().empty and bruno.flink.live_job("ana.crypto-explode") is None
    for call in (lambda: bruno.flink.job(jid), lambda: bruno.flink.checkpoints(jid), lambda: bruno.flink.cancel(jid)):
        with pytest.raises(dataops.DataOpsError, match="no es tuyo: en la clase solo son tuyos los jobs que empiezan por 'bruno.'") as refused:
            call()
        assert "\n" not in str(refused.value)
    for path in ("/jars", "/jobmanager/config", "/taskmanagers"):  # Flink's own ways in: closed to learners
        answer = bruno.flink.http.get(f"{bruno.flink.url}{path}", timeout=10)
        assert answer.status_code == 403 and "\n" not in answer.json()["message"]
    assert ana.flink.live_job("ana.crypto-explode")["state"] == "RUNNING"  # untouched
    with pytest.raises(dataops.DataOpsError, match="la tabla 'ana.intruso' no es tuya"):
        bruno.iceberg.ensure_table("ana.intruso")
    assert "ana.intruso" not in ana.iceberg.tables()["table"].tolist()
    stranger = dataops.connect(env_file=access.env_file(s.paths, "bruno"), simulator_token="not-a-token")
    with pytest.raises(dataops.DataOpsError, match="no te reconoce"):
        stranger.connect.states()
    assert ana.connect.states()[name] == ["RUNNING", "RUNNING"]  # untouched


def test_the_worker_and_flink_let_in_the_front_only(server):
    import requests

    s, _ = server
    for url in (f"{class_connect.worker_url(s)}/connectors", f"{class_flink.rest_url(s)}/jobs/overview"):
        for how in ({"verify": False}, {"verify": str(class_connect.ensure_tls(s)["ca_cert"])}):
            session = requests.Session()
            session.trust_env = False
            with pytest.raises(requests.exceptions.SSLError):  # no client certificate: the handshake fails
                session.get(url, timeout=10, **how)
        assert class_connect.worker_session(s).get(url, timeout=10).status_code == 200  # the control: the front's certificate
    for port in (s.class_flink_port + 1, s.class_flink_port + 2):  # Flink's RPC and blob ports: TLS only, no plain talk
        with socket.create_connection((s.host, port), timeout=5) as raw:
            raw.sendall(b"GET / HTTP/1.0\r\n\r\n")
            raw.settimeout(5)
            try:
                reply = raw.recv(100)
            except (ConnectionResetError, socket.timeout):
                reply = b""
            assert b"HTTP/1" not in reply and b"pekko" not in reply.lower()


def _taskmanagers_of(s, jid: str) -> set[str]:
    """The ids (``host:rpc-port-…``) of the taskmanagers running job ``jid``'s tasks, as Flink's REST API says."""
    http, url = class_flink.session(s), class_flink.rest_url(s)
    vertices = http.get(f"{url}/jobs/{jid}", timeout=10).json()["vertices"]
    return {tm["taskmanager-id"] for v in vertices for tm in http.get(f"{url}/jobs/{jid}/vertices/{v['id']}/taskmanagers", timeout=10).json()["taskmanagers"]}


def test_a_second_broker_and_taskmanager_join_a_running_class(server):
    """The shared engines grow by a node each without a restart (`DATAOPS_CLASS_NODES=2`, then `class up`
    again): a broker-only node 2 in the first broker's cluster, and a second taskmanager. Ana's new topic
    has partitions led by each broker; she writes and reads them all, bruno is refused on them by both
    (the ACLs are the cluster's); the jobmanager spreads the slots, so bruno's job runs on the new
    taskmanager while ana's keeps running on the first."""
    s, mp = server
    ana, bruno = learner(s, "ana"), learner(s, "bruno")
    first = _taskmanagers_of(s, ana.flink.live_job("ana.crypto-explode")["jid"])
    mp.setenv("DATAOPS_CLASS_NODES", "2")
    cli("class", "up", "--quiet")
    admin = AdminClient({**broker.admin_config(s), "log_level": 0})
    assert sorted(admin.list_topics(timeout=15).brokers) == [1, 2]
    assert ana.kafka.ensure_topic("ana.spread", 4, {}) == "created"
    deadline = time.monotonic() + 20
    while True:  # a topic just created shows in the metadata before its partitions do (seen in CI: none listed)
        partitions = admin.list_topics("ana.spread", timeout=15).topics["ana.spread"].partitions.values()
        leaders = {p.leader for p in partitions}
        if (len(partitions) == 4 and -1 not in leaders) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert leaders == {1, 2}, leaders
    conf = ana.settings.kafka_config()
    producer = Producer({**conf, "enable.idempotence": True})
    for partition in range(4):
        producer.produce("ana.spread", f"p{partition}".encode(), partition=partition)
    assert producer.flush(30) == 0
    reader = Consumer({**conf, "group.id": "ana.spread-reader", "auto.offset.reset": "earliest", "log_level": 0})
    reader.subscribe(["ana.spread"])
    got = set()
    deadline = time.monotonic() + 60
    while len(got) < 4 and time.monotonic() < deadline:
        msg = reader.poll(1)
        if msg is not None and not msg.error():
            got.add(msg.value().decode())
    reader.close()
    assert got == {"p0", "p1", "p2", "p3"}  # from both brokers
    theirs = _attempts(bruno.settings.kafka_config(), "ana.spread", "bruno.spread")
    assert theirs == dict.fromkeys(("write", "read", "reconfigure", "delete"), "TOPIC_AUTHORIZATION_FAILED")
    overview = class_flink._overview(s)
    assert overview["taskmanagers"] == 2 and overview["slots-total"] == 2 * class_flink.SLOTS, overview
    for topic in (bruno.settings.topic_raw, bruno.settings.topic_exploded, bruno.settings.topic_dlq):
        bruno.kafka.ensure_topic(topic, 1, {})
    try:
        bruno.flink.ensure_explode_job(bruno.settings)
        job = _wait_for(lambda: (j := bruno.flink.live_job("bruno.crypto-explode")) and j["state"] == "RUNNING" and j, 90)
        assert job, bruno.flink.jobs()
        second = _wait_for(lambda: _taskmanagers_of(s, job["jid"]), 30)
        assert len(first) == 1 and len(second) == 1 and first != second, (first, second)
        ports = {f"{s.host}:{s.class_flink_port + 3}", f"{s.host}:{s.class_flink_port + 4}"}
        assert {next(iter(first)).rsplit("-", 1)[0], next(iter(second)).rsplit("-", 1)[0]} == ports, (first, second)
        assert ana.flink.live_job("ana.crypto-explode")["state"] == "RUNNING"
    finally:
        class_flink.cancel_jobs(s, "bruno")  # his course (below) starts from nothing of this test's


def test_a_connector_aimed_at_another_learners_topic_is_stopped_by_kafka(server):
    """The front checks names, not topics: Kafka does, since the connector's clients log in as its learner."""
    s, _ = server
    ana, bruno = learner(s, "ana"), learner(s, "bruno")
    bruno.kafka.ensure_topic("bruno.crypto-prices", 1, {})
    sneaky = {**_as_given(ana.connect.config(ana.settings.connector_name)), "kafka.topic": "bruno.crypto-prices"}
    ana.connect.put_config("ana.sneaky", sneaky)
    try:
        assert _wait_for(lambda: "FAILED" in ana.connect.states().get("ana.sneaky", [])[1:], 90), ana.connect.states()
        status = ana.connect.status("ana.sneaky")
        assert "TopicAuthorization" in status["tasks"][0].get("trace", "") or "not authorized" in status["tasks"][0].get("trace", "").lower()
        assert bruno.kafka.latest("bruno.crypto-prices", 5).empty
    finally:
        ana.connect.delete("ana.sneaky")


def test_no_password_in_the_shared_engines_logs_or_command_lines(server):
    """After a learner's connector and job ran: their Kafka password, the administrator's and the
    key stores' are in no log of the class's engines, nor on any command line."""
    s, _ = server
    secrets = [broker.admin_password(s.paths), class_connect.store_password(s.paths), access.saved_password(s.paths, "ana")]
    running = Stack(s).status().set_index("component")
    names = (class_connect.NAME, class_connect.FRONT, class_flink.JOBMANAGER, class_flink.TASKMANAGER, class_flink.TASKMANAGER_2, broker.NAME_2)
    logs = [s.paths.log_file(name) for name in names] + [class_flink.cluster_settings(s).paths.log_file("flink-submit")]
    texts = [log.read_text(errors="replace") for log in logs if log.is_file()]
    texts += [" ".join(psutil.Process(int(running.loc[name, "pid"])).cmdline()) for name in names]
    assert len(texts) == 2 * len(names) + 1
    for secret in secrets:
        assert secret and all(secret not in text for text in texts)


def test_reset_deletes_the_learners_connectors_and_cancels_their_jobs(server, capsys):
    s, _ = server
    ana = learner(s, "ana")
    assert ana.connect.states()
    cli("class", "reset", "ana")
    assert "2 conectores, 1 jobs de Flink, su tabla" in capsys.readouterr().out
    assert not [c for c in class_connect.connectors(s) if c.startswith("ana.")]
    assert not [j for j in class_flink.jobs(s) if j["name"].startswith("ana.") and j["state"] == "RUNNING"]
    assert learner(s, "ana").iceberg.tables().empty  # her table gone with its files
    assert learner(s, "ana").connect.states() == {}  # her new token works on the front
    assert not list(class_flink.cluster_settings(s).paths.flink_checkpoints.glob(".ana.*.job-ids"))  # her next job starts anew


def _crosses(folder) -> list[str]:
    """The ✘ lines the executed notebooks in ``folder`` printed: what a failed self-check said, hints included."""
    import nbformat

    lines = []
    for path in sorted(folder.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            texts = [o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream"]
            lines += [f"{path.stem}: {line}" for text in texts for line in text.splitlines() if "✘" in line]
    return lines


def test_the_course_runs_unchanged_in_a_learners_namespace(server, tmp_path):
    """Blocks 0 and 3's masters, headless, in bruno's session (only his settings file): block 0's
    `p.up()` finds the class's engines and his monitor answering and sets his pipeline up on them,
    block 3 applies a declaration and breaks a connector named as the notebook names them
    (``crypto-lab-source``), which are his. His monitor is the class's: its samples are his, in the
    server's folder for him, and his session starts no process."""
    from dataops.classroom import monitors
    from dataops.metrics import MetricsStore
    from dataops.runner import run_notebooks
    from dataops.course.catalog import NOTEBOOKS

    s, _ = server
    with pytest.MonkeyPatch.context() as mp:
        for name in [k for k in os.environ if k.startswith("DATAOPS_") and k != "DATAOPS_CI"]:
            mp.delenv(name)
        mp.setenv("DATAOPS_ENV_FILE", str(access.env_file(s.paths, "bruno")))
        results = run_notebooks([NOTEBOOKS / "00_entorno.ipynb", NOTEBOOKS / "03_automatizacion.ipynb"], output_dir=tmp_path)
    assert (results["status"] == "ok").all(), (results[["notebook", "error"]].to_dict("records"), _crosses(tmp_path))
    assert results.set_index("notebook").loc["03_automatizacion", "checks"] == "2 ✔"
    mine = s.paths.classroom / "sessions" / "bruno"  # his session's state folder (his settings file says so)
    assert not (mine / "run" / "monitor.json").exists()  # no monitor of his session's own
    store = MetricsStore(monitors.folder(s.paths, "bruno") / "metrics.db")
    running = store.query("flink_job_running")
    assert set(running["job"]) == {"bruno.crypto-explode"} and running["value"].max() == 1, running  # his job, by his namespace's name
    flowing = store.query("messages_produced")
    assert len(flowing) and flowing["value"].sum() > 0 and not flowing["topic"].str.startswith("ana.").any(), flowing
    assert "bruno.crypto-lab-averias" not in learner(s, "bruno").kafka.topic_names()  # block 3's practice cleaned up after itself
    assert monitors.stop(s, "bruno")
