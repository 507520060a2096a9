"""The suite's JSON report and the course's grading bands of the success rate.

The report has a ``summary`` (total, passed, failed, no_data, success_rate, band) and one
entry per test (status, failing rows, message), as block 4 asks; it is written under
``build/reports/`` with a UTC timestamp in its name, so repeated runs keep their history.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from dataops.config import PROJECT_ROOT

REPORTS_DIR = PROJECT_ROOT / "build" / "reports"
# The course's bands: ≥ 85 excellent, ≥ 70 good, otherwise needs improvement.
BANDS = ((85.0, "excelente"), (70.0, "bueno"), (-math.inf, "necesita mejorar"))


def band(rate: float) -> str:
    """The course's verdict for a success rate in % (``sin datos`` for NaN)."""
    if rate is None or math.isnan(rate):
        return "sin datos"
    return next(label for floor, label in BANDS if rate >= floor)


def summary(report: Any) -> dict[str, Any]:
    results = report.results
    counts = results["status"].value_counts().to_dict() if len(results) else {}
    rate = report.score
    return {
        "layer": report.layer,
        "at": report.at.isoformat(),
        "total": int(len(results)),
        "passed": int(counts.get("passed", 0)),
        "failed": int(counts.get("failed", 0)),
        "no_data": int(counts.get("no_data", 0)),
        "success_rate": None if math.isnan(rate) else round(rate, 1),
        "band": band(rate),
    }


def as_dict(report: Any) -> dict[str, Any]:
    tests = [
        {"name": r["check"], "dataset": r["dataset"], "type": r["type"], "status": r["status"],
         "failing_rows": int(r["failing_rows"]), "sample": r["sample"], "message": r["message"]}
        for _, r in report.results.iterrows()
    ]  # fmt: skip
    return {"summary": summary(report), "tests": tests}


def write_json(report: Any, path: str | Path | None = None) -> Path:
    """Write the report; ``path`` may be a file or a folder (default ``build/reports/``)."""
    target = Path(path) if path else REPORTS_DIR
    if target.suffix != ".json":  # named to the millisecond; a second report in the same one gets -2, -3…
        stamp = report.at.strftime("%Y%m%dT%H%M%S") + f"{report.at.microsecond // 1000:03d}Z"
        base = target / f"quality-{report.layer or 'datos'}-{stamp}"
        target, n = base.with_suffix(".json"), 1
        while target.exists():
            n += 1
            target = base.with_name(f"{base.name}-{n}.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(as_dict(report), ensure_ascii=False, indent=2), encoding="utf-8")
    return target


def read_json(path: str | Path) -> dict[str, Any]:
    """A report written by :func:`write_json`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def history(folder: str | Path | None = None, layer: str | None = None) -> "Any":
    """Every report's summary in ``folder`` (oldest first), as a DataFrame: the success rate over time."""
    import pandas as pd

    files = sorted(Path(folder or REPORTS_DIR).glob(f"quality-{layer or '*'}-*.json"))
    rows = [read_json(f)["summary"] | {"file": f.name} for f in files]
    return pd.DataFrame(rows)


TEST_TYPES = {"schema": "estructura", "value_ranges": "rango", "freshness": "frescura", "completeness": "completitud"}


def mark(status: str, failing: int = 0) -> str:
    """✔ passed, ✘ failed (with its failing rows), … no data."""
    return {"passed": "✔", "no_data": "…"}.get(status, f"✘ {failing}")


def compare_layers(reports: dict[str, Any]) -> "Any":
    """The course's four test types (structure, range, freshness, completeness) × layer:
    ✔ / ✘ failing rows / … no data / — no such test on that layer."""
    import pandas as pd

    table = {}
    for layer, report in reports.items():
        res = report.results
        column = {}
        for kind, label in TEST_TYPES.items():
            part = res[res["type"] == kind]
            if not len(part):
                column[label] = "—"
            elif (part["status"] == "failed").any():
                column[label] = mark("failed", int(part["failing_rows"].sum()))
            else:
                column[label] = mark("no_data" if (part["status"] == "no_data").all() else "passed")
        table[layer] = column
    return pd.DataFrame(table).rename_axis("tipo de test")
