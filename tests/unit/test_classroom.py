"""The class server's pieces that need no broker: the roster, a learner's names and rights, the
``class`` profile's settings, the broker's properties and the CLI's refusals."""

from __future__ import annotations

import itertools
import os
import re
import stat
from pathlib import Path

import pytest

from dataops import ConfigError
from dataops.classroom import access, broker, namespace, roster
from dataops.cli import main
from dataops.config import load_settings
from dataops.course import block3
from dataops.kafka import security


def _class(**overrides):
    values = {"profile": "class", "learner": "ana", "kafka_bootstrap": "127.0.0.1:9096", "kafka_api_key": "ana",
              "kafka_api_secret": "s3cr3t", **overrides}  # fmt: skip
    return load_settings(env_file="/nonexistent.env", **values)


# ---- the roster -------------------------------------------------------------------------------
def test_a_roster_lists_its_learners_in_order(tmp_path):
    path = tmp_path / "clase.yaml"
    path.write_text("learners: [ana, bruno, carla_2]\n")
    room = roster.load(path)
    assert room.learners == ("ana", "bruno", "carla_2") and "bruno" in room and room.require("ana") == "ana"
    with pytest.raises(ConfigError, match="'dario' no está en la lista de la clase: alumnos: ana, bruno, carla_2"):
        room.require("dario")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "no tiene contenido"),
        ("learners: [ana\n", "no es YAML válido"),
        ("- ana\n- bruno\n", "no tiene una lista `learners`"),
        ("learners: []\n", "no tiene una lista `learners`"),
        ("learners: [Ana]\n", "el alumno 1 ('Ana') no es un nombre de usuario válido"),
        ("learners: [ana, ana.b]\n", "el alumno 2 ('ana.b') no es un nombre de usuario válido"),
        ("learners: [ana, 7]\n", "el alumno 2 (7) no es un nombre de usuario válido"),
        ("learners: [admin]\n", "'admin' es un nombre reservado"),
        ("learners: [ana, bruno, ana]\n", "'ana' aparece dos veces"),
    ],
)
def test_a_bad_roster_is_one_line_naming_the_problem(tmp_path, text, says):
    path = tmp_path / "clase.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        roster.load(path)
    assert says in str(refused.value) and "\n" not in str(refused.value)


