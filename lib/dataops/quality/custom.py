"""Tests of your own in the suite: a plain Python function of the rows, registered with a decorator.

::

    @quality.custom_test("volatilidad_extrema", message="Cambio 24 h por encima del límite de su moneda")
    def volatilidad_extrema(filas):
        return filas["usd_24h_change"].abs() > 20      # True = the row fails

    suite = quality.load_suite().with_tests(volatilidad_extrema)

The function receives the exploded rows (one per coin and poll; raw polls are exploded
first) and returns the rows that fail: a boolean Series (True = fails), a DataFrame of the
failing rows, or a single bool (True = the test passes). Each runs isolated: an exception
inside one is that test's ✘ with the exception's one line, and the rest of the suite runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dataops.quality.custom_model import CustomTest, as_custom_test, custom_test
from dataops.quality.suite import SAMPLE_SIZE, CheckResult

__all__ = ["CUSTOM_TYPE", "CustomTest", "as_custom_test", "custom_test", "run_custom"]

CUSTOM_TYPE = "custom"
_SHOWN = ("coin_id", "usd", "usd_24h_change", "usd_market_cap", "event_time")


def run_custom(test: CustomTest, rows: pd.DataFrame) -> CheckResult:
    """Run one test on a copy of the rows; never raises."""

    def result(status: str, failing: int, sample: pd.DataFrame | None, message: str) -> CheckResult:
        text = ""
        if sample is not None and len(sample):
            cols = [c for c in _SHOWN if c in sample]
            text = " | ".join(", ".join(f"{c}={row[c]}" for c in cols) for _, row in sample.head(SAMPLE_SIZE).iterrows())
        return CheckResult(test.name, test.dataset, CUSTOM_TYPE, status, status == "passed", failing, text, message)

    try:
        out = test.fn(rows.copy())
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything: that test's ✘
        line = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        return result("failed", 0, None, f"el test lanzó {type(exc).__name__}: {line}")
    if isinstance(out, (bool, np.bool_)):
        return result("passed" if out else "failed", 0, None, "" if out else test.message)
    if isinstance(out, pd.Series) and (out.dtype == bool or str(out.dtype) == "boolean"):
        mask = out.reindex(rows.index, fill_value=False).fillna(False).astype(bool)
        failing = rows[mask]
    elif isinstance(out, pd.DataFrame):
        failing = out
    else:
        return result("failed", 0, None, f"devolvió {type(out).__name__}: devuelve una Serie booleana "
                                         "(True = la fila falla), un DataFrame con las filas que fallan o un bool")  # fmt: skip
    n = len(failing)
    return result("passed" if n == 0 else "failed", n, failing, "" if n == 0 else f"{test.message} ({n} filas)")
