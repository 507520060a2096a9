"""The SASL_SSL broker for real: the optional ``kafka-sasl`` component (a KRaft node whose only client
listener is SASL_SSL with PLAIN, as Confluent Cloud) started as a native process on free ports and a
fresh state folder (the jars shared with the suite's), reached by the ``confluent`` profile through
the client settings the component writes. Nothing else of the stack is started.

No skip: without Java, keytool or the jars the fixture fails with the one line that says how to fix it.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import uuid

import psutil
import pytest
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient

import dataops
from dataops import ConfigError
from dataops.artifacts import require_java, share_downloads
from dataops.engine import properties
from dataops.kafka import sasl, security
from dataops.stack import Stack
from tests.integration.helpers import own_components

pytestmark = pytest.mark.integration

TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def broker():
    """The broker on free ports and a fresh state folder (new CA, key and secret); stopped after."""
    with own_components("kafka-sasl-test", [sasl.NAME], ["kafka_sasl_port", "kafka_sasl_controller_port"],
                        share_downloads, TIMINGS) as s:  # the jars are the suite's
        yield s


def cloud(broker, **overrides) -> dataops.Pipeline:
    """A pipeline of the ``confluent`` profile on the settings file the component wrote."""
    return dataops.connect(profile="confluent", env_file=sasl.client_env_file(broker.paths), **overrides)


def test_it_runs_on_loopback_only(broker):
    status = Stack(broker).status().set_index("component").loc[sasl.NAME]
    assert status["health"] == "up" and status["port"] == broker.kafka_sasl_port
    print(f"\nkafka-sasl started in {TIMINGS['start_s']:.1f} s (keytool and storage format included)")
    assert TIMINGS["start_s"] < 90
    listening = {c.laddr for c in psutil.Process(int(status["pid"])).net_connections("inet") if c.status == psutil.CONN_LISTEN}
    assert {port for _, port in listening} >= {broker.kafka_sasl_port, broker.kafka_sasl_controller_port}
    assert {ip.removeprefix("::ffff:") for ip, _ in listening} == {"127.0.0.1"}  # Java shows IPv4 mapped into IPv6


def test_produce_and_consume_over_sasl_ssl_with_the_profile(broker):
    p = cloud(broker)
    s = p.settings
    assert s.runs.kafka_auth == "sasl_plain" and s.bootstrap_servers == f"127.0.0.1:{broker.kafka_sasl_port}"
    topic = f"sasl-check-{uuid.uuid4().hex[:6]}"
    assert p.kafka.ensure_topic(topic, 2, {"retention.ms": "3600000"}) == "created"
    producer = Producer(s.kafka_config(**{"enable.idempotence": True}))
    for i in range(6):
        producer.produce(topic, key=f"k{i}", value=f'{{"n": {i}}}')
    assert producer.flush(15) == 0
    records = p.kafka.read(topic, timeout=15)
    assert sorted(r.value for r in records) == [f'{{"n": {i}}}' for i in range(6)]
    assert topic in p.kafka.topic_names()
    assert p.kafka.topics().set_index("partition")["end_offset"].sum() == 6


def test_a_wrong_secret_is_one_line_naming_the_kafka_api_key(broker):
    p = cloud(broker, kafka_api_secret="not-the-secret")
    t0 = time.monotonic()
    with pytest.raises(ConfigError) as refused:
        p.kafka.topic_names()
    elapsed = time.monotonic() - t0
    line = str(refused.value)
    assert "rechazó la API key de Kafka" in line and "DATAOPS_KAFKA_API_KEY" in line
    assert "\n" not in line and "not-the-secret" not in line
    assert elapsed < 4, f"a refused key took {elapsed:.1f} s to report"
    with pytest.raises(ConfigError, match="rechazó la API key de Kafka"):
        cloud(broker, kafka_api_key="NOTAKEY0NOTAKEY").kafka.topics()


def test_the_broker_is_trusted_only_through_its_ca(broker):
    with pytest.raises(ConfigError, match="DATAOPS_KAFKA_CA_FILE"):
        cloud(broker, kafka_ca_file=None).kafka.topic_names()  # the system's CAs do not know the local one
    anonymous = AdminClient({"bootstrap.servers": f"127.0.0.1:{broker.kafka_sasl_port}", "log_level": 0})
    with pytest.raises(KafkaException):  # plaintext, no login: no metadata
        anonymous.list_topics(timeout=2)


def test_the_secret_is_in_no_log_no_command_and_only_in_private_files(broker):
    pair = sasl.read_credentials(broker.paths)
    secret, store = pair["secret"].get_secret_value(), pair["store_password"].get_secret_value()
    paths = broker.paths
    status = Stack(broker).status().set_index("component").loc[sasl.NAME]
    command = " ".join(psutil.Process(int(status["pid"])).cmdline())
    for text in (paths.log_file(sasl.NAME).read_text(errors="replace"), paths.pid_file(sasl.NAME).read_text(), command):
        assert secret not in text and store not in text
    for path in (sasl.config_file(paths), sasl.credentials_file(paths), sasl.client_env_file(paths), sasl.keystore(paths)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_restart_keeps_the_ca_the_key_and_the_topics(broker):
    stack = Stack(broker)
    ca = sasl.ca_file(broker.paths).read_bytes()
    key = sasl.read_credentials(broker.paths)["key"].get_secret_value()
    before = set(cloud(broker).kafka.topic_names())
    assert before and stack.stop(sasl.NAME)
    stack.up([sasl.NAME], progress=False)
    assert sasl.ca_file(broker.paths).read_bytes() == ca
    assert sasl.read_credentials(broker.paths)["key"].get_secret_value() == key
    assert set(cloud(broker).kafka.topic_names()) == before


# A Java admin client that lists the topics, of Kafka's own package or a relocated copy's (Flink's
# connector jar): the settings dataops.kafka.security gives Connect and Flink, tried on a real JVM.
LIST_TOPICS_JAVA = """
import java.io.FileInputStream;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

