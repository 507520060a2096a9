"""``dataops reset``: the next class starts from the pipeline a fresh ``up`` gives.

Clears the simulator's faults, resumes paused connectors, deletes the connectors and cancels
the Flink jobs the declaration does not have (a demo's or a practice's), deletes the topics
learners created (every topic the set-up does not declare, except Kafka's and Connect's internal
ones), deletes the metrics learners wrote (every series the monitor does not record), puts
the course's files (alert rules, quality suite, pipeline declaration, schemas, scenarios under
``data/``) back to their committed versions, keeping a copy of every edit under the state
folder's ``reset/``, then runs the set-up again, which recreates what a learner deleted by
hand and resubmits the job.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd

from dataops.config import DATA_DIR
from dataops.automation.resources import forget_applied
from dataops.metrics import METRICS
from dataops.pipeline import Pipeline


def internal_topic(name: str) -> bool:
    """Kafka's and Kafka Connect's own topics (``__consumer_offsets``, ``_connect-configs``…)."""
    return name.startswith("_")


# What learners edit during a class (data/…): rules in block 5, the suite in block 4, the declaration in block 3.
COURSE_FILES = ("alerts", "quality", "pipeline", "schemas", "scenarios")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=30).stdout


def status_paths(status: str) -> list[str]:
    """The paths ``git status --porcelain -z`` lists: one ``XY path`` entry per file, and after a
    rename or a copy (``R``/``C`` in ``XY``) its origin, as the next entry without the ``XY``."""
    entries = status.split("\0")
    out: list[str] = []
    i = 0
    while i < len(entries):
        entry = entries[i]
        if len(entry) > 3:
            out.append(entry[3:])
            if {"R", "C"} & set(entry[:2]) and i + 1 < len(entries) and entries[i + 1]:
                i += 1
                out.append(entries[i])
        i += 1
    return out


def restore_course_files(data_dir: Path, backup_root: Path) -> tuple[list[str], Path | None]:
    """Put ``data_dir``'s course files back to the versions committed in its git checkout.

    Every edited, added or deleted file is first copied to ``backup_root/<timestamp>/``, so no
    learner's (or instructor's) edit is lost. Returns the paths restored, relative to the
    checkout, and the backup folder (None when nothing was edited).

    Raises:
        FileNotFoundError / subprocess.CalledProcessError: No git, or ``data_dir`` not in a checkout
        (an installed copy has nothing to compare with).
    """
    data_dir = data_dir.resolve()
    root = Path(_git(data_dir, "rev-parse", "--show-toplevel").strip())
    prefix = data_dir.relative_to(root)
    specs = [str(prefix / name) for name in COURSE_FILES]
    status = _git(root, "status", "--porcelain", "--untracked-files=all", "-z", "--", *specs)
    changed = sorted(set(status_paths(status)))
    if not changed:
        return [], None
    backup = backup_root / time.strftime("%Y%m%d-%H%M%S")
    for rel in changed:
        source = root / rel
        if source.is_file():
            (backup / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, backup / rel)
    committed = set(_git(root, "ls-tree", "-r", "-z", "--name-only", "HEAD", "--", *changed).split("\0")) - {""}
    added = [rel for rel in changed if rel not in committed]  # by hand, with git add, or a rename's new name
    if added:
        _git(root, "rm", "--cached", "-q", "--ignore-unmatch", "--", *added)
        for rel in added:
            if (root / rel).is_file():
                (root / rel).unlink()  # a file a learner added (copied above)
    if committed:
        _git(root, "checkout", "HEAD", "--", *sorted(committed))
    return changed, backup


def reset(p: Pipeline, ready_timeout_s: float = 120.0, data_dir: Path | None = DATA_DIR) -> pd.DataFrame:
    """Bring the running pipeline back to a fresh ``up``; one row per step: what it did.

    ``data_dir=None`` keeps the course files as they are (``dataops reset --keep-files``).
    """
    steps = []
    steps.append(("fallos del simulador", f"{p.source.clear_faults()} quitados"))
    paused = [name for name, states in p.connect.states().items() if "PAUSED" in states]
    for name in paused:
        p.connect.resume(name)
    steps.append(("conectores en pausa", f"reanudados: {', '.join(paused)}" if paused else "ninguno"))
    declaration = p.declaration()
    extra_connectors = sorted(set(p.connect.states()) - {c.name for c in (*declaration.connectors, *declaration.sinks)})
    for name in extra_connectors:  # a demo's or a practice's connectors, left behind
        p.connect.delete(name)
    forget_applied(p.settings, [f"{kind}/{name}" for name in extra_connectors for kind in ("connector", "sink")])
    steps.append(("conectores añadidos", f"borrados: {', '.join(extra_connectors)}" if extra_connectors else "ninguno"))
    jobs = p.flink.jobs()
    extra_jobs = jobs[(~jobs["name"].isin([j.name for j in declaration.jobs])) & (jobs["state"] == "RUNNING")]
    for jid in extra_jobs["jid"]:
        p.flink.cancel(jid)
    steps.append(("jobs de Flink añadidos", f"cancelados: {', '.join(extra_jobs['name'])}" if len(extra_jobs) else "ninguno"))
    declared = {t.name for t in declaration.topics}
    extra = sorted(t for t in p.kafka.topic_names() if t not in declared and not internal_topic(t))
    for name in extra:
        p.kafka.delete_topic(name)
    forget_applied(p.settings, [f"topic/{name}" for name in extra])  # a later apply creates them, not "drift"
    steps.append(("tópicos añadidos", f"borrados: {', '.join(extra)}" if extra else "ninguno"))
    custom = sorted(m for m in p.monitor.store.metrics() if m not in METRICS)
    gone = p.monitor.store.delete(custom)
    steps.append(("métricas añadidas", f"borradas: {', '.join(custom)} ({gone} muestras)" if custom else "ninguna"))
    if data_dir is None:
        steps.append(("ficheros del curso (data/)", "sin tocar (--keep-files)"))
    else:
        try:
            changed, backup = restore_course_files(data_dir, p.settings.state_dir / "reset")
            done = f"restaurados: {', '.join(changed)}; tus cambios, copiados en {backup}" if changed else "sin cambios"
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            done = f"no comprobados: {_git_failure(exc, data_dir)}"
        steps.append(("ficheros del curso (data/)", done))
    redone = changes(p.setup())
    steps.append(("montaje (pipeline setup)", "; ".join(f"{s}: {a}" for s, a in zip(redone["step"], redone["action"])) or "nada que rehacer"))
    if ready_timeout_s:
        p.wait_ready(ready_timeout_s, progress=False)
        steps.append(("todas las capas", "informan y ninguna en rojo"))
    return pd.DataFrame(steps, columns=["paso", "resultado"])


def _git_failure(exc: BaseException, data_dir: Path) -> str:
    """Why the course files could not be restored, in one line: git's own words when git answered."""
    if isinstance(exc, FileNotFoundError):
        return "git no está instalado (instálalo, o usa --keep-files)"
    if isinstance(exc, subprocess.CalledProcessError):
        said = (exc.stderr or "").strip().splitlines()
        reason = said[-1] if said else f"salió con {exc.returncode}"
        if "not a git repository" in reason:
            return f"{data_dir} no está en un checkout de git (usa --keep-files)"
        return f"`git {' '.join(map(str, exc.cmd[3:5]))}` falló: {reason}"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


_NO_OP = ("exists", "unchanged", "running")


def changes(steps: pd.DataFrame) -> pd.DataFrame:
    """The set-up steps (:meth:`~dataops.pipeline.Pipeline.setup`) that created, updated or (re)submitted something."""
    return steps[~steps["action"].astype(str).str.startswith(_NO_OP)]
