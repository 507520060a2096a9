"""Block 6 (CI/CD y cierre): a scratch git repository with the project, a feature branch that
ships and one that must not, the workflow run locally job by job, Practice 7's workflow judged,
and the course's closing checklist computed live."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from dataops import rotation
from dataops.ci import checks, workflow
from dataops.config import PROJECT_ROOT
from dataops.errors import DataOpsError
from dataops.course.selfcheck import SelfCheck
from dataops.pipeline import Pipeline

WORKFLOW_PATH = Path(".github/workflows/dataops.yml")  # the project's (what `dataops ci` runs)
PRACTICE_PATH = Path(".github/workflows/curso.yml")  # Practice 7's, beside it
FEATURE = "feature/new-crypto-validation"
BREAKING = "feature/usd-24h-change-not-null"
INTEGRATION = "integration-tests"
ASSUMED = {INTEGRATION: "es `make test`, el comando de tests del README (~25 min): lo ejecuta la CI del proyecto"}


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo``; its output (raises with git's own line on failure)."""
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {(done.stderr or done.stdout).strip().splitlines()[-1]}")
    return done.stdout.strip()


def scratch_repo(folder: str | Path | None = None) -> Path:
    """A clone of the project in a temporary folder (on ``main``), sharing this project's virtualenv."""
    if not (PROJECT_ROOT / ".git").exists():
        raise DataOpsError(f"el bloque 6 necesita el curso como clon de git y {PROJECT_ROOT} no lo es (¿se descargó como zip?)",
                           "clónalo con `git clone URL-DEL-CURSO` y abre este cuaderno desde el clon")  # fmt: skip
    repo = Path(folder or tempfile.mkdtemp(prefix="dataops-ci-")) / "repo"
    done = subprocess.run(["git", "clone", "-q", str(PROJECT_ROOT), str(repo)], capture_output=True, text=True)
    if done.returncode != 0:
        raise DataOpsError(f"git clone del curso falló: {(done.stderr or done.stdout).strip().splitlines()[-1:]}",
                           "comprueba que git está instalado y que hay espacio en disco")  # fmt: skip
    git(repo, "checkout", "-q", "-B", "main")
    git(repo, "config", "user.email", "alumno@curso.local")
    git(repo, "config", "user.name", "Alumno DataOps")
    venv = PROJECT_ROOT / ".venv"
    (repo / ".venv").symlink_to(venv)
    # `make venv` in the clone: already installed, nothing to do. The venv's stamp must be newer than the
    # clone's pyproject.toml, else make reinstalls the project's venv from the clone (which is then
    # deleted). The clone's file is made older, not the stamp newer: a learner on the hub cannot write
    # the project's venv.
    stamp = venv / "bin" / ".installed"
    if stamp.exists():
        older = stamp.stat().st_mtime - 1
        os.utime(repo / "pyproject.toml", (older, older))
    return repo


def scratch_env(p: Pipeline, repo: Path) -> dict[str, str]:
    """The clone runs its own code and configuration against this project's running stack, with this
    session's settings: a learner's on a class server (``DATAOPS_ENV_FILE``), so the clone's deploy
    job sets their namespace up rather than start a stack of its own; else the project's ``.env``."""
    env = {"PYTHONPATH": str(repo / "lib"), "DATAOPS_STATE_DIR": str(Path(p.settings.state_dir).resolve())}
    if os.environ.get("DATAOPS_ENV_FILE"):
        env["DATAOPS_ENV_FILE"] = os.environ["DATAOPS_ENV_FILE"]
    elif (PROJECT_ROOT / ".env").exists():
        env["DATAOPS_ENV_FILE"] = str(PROJECT_ROOT / ".env")
    return env


def run_ci(p: Pipeline, repo: Path, echo: Any = print) -> pd.DataFrame:
    """``dataops ci`` in the clone: every job of its workflow in order, the integration tests taken as passed."""
    return workflow.run(repo, env=scratch_env(p, repo), assume=ASSUMED, echo=echo)


