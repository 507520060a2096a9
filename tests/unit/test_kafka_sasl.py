"""The optional SASL_SSL broker (``kafka-sasl``, in the ``cloud-fixtures`` group): its settings,
``server.properties``, JAAS line, ``keytool`` runs (the real ``keytool``, in a temporary folder),
credentials and client settings, the CA-file setting and the one line for a refused key; no broker
started (tests/integration/test_kafka_sasl_live.py starts the real one)."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest
from confluent_kafka import KafkaError

from dataops import ConfigError, load_settings
from dataops.config import PORTS
from dataops.kafka import sasl, security
from dataops.kafka.layer import refusal
from dataops.stack import Stack, engines

pytestmark = pytest.mark.unit


@pytest.fixture()
def settings(tmp_path, monkeypatch):
    for var in [v for v in os.environ if v.startswith("DATAOPS_")]:
        monkeypatch.delenv(var)
    return load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / "state")


def props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


def test_ports_and_the_optional_component(settings, monkeypatch, tmp_path):
    assert (PORTS["kafka_sasl"], PORTS["kafka_sasl_controller"]) == (9094, 9095)
    assert len(set(PORTS.values())) == len(PORTS)
    monkeypatch.setenv("DATAOPS_KAFKA_SASL_PORT", "10194")
    s = load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / "state")
    (comp,) = sasl.components(s)
    assert comp.optional and comp.java and comp.ports == (10194, 9095)
    assert comp.url == "sasl_ssl://127.0.0.1:10194"
    assert "kafka-sasl" in engines.GROUPS["cloud-fixtures"]
    stack = Stack(s)
    assert "kafka-sasl" in stack.optional and "kafka-sasl" not in stack.names  # a plain `up` leaves it off


def test_server_properties_one_sasl_ssl_listener_on_loopback(settings):
    text = sasl.properties(sasl.broker_properties(settings, settings.paths, "KEY1", "s3cret", "storepw"))
    p = props(text)
    assert p["listeners"] == "SASL_SSL://127.0.0.1:9094,CONTROLLER://127.0.0.1:9095"
    assert p["advertised.listeners"] == "SASL_SSL://127.0.0.1:9094"
    assert p["listener.security.protocol.map"] == "CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL"
    assert p["controller.quorum.voters"] == "1@127.0.0.1:9095" and p["controller.listener.names"] == "CONTROLLER"
    assert (p["inter.broker.listener.name"], p["sasl.enabled.mechanisms"], p["sasl.mechanism.inter.broker.protocol"]) == (
        "SASL_SSL", "PLAIN", "PLAIN")  # fmt: skip
    assert p["listener.name.sasl_ssl.plain.sasl.jaas.config"] == (
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="KEY1" password="s3cret" user_KEY1="s3cret";')
    assert p["ssl.keystore.location"] == str(settings.paths.kafka_sasl / "broker.p12")
    assert p["ssl.truststore.location"] == str(settings.paths.kafka_sasl / "truststore.p12")
    assert p["ssl.keystore.type"] == "PKCS12" and p["ssl.keystore.password"] == p["ssl.key.password"] == "storepw"
    assert p["log.dirs"] == str(settings.paths.data / "kafka-sasl")  # apart from the pipeline's broker
    assert "PLAINTEXT://" not in p["listeners"]  # no unauthenticated client listener


def test_keytool_commands_carry_no_password_and_the_sans(settings, tmp_path):
    cmds = sasl.keytool_commands("keytool", tmp_path, sasl.subject_alt_names(settings))
    assert sasl.subject_alt_names(settings) == "dns:localhost,ip:127.0.0.1"
    flat = [arg for cmd in cmds for arg in cmd]
    for flag in ("-storepass", "-keypass", "-srcstorepass", "-deststorepass"):
        assert flag not in flat  # only the ``:env`` forms: the value stays off every command line
    assert all(cmd[cmd.index("-storepass:env") + 1] == sasl.PASSWORD_VAR for cmd in cmds)
    gencert = next(cmd for cmd in cmds if cmd[1] == "-gencert")
    assert "SAN=dns:localhost,ip:127.0.0.1" in gencert and "EKU=serverAuth,clientAuth" in gencert
    assert [cmd[1] for cmd in cmds].count("-genkeypair") == 2  # the CA and the broker


def test_an_other_host_joins_the_sans(tmp_path, settings):
    assert sasl.subject_alt_names(settings.model_copy(update={"host": "10.0.0.5"})).endswith(",ip:10.0.0.5")
    assert sasl.subject_alt_names(settings.model_copy(update={"host": "box.lan"})).endswith(",dns:box.lan")


def test_credentials_are_made_once_and_private(settings):
    first = sasl.credentials(settings.paths)
    again = sasl.credentials(settings.paths)
    assert {k: v.get_secret_value() for k, v in first.items()} == {k: v.get_secret_value() for k, v in again.items()}
    key, secret = first["key"].get_secret_value(), first["secret"].get_secret_value()
    assert len(key) == 16 and key.isupper() and key.isalnum() and len(secret) == 64
    assert secret not in repr(first)
    path = sasl.credentials_file(settings.paths)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and json.loads(path.read_text())["secret"] == secret


def test_keytool_makes_a_ca_and_a_broker_certificate_with_the_sans(settings):
    """The real keytool: a CA, the broker's certificate signed by it with the SANs, files private, made once."""
    sasl.ensure_certificates(settings)
    folder = settings.paths.kafka_sasl
    assert {p.name for p in folder.iterdir()} >= {"ca.p12", "ca.pem", "broker.p12", "truststore.p12", "credentials.json"}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    keytool = sasl.find_keytool()
    shown = subprocess.run([keytool, "-J-Duser.language=en", "-printcert", "-file", str(folder / "broker.pem")],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "Owner: CN=localhost" in shown and "Issuer: CN=dataops local CA" in shown
    assert "DNSName: localhost" in shown and "IPAddress: 127.0.0.1" in shown
    env = {**os.environ, sasl.PASSWORD_VAR: sasl.credentials(settings.paths)["store_password"].get_secret_value()}
    listed = subprocess.run([keytool, "-J-Duser.language=en", "-list", "-keystore", str(folder / "broker.p12"),
                             "-storepass:env", sasl.PASSWORD_VAR], env=env, capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "broker, " in listed and "PrivateKeyEntry" in listed
    ca = (folder / "ca.pem").read_bytes()
    sasl.ensure_certificates(settings)  # reused: not made again
    assert (folder / "ca.pem").read_bytes() == ca
    sasl.credentials_file(settings.paths).unlink()  # the keystores' password lost: made again, with a new one
    sasl.ensure_certificates(settings)
    assert (folder / "ca.pem").read_bytes() != ca
    env = {**os.environ, sasl.PASSWORD_VAR: sasl.credentials(settings.paths)["store_password"].get_secret_value()}
    subprocess.run([keytool, "-list", "-keystore", str(folder / "broker.p12"), "-storepass:env", sasl.PASSWORD_VAR],
                   env=env, capture_output=True, check=True)  # fmt: skip


def test_client_settings_are_the_confluent_profiles(settings):
    path = sasl.write_client_env(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    pair = sasl.credentials(settings.paths)
    (settings.paths.kafka_sasl / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")  # a CA file to point at
    cloud = load_settings(env_file=path)
    assert cloud.profile == "confluent" and cloud.bootstrap_servers == "127.0.0.1:9094"
    conf = cloud.kafka_config()
    assert conf["security.protocol"] == "SASL_SSL" and conf["sasl.mechanisms"] == "PLAIN"
    assert conf["sasl.username"] == pair["key"].get_secret_value() and conf["sasl.password"] == pair["secret"].get_secret_value()
    assert conf["ssl.ca.location"] == str(settings.paths.kafka_sasl / "ca.pem")
    assert pair["secret"].get_secret_value() not in str(cloud.masked())


def test_the_ca_file_setting(tmp_path, settings):
    cloud = dict(profile="confluent", kafka_bootstrap="pkc-1.example:9092", kafka_api_key="K", kafka_api_secret="S")
    assert "ssl.ca.location" not in load_settings(env_file=tmp_path / "none.env", **cloud).kafka_config()  # the system's CAs
    ca = tmp_path / "ca.pem"
    ca.write_text("pem")
    assert load_settings(env_file=tmp_path / "none.env", kafka_ca_file=ca, **cloud).kafka_config()["ssl.ca.location"] == str(ca)
    with pytest.raises(ConfigError, match="DATAOPS_KAFKA_CA_FILE=.*no es un fichero"):
        load_settings(env_file=tmp_path / "none.env", kafka_ca_file=tmp_path / "gone.pem", **cloud).kafka_config()


def test_a_refused_key_is_one_line_naming_the_kafka_api_key(tmp_path):
    s = load_settings(env_file=tmp_path / "none.env", profile="confluent", kafka_bootstrap="127.0.0.1:9094",
                      kafka_api_key="KEY", kafka_api_secret="the-secret")  # fmt: skip
    refusal(s, [KafkaError(KafkaError._TRANSPORT, "down"), KafkaError(KafkaError._ALL_BROKERS_DOWN, "1/1 brokers are down")])
    with pytest.raises(ConfigError) as refused:
        refusal(s, [KafkaError(KafkaError._AUTHENTICATION, "SASL authentication error: Authentication failed")])
    line = str(refused.value)
    assert "rechazó la API key de Kafka" in line and "DATAOPS_KAFKA_API_KEY" in line and "DATAOPS_KAFKA_API_SECRET" in line
    assert "\n" not in line and "the-secret" not in line
    with pytest.raises(ConfigError, match="DATAOPS_KAFKA_CA_FILE"):
        refusal(s, [KafkaError(KafkaError._SSL, "SSL handshake failed: certificate verify failed")])


def test_the_properties_file_holding_the_secret_is_private(settings, monkeypatch):
    """``command`` writes the broker's properties mode 600 (the JAAS line holds the secret) and
    the client settings; the java command line carries no secret."""
    monkeypatch.setattr(sasl, "ensure_certificates", lambda s: None)
    monkeypatch.setattr(sasl, "format_once", lambda paths, data, conf: None)
    monkeypatch.setattr(sasl, "java_cmd", lambda paths, heap, main, *args, jvm_flags=(): ["java", f"-Xmx{heap}", main, *args])
    cmd = sasl.command(settings, settings.paths)
    conf = sasl.config_file(settings.paths)
    assert cmd == ["java", "-Xmx256m", "kafka.Kafka", str(conf)]
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    secret = sasl.credentials(settings.paths)["secret"].get_secret_value()
    assert secret in conf.read_text() and secret not in " ".join(cmd)
    assert sasl.client_env_file(settings.paths).is_file()


# ---- the Java clients' security settings (dataops.kafka.security) -------------------------------
def _cloud(tmp_path, **extra):
    given = {"kafka_api_key": "ABCD1234EFGH5678", "kafka_api_secret": 'se"cr\\et', **extra}
    return load_settings(env_file=tmp_path / "none.env", profile="confluent", kafka_bootstrap="127.0.0.1:9094", **given)


def test_java_clients_get_sasl_ssl_plain_with_the_key(tmp_path):
    conf = security.client_security(_cloud(tmp_path, kafka_ca_file=tmp_path / "ca.pem"))
    assert conf == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "PLAIN",
        "sasl.jaas.config": 'org.apache.kafka.common.security.plain.PlainLoginModule required '
                            'username="ABCD1234EFGH5678" password="se\\"cr\\\\et";',
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(tmp_path / "ca.pem"),
    }  # fmt: skip
    assert "ssl.truststore.location" not in security.client_security(_cloud(tmp_path))  # Confluent Cloud: the JVM's CAs


def test_a_plaintext_profile_gets_no_security_and_a_missing_secret_is_one_line(tmp_path, settings):
    assert security.client_security(settings) == {} and security.connect_worker(settings) == {}
    assert security.iceberg_sink(settings) == {} and security.flink_with_clause(settings) == ""
    bare = load_settings(env_file=tmp_path / "none.env", profile="confluent", kafka_bootstrap="h:9092", kafka_api_key="K")
    with pytest.raises(ConfigError, match="DATAOPS_KAFKA_API_SECRET no está definida"):
        security.connect_worker(bare)


def test_connect_worker_and_its_connectors_clients(tmp_path):
    text = sasl.properties(security.connect_worker(_cloud(tmp_path)))
    p = props(text)
    for prefix in ("", "producer.", "consumer.", "admin."):
        assert p[f"{prefix}security.protocol"] == "SASL_SSL" and p[f"{prefix}sasl.mechanism"] == "PLAIN"
        assert p[f"{prefix}sasl.jaas.config"].startswith("org.apache.kafka.common.security.plain.PlainLoginModule required username=")
    assert len(p) == 4 * 3


def test_iceberg_sink_coordinator_clients(tmp_path):
    conf = security.iceberg_sink(_cloud(tmp_path))
    assert set(conf) == {"iceberg.kafka.security.protocol", "iceberg.kafka.sasl.mechanism", "iceberg.kafka.sasl.jaas.config"}
    assert conf["iceberg.kafka.security.protocol"] == "SASL_SSL"


def test_flink_sql_names_the_shaded_login_module(tmp_path):
    s = _cloud(tmp_path, kafka_ca_file=tmp_path / "ca.pem")
    options = security.flink_table_options(s)
    assert options["properties.sasl.jaas.config"].startswith(
        "org.apache.flink.kafka.shaded.org.apache.kafka.common.security.plain.PlainLoginModule required ")
    assert options["properties.security.protocol"] == "SASL_SSL" and options["properties.sasl.mechanism"] == "PLAIN"
    assert options["properties.ssl.truststore.type"] == "PEM"
    lines = security.flink_with_clause(s).splitlines()
    assert lines[0] == "  'properties.security.protocol' = 'SASL_SSL',"
    assert len(lines) == 5 and all(line.endswith(",") for line in lines)
    quoted = security.flink_with_clause(_cloud(tmp_path, kafka_api_secret="it's"))
    assert "password=\"it''s\";'," in quoted  # a quote in a SQL string literal is doubled
