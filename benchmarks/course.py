"""Figure: course_headless_s — every instructor master executed headless on a warm stack.

    .venv/bin/python benchmarks/course.py      # target: course_headless_s <= 300

Also prints one ``course_s_<notebook>`` line per notebook and the self-checks that passed.
"""

from __future__ import annotations

import tempfile
import time

from _common import running_pipeline

from dataops.runner import notebook_paths, run_notebooks


def main() -> None:
    running_pipeline()  # starts the stack when it is down: the figure is for a warm stack
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        results = run_notebooks(notebook_paths(), output_dir=tmp)
        total = time.monotonic() - t0
    failed = results[results["status"] != "ok"]
    for row in results.itertuples():
        print(f"course_s_{row.notebook}={row.seconds}")
    print(f"course_notebooks_failed={len(failed)}")
    print(f"course_headless_s={total:.1f}")


if __name__ == "__main__":
    main()