def commit(repo: Path, path: str | Path, text: str, message: str) -> str:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    git(repo, "add", str(path))
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "--short", "HEAD")


def solana_validation(repo: Path) -> str:
    """On a feature branch: a tighter price range for solana in the quality configuration."""
    git(repo, "checkout", "-q", "-b", FEATURE, "main")
    path = Path("data/quality/price_ranges.yaml")
    text = (repo / path).read_text(encoding="utf-8")
    lines = [("solana: {min: 50, max: 500}  # validación de Solana (feature/new-crypto-validation)" if line.startswith("solana:") else line)
             for line in text.splitlines()]  # fmt: skip
    return commit(repo, path, "\n".join(lines) + "\n", "Validate solana prices: 50-500 USD")


def merge(repo: Path, branch: str) -> str:
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", branch, "-m", f"Merge {branch}")
    return git(repo, "rev-parse", "--short", "HEAD")


def breaking_schema(repo: Path) -> str:
    """On a second branch: ``usd_24h_change`` may no longer be null (old rows with null are refused)."""
    import json

    git(repo, "checkout", "-q", "-b", BREAKING, "main")
    path = Path("data/schemas/exploded_row.json")
    schema = json.loads((repo / path).read_text(encoding="utf-8"))
    schema["properties"]["usd_24h_change"]["type"] = "number"
    return commit(repo, path, json.dumps(schema, indent=2, ensure_ascii=False) + "\n", "usd_24h_change is always a number")


# ---- Practice 7 -----------------------------------------------------------------------------------
def place_workflow(repo: Path | None, text: str | None) -> str | None:
    """Write the learner's workflow to ``.github/workflows/curso.yml`` in the clone and commit it."""
    if repo is None or text is None:
        return None
    return commit(repo, PRACTICE_PATH, text, "CI/CD: the course's workflow")


def _runs(job: workflow.Job) -> str:
    return "\n".join(str(step.get("run", "")) for step in job.steps)


_MAKES_VENV = re.compile(r"\bmake\s+(venv|up)\b|-m\s+venv\b")


def _unprepared(job: workflow.Job) -> str:
    """What a job runs before it has the code or the virtualenv ("" when nothing)."""
    runs = [i for i, step in enumerate(job.steps) if step.get("run")]
    checkout = next((i for i, step in enumerate(job.steps) if str(step.get("uses", "")).startswith("actions/checkout")), None)
    if runs and (checkout is None or checkout > runs[0]):
        return f"{job.name}: sus comandos corren sin el código (falta uses: actions/checkout antes)"
    text = _runs(job)
    if ".venv/bin/" in text and not _MAKES_VENV.search(text[: text.index(".venv/bin/")]):
        return f"{job.name}: usa .venv/bin/ antes de crearlo (make venv o make up antes)"
    return ""


