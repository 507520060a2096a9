"""The class server's JupyterHub for real, as a class meets it: ``dataops class up --hub`` for two
learners (the real ``jupyterhub`` and ``configurable-http-proxy``), each logging in with the class
code and getting JupyterLab under their own Unix user, with the learner version of the course and
their settings; strangers and a wrong code refused; one learner's files and the masters closed to
the other; two real browsers (headless Chromium, :mod:`tests.integration.browser`) running block 5's
live dashboard at once, a fault in one learner's simulator alerting only in theirs. Run as root (the hub starts each learner's server as that learner); the two Unix users
are made at first log-in, as in class, and removed after.

Not root: skipped, which in CI (root) cannot happen, and a skip in CI fails (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import time
import uuid
from pathlib import Path

import psutil
import pytest
import requests

from dataops.artifacts import share_downloads
from dataops.classroom import access, broker, hub, hub_config, simulators
from dataops.classroom.hubclient import HubSession
from dataops.cli import main
from dataops.config import PROJECT_ROOT
from dataops.errors import DataOpsError
from tests.integration.helpers import cli, own_components

pytestmark = pytest.mark.integration

PORTS = ["kafka_class_port", "kafka_class_internal_port", "kafka_class_controller_port", "class_hub_port", "class_hub_api_port",
         "class_proxy_api_port", "class_simulator_port", "class_connect_port", "class_front_port", "class_flink_port", "class_monitor_port"]  # fmt: skip
ANA, BRUNO, CARLA = (f"{who}{uuid.uuid4().hex[:6]}" for who in ("ana", "bru", "car"))  # users no machine already has
ROSTER: list = []


def _open_the_way_to(path: Path) -> list[tuple[Path, int]]:
    """Let other users pass every folder on the way to ``path`` (a CI checkout may sit in a mode-700
    folder); the modes changed, to put back. The hub's own refusal of such a folder is a unit test."""
    changed = []
    while (blocked := hub.unreachable(path)) is not None:
        changed.append((blocked, blocked.stat().st_mode))
        blocked.chmod(blocked.stat().st_mode | 0o001)
    return changed


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the class hub starts each learner's server as that learner: it runs as root (CI does)")
    users = (ANA, BRUNO, CARLA, hub.INSTRUCTOR)
    existing = {name for name in users if hub_config.existing_user(name)}  # an instructor of this machine's own is kept
    opened = _open_the_way_to(PROJECT_ROOT / "lib")
    with own_components("class-hub-test", [broker.NAME], PORTS, share_downloads, {}) as s:
        opened += _open_the_way_to(s.paths.root)
        roster = tmp_path_factory.mktemp("class") / "clase.yaml"
        roster.write_text(f"learners: [{ANA}, {BRUNO}]\n")
        ROSTER.append(roster)
        with pytest.MonkeyPatch.context() as mp:
            for name in ("state_dir", *PORTS):
                mp.setenv(f"DATAOPS_{name.upper()}", str(getattr(s, name)))
            mp.delenv("DATAOPS_PROFILE", raising=False)
            t0 = time.monotonic()
            try:
                cli("class", "up", "--roster", str(roster), "--hub", "--quiet")
                print(f"\nclass up --hub: {time.monotonic() - t0:.1f} s")
                yield s
            finally:
                main(["class", "down"])
                for name in set(users) - existing:
                    hub_config.remove_user(name)
                for folder, mode in reversed(opened):
                    folder.chmod(mode)


def _login(s, user: str, password: str) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    base = f"http://127.0.0.1:{s.class_hub_port}"
    session.get(f"{base}/hub/login", timeout=10)
    answer = session.post(f"{base}/hub/login", data={"username": user, "password": password, "_xsrf": session.cookies.get("_xsrf")}, timeout=60)
    return session, answer


