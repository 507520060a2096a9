"""``plan``, ``apply``, ``validate`` and ``destroy`` of a pipeline declaration.

``apply`` walks the course's steps — prerequisites → environment → topics → connector →
Flink job → Iceberg sink → end-to-end validation — and stops at the first ✘ with one line
saying what to do, leaving what succeeded in place. A second ``apply`` is a no-op.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from dataops import locks
from dataops.automation import checks as _checks
from dataops.automation import removal
from dataops.automation import resources as res
from dataops.automation.declaration import Declaration, load
from dataops.classroom.namespace import own_prefix
from dataops.config import Settings
from dataops.errors import DataOpsError
from dataops.facade import Layers

STEPS = ("prerrequisitos", "entorno", res.STEP_TOPICS, res.STEP_CONNECTOR, res.STEP_JOB, res.STEP_SINK, "validación end-to-end")
PLAN_COLUMNS = ["recurso", "plan", "cambios"]
SETTLED = ("unchanged", "cloud-managed")  # the plans that leave nothing pending
REPORT_COLUMNS = ["paso", "estado", "segundos", "detalle", "arreglo"]
OK, FAILED, SKIPPED = "✔", "✘", "–"


def _managed(settings: Settings) -> bool:
    """True where the connector is ours to create (the local stack, a class server); in ``confluent`` the
    cloud runs it, and ``plan`` lists the cloud's commands instead."""
    return "connector" in settings.runs.manages


def declaration(p: Layers, declaration: Declaration | str | None = None) -> Declaration:
    """A declaration object from None (the project's), YAML text of an extension, or a Declaration."""
    if isinstance(declaration, Declaration):
        return declaration
    return load(p.settings, extra=declaration)


# ---- plan -----------------------------------------------------------------------


def plan(p: Layers, decl: Declaration | str | None = None) -> pd.DataFrame:
    """Desired vs actual, one row per resource: create / update / unchanged / drift, with what changed.

    In the ``confluent`` profile the topics are planned through the Admin API; the connector,
    the Flink statements and Tableflow are listed as ``cloud-managed`` with the ``confluent`` command
    to run (:mod:`dataops.automation.cloud_commands`; all of them as a script: ``plan --commands``).
    """
    decl = declaration(p, decl)
    rows = [_plan_row(p, r, res.applied(p.settings)) for r in res.resources(decl, p.settings, _managed(p.settings))]
    if not _managed(p.settings):
        rows += _cloud_rows(decl, p.settings)
    out = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    out.attrs["pending"] = bool((~out["plan"].isin(SETTLED)).any())
    return out


def _plan_row(p: Layers, r: res.Resource, last: dict[str, dict[str, str]]) -> list[str]:
    current, problem = res.actual(p, r)
    changes = res.diff(r.desired, current)
    if current is None:
        if r.key in last:
            gone = "no está en marcha" if r.kind == "job" else "borrado a mano"
            return [r.label, "drift", f"{gone}: apply lo vuelve a crear"]
        return [r.label, "create", ""]
    text = res.describe(changes)
    blocked = res.impossible(r, current)
    if blocked:
        return [r.label, "update", f"{text} (no se puede aplicar: {blocked})"]
    if changes:
        by_hand = last.get(r.key) == r.desired
        return [r.label, "drift" if by_hand else "update", f"{problem}; {text}" if problem else text]
    if problem:
        return [r.label, "drift", f"{problem} (apply lo reanuda o lo reinicia)"]
    return [r.label, "unchanged", ""]


def _cloud_rows(decl: Declaration, settings: Settings) -> list[list[str]]:
    from dataops.automation.cloud_commands import plan_rows

    return plan_rows(decl, settings)


# ---- apply and validate -----------------------------------------------------------


class _Report:
    """The step report being built: one row per course step."""

    def __init__(self, progress: bool) -> None:
        self.rows: list[list[Any]] = []
        self.progress = progress

    def add(self, step: str, ok: bool | None, seconds: float, detail: str, fix: str = "") -> None:
        mark = SKIPPED if ok is None else (OK if ok else FAILED)
        self.rows.append([step, mark, round(seconds, 1), detail, fix])
        if self.progress:
            print(f"  {mark} {step:<24} {seconds:6.1f} s  {detail}" + (f"\n      → {fix}" if fix and not ok else ""), flush=True)

    def frame(self) -> pd.DataFrame:
        out = pd.DataFrame(self.rows, columns=REPORT_COLUMNS)
        out.attrs["ok"] = bool((out["estado"] != FAILED).all()) and len(out) > 0
        return out