def check_workflow(repo: Path | None) -> SelfCheck:
    """Practice 7: the workflow is committed, lints clean, runs on push and pull request, tests the
    data, and deploys only on main after every other job."""
    check = SelfCheck("Práctica 7 · el workflow de CI/CD", todo="escribe mi_workflow y ejecuta la celda que lo pone en el repositorio")
    path = None if repo is None else Path(repo) / PRACTICE_PATH
    if path is None or not path.exists() or not git(repo, "log", "--oneline", "-1", "--", str(PRACTICE_PATH)):
        check.done = False
        return check
    check.add("está confirmado en git (commit)", not git(repo, "status", "--porcelain", "--", str(PRACTICE_PATH)), "haz git add y git commit")
    problems = checks.lint_workflow(path)
    if not check.add("pasa el linter (esquema de workflows de GitHub)", not problems, problems[0] if problems else ""):
        return check
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as True
    names = set(triggers) if isinstance(triggers, (dict, list)) else {triggers}
    check.add("se ejecuta en push y en pull request", {"push", "pull_request"} <= names, f"on: tiene {', '.join(map(str, names))}")
    jobs = workflow.load(path)
    deploys = [j for j in jobs.values() if "pipeline apply" in _runs(j) or "make up" in _runs(j)]
    tests = [j for j in jobs.values() if j not in deploys]
    unprepared = [why for why in map(_unprepared, jobs.values()) if why]
    check.add("cada job descarga el código y crea el entorno antes de usarlo", not unprepared, "; ".join(unprepared))
    check.add("un job prueba la calidad de los datos", any("dataops quality" in _runs(j) for j in tests),
              "un job con `dataops quality --samples --min-success ...`")  # fmt: skip
    if not check.add("un job despliega (pipeline apply)", len(deploys) == 1, "un job `deploy` que ejecute `make up && .venv/bin/dataops pipeline apply`"):
        return check
    deploy = deploys[0]
    before: set[str] = set()
    todo = list(deploy.needs)
    while todo:
        name = todo.pop()
        if name not in before:
            before.add(name)
            todo += jobs[name].needs
    missing = sorted(j.name for j in tests if j.name not in before)
    check.add("deploy espera a todos los tests (needs:)", not missing, f"deploy no espera a: {', '.join(missing)}")
    check.add("deploy solo en main (if:)", deploy.main_only,
              "añade al job deploy if: github.ref == 'refs/heads/main' (o github.ref_name == 'main'): solo main, ni otras ramas ni pull requests")  # fmt: skip
    return check


# ---- the closing checklist ----------------------------------------------------------------------
def closing_checklist(p: Pipeline, repo: Path | None, practice: SelfCheck | None = None) -> pd.DataFrame:
    """The syllabus's checklists, each item measured now on the pipeline and the clone (✔/✘ and the figure)."""
    from dataops import quality

    rows = []

    def item(area: str, what: str, ok: bool, figure: str) -> None:
        rows.append((area, what, "✔" if ok else "✘", figure))

    plan = p.plan()
    pending = plan[~plan["plan"].isin(["unchanged", "cloud-managed"])]
    item("automatización", "el pipeline declarado coincide con lo que corre", pending.empty,
         f"{len(pending)} cambios pendientes" + (f" ({', '.join(pending['recurso'])})" if len(pending) else ""))  # fmt: skip
    up = p.last_up()
    item("automatización", "montaje con un comando", up is not None, f"{up['seconds']:.0f} s" if up else "sin registro de `up`")
    summary = quality.run_on_layer(p, "exploded", quality.load_suite(), minutes=3).summary()
    rate = summary["success_rate"]
    item("testing", "la suite pasa > 80 % en vivo", rate is not None and rate > 80, "sin datos" if rate is None else f"{rate:.0f} %")
    reports = sorted(Path(PROJECT_ROOT / "build" / "reports").glob("quality-*.json"))
    item("testing", "informes de calidad generados", bool(reports), f"{len(reports)} informes en build/reports")
    health = p.health(progress=False).set_index("layer")
    item("monitoreo", "métricas en tiempo real", health.loc["Monitor", "state"] == "green", health.loc["Monitor", "detail"])
    events = len(rotation.read_lines(p.settings.paths.alert_log))
    item("monitoreo", "las alertas disparan y quedan en el registro", events > 0, f"{events} eventos en el registro de alertas")
    passed = practice is not None and practice.passed
    item("CI/CD", "workflow configurado (práctica 7)", passed, "✔ autocomprobación" if passed else "práctica 7 sin completar")
    jobs = workflow.load(PROJECT_ROOT / WORKFLOW_PATH)
    item("CI/CD", "tests en cada commit y deploy solo en main", any(j.main_only for j in jobs.values()),
         f"{len(jobs)} jobs en el workflow del proyecto")  # fmt: skip
    return pd.DataFrame(rows, columns=["área", "punto", "estado", "medido"])