def _contents(s, session: requests.Session, user: str, within: float = 90) -> list[dict]:
    """The files of ``user``'s server, once it answers (the hub's OAuth done through /lab first)."""
    base = f"http://127.0.0.1:{s.class_hub_port}/user/{user}"
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        session.get(f"{base}/lab", timeout=30)
        answer = session.get(f"{base}/api/contents", timeout=30)
        if answer.status_code == 200:
            return answer.json()["content"]
        time.sleep(1)
    raise AssertionError(f"{user}'s server did not answer in {within:g} s: {answer.status_code} {answer.text[:200]}")


def _server_process(user: str) -> psutil.Process:
    for proc in psutil.process_iter(["cmdline", "username"]):
        if "jupyterhub.singleuser" in " ".join(proc.info["cmdline"] or []) and proc.info["username"] == user:
            return proc
    raise AssertionError(f"no server process of {user}")


def _as(user: str, code: str, s) -> subprocess.CompletedProcess:
    """``code`` run by the learner's Python as ``user``, with their session's environment."""
    env = {"PATH": os.environ["PATH"], "HOME": pwd.getpwnam(user).pw_dir,
           "DATAOPS_ENV_FILE": str(Path(pwd.getpwnam(user).pw_dir) / hub_config.SESSION_ENV),
           "DATAOPS_STATE_DIR": str(Path(pwd.getpwnam(user).pw_dir) / hub_config.STATE)}  # fmt: skip
    python = str(hub.folder(s.paths) / "venv" / "bin" / "python")
    return subprocess.run(["runuser", "-u", user, "--", python, "-c", code], env=env, cwd="/", capture_output=True, text=True, timeout=120)


def test_a_learner_logs_in_with_the_class_code_and_gets_jupyterlab_as_their_own_user(server):
    s = server
    code = hub.hub_secrets(s.paths)["class_code"]
    t0 = time.monotonic()
    session, answer = _login(s, ANA, code)
    assert answer.status_code == 200, answer.text[:300]
    files = _contents(s, session, ANA)
    print(f"\nlog-in to a listed course: {time.monotonic() - t0:.1f} s")
    learner_versions = sorted(p.name for p in hub.LEARNER_NOTEBOOKS.glob("*.ipynb"))
    assert sorted(f["name"] for f in files) == learner_versions
    home = Path(pwd.getpwnam(ANA).pw_dir)
    assert (home / hub_config.COURSE / learner_versions[0]).read_bytes() == (hub.LEARNER_NOTEBOOKS / learner_versions[0]).read_bytes()
    proc = _server_process(ANA)
    assert proc.uids().real == pwd.getpwnam(ANA).pw_uid != 0
    assert proc.environ()["DATAOPS_ENV_FILE"] == str(home / hub_config.SESSION_ENV)
    assert oct(home.stat().st_mode & 0o777) == "0o700" and oct((home / hub_config.SESSION_ENV).stat().st_mode & 0o777) == "0o600"


def test_a_wrong_code_and_a_name_not_on_the_roster_are_refused(server):
    s = server
    code = hub.hub_secrets(s.paths)["class_code"]
    assert _login(s, BRUNO, code + "x")[1].status_code == 403
    assert _login(s, f"z{uuid.uuid4().hex[:6]}", code)[1].status_code == 403
    assert _login(s, hub.INSTRUCTOR, code)[1].status_code == 403  # the class code is not the instructor's password


