"""The workflow's jobs run locally (`dataops ci`), without the integration tests (that job is `make test`).

Prints:
  ci_local_s        schema validation, data quality and infrastructure validation, one after the other
                    (target <= 60)
  ci_job_<name>_s   each of them
Usage: .venv/bin/python benchmarks/ci.py
"""

from __future__ import annotations

import time
from pathlib import Path

from _common import running_pipeline

from dataops.ci import workflow

JOBS = ["schema-validation", "data-quality", "infrastructure-validation"]


def main() -> None:
    running_pipeline()  # the data-quality job also runs the suite live when the stack is up
    t0 = time.monotonic()
    table = workflow.run(Path(__file__).resolve().parents[1], only=JOBS, echo=None)
    total = time.monotonic() - t0
    if (table["estado"] != workflow.OK).any():
        raise SystemExit(f"a job failed:\n{table.to_string(index=False)}")
    print(f"ci_local_s={total:.1f}")
    for _, row in table.iterrows():
        print(f"ci_job_{row['job'].replace('-', '_')}_s={row['segundos']:.1f}")


if __name__ == "__main__":
    main()