def _gate(report: _Report, step: str, outcomes: list[_checks.Outcome], seconds: float) -> bool:
    failed = [o for o in outcomes if not o.ok]
    if failed:
        first = failed[0]
        report.add(step, False, seconds, f"{first.name}: {first.detail}", first.fix)
        return False
    report.add(step, True, seconds, "; ".join(f"{o.name}: {o.detail}" for o in outcomes) or "nada que comprobar")
    return True


def _preflight(p: Layers, decl: Declaration, report: _Report, api: bool = False) -> bool:
    t0 = time.monotonic()
    outcomes = _checks.prerequisites(p, api) + [_checks.run_check(p, c) for c in decl.preflight]
    if not _gate(report, STEPS[0], outcomes, time.monotonic() - t0):
        report.add(STEPS[1], None, 0.0, "no se comprueba: antes hay que arreglar los prerrequisitos")
        return False
    t0 = time.monotonic()
    return _gate(report, STEPS[1], _checks.environment(p.settings), time.monotonic() - t0)


def apply(p: Layers, decl: Declaration | str | None = None, validate: bool = True, progress: bool = False,
          within_s: float = 60.0) -> pd.DataFrame:  # fmt: skip
    """Make the pipeline what the declaration says; the step report (``attrs['ok']``, ``attrs['changed']``).

    Stops at the first failing step; what succeeded stays. Never raises for a failing step:
    the report's ✘ row says what to do (``dataops pipeline apply`` exits 1 on it).
    """
    decl = declaration(p, decl)
    # One apply at a time on this state folder: two would both submit the Flink job.
    with locks.exclusive(p.settings.paths.lock_file("apply"), "`dataops pipeline apply`", progress=progress):
        return _apply(p, decl, validate, progress, within_s)


def _apply(p: Layers, decl: Declaration, validate: bool, progress: bool, within_s: float) -> pd.DataFrame:
    report = _Report(progress)
    if not _preflight(p, decl, report):
        return _finish(report, [])
    all_resources = res.resources(decl, p.settings, _managed(p.settings))
    blocked = [(r, why) for r in all_resources if (why := res.impossible(r, res.actual(p, r)[0]))]
    if blocked:
        report.add(blocked[0][0].step, False, 0.0, f"{blocked[0][0].label}: refused before touching anything", blocked[0][1])
        return _finish(report, [])
    actions: list[tuple[str, str]] = []
    for step in STEPS[2:6]:
        group = [r for r in all_resources if r.step == step]
        if not group:
            continue
        t0 = time.monotonic()
        done = []
        try:
            for r in group:
                current, problem = res.actual(p, r)
                action = res.make_so(p, r, current, problem)
                res.record_applied(p.settings, r)
                actions.append((r.label, action))
                done.append(f"{r.name} {action}")
        except DataOpsError as exc:
            report.add(step, False, time.monotonic() - t0, f"{r.label}: {exc.message}"[:300], exc.hint or "mira `dataops logs COMPONENTE`")
            return _finish(report, actions)
        report.add(step, True, time.monotonic() - t0, "; ".join(done))
    if validate:
        _validation(p, decl, report, within_s)
    return _finish(report, actions)


def _validation(p: Layers, decl: Declaration, report: _Report, within_s: float) -> bool:
    t0 = time.monotonic()
    outcomes = _checks.run_checks(p, _checks.end_to_end(decl, "sink" in p.settings.runs.manages, within_s))
    return _gate(report, STEPS[-1], outcomes, time.monotonic() - t0)


