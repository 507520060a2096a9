"""Java and Maven: an installed one is used when it fits, else Java from PyPI and the Maven Wrapper."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from dataops import toolchain
from dataops.config import PROJECT_ROOT
from dataops.errors import ToolMissingError

pytestmark = pytest.mark.unit


def fake_jdk(root: Path, version: str) -> Path:
    """A JAVA_HOME whose ``release`` file says ``version`` (its ``java`` is never started)."""
    (root / "bin").mkdir(parents=True)
    java = root / "bin" / "java"
    java.write_text("#!/bin/sh\nexit 1\n")
    java.chmod(java.stat().st_mode | stat.S_IXUSR)
    (root / "release").write_text(f'JAVA_VERSION="{version}"\n')
    return root


@pytest.fixture
def no_java(monkeypatch, tmp_path):
    """No JAVA_HOME, no java on PATH; the PyPI runtime stays."""
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.delenv("DATAOPS_JAVA_HOME", raising=False)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return empty


def test_the_java_from_pypi_is_used_when_none_is_installed(no_java):
    java = toolchain.require_java()
    assert java.from_pypi and java.major == 21 and java.fits
    assert java.path.is_file() and java.path.is_relative_to(java.home)


def test_an_installed_java_that_fits_comes_first(no_java, monkeypatch, tmp_path):
    home = fake_jdk(tmp_path / "jdk17", "17.0.15")
    monkeypatch.setenv("JAVA_HOME", str(home))
    java = toolchain.require_java()
    assert (java.origin, java.version, java.home) == ("JAVA_HOME", "17.0.15", home)


@pytest.mark.parametrize("version", ["25.0.2", "11.0.21", "1.8.0_392"])
def test_a_java_that_does_not_fit_is_passed_over(no_java, monkeypatch, tmp_path, version):
    home = fake_jdk(tmp_path / "jdk", version)
    monkeypatch.setenv("JAVA_HOME", str(home))
    os.symlink(home / "bin" / "java", no_java / "java")  # on PATH too
    assert [j.origin for j in toolchain.candidates()][:2] == ["JAVA_HOME", "PATH"]
    java = toolchain.require_java()
    assert java.from_pypi, java


def test_dataops_java_home_wins_over_java_home(no_java, monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(fake_jdk(tmp_path / "a", "17.0.1")))
    monkeypatch.setenv("DATAOPS_JAVA_HOME", str(fake_jdk(tmp_path / "b", "21.0.2")))
    assert toolchain.require_java().origin == "DATAOPS_JAVA_HOME"


def test_no_java_at_all_is_one_line_naming_what_was_found_and_the_fix(no_java, monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(fake_jdk(tmp_path / "old", "11.0.2")))
    monkeypatch.setattr(toolchain, "_pypi_java", lambda: None)
    with pytest.raises(ToolMissingError) as err:
        toolchain.require_java()
    text = str(err.value)
    assert "\n" not in text and "11.0.2 (JAVA_HOME)" in text and "make venv" in text


def test_children_get_the_stack_java_as_java_home(no_java):
    env = toolchain.java_env({"PATH": "/usr/bin"})
    java = toolchain.require_java()
    assert env["JAVA_HOME"] == str(java.home) and env["PATH"].split(os.pathsep)[0] == str(java.home / "bin")


def fake_mvn(bin_dir: Path, version: str) -> None:
    mvn = bin_dir / "mvn"
    mvn.write_text(f"#!/bin/sh\necho 'Apache Maven {version} (abc)'\n")
    mvn.chmod(0o755)


@pytest.mark.parametrize(("version", "origin"), [("3.9.9", "PATH"), ("3.8.7", "Maven Wrapper (./mvnw)")])
def test_an_installed_maven_is_used_only_from_3_9(no_java, version, origin):
    fake_mvn(no_java, version)
    maven = toolchain.find_maven()
    assert maven.origin == origin
    if origin == "PATH":
        assert maven.command == [str(no_java / "mvn")] and maven.version == version


def test_without_mvn_the_wrapper_fetches_the_pinned_maven_checked_by_its_hash(no_java):
    maven = toolchain.find_maven()
    assert maven.command == ["bash", str(PROJECT_ROOT / "mvnw")] and maven.version == "3.9.16"
    props = (PROJECT_ROOT / ".mvn" / "wrapper" / "maven-wrapper.properties").read_text()
    assert re.search(r"^distributionSha256Sum=[0-9a-f]{64}$", props, re.M)
    assert "apache-maven-3.9.16-bin.zip" in props
    assert os.access(PROJECT_ROOT / "mvnw", os.X_OK)
