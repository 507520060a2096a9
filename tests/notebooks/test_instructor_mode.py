"""The block-2 notebook runs complete in instructor mode (solutions filled in), headless."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataops.runner import run_notebooks

pytestmark = pytest.mark.notebooks
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def test_block_2_in_instructor_mode(pipeline, tmp_path):
    result = run_notebooks([NOTEBOOKS / "02_diseno_dataops.ipynb"], output_dir=tmp_path, parameters={"instructor": True})
    row = result.iloc[0]
    assert row["status"] == "ok", row["error"]
    cells = json.loads((tmp_path / "02_diseno_dataops.ipynb").read_text())["cells"]
    printed = "".join(
        "".join(out.get("text", "")) for cell in cells if cell["cell_type"] == "code" for out in cell.get("outputs", [])
    )
    assert printed.count("✔") >= 4, "the four self-checks did not all pass"
    assert "✘" not in printed, "a self-check failed in instructor mode"
