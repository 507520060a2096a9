"""``dataops grade --class DIR --in-class``: each learner graded in their own namespace, as their own
Unix user, several at once.

Grading runs a learner's code. On a class server the grader is root (it reads the masters and their
hidden checks, which no learner may), so the learner's notebooks must not run as root: each one's
kernel is started as the learner (:mod:`dataops.classroom.as_learner`, named by a kernel spec of the
grading run's own), with their session's settings (their namespace, their login) and their home as
its folder. What it can reach is what the learner can reach in class. The grader (root) only reads
the masters, runs nbgrader and writes the gradebook.

Before each learner, their namespace is cleared (connectors, jobs, topics, groups, table, what their
sessions wrote, on the server and in their home, their samples): no learner's grade depends on what
they left running. Their password and token stay. After, what the graded notebooks started
(connectors, jobs) is stopped; a grading that runs out of time is stopped with its kernels.

A learner with no Unix user on this server (they never logged in to the class's JupyterHub) cannot be
graded here: their row says so, and the others are graded all the same.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

from dataops.classroom import access, hub, hub_config, monitors
from dataops.classroom import connect as class_connect
from dataops.classroom import flink as class_flink
from dataops.classroom import iceberg as class_iceberg
from dataops.config import ENV_PREFIX, Settings
from dataops.errors import ConfigError, DataOpsError


def clear(s: Settings, learner: str) -> None:
    """``learner``'s namespace as new, their password and token kept: their connectors (first: a task
    would make their topics again), jobs, topics and groups, table, what their session wrote on the
    server, their samples (the class's monitor samples them anew, on an empty store)."""
    class_connect.delete_connectors(s, learner)
    class_flink.cancel_jobs(s, learner)
    access.wipe(s, learner)
    shutil.rmtree(class_iceberg.learner_dir(s.paths, learner), ignore_errors=True)
    class_iceberg.prepare(s, learner)
    shutil.rmtree(s.paths.classroom / "sessions" / learner, ignore_errors=True)
    monitors.start(s, learner, fresh=True)
    user = hub_config.existing_user(learner)
    if user is not None:  # what their sessions on the hub wrote (metrics, alert log): removed as them, so
        home_state = Path(user.pw_dir) / hub_config.STATE  # a link they made there reaches nothing of root's
        subprocess.run(["rm", "-rf", "--one-file-system", str(home_state)], user=user.pw_uid, group=user.pw_gid,
                       capture_output=True, timeout=120, check=False)  # fmt: skip


def stop_leftovers(s: Settings, learner: str) -> None:
    """What ``learner``'s graded notebooks left running on the shared engines: their connectors and
    jobs (a class's worth of pipelines would otherwise stay up after grading)."""
    class_connect.delete_connectors(s, learner)
    class_flink.cancel_jobs(s, learner)


def kernel_folder(where: Path, learner: str) -> Path:
    """A Jupyter data folder (``JUPYTER_PATH``) whose ``python3`` kernel starts as ``learner``."""
    spec = where / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "dataops.classroom.as_learner", learner, "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"}), encoding="utf-8")
    return where


def grader(s: Settings, timeout_s: int = 600, demos: bool = False, reset: bool = True) -> Callable[[str, Path, Path], object]:
    """``grade_one`` for :func:`dataops.course.gradebook.grade_class`: ``learner``'s notebooks graded by
    ``dataops grade`` in a child of this process whose kernels run as the learner."""
    from dataops.course.grading import GradeReport

    def grade_one(learner: str, folder: Path, keep: Path) -> GradeReport:
        if learner not in access.with_settings(s.paths):
            raise ConfigError(f"{learner} no está en la clase de este servidor", "añádelo a la lista y ejecuta `dataops class up`")
        if hub_config.existing_user(learner) is None:
            raise ConfigError(f"{learner} no tiene usuario en este servidor (no ha entrado nunca al JupyterHub de la clase)",
                              "corrígelo cuando haya entrado una vez, o en un portátil con `dataops grade DIR/<alumno>`")  # fmt: skip
        if not reset:
            return _graded(s, learner, folder, keep, timeout_s, demos)
        clear(s, learner)
        try:
            return _graded(s, learner, folder, keep, timeout_s, demos)
        finally:
            stop_leftovers(s, learner)

    return grade_one


def _graded(s: Settings, learner: str, folder: Path, keep: Path, timeout_s: int, demos: bool) -> object:
    """``dataops grade`` of ``learner``'s ``folder`` in a child whose kernels run as them; its report.

    Raises:
        DataOpsError: The child failed or ran out of time (one line; its kernels are stopped).
    """
    from dataops.course.grading import GradeReport

    with tempfile.TemporaryDirectory(prefix=f"dataops-grade-{learner}-") as tmp:
        work = Path(tmp)
        runtime = work / "runtime"
        runtime.mkdir()
        runtime.chmod(0o711)  # the kernel (the learner) reaches its connection file, and lists nothing
        work.chmod(0o711)
        report = work / "report.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
        env.update({"JUPYTER_PATH": str(kernel_folder(work / "jupyter", learner)), "JUPYTER_RUNTIME_DIR": str(runtime),
                    f"{ENV_PREFIX}LEARNER_PYTHON": str(hub.learner_python(s.paths))})  # fmt: skip
        command = [sys.executable, "-m", "dataops.cli", "grade", str(folder), "--student", learner, "--json", str(report),
                   "--keep", str(keep), "--timeout", str(timeout_s), *(["--demos"] if demos else [])]  # fmt: skip
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = child.communicate(timeout=timeout_s * 8 + 120)
        except subprocess.TimeoutExpired:
            _stop_tree(child)
            raise DataOpsError(f"la corrección de {learner} no terminó en {timeout_s * 8 + 120} s y se paró",
                               f"corrígelo a mano con `dataops grade {folder}` para ver la celda") from None  # fmt: skip
        if child.returncode != 0 or not report.is_file():
            last = [line for line in (err or out).strip().splitlines() if line.strip()][-1:] or ["sin salida"]
            raise DataOpsError(last[0].removeprefix("error: "), f"corrígelo a mano con `dataops grade {folder}` para ver la celda")
        try:
            return GradeReport.from_dict(json.loads(report.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataOpsError(f"el informe de la corrección de {learner} no se pudo leer ({exc})",
                               f"corrígelo a mano con `dataops grade {folder}`") from None  # fmt: skip


def _stop_tree(child: subprocess.Popen) -> None:
    """Kill the grading child and every process under it (its kernels run in sessions of their own)."""
    import psutil

    try:
        procs = [psutil.Process(child.pid), *psutil.Process(child.pid).children(recursive=True)]
    except psutil.Error:
        procs = []
    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:
            pass
    child.wait()
