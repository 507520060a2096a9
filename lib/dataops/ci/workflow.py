"""Run the project's GitHub Actions workflow on this machine, job by job, without Docker.

The workflow file is the one source of truth: a job's ``run:`` lines are executed as written
(bash, in the repository's root), ``uses:`` steps (checkout, setup-python…) are what the
laptop already has and are listed as such, ``needs:`` gives the order, and a job whose ``if:``
asks for the main branch runs only when the repository is on ``main``.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from dataops.ci.checks import WORKFLOW, git, read_workflow
from dataops.ci.conditions import runs_only_on
from dataops.errors import ConfigError

OK, FAILED, SKIPPED = "✔", "✘", "–"


@dataclass
class Job:
    name: str
    needs: list[str]
    condition: str
    steps: list[dict[str, Any]]

    @property
    def main_only(self) -> bool:
        """Its ``if:`` runs it on main and nowhere else (``github.ref == 'refs/heads/main'``,
        ``github.ref_name == 'main'``… see :mod:`~dataops.ci.conditions`)."""
        return runs_only_on(self.condition)


def load(path: Path = WORKFLOW) -> dict[str, Job]:
    """The workflow's jobs, by id, in file order.

    Raises:
        ConfigError: The file is missing, is not YAML, or a job needs an unknown job.
    """
    doc = read_workflow(path)
    specs = doc.get("jobs") if isinstance(doc, dict) else None
    if not isinstance(specs, dict) or not all(isinstance(spec, dict) for spec in specs.values()):
        raise ConfigError(f"el workflow {path} no tiene un mapping `jobs:` de ids de job a jobs", "mira .github/workflows/dataops.yml")
    jobs = {}
    for name, spec in specs.items():
        needs, steps = spec.get("needs") or [], spec.get("steps") or []
        needs = [needs] if isinstance(needs, str) else needs
        if not isinstance(needs, list) or not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
            raise ConfigError(f"job {name} del workflow {path}: `needs:` debe listar ids de job y `steps:` entradas `- run:` / `- uses:`",
                              "mira .github/workflows/dataops.yml")  # fmt: skip
        jobs[name] = Job(name, [str(n) for n in needs], str(spec.get("if", "")), steps)
    for job in jobs.values():
        unknown = [n for n in job.needs if n not in jobs]
        if unknown:
            raise ConfigError(f"el job {job.name} necesita jobs desconocidos: {', '.join(unknown)}", f"los jobs son: {', '.join(jobs)}")
    if not jobs:
        raise ConfigError(f"el workflow {path} no tiene jobs", "añade una sección `jobs:`")
    return jobs


def order(jobs: dict[str, Job]) -> list[str]:
    """Job ids in an order where every job comes after the jobs it needs."""
    done: list[str] = []
    while len(done) < len(jobs):
        ready = [n for n, j in jobs.items() if n not in done and all(d in done for d in j.needs)]
        if not ready:
            raise ConfigError("los `needs:` de los jobs forman un ciclo", "quita el ciclo de las listas `needs:`")
        done += ready
    return done


def branch(repo: Path) -> str:
    done = git(repo, "symbolic-ref", "--short", "HEAD")
    return done.stdout.strip() if done.returncode == 0 else ""


def run_job(job: Job, repo: Path, echo: Callable[[str], None] | None = print, env: dict[str, str] | None = None) -> tuple[bool, str]:
    """Run the job's ``run:`` steps in order; stop at the first that fails. Returns (ok, one line)."""
    for i, step in enumerate(job.steps, 1):
        label = step.get("name") or step.get("run") or step.get("uses", "")
        if "run" not in step:
            if echo:
                echo(f"    · {job.name} step {i}: {label} (esta máquina ya lo tiene: se salta)")
            continue
        if echo:
            echo(f"    $ {step['run'].strip()}")
        done = subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=repo, capture_output=True, text=True,
                              env={**os.environ, "CI_LOCAL": "1", **(env or {})})  # fmt: skip
        if done.returncode != 0:
            tail = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
            short = str(label).strip().splitlines()[0]
            short = short if len(short) <= 50 else short[:49] + "…"
            return False, f"paso {i} ({short}) falló: {tail[-1].strip()[:200] if tail else f'exit {done.returncode}'}"
    return True, f"{sum('run' in s for s in job.steps)} paso(s)"


def run(repo: Path = Path("."), only: list[str] | None = None, skip: list[str] | None = None, workflow: Path | None = None,
        echo: Callable[[str], None] | None = print, env: dict[str, str] | None = None,
        assume: dict[str, str] | None = None) -> pd.DataFrame:  # fmt: skip
    """Run the workflow's jobs in dependency order (``only``: just these; ``skip``: not these).

    A job after a failed one, or one that needs a job that failed or was skipped, does not run;
    a main-only job is skipped off ``main``. ``assume`` maps a job to why it is taken as passed
    without running it here (e.g. the integration tests, which ``make test`` runs): it shows as
    ✔ with that reason. Returns one row per job: job, estado, segundos, detalle.
    """
    repo = Path(repo)
    jobs = load(workflow or repo / ".github" / "workflows" / "dataops.yml")
    unknown = [n for n in (only or []) + (skip or []) + list(assume or {}) if n not in jobs]
    if unknown:
        raise ConfigError(f"jobs desconocidos: {', '.join(unknown)}", f"los jobs del workflow son: {', '.join(jobs)}")
    on = branch(repo)
    rows, failed = [], False
    state: dict[str, str] = {}
    for name in order(jobs):
        job = jobs[name]
        if only and name not in only:
            continue
        blocked = [d for d in job.needs if state.get(d, OK if only else SKIPPED) != OK]
        if name in (assume or {}) and not failed:
            state[name] = OK
            rows.append([name, OK, 0.0, f"no ejecutado aquí, dado por bueno: {assume[name]}"])
            if echo:
                echo(f"  {OK} {name:<28} (dado por bueno: {assume[name]})")
            continue
        if name in (skip or []):
            why = "omitido (--skip)"
        elif failed:
            why = "no se ejecuta: un job anterior falló"
        elif blocked:
            why = f"no se ejecuta: necesita {', '.join(blocked)}"
        elif job.main_only and on != "main":
            why = f"solo en main (rama actual: {on or '?'})"
        else:
            why = ""
        if why:
            state[name] = SKIPPED
            rows.append([name, SKIPPED, 0.0, why])
            if echo:
                echo(f"  {SKIPPED} {name:<28} {why}")
            continue
        if echo:
            echo(f"  … {name}")
        t0 = time.monotonic()
        ok, detail = run_job(job, repo, echo, env)
        state[name] = OK if ok else FAILED
        rows.append([name, state[name], round(time.monotonic() - t0, 1), detail])
        if echo:
            echo(f"  {state[name]} {name:<28} {rows[-1][2]:6.1f} s  {detail}")
        failed = failed or not ok
    return pd.DataFrame(rows, columns=["job", "estado", "segundos", "detalle"])