public class ListTopics {
    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        try (FileInputStream in = new FileInputStream(args[1])) { props.load(in); }
        Class<?> admin = Class.forName(args[0] + "org.apache.kafka.clients.admin.Admin");
        Object client = admin.getMethod("create", Properties.class).invoke(null, props);
        try {
            Object listed = client.getClass().getMethod("listTopics").invoke(client);
            Object names = listed.getClass().getMethod("names").invoke(listed);
            System.out.println("topics " + names.getClass().getMethod("get", long.class, TimeUnit.class).invoke(names, 20L, TimeUnit.SECONDS));
        } finally {
            ((AutoCloseable) client).close();
        }
    }
}
"""


def _java_list_topics(broker, tmp_path, package: str, options: dict[str, str], classpath: str) -> subprocess.CompletedProcess:
    source = tmp_path / "ListTopics.java"
    source.write_text(LIST_TOPICS_JAVA)
    conf = tmp_path / "client.properties"
    conf.touch(mode=0o600)
    conf.write_text(properties({**options, "bootstrap.servers": f"127.0.0.1:{broker.kafka_sasl_port}"}))
    return subprocess.run([require_java(), "-cp", classpath, str(source), package, str(conf)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_the_java_clients_settings_reach_the_broker(broker, tmp_path):
    """Connect's settings (Kafka's own client) and Flink's (the connector jar's relocated client, whose
    JAAS line must name the shaded login module): both list the topics over SASL_SSL."""
    s = cloud(broker).settings
    kafka = _java_list_topics(broker, tmp_path, "", security.client_security(s), f"{broker.paths.lib}/*")
    assert kafka.returncode == 0 and kafka.stdout.startswith("topics ["), kafka.stderr[-600:]
    flink_cp = f"{broker.paths.flink_connector_jar}:{next(broker.paths.lib.glob('slf4j-api-*.jar'))}"
    shaded = "org.apache.flink.kafka.shaded."
    flink = {k.removeprefix("properties."): v for k, v in security.flink_table_options(s).items()}
    relocated = _java_list_topics(broker, tmp_path, shaded, flink, flink_cp)
    assert relocated.returncode == 0 and relocated.stdout.startswith("topics ["), relocated.stderr[-600:]
    unshaded = _java_list_topics(broker, tmp_path, shaded, security.client_security(s), flink_cp)
    assert unshaded.returncode != 0 and "LoginModule" in unshaded.stderr  # Kafka's own class name: no such module there


def test_pipeline_apply_of_the_confluent_profile_creates_its_topics_over_sasl_ssl(broker):
    """``dataops pipeline apply`` with the settings file the component wrote, as a user with a real
    cluster would run it: the topics are created on this broker; a wrong secret is one line, exit 1."""
    env = {**os.environ, "DATAOPS_ENV_FILE": str(sasl.client_env_file(broker.paths)), "DATAOPS_STATE_DIR": str(broker.state_dir)}
    env.pop("DATAOPS_PROFILE", None)
    applied = subprocess.run([sys.executable, "-m", "dataops.cli", "pipeline", "apply"], env=env, capture_output=True, text=True, timeout=300)
    assert applied.returncode == 0, applied.stdout[-800:] + applied.stderr[-800:]
    assert "Kafka (Confluent Cloud)" in applied.stdout
    s = cloud(broker).settings
    assert {s.topic_raw, s.topic_exploded, s.topic_dlq, s.topic_iceberg_control} <= set(cloud(broker).kafka.topic_names())
    refused = subprocess.run([sys.executable, "-m", "dataops.cli", "pipeline", "plan"], env={**env, "DATAOPS_KAFKA_API_SECRET": "nope"},
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [refused.stderr.strip()] and "rechazó la API key de Kafka" in refused.stderr