def test_a_learners_session_is_in_their_namespace_and_closed_to_the_others_files(server):
    s = server
    code = hub.hub_secrets(s.paths)["class_code"]
    _contents(s, _login(s, BRUNO, code)[0], BRUNO)
    mine = _as(ANA, "import dataops; p = dataops.connect(); p.kafka.ensure_topic(p.settings.topic_raw, 1, {}); "
                    "print(p.settings.learner, p.kafka.topic_names())", s)  # fmt: skip
    assert mine.returncode == 0 and mine.stdout.strip() == f"{ANA} ['{ANA}.crypto-prices']", mine.stderr[-800:]
    others = {"bruno's settings": Path(pwd.getpwnam(BRUNO).pw_dir) / hub_config.SESSION_ENV,
              "bruno's course": Path(pwd.getpwnam(BRUNO).pw_dir) / hub_config.COURSE / "00_entorno.ipynb",
              "the class's settings files": access.env_file(s.paths, BRUNO),
              "the hub's secrets": hub.secrets_file(s.paths),
              "a master": PROJECT_ROOT / "notebooks" / "02_diseno_dataops.ipynb",
              "bruno's Iceberg catalog": s.paths.classroom / "iceberg" / BRUNO / "catalog.db",
              "the class's TLS key": s.paths.classroom / "connect" / "tls" / "front-key.pem",
              "bruno's Kafka login for his connectors": s.paths.classroom / "connect" / "logins" / f"{BRUNO}.properties"}  # fmt: skip
    # the control: her own catalog is hers to read (the server writes it, her group reads it)
    own = _as(ANA, "import dataops; p = dataops.connect(); print(p.iceberg.tables().shape[0])", s)
    assert own.returncode == 0 and own.stdout.strip() == "0", own.stderr[-800:]
    for what, path in others.items():
        tried = _as(ANA, f"open({str(path)!r}).read()", s)
        assert tried.returncode != 0 and "PermissionError" in tried.stderr, (what, tried.stdout, tried.stderr[-300:])


def test_the_instructor_opens_the_masters(server):
    s = server
    session, answer = _login(s, hub.INSTRUCTOR, hub.hub_secrets(s.paths)["instructor_password"])
    assert answer.status_code == 200
    files = _contents(s, session, hub.INSTRUCTOR)
    masters = sorted(p.name for p in hub.MASTER_NOTEBOOKS.glob("*.ipynb"))
    assert sorted(f["name"] for f in files if f["type"] == "notebook") == masters
    course = Path(pwd.getpwnam(hub.INSTRUCTOR).pw_dir) / hub_config.COURSE
    assert all((course / name).read_bytes() == (hub.MASTER_NOTEBOOKS / name).read_bytes() for name in masters)
    assert json.loads(hub.settings_file(s.paths).read_text())["instructor"] == hub.INSTRUCTOR


def test_dataops_connect_in_a_learners_kernel_picks_their_namespace(server):
    """A cell run as JupyterLab runs it (a kernel of the learner's server, over its websocket)."""
    s = server
    session = HubSession(f"http://127.0.0.1:{s.class_hub_port}", ANA)
    assert session.login(hub.hub_secrets(s.paths)["class_code"]) == 200
    session.wait_server()
    out = session.run("import dataops\np = dataops.connect()\nprint(p.settings.learner, p.settings.topic_raw, p.source.price('bitcoin').shape[0])")
    assert out.strip() == f"{ANA} {ANA}.crypto-prices 1"
    with pytest.raises(DataOpsError, match="PermissionError"):
        session.run(f"open({str(access.env_file(s.paths, BRUNO))!r}).read()")


def test_a_reset_reaches_the_learners_running_session(server):
    """``class reset`` gives a new password: the copy the learner's session reads is replaced too
    (written as the learner), so their next ``dataops.connect()`` works without logging in again."""
    s = server
    session = HubSession(f"http://127.0.0.1:{s.class_hub_port}", ANA)
    assert session.login(hub.hub_secrets(s.paths)["class_code"]) == 200
    session.wait_server()
    before = access.saved_password(s.paths, ANA)
    cli("class", "reset", ANA)
    copy = Path(pwd.getpwnam(ANA).pw_dir) / hub_config.SESSION_ENV
    assert access.saved_password(s.paths, ANA) != before and copy.read_bytes() == access.env_file(s.paths, ANA).read_bytes()
    assert copy.stat().st_uid == pwd.getpwnam(ANA).pw_uid and copy.stat().st_mode & 0o777 == 0o600
    out = session.run("import dataops\np = dataops.connect()\nprint(p.kafka.topics().shape[0] >= 0)")
    assert out.strip() == "True"