def test_a_missing_or_non_utf8_roster_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="no existe"):
        roster.load(tmp_path / "none.yaml")
    (tmp_path / "latin1.yaml").write_bytes("learners: [josé]\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="línea 1 no es texto UTF-8"):
        roster.load(tmp_path / "latin1.yaml")


# ---- a learner's names and rights -------------------------------------------------------------------
def test_the_class_profile_names_every_resource_under_the_learners_prefix():
    s = _class()
    assert (s.topic_raw, s.topic_exploded, s.topic_dlq) == ("ana.crypto-prices", "ana.crypto-prices-exploded", "ana.crypto-prices-dlq")
    assert (s.connector_name, s.flink_job_name, s.iceberg_table) == ("ana.crypto-prices-source", "ana.crypto-explode", "ana.crypto_prices_exploded")
    assert s.iceberg_sink_group == "connect-ana.crypto-prices-iceberg" and namespace.own_prefix(s) == "ana."
    assert _class(topic_raw="ana.mine").topic_raw == "ana.mine"  # a setting given explicitly wins
    assert load_settings(env_file="/nonexistent.env", profile="local").topic_raw == "crypto-prices"  # no prefix outside a class
    assert namespace.own_prefix(load_settings(env_file="/nonexistent.env", profile="local")) == ""


def test_a_notebooks_course_names_are_the_learners_in_a_class_and_as_given_elsewhere():
    s, local = _class(), load_settings(env_file="/nonexistent.env", profile="local")
    assert [namespace.resolve(s, n) for n in ("crypto-prices", "demo-manual-crypto-prices", "crypto-alerts")] == [
        "ana.crypto-prices", "ana.demo-manual-crypto-prices", "ana.crypto-alerts"]  # fmt: skip
    # theirs already, another learner's (the broker refuses it), an internal topic: as given
    assert [namespace.resolve(s, n) for n in ("ana.crypto-prices", "bruno.crypto-prices", "__consumer_offsets")] == [
        "ana.crypto-prices", "bruno.crypto-prices", "__consumer_offsets"]  # fmt: skip
    assert namespace.resolve(local, "crypto-prices") == "crypto-prices"


def test_block_2s_topic_answer_is_right_in_a_namespace_as_written_in_the_notebook():
    from dataops.course.block2 import check_schema_change

    why = "el job de Flink valida cada moneda contra el contrato y manda la que no cumple a la DLQ"
    for topic, right in (("crypto-prices-dlq", True), ("ana.crypto-prices-dlq", True), ("crypto-prices", False), ("bruno.crypto-prices-dlq", False)):
        assert check_schema_change({"topico": topic, "motivo": why}, _class()).passed is right, topic


def test_the_class_profile_without_a_learner_is_one_line():
    with pytest.raises(ConfigError) as refused:
        _class(learner=None)
    assert "DATAOPS_LEARNER no está definida" in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(ConfigError, match="DATAOPS_LEARNER no es válida"):
        _class(learner="ana.b")


def test_every_name_a_learner_gets_is_covered_by_their_rights_and_by_nobody_elses():
    """For learners whose names start alike (``ana``, ``ana_b``, ``an``, ``ana1``): every resource name
    of one lies under one of their own ACL prefixes and under none of any other learner's."""
    people = ["ana", "ana_b", "an", "ana1", "bruno"]
    for who, other in itertools.permutations(people, 2):
        s = _class(learner=who, kafka_api_key=who)
        mine = [getattr(s, field) for field in namespace.PREFIXED] + [s.iceberg_sink_group, f"{namespace.own_prefix(s)}dataops-inspect-1"]
        groups = namespace.acl_prefixes(who)["GROUP"] + namespace.acl_prefixes(who)["TOPIC"]
        assert all(name.startswith(groups) for name in mine), who
        theirs = [p for prefixes in namespace.acl_prefixes(other).values() for p in prefixes]
        assert not any(name.startswith(p) for name in mine for p in theirs), (who, other)


def test_a_learners_acls_are_prefixed_allow_rules_for_their_user_only():
    bindings = access.acl_bindings("ana")
    assert len(bindings) == 6
    assert {b.principal for b in bindings} == {"User:ana"} and {b.host for b in bindings} == {"*"}
    assert {b.resource_pattern_type.name for b in bindings} == {"PREFIXED"} and {b.permission_type.name for b in bindings} == {"ALLOW"}
    assert {(b.restype.name, b.name) for b in bindings} == {("TOPIC", "ana."), ("GROUP", "ana."), ("GROUP", "connect-ana."),
                                                            ("GROUP", "cg-control-ana."), ("TRANSACTIONAL_ID", "ana."),
                                                            ("TRANSACTIONAL_ID", "connect-ana.")}  # fmt: skip


# ---- the class profile's clients --------------------------------------------------------------
def test_a_learners_clients_log_in_with_scram_as_their_own_user():
    s = _class()
    conf = s.kafka_config()
    assert conf["security.protocol"] == "SASL_PLAINTEXT" and conf["sasl.mechanisms"] == "SCRAM-SHA-512"
    assert (conf["sasl.username"], conf["sasl.password"]) == ("ana", "s3cr3t") and "ssl.ca.location" not in conf
    java = security.client_security(s)
    assert java["sasl.mechanism"] == "SCRAM-SHA-512" and java["sasl.jaas.config"].startswith(security.SCRAM_MODULE + " required")
    flink = security.flink_table_options(s)["properties.sasl.jaas.config"]
    assert flink.startswith(security.FLINK_SHADED + security.SCRAM_MODULE)


def test_the_layer_not_yet_kept_apart_says_so_in_one_line():
    import dataops

    p = dataops.connect(env_file="/nonexistent.env", profile="class", learner="ana", kafka_bootstrap="127.0.0.1:9", kafka_api_key="ana", kafka_api_secret="x")
    with pytest.raises(ConfigError) as refused:
        p.schema_registry.status()
    assert "\n" not in str(refused.value) and "alumno" in str(refused.value)


def test_a_learners_stack_is_the_class_engines_and_their_monitor_seen_from_their_session(tmp_path):
    import dataops
    from dataops.errors import StackError
    from tests.ports import free_port

    p = dataops.connect(env_file="/nonexistent.env", profile="class", learner="ana", kafka_bootstrap="127.0.0.1:9", kafka_api_key="ana",
                        kafka_api_secret="x", connect_port=free_port(), monitor_port=free_port(), state_dir=tmp_path)  # fmt: skip
    assert p.stack.names == [] and p.stack.process("kafka") is None  # the engines and the monitor are the server's
    status = p.stack.status().set_index("component")["health"].to_dict()
    assert status == {"kafka (clase)": "down", "connect (clase)": "down", "flink (clase)": "down", "monitor (clase)": "down"}
    with pytest.raises(StackError) as refused:  # their pipeline is not set up while the class's engines do not answer
        p.up(progress=False)
    assert "\n" not in str(refused.value) and "profesor" in str(refused.value) and "monitor (clase)" in str(refused.value)
    assert p.check_environment()["ok"].all()  # no Java, Maven or downloads wanted of a learner's session


def test_a_learners_settings_file_holds_their_profile_name_broker_and_login():
    s = load_settings(env_file="/nonexistent.env", profile="local")
    values = access.learner_settings(s, "ana", "pw")
    assert values == {"DATAOPS_PROFILE": "class", "DATAOPS_LEARNER": "ana", "DATAOPS_KAFKA_BOOTSTRAP": f"{s.host}:{s.kafka_class_port}",
                      "DATAOPS_KAFKA_API_KEY": "ana", "DATAOPS_KAFKA_API_SECRET": "pw", "DATAOPS_CONNECT_PORT": str(s.class_front_port),
                      "DATAOPS_ICEBERG_DIR": str(s.paths.classroom / "iceberg" / "ana"),
                      "DATAOPS_STATE_DIR": str(s.paths.classroom / "sessions" / "ana")}  # fmt: skip


# ---- the broker -------------------------------------------------------------------------------
def test_the_broker_refuses_by_default_and_has_no_listener_without_a_login(tmp_path):
    s = load_settings(env_file="/nonexistent.env", profile="local", state_dir=tmp_path)
    props = broker.broker_properties(s, s.paths, 'pa"ss')
    assert props["authorizer.class.name"].endswith("StandardAuthorizer") and props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:admin"
    protocols = dict(pair.split(":") for pair in props["listener.security.protocol.map"].split(","))
    assert set(protocols.values()) == {"SASL_PLAINTEXT"} and set(protocols) == {"CLASS", "INTERNAL", "CONTROLLER"}
    assert props["listener.name.class.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert 'password="pa\\"ss"' in props["listener.name.internal.plain.sasl.jaas.config"]  # quoted inside the JAAS line
    assert all(f":{port}" in props["listeners"] for port in (s.kafka_class_port, s.kafka_class_internal_port, s.kafka_class_controller_port))
    first = broker.admin_password(s.paths)
    assert broker.admin_password(s.paths) == first and len(first) >= 32  # made once, then read back


# ---- the CLI ----------------------------------------------------------------------------------
def test_class_commands_without_a_class_are_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(tmp_path))
    for action in (["status"], ["reset", "ana"]):
        assert main(["class", *action]) == 2
        err = capsys.readouterr().err
        assert "no hay clase" in err and "dataops class up --roster" in err and err.count("\n") == 1
    (tmp_path / "bad.yaml").write_text("learners: [Ana]\n")
    assert main(["class", "up", "--roster", str(tmp_path / "bad.yaml")]) == 2  # refused before starting anything
    assert "no es un nombre de usuario válido" in capsys.readouterr().err
    assert not (tmp_path / "conf").exists()


# ---- the hub ----------------------------------------------------------------------------------
def test_a_folder_other_users_cannot_pass_is_found_and_named():
    import shutil
    import tempfile

    from dataops.classroom import hub

    base = Path(tempfile.mkdtemp(prefix="dataops-reach-"))  # under /tmp, which everyone passes (pytest's own folder is private)
    try:
        base.chmod(0o755)
        inner = base / "closed" / "open"
        inner.mkdir(parents=True)
        (base / "closed").chmod(0o700)
        assert hub.unreachable(inner / "x.py") == base / "closed"
        (base / "closed").chmod(0o711)  # passing is enough: no listing needed
        assert hub.unreachable(inner / "x.py") is None
    finally:
        shutil.rmtree(base)


def test_the_hub_refuses_to_start_without_root_and_without_a_python_for_learners(tmp_path, monkeypatch):
    from dataops.classroom import hub
    from dataops.errors import StackError

    s = load_settings(env_file="/nonexistent.env", profile="local", state_dir=tmp_path)
    monkeypatch.setattr(hub.os, "geteuid", lambda: 1000)
    with pytest.raises(StackError) as refused:
        hub.command(s, s.paths)
    assert "necesita ejecutarse como root" in str(refused.value) and "sudo dataops class up --hub" in str(refused.value)
    monkeypatch.setattr(hub, "unreachable", lambda path: Path("/root"))
    with pytest.raises(StackError) as refused:
        hub.learner_python(s.paths)
    assert "que los alumnos puedan ejecutar" in str(refused.value) and "\n" not in str(refused.value)


def test_the_proxy_is_installed_from_a_lock_file_that_pins_every_package(tmp_path, monkeypatch):
    import json

    from dataops.classroom import hub
    from dataops.errors import ToolMissingError

    lock = json.loads((hub.PROXY / "package-lock.json").read_text())
    packages = {name: entry for name, entry in lock["packages"].items() if name}
    assert packages["node_modules/configurable-http-proxy"]["version"] == "5.3.0"
    assert all(entry.get("integrity", "").startswith("sha512-") for entry in packages.values())
    s = load_settings(env_file="/nonexistent.env", profile="local", state_dir=tmp_path)
    monkeypatch.setattr(hub.shutil, "which", lambda name: None)
    with pytest.raises(ToolMissingError, match="falta npm para instalar el proxy de JupyterHub"):
        hub.install_proxy(s.paths)


def test_the_masters_are_closed_to_other_users(tmp_path, monkeypatch):
    from dataops.classroom import hub

    (tmp_path / "02.ipynb").write_text("{}")
    (tmp_path / "02.ipynb").chmod(0o644)
    (tmp_path / "03.ipynb").write_text("{}")
    (tmp_path / "03.ipynb").chmod(0o600)
    monkeypatch.setattr(hub, "MASTER_NOTEBOOKS", tmp_path)
    assert hub.protect_masters() == [tmp_path / "02.ipynb"]
    assert oct((tmp_path / "02.ipynb").stat().st_mode & 0o777) == "0o600"


def test_the_hubs_configuration_lets_in_the_roster_and_runs_each_server_as_its_learner(tmp_path):
    import json

    from traitlets.config import Config

    from dataops.classroom import hub_config

    (tmp_path / "secrets.json").write_text(json.dumps({"class_code": "code1234", "instructor_password": "p" * 40, "api_token": "t" * 40}))
    data = {"ip": "127.0.0.1", "port": 1, "hub_port": 2, "proxy_api_port": 3, "learners": ["ana", "bruno"], "instructor": "instructor",
            "folder": str(tmp_path), "proxy": "/x/chp", "python": "/x/python", "prefix": "/venv", "learner_notebooks": "/l",
            "master_notebooks": "/m", "env_files": {"ana": "/e/ana.env", "bruno": "/e/bruno.env"}, "path": "/usr/bin"}  # fmt: skip
    (tmp_path / "hub.json").write_text(json.dumps(data))
    c = Config()
    hub_config.configure(c, str(tmp_path / "hub.json"))
    who = c.JupyterHub.authenticator_class(config=c)
    assert who.check_allowed("ana") and who.check_allowed("instructor") and not who.check_allowed("carla")
    data["learners"].append("carla")
    (tmp_path / "hub.json").write_text(json.dumps(data))
    assert who.check_allowed("carla")  # a learner added by `class up`: no restart
    assert c.Authenticator.admin_users == {"instructor"} and c.SharedPasswordAuthenticator.user_password == "code1234"
    assert c.JupyterHub.bind_url == "http://127.0.0.1:1" and c.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:3"
    assert c.Spawner.cmd == ["/x/python", "-m", "jupyterhub.singleuser"] and c.Spawner.notebook_dir == "~/curso"
    assert callable(c.Spawner.environment["JUPYTER_CONFIG_PATH"]) and callable(c.Spawner.environment["DATAOPS_ENV_FILE"])
    assert callable(c.Spawner.pre_spawn_hook) and c.JupyterHub.services == [{"name": "dataops-class", "api_token": "t" * 40}]
    assert c.JupyterHub.load_roles[0]["scopes"] == ["list:users", "read:users", "read:servers", "servers"]  # read, and stop a session


# ---- a learner's simulator ------------------------------------------------------------------------
def test_a_simulator_with_a_control_token_changes_only_for_it_and_still_serves_everyone():
    import requests
    from pydantic import SecretStr

    from dataops.simulator.server import Simulator
    from dataops.source.layer import SimulatorLayer

    sim = Simulator(coins=["bitcoin"], control_token="tok-ana")
    server = sim.serve("127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        mine, theirs, nobody = (SimulatorLayer(url, control_token=SecretStr(t)) if t else SimulatorLayer(url) for t in ("tok-ana", "tok-bruno", None))
        assert mine.inject_fault("latency", duration_s=30)["name"] == "latency"
        for other in (theirs, nobody):
            for call in (lambda: other.inject_fault("outage", duration_s=30), lambda: other.clear_faults()):
                with pytest.raises(ConfigError, match="no acepta tu token de control: no es el tuyo"):
                    call()
            assert other.faults()["name"].tolist() == ["latency"]  # reading is everyone's, as the price API
        raw = requests.post(f"{url}/_sim/faults", json={"name": "outage"}, headers={"x-dataops-control-token": "tok-ana"}, timeout=5)
        assert raw.status_code == 201  # the header's case does not matter
        assert mine.clear_faults() == 2
    finally:
        server.shutdown()
        server.server_close()


def test_the_learners_simulators_get_their_own_ports_folders_and_tokens(tmp_path):
    from dataops.classroom import simulators

    s = load_settings(env_file="/nonexistent.env", profile="local", state_dir=tmp_path, class_simulator_port=9100)
    first, second = (simulators.server_settings(s, name, 9100 + i, f"t{i}") for i, name in enumerate(["ana", "bruno"]))
    assert (first.simulator_port, second.simulator_port) == (9100, 9101) and first.low_memory
    assert first.state_dir == tmp_path / "class" / "servers" / "ana" and first.simulator_token.get_secret_value() == "t0"
    assert simulators.session_settings(second) == {"DATAOPS_SIMULATOR_PORT": "9101", "DATAOPS_SIMULATOR_TOKEN": "t1"}
    with pytest.raises(ConfigError, match="ana no tiene simulador todavía"):
        simulators.source(s, "ana")


def test_the_simulators_token_reaches_it_through_a_private_file_never_the_command_line(tmp_path):
    import stat

    from dataops.source import engine

    s = load_settings(env_file="/nonexistent.env", profile="local", state_dir=tmp_path, simulator_token="sekret-token")
    cmd = engine._simulator_cmd(s, s.paths)
    assert "sekret-token" not in " ".join(cmd)
    token_file = cmd[cmd.index("--control-token-file") + 1]
    assert open(token_file).read() == "sekret-token" and stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    without = load_settings(env_file="/nonexistent.env", profile="local", state_dir=tmp_path)
    assert "--control-token-file" not in engine._simulator_cmd(without, without.paths) and not os.path.exists(token_file)


def test_a_learners_jupyterlab_leaves_out_every_extension_of_the_grader():
    """The extensions the project's environment enables for nbgrader (its formgrader is the
    instructor's) are each turned off in a learner's server: a renamed one would be caught here."""
    import json
    import sys

    from dataops.classroom import hub_config

    enabled = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / "nbgrader.json"
    names = json.loads(enabled.read_text())["ServerApp"]["jpserver_extensions"]
    off = hub_config.LEARNER_SERVER_CONFIG["ServerApp"]["jpserver_extensions"]
    assert names and all(off.get(name) is False for name in names)


# ---- the instructor's view of the room ----------------------------------------------------------
def _with_outputs(source: Path, target: Path, texts: list[str | None]) -> int:
    """The learner notebook ``source`` saved at ``target`` with ``texts`` as its self-check cells' outputs."""
    import json

    nb = json.loads(source.read_text())
    graded = [c for c in nb["cells"] if c["cell_type"] == "code" and c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    for cell, text in zip(graded, texts):
        cell["outputs"] = [] if text is None else [{"output_type": "stream", "name": "stdout", "text": text}]
    target.write_text(json.dumps(nb))
    return len(graded)


def test_the_room_shows_each_learners_block_self_checks_and_where_they_are_stuck(tmp_path):
    import os
    import time

    from dataops.classroom import room
    from dataops.classroom.hub import LEARNER_NOTEBOOKS

    course = tmp_path / "curso"
    course.mkdir()
    n3 = _with_outputs(LEARNER_NOTEBOOKS / "03_automatizacion.ipynb", course / "03_automatizacion.ipynb",
                       ["✔ configurar la plataforma\n✔ Montaje automático: correcto\n",
                        "✘ la extensión\n✘ Tu extensión: revisa las líneas con ✘\n"])  # fmt: skip
    assert n3 >= 2
    _with_outputs(LEARNER_NOTEBOOKS / "02_diseno_dataops.ipynb", course / "02_diseno_dataops.ipynb", ["… Diseño: sin hacer todavía. Escribe tu diseño\n"])
    old = time.time() - 600
    os.utime(course / "02_diseno_dataops.ipynb", (old, old))
    seen = room.progress(tmp_path)
    assert seen["block"] == "03" and seen["stuck_on"] == "Tu extensión"
    assert seen["checks"].startswith("✔1 ✘1 …")
    os.utime(course / "03_automatizacion.ipynb", (old - 60, old - 60))
    assert room.progress(tmp_path)["block"] == "02"  # the notebook changed last
    assert room.progress(tmp_path / "nobody") == {"block": "-", "checks": "-", "stuck_on": "-"}


def test_the_room_without_a_hub_running_says_no_session(tmp_path):
    from dataops.classroom import room

    s = load_settings(env_file="/nonexistent.env", profile="local", state_dir=tmp_path, class_hub_api_port=9)
    assert room.sessions(s) == {}
    assert room.view(s, ("zz_nobody",)) == [{"learner": "zz_nobody", "session": "-", "last_activity": "-", "block": "-", "checks": "-", "stuck_on": "-"}]


def test_the_hubs_secrets_are_made_once_and_a_missing_one_is_added(tmp_path):
    import json

    from dataops.classroom import hub

    s = load_settings(env_file="/nonexistent.env", profile="local", state_dir=tmp_path)
    hub.secrets_file(s.paths).parent.mkdir(parents=True)
    hub.secrets_file(s.paths).write_text(json.dumps({"class_code": "kept-code", "instructor_password": "kept-pw"}))  # an older hub's file
    made = hub.hub_secrets(s.paths)
    assert made["class_code"] == "kept-code" and made["instructor_password"] == "kept-pw" and len(made["api_token"]) >= 32
    assert hub.hub_secrets(s.paths) == made and oct(hub.secrets_file(s.paths).stat().st_mode & 0o777) == "0o600"


def test_a_learners_simulator_port_stays_when_others_join_or_leave(tmp_path):
    from dataops.classroom import simulators

    s = load_settings(env_file="/nonexistent.env", profile="local", state_dir=tmp_path, class_simulator_port=9100)

    def settle(learners):  # what `class up` keeps in each learner's settings file
        given = simulators.ports(s, learners)
        for name, port in given.items():
            access.env_file(s.paths, name).parent.mkdir(parents=True, exist_ok=True)
            access.env_file(s.paths, name).write_text(f"DATAOPS_SIMULATOR_PORT={port}\n")
        return given

    assert settle(["ana", "bruno", "carla"]) == {"ana": 9100, "bruno": 9101, "carla": 9102}
    access.env_file(s.paths, "bruno").unlink()  # bruno leaves: carla keeps 9102
    assert settle(["ana", "carla"]) == {"ana": 9100, "carla": 9102}
    assert settle(["ana", "carla", "dani"]) == {"ana": 9100, "carla": 9102, "dani": 9101}
    access.env_file(s.paths, "dani").write_text("DATAOPS_SIMULATOR_PORT=9100\n")  # a clash (a file edited by hand): one moves
    assert sorted(simulators.ports(s, ["ana", "carla", "dani"]).values()) == [9100, 9101, 9102]


def test_a_new_learners_simulator_skips_a_port_something_else_listens_on(tmp_path):
    import socket

    from dataops.classroom import simulators
    from tests.ports import free_port

    base = free_port(span=2)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base))
        taken.listen()
        s = load_settings(env_file="/nonexistent.env", profile="local", state_dir=tmp_path, class_simulator_port=base)
        assert simulators.ports(s, ["ana"]) == {"ana": base + 1}


@pytest.mark.skipif(os.geteuid() != 0, reason="writes as another Unix user: needs root (CI runs as root)")
def test_files_put_in_a_learners_home_never_follow_a_link_they_planted(tmp_path):
    import pwd
    import subprocess

    from dataops.classroom import hub_config

    name = "dataopslinktest"
    hub_config.remove_user(name)
    user = hub_config.unix_user(name)
    victim = tmp_path / "root-owned"
    victim.write_text("root's\n")
    tmp_path.chmod(0o755)
    try:
        home = Path(user.pw_dir)
        subprocess.run(["runuser", "-u", name, "--", "sh", "-c", f"mkdir -p {home}/.dataops && ln -s {victim} {home}/.dataops/class.env"], check=True)
        with pytest.raises(subprocess.CalledProcessError):
            hub_config.put_as(user, hub_config.SESSION_ENV, b"DATAOPS_X=1\n", replace=True)  # as the learner: no right to the target
        assert victim.read_text() == "root's\n" and victim.stat().st_uid == 0
        (home / ".dataops" / "class.env").unlink()
        hub_config.put_as(user, hub_config.SESSION_ENV, b"DATAOPS_X=1\n", replace=True)
        made = home / hub_config.SESSION_ENV
        assert made.read_text() == "DATAOPS_X=1\n" and made.stat().st_uid == pwd.getpwnam(name).pw_uid and made.stat().st_mode & 0o777 == 0o600
        hub_config.put_as(user, hub_config.SESSION_ENV, b"other\n", replace=False)
        assert made.read_text() == "DATAOPS_X=1\n"
    finally:
        hub_config.remove_user(name)


# ---- the class's Connect front: what a learner may ask of the shared worker -----------------------


def _front(tmp_path):
    s = load_settings(env_file="/nonexistent.env", profile="local", state_dir=tmp_path, class_simulator_port=9100)
    for name, port, token in (("ana", 9100, "tok-ana"), ("bruno", 9101, "tok-bruno")):
        access.env_file(s.paths, name).parent.mkdir(parents=True, exist_ok=True)
        access.env_file(s.paths, name).write_text(f"DATAOPS_SIMULATOR_PORT={port}\nDATAOPS_SIMULATOR_TOKEN={token}\n")
    return s


SOURCE = {"connector.class": "org.dataops.connect.http.HttpSourceConnector", "kafka.topic": "ana.crypto-prices",
          "http.url": "http://127.0.0.1:9100/api/v3/simple/price?ids=bitcoin", "tasks.max": "1"}  # fmt: skip


def test_the_front_knows_each_learner_by_their_token_only(tmp_path):
    from dataops.classroom.front import learner_of
    from dataops.errors import RefusedError

    s = _front(tmp_path)
    assert learner_of(s, "Bearer tok-ana") == "ana" and learner_of(s, "Bearer tok-bruno") == "bruno"
    for wrong in (None, "", "Bearer ", "Bearer tok-an", "Bearer tok-ana2", "tok-carla"):
        with pytest.raises(RefusedError) as refused:
            learner_of(s, wrong)
        assert refused.value.status == 401 and "\n" not in str(refused.value)


def test_the_front_lets_a_learner_reach_only_their_own_connectors(tmp_path):
    import json

    from dataops.classroom.front import route
    from dataops.errors import RefusedError

    s = _front(tmp_path)
    assert route(s, "ana", "GET", "/connectors?expand=status", b"")[2] is True  # the answer cut to hers
    assert route(s, "ana", "GET", "/connector-plugins", b"")[0] == "/connector-plugins"
    for method, path in (("GET", "/connectors/ana.crypto-prices-source/status"), ("DELETE", "/connectors/ana.x"),
                         ("PUT", "/connectors/ana.x/pause"), ("POST", "/connectors/ana.x/restart?includeTasks=true")):  # fmt: skip
        assert route(s, "ana", method, path, b"")[0] == path
    sent = json.loads(route(s, "ana", "PUT", "/connectors/ana.src/config", json.dumps(SOURCE).encode())[1])
    assert sent["producer.override.sasl.jaas.config"].startswith("${file:") and "ana.properties" in sent["producer.override.sasl.jaas.config"]
    assert sent["offsets.storage.topic"] == "ana.connect-offsets" and sent["admin.override.bootstrap.servers"].endswith(str(s.kafka_class_port))
    refusals = [("GET", "/connectors/bruno.src/config", b""), ("DELETE", "/connectors/bruno.src", b""),
                ("PUT", "/connectors/bruno.src/config", json.dumps(SOURCE).encode()),
                ("PUT", "/connectors/ana%2E/../bruno.src/config", json.dumps(SOURCE).encode()),
                ("POST", "/connectors", json.dumps({"name": "bruno.src", "config": SOURCE}).encode()),
                ("POST", "/connectors", json.dumps({"name": "anaXsrc", "config": SOURCE}).encode()),
                ("PUT", "/connector-plugins/x/config/validate", b"{}"), ("GET", "/admin/loggers", b""),
                ("PUT", "/admin/loggers/root", b'{"level": "TRACE"}'), ("GET", "/connectors/ana.x/../../admin/loggers", b"")]  # fmt: skip
    for method, path, body in refusals:
        with pytest.raises(RefusedError) as refused:
            route(s, "ana", method, path, body)
        assert refused.value.status == 403 and "\n" not in str(refused.value), (method, path)


@pytest.mark.parametrize("change, says", [
    ({"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector"}, "connector.class"),
    ({"connector.class": "org.apache.iceberg.connect.IcebergSinkConnector"}, "iceberg.tables"),  # a sink: her tables only
    ({"connector.class": "org.apache.iceberg.connect.IcebergSinkConnector", "iceberg.tables": "bruno.t", "iceberg.control.topic": "ana.c"},
     "iceberg.tables"),
    ({"connector.class": "org.apache.iceberg.connect.IcebergSinkConnector", "iceberg.tables": "ana.t", "iceberg.control.topic": "bruno.c"},
     "iceberg.control.topic"),
    ({"iceberg.catalog.uri": "jdbc:sqlite:/tmp/bruno.db"}, "tu catálogo"),
    ({"iceberg.kafka.sasl.jaas.config": "x"}, "usuario de Kafka"),
    ({"http.url": ""}, "tu simulador"),
    ({"http.url": "http://127.0.0.1:9101/api/v3/simple/price"}, "tu simulador"),  # bruno's
    ({"http.url": "http://127.0.0.1:8011/hub/api/users"}, "tu simulador"),
    ({"http.url": "https://api.coingecko.com.evil.example/"}, "tu simulador"),
    ({"http.url": "http://127.0.0.1:9101/api/v3/simple/price?x=%20"}, "tu simulador"),  # an escaped blank is a URL
    ({"http.url": "http://127.0.0.1:8011/hub/api/users "}, "tu simulador"),  # Connect trims the blank: a URL
    ({"http.url": "http://api precios/v3"}, "tu simulador"),
    ({"kafka.topic": "${file:/etc/passwd:x}"}, "${...}"),
    ({"producer.override.sasl.jaas.config": "x"}, "usuario de Kafka"),
    ({"consumer.override.bootstrap.servers": "127.0.0.1:9097"}, "usuario de Kafka"),
    ({"admin.override.security.protocol": "PLAINTEXT"}, "usuario de Kafka"),
    ({"producer.override.transactional.id": "connect-bruno.src-0"}, "usuario de Kafka"),
    ({"offsets.storage.topic": "bruno.connect-offsets"}, "usuario de Kafka"),
    ({"name": "ana.other"}, "nombre"),
])  # fmt: skip
def test_the_front_refuses_a_config_that_reaches_beyond_the_learner(tmp_path, change, says):
    from dataops.classroom.front import admit
    from dataops.errors import RefusedError

    s = _front(tmp_path)
    assert admit(s, "ana", "ana.src", dict(SOURCE))["kafka.topic"] == "ana.crypto-prices"  # the control: hers goes through
    broken = block3.broken_url(SOURCE["http.url"])  # block 3's connector broken by hand: still hers
    assert " " in broken and admit(s, "ana", "ana.src", {**SOURCE, "http.url": broken})
    with pytest.raises(RefusedError, match=re.escape(says)) as refused:
        admit(s, "ana", "ana.src", {**SOURCE, **change})
    assert "\n" not in str(refused.value)


def test_the_class_profiles_connect_goes_to_the_front_with_the_learners_token():
    import dataops

    p = dataops.connect(env_file="/nonexistent.env", profile="class", learner="ana", kafka_bootstrap="127.0.0.1:9", kafka_api_key="ana",
                        kafka_api_secret="x", connect_port=8014, simulator_token="tok-ana")  # fmt: skip
    assert p.connect.url.endswith(":8014") and p.connect.headers == {"Authorization": "Bearer tok-ana"}


def test_a_learner_reads_back_the_config_they_set_not_what_the_front_added(tmp_path):
    from dataops.classroom import connect
    from dataops.classroom.front import admit, as_theirs

    s = _front(tmp_path)
    sent = admit(s, "ana", "ana.src", dict(SOURCE))
    assert set(sent) - set(SOURCE) == set(connect.client_overrides(s, "ana"))
    answer = {"name": "ana.src", "config": {**sent, "name": "ana.src"}, "tasks": [{"connector": "ana.src", "task": 0}]}
    assert as_theirs(s, "ana", answer) == {**answer, "config": {**SOURCE, "name": "ana.src"}}
    assert as_theirs(s, "ana", [sent]) == [SOURCE]


def test_the_class_flink_speaks_tls_everywhere_with_the_class_keys(tmp_path):
    import yaml

    from dataops.classroom import flink

    s = load_settings(env_file="/nonexistent.env", profile="local", state_dir=tmp_path, class_flink_port=9115)
    extra = yaml.safe_load(flink.write_extra(s).read_text())
    ssl = extra["security"]["ssl"]
    assert ssl["rest"]["enabled"] and ssl["rest"]["authentication-enabled"] and ssl["internal"]["enabled"]
    assert all("ECDSA" in c for c in ssl["algorithms"].split(","))  # the keys are P-256: Flink's default RSA suite would match none
    assert extra["taskmanager"]["numberOfTaskSlots"] == flink.SLOTS and extra["web"]["submit"]["enable"] is False
    assert stat.S_IMODE(flink.write_extra(s).stat().st_mode) == 0o600  # the key stores' password is in it
    cluster = flink.cluster_settings(s)
    assert (cluster.flink_port, cluster.flink_rpc_port, cluster.flink_blob_port, cluster.flink_taskmanager_port) == (9115, 9116, 9117, 9118)
    client = flink.client_config(s)
    assert client["security.ssl.rest.enabled"] == "true" and client["security.ssl.algorithms"] == ssl["algorithms"]


def test_the_live_room_table_puts_the_stuck_first_and_shows_a_failure_in_place(tmp_path, monkeypatch):
    import pandas as pd

    from dataops.classroom import room

    s = load_settings(env_file="/nonexistent.env", profile="local", state_dir=tmp_path)
    (s.paths.classroom).mkdir(parents=True)
    (s.paths.classroom / "roster.yaml").write_text("learners: [ana, bruno, carla]\n")
    rows = [{"learner": n, "session": "up", "block": b, "checks": "✔1", "stuck_on": st, "topics": 4, "connectors": 2, "jobs": 1,
             "simulator": "up", "pipeline": "100 %", "kafka_user": True} for n, b, st in (("ana", "03", "-"), ("bruno", "02", "ej2"), ("carla", "05", "-"))]  # fmt: skip
    seen: list = []
    monkeypatch.setattr(room, "status", lambda settings, learners: seen.append(learners) or pd.DataFrame(rows))
    table = room.RoomTable(refresh_s=0, settings=s)
    assert seen == [("ana", "bruno", "carla")]
    assert table.frame()["learner"].tolist() == ["bruno", "carla", "ana"]  # the stuck first, then the furthest on
    assert "fdecea" in table.table.value and "3 alumnos</b>, 3 con sesión, 1 atascados" in table.when.value
    monkeypatch.setattr(room, "status", lambda settings, learners: (_ for _ in ()).throw(ConfigError("el broker de la clase no responde")))
    table.refresh()
    assert "sin lectura de la clase: ConfigError: el broker de la clase no responde" in table.when.value
    assert "bruno" in table.table.value  # the last good table stays
    table.stop()


def test_a_scratch_copy_of_the_pipeline_stays_in_the_learners_namespace():
    """Block 3's manual demo (``demo-manual-…``) in a class: every name after the learner's prefix."""
    from dataops.automation.engine import scratch_settings

    s = scratch_settings(_class(), "demo-manual")
    assert (s.topic_raw, s.connector_name, s.flink_job_name) == ("ana.demo-manual-crypto-prices", "ana.demo-manual-crypto-prices-source",
                                                                 "ana.demo-manual-crypto-explode")  # fmt: skip
    assert s.iceberg_table == "ana.demo_manual_crypto_prices_exploded"
    local = scratch_settings(load_settings(env_file="/nonexistent.env", profile="local"), "demo-manual")
    assert (local.topic_raw, local.iceberg_table) == ("demo-manual-crypto-prices", "demo_manual_crypto.crypto_prices_exploded")


def test_a_learners_explode_job_may_be_named_only_in_their_namespace():
    import json

    from dataops.classroom.flink_front import job_names
    from dataops.errors import RefusedError

    assert job_names("ana", b"") == {}
    given = {"job": "ana.demo-manual-crypto-explode", "source": "ana.demo-manual-crypto-prices"}
    assert job_names("ana", json.dumps(given).encode()) == {"flink_job_name": given["job"], "topic_raw": given["source"]}
    for wrong in ({"job": "bruno.crypto-explode"}, {"source": "crypto-prices"}, {"dlq": "ana."}, {"good": "ana.x'; DROP"},
                  {"job": 7}, {"sql": "ana.x"}):  # fmt: skip
        with pytest.raises(RefusedError) as refused:
            job_names("ana", json.dumps(wrong).encode())
        assert refused.value.status == 403 and len(str(refused.value).splitlines()) == 1, wrong
    with pytest.raises(RefusedError):
        job_names("ana", b"{not json")


def test_a_class_grading_kernel_starts_as_the_learner_and_a_learner_without_a_user_is_one_line(tmp_path):
    import json

    from dataops.classroom import grading
    from dataops.errors import DataOpsError

    spec = json.loads((grading.kernel_folder(tmp_path, "ana") / "kernels" / "python3" / "kernel.json").read_text())
    assert spec["argv"][1:] == ["-m", "dataops.classroom.as_learner", "ana", "{connection_file}"]
    s = load_settings(env_file="/nonexistent.env", profile="local", state_dir=tmp_path)
    access.env_file(s.paths, "nadie9z").parent.mkdir(parents=True)
    access.env_file(s.paths, "nadie9z").write_text("DATAOPS_LEARNER=nadie9z\n")
    one = grading.grader(s)
    for learner, says in (("fuera9z", "no está en la clase"), ("nadie9z", "no tiene usuario en este servidor")):
        with pytest.raises(DataOpsError, match=says) as refused:
            one(learner, tmp_path, tmp_path / "keep")
        assert "\n" not in str(refused.value)
