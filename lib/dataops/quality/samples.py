"""The quality suite on the recorded samples (``data/samples``): a run that needs no stack
(``dataops quality --samples``, the CI's data-quality job)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from dataops.config import DATA_DIR
from dataops.quality.polls import TimedPoll
from dataops.quality.run import run_suite
from dataops.quality.suite import QualityReport, Suite, load_suite

SAMPLES = DATA_DIR / "samples"


def _lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_on_samples(samples: Path = SAMPLES, suite: Suite | None = None) -> QualityReport:
    """The suite on the recorded polls and rows (judged as of one second after the newest)."""
    suite = suite or load_suite()
    polls = _lines(samples / "raw_polls.jsonl")
    newest = max(int(e["last_updated_at"]) for poll in polls for e in poll.values() if isinstance(e, dict) and "last_updated_at" in e)
    timed = [TimedPoll(json.dumps(p), 1000 * (newest - 30 * (len(polls) - 1 - i))) for i, p in enumerate(polls)]
    rows = pd.DataFrame(_lines(samples / "exploded_rows.jsonl"))
    return run_suite(suite, polls=timed, rows=rows, now=newest + 1)