def test_the_instructors_view_shows_who_is_in_and_where(server, capsys):
    s = server
    session = HubSession(f"http://127.0.0.1:{s.class_hub_port}", ANA)
    assert session.login(hub.hub_secrets(s.paths)["class_code"]) == 200
    session.wait_server()
    capsys.readouterr()
    cli("class", "status")
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:] if line.strip()}
    assert rows[ANA][1] == "up" and rows[ANA][3] in {p.name.split("_")[0] for p in hub.LEARNER_NOTEBOOKS.glob("*.ipynb")}
    assert rows[BRUNO][1] in ("up", "-")  # bruno's session depends on the earlier tests; his row is there
    from dataops.classroom import room

    live = room.RoomTable(refresh_s=0, settings=s)  # the same view, live in a notebook of root's
    frame = live.frame().set_index("learner")
    assert frame.loc[ANA, "session"] == "up" and frame.loc[ANA, "block"] == rows[ANA][3] and ANA in live.table.value
    # and in the instructor's own notebook on the hub (their Unix user, who cannot read the class's state)
    instructor = HubSession(f"http://127.0.0.1:{s.class_hub_port}", hub.INSTRUCTOR)
    assert instructor.login(hub.hub_secrets(s.paths)["instructor_password"]) == 200
    instructor.wait_server()
    out = instructor.run("from dataops.classroom import room\nlive = room.live(0)\nf = live.frame().set_index('learner')\n"
                         f"print(live.remote is not None, f.loc[{ANA!r}, 'session'], f.loc[{ANA!r}, 'block'], {ANA!r} in live.table.value)")
    assert out.split() == ["True", "up", rows[ANA][3], "True"], out


DASHBOARD = "tablero_prueba.ipynb"


