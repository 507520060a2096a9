"""The quality suite on each layer of the real pipeline, the CLI's gate, and injected faults
turning the right tests red (and only those), then recovering."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from dataops import quality
from dataops.config import DATA_DIR
from dataops.course import block4

pytestmark = pytest.mark.integration


def test_the_suite_runs_on_each_layer_and_passes(pipeline):
    # Only what arrives from now on: faults injected earlier in the session are not this test's subject.
    pipeline.source.clear_faults()
    time.sleep(40)
    for layer in quality.LAYERS:
        report = quality.run_on_layer(pipeline, layer, quality.load_suite(), minutes=0.5)
        assert report.layer == layer and len(report.results)
        judged = report.results[report.results["status"] != "no_data"]
        assert len(judged) >= 3, (layer, report.results.to_dict("records"))
        assert report.passed, (layer, report.failures()[["check", "failing_rows", "sample"]].to_dict("records"))


def test_the_table_layer_judges_only_the_window_up_to_now(pipeline):
    """Rows after ``now`` (or before its window) are not the report's: a suite run as of a day
    before the stack started sees no rows, not today's."""
    oldest = float(pipeline.sql("SELECT min(last_updated_at) AS t FROM crypto_prices_exploded")["t"][0])
    report = quality.run_on_layer(pipeline, "table", quality.load_suite(), minutes=60, now=oldest - 86_400)
    assert (report.results["status"] == "no_data").all(), report.results.to_dict("records")
    recent = quality.run_on_layer(pipeline, "table", quality.load_suite(), minutes=60)
    assert (recent.results["status"] != "no_data").any()


def test_the_cli_writes_the_report_and_gates_on_the_success_rate(pipeline, tmp_path):
    out = subprocess.run([sys.executable, "-m", "dataops.cli", "quality", "--layer", "exploded", "--polls", "120", "--minutes", "0.5", "--report",
                          str(tmp_path), "--min-success", "80"], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    [path] = tmp_path.glob("quality-exploded-*.json")
    summary = json.loads(path.read_text())["summary"]
    assert summary["layer"] == "exploded" and summary["success_rate"] >= 80 and summary["band"] in ("excelente", "bueno")
    # A gate the data cannot meet: the same suite, but bitcoin valid only between 1 and 2 USD.
    quality_dir = DATA_DIR / "quality"
    (tmp_path / "ranges.yaml").write_text(
        (quality_dir / "price_ranges.yaml").read_text(encoding="utf-8").replace("bitcoin: {min: 1000, max: 200000}", "bitcoin: {min: 1, max: 2}"),
        encoding="utf-8",
    )  # fmt: skip
    suite = (quality_dir / "suite.yaml").read_text(encoding="utf-8")
    suite = suite.replace("../schemas/", f"{DATA_DIR / 'schemas'}/").replace("price_ranges: price_ranges.yaml", "price_ranges: ranges.yaml")
    (tmp_path / "suite.yaml").write_text(suite, encoding="utf-8")
    below = subprocess.run([sys.executable, "-m", "dataops.cli", "quality", "--layer", "exploded", "--polls", "120",
                            "--suite", str(tmp_path / "suite.yaml"), "--min-success", "100"],
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert below.returncode == 1 and "row_value_ranges" in below.stdout, below.stdout + below.stderr
    # A success rate over 100 % is no gate at all: one line, exit 2.
    impossible = subprocess.run([sys.executable, "-m", "dataops.cli", "quality", "--layer", "exploded", "--min-success", "101"],
                                capture_output=True, text=True, timeout=300)  # fmt: skip
    assert impossible.returncode == 2 and impossible.stderr.strip().count("\n") == 0 and "--min-success" in impossible.stderr


# fault → the checks of the raw suite that must turn red while it lasts (every other judged one stays ✔)
FAULTS = {
    "spike": ({"coin": "bitcoin", "factor": 3.0}, {"raw_value_ranges"}),
    "schema_drift": ({}, {"raw_schema", "raw_completeness"}),
    "missing_coin": ({"coin": "cardano"}, {"raw_completeness"}),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_turns_the_right_tests_red_and_they_recover(pipeline, fault):
    params, red = FAULTS[fault]
    table = block4.fault_drill(pipeline, fault, quality.load_suite(), duration_s=10, **params)  # the notebook's duracion_fallo_s
    failed = {phase: set(table.index[table[phase].str.startswith("✘")]) for phase in table.columns}
    assert failed["antes"] == set() and failed["después"] == set(), table
    assert failed["durante"] == red, table
