"""Execute the course notebooks headless with papermill (the main job, `make run`)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from dataops.config import PROJECT_ROOT


def notebook_paths() -> list[Path]:
    """The course notebooks, in order (``notebooks/NN_title.ipynb``)."""
    return sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def run_notebooks(
    notebooks: Iterable[str | Path] | None = None,
    output_dir: str | Path = "build/notebooks",
    parameters: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Run each notebook with papermill; one row per notebook: status and seconds.

    A failing notebook does not stop the others; its row says why.
    """
    import papermill as pm

    # Figures render as plain mime bundles when no browser is around.
    os.environ.setdefault("PLOTLY_RENDERER", "plotly_mimetype")
    out = Path(output_dir)
    if not out.is_absolute():
        out = PROJECT_ROOT / out
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for nb in [Path(n) for n in notebooks] if notebooks else notebook_paths():
        t0 = time.monotonic()
        accepted = pm.inspect_notebook(str(nb)).keys()
        params = {k: v for k, v in (parameters or {}).items() if k in accepted}
        try:
            pm.execute_notebook(
                str(nb),
                str(out / nb.name),
                parameters=params,
                cwd=str(nb.parent),
                progress_bar=False,
                kernel_name="python3",
            )
            status, error = "ok", ""
        except pm.PapermillExecutionError as exc:
            status, error = "failed", f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"[:200]
        except Exception as exc:  # noqa: BLE001 - report and go on with the next notebook
            status, error = "failed", f"{type(exc).__name__}: {exc}"[:200]
        rows.append({"notebook": nb.name, "status": status, "seconds": round(time.monotonic() - t0, 1), "error": error})
        print(f"  {'✔' if status == 'ok' else '✘'} {nb.name} ({rows[-1]['seconds']} s)", flush=True)
    return pd.DataFrame(rows, columns=["notebook", "status", "seconds", "error"])