def _dashboard_notebook(user: str) -> None:
    """``user``'s pipeline up in their namespace (block 0's call), then block 5's live dashboard (its
    practice 5 call): a notebook of theirs, made as theirs. Prices reach the dashboard through the
    pipeline (the exploded topic), as in class."""
    entry = pwd.getpwnam(user)
    cells = [["import dataops\n", "p = dataops.connect()\n", "p.up(progress=False)"],
             ["monitor = dataops.start_monitoring([\"crypto-prices\", \"crypto-prices-exploded\"], interval_s=2)"]]
    notebook = {"cells": [{"cell_type": "code", "id": f"c{i}", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
                          for i, source in enumerate(cells)],
                "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
                "nbformat": 4, "nbformat_minor": 5}  # fmt: skip
    path = Path(entry.pw_dir) / hub_config.COURSE / DASHBOARD
    path.write_text(json.dumps(notebook), encoding="utf-8")
    os.chown(path, entry.pw_uid, entry.pw_gid)


def test_two_learners_in_chromium_each_see_their_own_alert_only(server, tmp_path):
    """Two real browsers, one per learner, log in with the class code and run block 5's live dashboard
    in their JupyterLab, both at once; a price spike sent into ana's simulator raises the alert in
    her dashboard, and not in bruno's."""
    from tests.integration.browser import Chromium, log_in_to_lab, run_notebook

    s = server
    code = hub.hub_secrets(s.paths)["class_code"]
    base = f"http://127.0.0.1:{s.class_hub_port}"
    browsers: dict[str, Chromium] = {}
    try:
        for user in (ANA, BRUNO):
            browsers[user] = Chromium(tmp_path / user)
            log_in_to_lab(browsers[user], base, user, code)
            _dashboard_notebook(user)
            run_notebook(browsers[user], DASHBOARD)
        shown = "/ninguna alerta activa|🔔/.test(document.body.innerText)"
        for user, browser in browsers.items():
            browser.wait_for(shown, 300, f"{user}'s pipeline up and dashboard")
        cli("class", "fault", "spike", "--learner", ANA, "--duration", "120", "--param", "factor=2")
        alert = "/price_anomaly|price_spike/.test(document.body.innerText)"
        browsers[ANA].wait_for(alert, 120, f"the spike's alert in {ANA}'s dashboard")
        time.sleep(6)  # bruno's dashboard redrawn (every 2 s) since
        assert browsers[BRUNO].wait_for(shown, 10, f"{BRUNO}'s dashboard") and not browsers[BRUNO].evaluate(alert), browsers[BRUNO].text()[-800:]
    finally:
        for browser in browsers.values():
            try:
                browser.evaluate("window.jupyterapp.serviceManager.sessions.shutdownAll().then(() => true)", timeout_s=30)
            except AssertionError:
                pass
            browser.close()
        simulators.source(s, ANA).clear_faults()


def test_the_class_is_graded_at_once_each_learner_in_their_namespace_as_their_own_user(server, tmp_path):
    """``dataops grade --class DIR --in-class``: ana hands in block 2's master answers and a cell of her
    own that writes who ran it and whether the masters opened; bruno block 2 as handed out. Both at once."""
    from dataops.course.catalog import LEARNER, NOTEBOOKS

    block2 = "02_diseno_dataops.ipynb"
    klass = tmp_path / "entregas"
    for who in (ANA, BRUNO):
        (klass / who).mkdir(parents=True)
    nb = json.loads((NOTEBOOKS / block2).read_text(encoding="utf-8"))
    probe = (f"import os, pathlib\ntry:\n    open({str(NOTEBOOKS / block2)!r}).read(); masters = 'leídos'\n"
             f"except PermissionError:\n    masters = 'cerrados'\n"
             f"pathlib.Path.home().joinpath('quien.txt').write_text(f'{{os.getuid()}} {{p.settings.learner}} {{masters}}')")  # fmt: skip
    nb["cells"].append({"cell_type": "code", "id": "probe", "metadata": {}, "execution_count": None, "outputs": [], "source": probe})
    (klass / ANA / block2).write_text(json.dumps(nb), encoding="utf-8")
    (klass / BRUNO / block2).write_bytes((LEARNER / block2).read_bytes())
    said = Path(pwd.getpwnam(ANA).pw_dir) / "quien.txt"
    said.unlink(missing_ok=True)
    t0 = time.monotonic()
    cli("grade", "--class", str(klass), "--in-class", "--jobs", "2")
    print(f"\nclass of two graded at once in {time.monotonic() - t0:.1f} s")
    book = klass / "_gradebook"
    ana, bruno = (json.loads((book / f"{who}.json").read_text(encoding="utf-8")) for who in (ANA, BRUNO))
    assert len(ana["exercises"]) == 4 and all(e["passed"] for e in ana["exercises"]), ana["exercises"]
    assert len(bruno["exercises"]) == 4 and not any(e["points"] for e in bruno["exercises"]), bruno["exercises"]
    assert said.read_text() == f"{pwd.getpwnam(ANA).pw_uid} {ANA} cerrados" and said.stat().st_uid == pwd.getpwnam(ANA).pw_uid
    assert (book / ANA / block2).is_file()  # the notebook as graded, kept for the instructor


def test_a_late_learner_joins_and_one_leaves_without_a_restart(server):
    """``class up`` with a new roster while the class runs: the hub reads it at the next log-in, so
    the learners already in keep their servers; the one taken off can no longer log in."""
    s = server
    code = hub.hub_secrets(s.paths)["class_code"]
    before = _server_process(ANA).pid
    assert _has_server(BRUNO)  # logged in by an earlier test: the stop below has something to stop
    ROSTER[0].write_text(f"learners: [{ANA}, {CARLA}]\n")
    cli("class", "up", "--roster", str(ROSTER[0]), "--hub", "--quiet")
    late = HubSession(f"http://127.0.0.1:{s.class_hub_port}", CARLA)
    assert late.login(code) == 200
    late.wait_server()
    assert late.run("import dataops\nprint(dataops.connect().settings.topic_raw)").strip() == f"{CARLA}.crypto-prices"
    assert HubSession(f"http://127.0.0.1:{s.class_hub_port}", BRUNO).login(code) == 403
    assert _server_process(ANA).pid == before  # nobody's session was restarted
    deadline = time.monotonic() + 30
    while _has_server(BRUNO) and time.monotonic() < deadline:  # bruno's own was stopped by `class up`
        time.sleep(0.5)
    assert not _has_server(BRUNO)


def _has_server(user: str) -> bool:
    try:
        _server_process(user)
        return True
    except AssertionError:
        return False
