"""The project's own files agree with each other."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def test_environment_yml_pip_list_equals_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["dev"]
    assert not any(d.startswith(("pytest", "nbval")) for d in project["dependencies"])  # test tooling: dev extra
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert sorted(pip) == sorted(deps)
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert "python=3.11" in conda and "openjdk=17" in conda and "maven" in conda


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / "README.md").read_text()
    assert "make run" in (ROOT / "README.md").read_text()
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_committed_notebooks_have_no_outputs_and_a_parameters_cell():
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks, "no notebooks found"
    for path in notebooks:
        nb = json.loads(path.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), path.name
        assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in code), path.name


def test_env_file_is_ignored_and_example_is_committed():
    assert (ROOT / ".env.example").exists()
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT).returncode == 0
    assert ignored


def test_the_wheel_ships_the_sql_and_data_files_the_library_reads(tmp_path):
    """Installed from a wheel (not the checkout), the library still finds its SQL job and data files."""
    import sys
    import zipfile

    import shutil

    src = tmp_path / "src"  # a copy, so setuptools' build/ folder lands there and not in the checkout
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "data"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, src / name)
    shutil.copytree(ROOT / "lib" / "dataops", src / "lib" / "dataops", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(src)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    needed = {"dataops/flink/explode.sql", "dataops/data/alerts/rules.yaml", "dataops/data/alerts/levels.yaml",
              "dataops/data/quality/suite.yaml", "dataops/data/quality/price_ranges.yaml",
              "dataops/data/schemas/exploded_row.json", "dataops/data/schemas/raw_poll.json",
              "dataops/data/scenarios/api_outage.yaml"}  # fmt: skip
    assert needed <= names, sorted(needed - names)


def test_the_dev_container_runs_the_readme_commands_on_the_python_the_project_requires():
    """A learner without a working laptop opens the course in a browser (Codespaces): the container runs
    the README's main command, the one `tests/first_run/test_first_make_run.py` runs on a fresh clone."""
    config = json.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text())
    readme = (ROOT / "README.md").read_text()
    assert config["postCreateCommand"] == "make run" and "make run" in readme
    makefile = (ROOT / "Makefile").read_text()
    for command in [config["postCreateCommand"], *config["postAttachCommand"].values()]:
        target = command.removeprefix("make ").split()[0]
        assert f"\n{target}:" in makefile, command
    python = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert ":3.11" in config["image"] and python == ">=3.11,<3.12"
    assert "docker" not in json.dumps(config).lower().replace("dockerhub", "")  # no Docker-in-Docker feature
