"""Execute the course notebooks headless with papermill (the main job, `make run`), and the
``dataops notebooks`` command that does it."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from dataops.cli_registry import CliContext, SubParsers
from dataops.config import PROJECT_ROOT

# minutes: the block's slot (course.yaml); modelled: the time model's minutes of its core path;
# with_optional: the same with its «Para ir más lejos» part (see dataops.course.timing)
RESULT_COLUMNS = ["notebook", "version", "block", "minutes", "modelled", "with_optional", "status", "seconds", "checks", "error"]


def notebook_paths(learner: bool = False) -> list[Path]:
    """The course notebooks, in order: the instructor masters (``notebooks/NN_title.ipynb``)
    or the learner versions (``notebooks/learner/``). The learner's edition has no masters: there,
    the course notebooks are the learner versions whatever ``learner`` says."""
    from dataops.course.edition import is_learner_edition

    learner = learner or is_learner_edition()
    folder = PROJECT_ROOT / "notebooks" / ("learner" if learner else "")
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def self_checks(path: Path) -> dict[str, int]:
    """The self-check lines an executed notebook printed: ✔ passed, ✘ failed, … not done yet."""
    counts = {"✔": 0, "✘": 0, "…": 0}
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade") or cell.get("cell_type") != "code":
            continue
        text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        last = [line for line in text.splitlines() if line.startswith(("✔", "✘", "…"))][-1:]  # the exercise's verdict
        for line in last:
            counts[line[0]] += 1
    return counts


def _checks_text(counts: dict[str, int]) -> str:
    parts = [f"{n} {mark}" for mark, n in counts.items() if n]
    return " ".join(parts).replace("…", "sin hacer") or "—"


# Figures as plotly's mime bundle (JupyterLab draws it) and as HTML with plotly.js inlined
# once per notebook, so an HTML export draws them offline in any browser.
REPORT_RENDERER = "plotly_mimetype+notebook"


def export_html(notebook: Path, target: Path) -> Path:
    """The executed notebook as one HTML file that opens offline (the course's pre-generated reports).

    Plotly's figures carry their script inline; mermaid diagrams use ``assets/mermaid.min.js`` beside
    the report (fetched once from the npm registry) instead of the template's CDN import.
    """
    import nbformat
    from nbconvert import HTMLExporter

    from dataops.config import load_settings
    from dataops.report_assets import mermaid_js

    exporter = HTMLExporter(template_name="lab", mermaid_layout_elk_js_url="")
    body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
    target.parent.mkdir(parents=True, exist_ok=True)
    cdn = f'(await import("{exporter.mermaid_js_url}")).default'
    script = mermaid_js(load_settings().paths) if 'class="mermaid"' in body and cdn in body else None
    if script is not None:
        local = target.parent / "assets" / "mermaid.min.js"
        if not local.exists() or local.stat().st_size != script.stat().st_size:
            local.parent.mkdir(exist_ok=True)
            shutil.copyfile(script, local)
        body = body.replace(cdn, "window.mermaid").replace("</head>", '<script src="assets/mermaid.min.js"></script>\n</head>', 1)
    target.write_text(body, encoding="utf-8")
    return target


def run_notebooks(
    notebooks: Iterable[str | Path] | None = None,
    output_dir: str | Path = "build/notebooks",
    parameters: dict[str, Any] | None = None,
    html_dir: str | Path | None = None,
    learner: bool = False,
) -> pd.DataFrame:
    """Run each notebook with papermill; one row per notebook: block, minutes planned, minutes the
    time model gives its core path and the whole notebook (:mod:`dataops.course.timing`), status,
    seconds, self-checks (✔, ✘, not done) and the error.

    Default: every master; with ``learner``, every learner version too (into ``output_dir/learner``),
    a check for developers and CI rather than part of a learner's first run. A failing
    notebook does not stop the others; its row says why. With ``html_dir``, each executed
    notebook is also written there as an HTML report whose figures draw offline.
    """
    import papermill as pm

    from dataops.course.catalog import load_course

    # Headless, figures render as mime bundles (plus inlined plotly.js when reports are wanted).
    previous = os.environ.get("PLOTLY_RENDERER")
    os.environ["PLOTLY_RENDERER"] = REPORT_RENDERER if html_dir else (previous or "plotly_mimetype")
    try:
        return _run(pm, load_course(), notebooks, output_dir, parameters, html_dir, learner)
    finally:
        if previous is None:
            os.environ.pop("PLOTLY_RENDERER", None)
        else:
            os.environ["PLOTLY_RENDERER"] = previous


def _run(pm, course, notebooks, output_dir, parameters, html_dir, learner) -> pd.DataFrame:
    from dataops.course.grading import read_notebook
    from dataops.kernels import IpcKernelManager

    out = Path(output_dir)
    if not out.is_absolute():
        out = PROJECT_ROOT / out
    html = None if html_dir is None else (Path(html_dir) if Path(html_dir).is_absolute() else PROJECT_ROOT / html_dir)
    paths = [Path(n) for n in notebooks] if notebooks else list(dict.fromkeys([*notebook_paths(), *(notebook_paths(learner=True) if learner else [])]))
    for nb in paths:  # a wrong path or a broken file is refused before anything runs
        read_notebook(nb)
    times = course.times().set_index("notebook")
    rows = []
    for nb in paths:
        version = "learner" if nb.parent.name == "learner" else "master"
        target = (out / "learner" if version == "learner" else out) / nb.name
        target.parent.mkdir(parents=True, exist_ok=True)
        block = course.block_of(nb)
        t0 = time.monotonic()
        accepted = pm.inspect_notebook(str(nb)).keys()
        params = {k: v for k, v in (parameters or {}).items() if k in accepted}
        try:
            pm.execute_notebook(str(nb), str(target), parameters=params, cwd=str(nb.parent), progress_bar=False,
                                kernel_name="python3", kernel_manager_class=IpcKernelManager)  # fmt: skip
            status, error = "ok", ""
        except pm.PapermillExecutionError as exc:
            status, error = "failed", f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"[:200]
        except Exception as exc:  # noqa: BLE001 - report and go on with the next notebook
            status, error = "failed", f"{type(exc).__name__}: {exc}"[:200]
        checks = _checks_text(self_checks(target)) if target.exists() else "—"
        if html is not None and target.exists():
            export_html(target, (html / "learner" if version == "learner" else html) / f"{nb.stem}.html")
        timed = times.loc[block.notebook] if block is not None and block.notebook in times.index else None
        rows.append({"notebook": nb.stem, "version": version, "block": block.block if block else None,
                     "minutes": block.minutes if block else None, "modelled": None if timed is None else timed["modelled_core"],
                     "with_optional": None if timed is None else timed["modelled_total"], "status": status,
                     "seconds": round(time.monotonic() - t0, 1), "checks": checks, "error": error})  # fmt: skip
        print(f"  {'✔' if status == 'ok' else '✘'} {version:<7} {nb.name} ({rows[-1]['seconds']} s, autocomprobaciones: {checks})", flush=True)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def time_verdict(results: pd.DataFrame) -> str:
    """One line under the table: does every block's core path fit its minutes (by the time model)?"""
    timed = results[(results["minutes"].fillna(0) > 0) & results["modelled"].notna()].drop_duplicates("notebook")
    over = timed[timed["modelled"] > timed["minutes"]]
    if timed.empty:
        return ""
    if over.empty:
        return f"✔ el recorrido básico de cada bloque cabe en sus minutos ({timed['modelled'].sum():.0f} de {timed['minutes'].sum():.0f} min según el modelo)"
    return "✘ se pasa de sus minutos: " + ", ".join(f"{r.notebook} {r.modelled:.1f} > {r.minutes:.0f}" for r in over.itertuples())


def cmd_notebooks(args: argparse.Namespace, ctx: CliContext) -> int:
    results = run_notebooks(args.notebooks or None, output_dir=args.output, parameters={"instructor": args.instructor},
                            html_dir=None if args.no_html else args.html, learner=args.learner)  # fmt: skip
    print()
    ctx.print_frame(results.drop(columns=["error"]) if (results["status"] == "ok").all() else results)
    verdict = time_verdict(results)
    if verdict:
        print(f"\n{verdict} (minutes: los previstos; modelled: el recorrido básico según el modelo; with_optional: con «Para ir más lejos»)")
    return 0 if (results["status"] == "ok").all() else 1


def add_commands(sub: SubParsers) -> None:
    """Add ``notebooks`` to ``sub``."""
    p = sub.add_parser("notebooks", help="execute the notebooks headless with papermill into build/")
    p.add_argument("notebooks", nargs="*", help="notebook paths (default: notebooks/*.ipynb)")
    p.add_argument("--output", default="build/notebooks", help="output folder (default build/notebooks)")
    p.add_argument("--instructor", action="store_true", help="instructor mode (notebook 01: a live view of the metrics)")
    p.add_argument("--learner", action="store_true", help="also execute the learner versions (notebooks/learner): a check for developers and CI")
    p.add_argument("--html", default="build/html", help="where the HTML reports go (default build/html)")
    p.add_argument("--no-html", action="store_true", help="do not write HTML reports")
    p.set_defaults(func=cmd_notebooks)
