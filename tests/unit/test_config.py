"""Settings: precedence, parsing, masking, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataops import ConfigError, load_settings

pytestmark = pytest.mark.unit


@pytest.fixture()
def env_file(tmp_path, monkeypatch):
    for var in [v for v in __import__("os").environ if v.startswith("DATAOPS_")]:
        monkeypatch.delenv(var)
    path = tmp_path / ".env"
    return path


def test_defaults_without_any_source(env_file):
    s = load_settings(env_file=env_file)
    assert s.profile == "local"
    assert s.coins == ["bitcoin", "ethereum", "binancecoin", "cardano", "solana"]
    assert s.bootstrap_servers == "127.0.0.1:9092"
    assert s.topic_partitions == 3 and s.topic_retention_ms == 7 * 24 * 3600 * 1000


def test_precedence_kwargs_over_env_over_dotenv_over_defaults(env_file, monkeypatch):
    env_file.write_text("DATAOPS_POLL_INTERVAL_S=7\nDATAOPS_KAFKA_PORT=1111\nDATAOPS_CONNECT_PORT=2222\n")
    monkeypatch.setenv("DATAOPS_KAFKA_PORT", "3333")
    monkeypatch.setenv("DATAOPS_CONNECT_PORT", "4444")
    s = load_settings(env_file=env_file, connect_port=5555)
    assert s.poll_interval_s == 7.0  # .env over default
    assert s.kafka_port == 3333  # env over .env
    assert s.connect_port == 5555  # kwargs over env
    assert s.simulator_port == 8090  # default


def test_coins_from_comma_separated_env(env_file, monkeypatch):
    monkeypatch.setenv("DATAOPS_COINS", "bitcoin, solana")
    assert load_settings(env_file=env_file).coins == ["bitcoin", "solana"]


def test_secrets_are_masked_everywhere(env_file):
    secret = "sk-very-secret-123"
    s = load_settings(env_file=env_file, profile="confluent", kafka_api_key="KEY1", kafka_api_secret=secret,
                      coingecko_api_key=secret, kafka_bootstrap="broker:9092")
    for text in (str(s), repr(s), str(s.masked()), str(s.model_dump())):
        assert secret not in text
    assert s.masked()["kafka_api_secret"] == "**********"
    # the real value is still there for the clients that need it
    assert s.kafka_config()["sasl.password"] == secret


def test_confluent_profile_missing_credential_names_the_variable(env_file):
    s = load_settings(env_file=env_file, profile="confluent", kafka_bootstrap="broker:9092")
    with pytest.raises(ConfigError, match="DATAOPS_KAFKA_API_KEY no está definida"):
        s.kafka_config()


def test_malformed_env_file_is_one_clear_line(env_file):
    env_file.write_text("DATAOPS_PROFILE=local\nthis line is broken\n")
    with pytest.raises(ConfigError) as info:
        load_settings(env_file=env_file)
    msg = str(info.value)
    assert "línea 2" in msg and "\n" not in msg


def test_wrong_type_is_a_config_error(env_file, monkeypatch):
    monkeypatch.setenv("DATAOPS_KAFKA_PORT", "not-a-port")
    with pytest.raises(ConfigError, match="DATAOPS_KAFKA_PORT no es válida"):
        load_settings(env_file=env_file)


def test_unknown_profile_is_rejected(env_file):
    with pytest.raises(ConfigError, match="DATAOPS_PROFILE"):
        load_settings(env_file=env_file, profile="cloud")


def test_settings_are_not_read_at_import(tmp_path):
    """Importing the library reads no settings: a broken .env only matters once a session connects."""
    import subprocess
    import sys

    bad = tmp_path / ".env"
    bad.write_text("DATAOPS_KAFKA_PORT=not-a-number\n")
    probe = (
        "import dataops, dataops.config as c, dataops.pipeline, dataops.monitor\n"
        "mods = [m for n, m in __import__('sys').modules.items() if n.startswith('dataops')]\n"
        "print(sum(isinstance(v, c.Settings) for m in mods for v in vars(m).values()))\n"
        "try:\n    dataops.connect()\nexcept dataops.ConfigError:\n    print('connect-read-it')\n"
    )
    env = {"PATH": "/usr/bin:/bin", "DATAOPS_ENV_FILE": str(bad), "PYTHONPATH": str(Path(dataops_root()) / "lib")}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.split() == ["0", "connect-read-it"]  # nothing at import; the same .env fails at connect()


def dataops_root():
    from dataops.config import PROJECT_ROOT

    return PROJECT_ROOT


def test_confluent_profile_says_in_one_line_which_layers_it_cannot_inspect(env_file):
    import dataops

    p = dataops.connect(profile="confluent", kafka_bootstrap="broker:9092", env_file=env_file)
    for layer in (p.flink, p.connect):
        with pytest.raises(ConfigError, match="el perfil 'confluent' no inspecciona") as info:
            layer.jobs()
        assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="API real de CoinGecko, que no tiene fallos") as info:
        p.source.faults()  # p.source is the real API there: the simulator's control API is not
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="DATAOPS_KAFKA_API_KEY no está definida"):
        p.kafka.topics()
    with pytest.raises(ConfigError, match="DATAOPS_TABLEFLOW_ENDPOINT no está definida"):
        p.iceberg.snapshots()
    with pytest.raises(ConfigError, match="DATAOPS_CONFLUENT_CLUSTER_ID no está definida"):
        p.sql("SELECT 1")  # DuckDB on Tableflow's catalog: its tables' namespace is the cluster id
    with pytest.raises(ConfigError, match="DATAOPS_TABLEFLOW_ENDPOINT no está definida"):
        dataops.connect(profile="confluent", kafka_bootstrap="broker:9092", env_file=env_file, confluent_cluster_id="lkc-1").sql("SELECT 1")