def _finish(report: _Report, actions: list[tuple[str, str]]) -> pd.DataFrame:
    seen = {row[0] for row in report.rows}
    stopped = any(row[1] == FAILED for row in report.rows)
    for step in STEPS:
        if step not in seen:
            why = "no se ejecuta: se paró en el ✘ de arriba" if stopped else "nada que hacer en esta declaración"
            if step == STEPS[-1] and not stopped:
                why = "no pedida (--no-validate)"
            report.rows.append([step, SKIPPED, 0.0, why, ""])
    report.rows.sort(key=lambda row: STEPS.index(row[0]))
    out = report.frame()
    out.attrs["actions"] = actions
    out.attrs["changed"] = [label for label, action in actions if not action.startswith(NO_OP)]
    return out


NO_OP = ("exists", "unchanged", "running")
REPAIRS = ("reiniciado", "reanudado")  # what make_so appends to "unchanged" when it restarted or resumed something


def repaired(action: str) -> bool:
    """True when an apply action did something: created, updated, resubmitted, or restarted or resumed a
    resource whose declaration was unchanged (a FAILED connector, a paused one)."""
    return not action.startswith(NO_OP) or any(word in action for word in REPAIRS)


def validate(p: Layers, decl: Declaration | str | None = None, progress: bool = False, within_s: float = 60.0) -> pd.DataFrame:
    """The checks alone, read-only, in the same report: prerequisites, environment, each step's
    resources as declared and running, and the end-to-end checks."""
    decl = declaration(p, decl)
    report = _Report(progress)
    _preflight(p, decl, report, api=True)
    last = res.applied(p.settings)
    healthy = True
    for step in STEPS[2:6]:
        group = [r for r in res.resources(decl, p.settings, _managed(p.settings)) if r.step == step]
        if not group:
            continue
        t0 = time.monotonic()
        try:
            bad = [(r.label, row) for r in group if (row := _plan_row(p, r, last))[1] != "unchanged"]
        except DataOpsError as exc:
            report.add(step, False, time.monotonic() - t0, exc.message, exc.hint or "")
            healthy = False
            continue
        if bad:
            label, (_, what, why) = bad[0]
            fix = ("ejecuta `dataops pipeline apply` (vuelve al estado declarado)" if what == "drift" else
                   "la declaración o la configuración cambió desde el último apply: mira `dataops pipeline plan` y aplica")  # fmt: skip
            if what == "create":
                fix = "ejecuta `dataops pipeline apply` (crea lo que falta)"
            if "FAILED" in why:
                fix = "lee el error, arregla su causa y `dataops pipeline apply` lo reinicia"
            report.add(step, False, time.monotonic() - t0, f"{label}: {what}{': ' + why if why else ''}"[:300], fix)
            healthy = False
        else:
            report.add(step, True, time.monotonic() - t0, f"{len(group)} como se declararon")
    if healthy and all(row[1] != FAILED for row in report.rows):
        _validation(p, decl, report, within_s)
    else:
        report.add(STEPS[-1], None, 0.0, "no se ejecuta: antes hay que arreglar el ✘ de arriba")
    return _finish(report, [])


def destroy(p: Layers, decl: Declaration) -> pd.DataFrame:
    """Remove every resource of a (scratch) declaration, last step first; one row each."""
    rows = []
    for r in reversed(res.resources(decl, p.settings, _managed(p.settings))):
        rows.append([r.label, removal.destroy(p, r)])
    res.forget_applied(p.settings, [r.key for r in res.resources(decl, p.settings, _managed(p.settings))])
    return pd.DataFrame(rows, columns=["recurso", "resultado"])


def scratch_settings(settings: Settings, prefix: str) -> Settings:
    """The settings with every name of the pipeline under ``prefix`` (a scratch namespace for demos)."""
    names = ("topic_raw", "topic_exploded", "topic_dlq", "topic_iceberg_control", "connector_name",
             "iceberg_connector_name", "flink_job_name")  # fmt: skip
    mine = own_prefix(settings)  # in a class: after the learner's prefix (ana.demo-manual-crypto-prices), in their namespace
    update: dict[str, Any] = {n: f"{mine}{prefix}-{getattr(settings, n).removeprefix(mine)}" for n in names}
    namespace, table = settings.iceberg_table.split(".", 1)
    update["iceberg_table"] = f"{namespace}.{prefix.replace('-', '_')}_{table}" if mine else f"{prefix.replace('-', '_')}_{namespace}.{table}"
    return settings.model_copy(update=update)
