"""mypy, strict, is clean on the layer packages, the Pipeline facade and the protocols' base
(the flags are pyproject.toml's ``[tool.mypy]``; the rest of the library is read for its types only)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
PACKAGES = ["dataops.source", "dataops.kafka", "dataops.kafka_connect", "dataops.flink", "dataops.iceberg",
            "dataops.duck", "dataops.registry", "dataops.dlq", "dataops.profiles", "dataops.doctor"]  # fmt: skip
MODULES = ["dataops.pipeline", "dataops.protocols", "dataops.facade"]


def test_the_config_checks_these_packages_strictly():
    mypy = tomllib.loads(PYPROJECT.read_text())["tool"]["mypy"]
    assert mypy["packages"] == PACKAGES and mypy["modules"] == MODULES  # what a bare `mypy` checks
    strict = next(o for o in mypy["overrides"] if "dataops.pipeline" in o["module"])
    assert set(strict["module"]) == {f"{p}.*" for p in PACKAGES} | set(MODULES)
    assert strict["disallow_untyped_defs"] and strict["disallow_any_generics"] and strict["warn_return_any"]


def test_mypy_is_clean():
    from mypy import api

    args = ["--config-file", str(PYPROJECT), "--cache-dir", str(ROOT / ".mypy_cache")]
    args += [a for p in PACKAGES for a in ("-p", p)] + [a for m in MODULES for a in ("-m", m)]
    stdout, stderr, status = api.run(args)
    print(stdout, stderr)
    assert status == 0, f"mypy found errors:\n{stdout}{stderr}"
