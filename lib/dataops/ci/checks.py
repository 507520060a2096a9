"""What the workflow's jobs check, one function per job kind; each returns its problems as
one-line strings (empty: ✔), so the CLI, the notebook and the tests read the same verdict.

- :func:`schema_problems`: the recorded samples fit ``data/schemas/``, and no schema changed in a
  backward-incompatible way since a git revision.
- :func:`sample_quality`: the quality suite on the recorded samples.
- :func:`config_problems`: the pipeline declaration, the alert rules and levels, the quality
  suite and the scenarios parse and refer to things that exist; the workflow file lints clean.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from dataops.config import DATA_DIR, PROJECT_ROOT

SAMPLES = DATA_DIR / "samples"
SCHEMAS = DATA_DIR / "schemas"
WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "dataops.yml"
# schema file -> the recorded sample it must accept (one JSON document per line)
SAMPLE_OF = {"raw_poll.json": "raw_polls.jsonl", "exploded_row.json": "exploded_rows.jsonl"}


def _lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---- schema validation ------------------------------------------------------------------------
def _types(spec: dict[str, Any]) -> set[str]:
    t = spec.get("type", [])
    return {t} if isinstance(t, str) else set(t)


def incompatible(old: dict[str, Any], new: dict[str, Any], where: str = "") -> list[str]:
    """Why data valid under ``old`` may be refused under ``new`` (backward incompatibility), one line each."""
    out = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name in sorted(set(old_props) - set(new_props)):
        if new.get("additionalProperties") is False:
            out.append(f"{where}{name}: removed, y additionalProperties es false: se rechazan los registros antiguos que lo traen")
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        out.append(f"{where}{name}: newly required: se rechazan los registros antiguos sin él")
    if old.get("additionalProperties") is not False and new.get("additionalProperties") is False:
        out.append(f"{where}additionalProperties: ahora false: se rechazan los registros antiguos con campos de más")
    for name in sorted(set(old_props) & set(new_props)):
        before, after = old_props[name], new_props[name]
        lost = _types(before) - _types(after)
        if _types(after) and lost:
            out.append(f"{where}{name}: type {'/'.join(sorted(_types(before)))} → {'/'.join(sorted(_types(after)))}: "
                       f"se rechazan los valores {'/'.join(sorted(lost))} antiguos")  # fmt: skip
        for key in ("minimum", "exclusiveMinimum"):
            if key in after and (key not in before or after[key] > before[key]):
                out.append(f"{where}{name}: {key} {before.get(key, 'none')} → {after[key]}: se rechazan valores antiguos")
        for key in ("maximum", "exclusiveMaximum"):
            if key in after and (key not in before or after[key] < before[key]):
                out.append(f"{where}{name}: {key} {before.get(key, 'none')} → {after[key]}: se rechazan valores antiguos")
        if "pattern" in after and after.get("pattern") != before.get("pattern"):
            out.append(f"{where}{name}: pattern cambia a {after['pattern']!r}: puede rechazar valores antiguos")
        if "enum" in after and not set(before.get("enum", [None])) <= set(after["enum"]):
            out.append(f"{where}{name}: enum más estrecho: se rechazan valores antiguos")
        if isinstance(before.get("additionalProperties"), dict) and isinstance(after.get("additionalProperties"), dict):
            out += incompatible(before["additionalProperties"], after["additionalProperties"], f"{where}{name}.*.")
    return out


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``git -C repo *args``, its output captured; no git installed is one :class:`ConfigError` line."""
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    except FileNotFoundError:
        from dataops.errors import ConfigError

        raise ConfigError("git no está instalado", "instala git (`apt-get install git` o `conda install git`)") from None


def _at_revision(path: Path, revision: str, repo: Path) -> dict[str, Any] | None:
    rel = path.resolve().relative_to(repo.resolve())
    done = git(repo, "show", f"{revision}:{rel.as_posix()}")
    return json.loads(done.stdout) if done.returncode == 0 else None


def schema_problems(against: str | None = None, schemas: Path = SCHEMAS, samples: Path = SAMPLES, repo: Path = PROJECT_ROOT) -> list[str]:
    """Samples against their schemas, then (with ``against``, a git revision) each schema against its old version."""
    from dataops.quality.schema import validate

    if against:
        if git(repo, "rev-parse", "--verify", "--quiet", f"{against}^{{commit}}").returncode != 0:
            from dataops.errors import ConfigError

            raise ConfigError(f"revisión de git desconocida {against!r} en {repo}", "da un commit, una rama o un tag, p. ej. HEAD~1 u origin/main")
    out = []
    for name, sample in SAMPLE_OF.items():
        schema = json.loads((schemas / name).read_text(encoding="utf-8"))
        for i, doc in enumerate(_lines(samples / sample), 1):
            out += [f"{name}: {sample} line {i}: {e}" for e in validate(doc, schema)[:3]]
        if against:
            old = _at_revision(schemas / name, against, repo)
            if old is not None:
                out += [f"{name}: {p}" for p in incompatible(old, schema)]
    return out


# The topic whose values each contract describes (a settings field): its registry subject is <topic>-value.
TOPIC_OF = {"raw_poll.json": "topic_raw", "exploded_row.json": "topic_exploded"}


def registry_problems(registry: Any, settings: Any, schemas: Path = SCHEMAS) -> list[str]:
    """Each contract, as Avro (:func:`dataops.registry.avro.avro_schema`), tested by the Schema
    Registry as its topic's next ``<topic>-value`` version: the registry's verdict, under its own
    compatibility level (a subject with no version yet accepts any valid schema)."""
    from dataops.registry import avro

    out = []
    for name, field in TOPIC_OF.items():
        subject = avro.subject(getattr(settings, field))
        verdict = registry.test_compatibility(subject, avro.avro_schema(schemas / name))
        if not verdict["compatible"]:
            why = "; ".join(str(m) for m in verdict["messages"])[:300] or "sin motivo"
            out.append(f"{name}: el Schema Registry ({verdict['level']}) no lo acepta como siguiente versión de {subject}: {why}")
    return out


# ---- data quality on recorded samples -----------------------------------------------------------
def sample_quality(samples: Path = SAMPLES, suite: Any = None) -> Any:
    """The quality suite on the recorded polls and rows (judged as of one second after the newest)."""
    from dataops.quality.samples import run_on_samples

    return run_on_samples(samples, suite)


# ---- infrastructure validation ------------------------------------------------------------------
def read_workflow(path: Path) -> Any:
    """A workflow file's YAML; one :class:`ConfigError` line when it is missing, not UTF-8, empty or not YAML."""
    import yaml

    from dataops.errors import ConfigError
    from dataops.userfiles import read_text

    text = read_text(path, "el workflow", hint="da un fichero de workflow, p. ej. .github/workflows/dataops.yml",
                     empty_hint="un workflow tiene una sección `jobs:` (mira .github/workflows/dataops.yml)")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" línea {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"YAML mal formado en el workflow {path}{where} ({getattr(exc, 'problem', None) or 'sintaxis'})",
                          "corrige la sangría o las comillas de esa línea") from None


def lint_workflow(path: Path = WORKFLOW) -> list[str]:
    """The workflow against GitHub's workflow JSON schema (check-jsonschema's vendored copy), and
    ``actionlint`` when it is installed."""
    beside = Path(sys.executable).with_name("check-jsonschema")  # this environment's, a dependency of the project
    exe = str(beside) if beside.exists() else shutil.which("check-jsonschema") or "check-jsonschema"
    out = []
    done = subprocess.run([exe, "--builtin-schema", "vendor.github-workflows", "-o", "text", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        out += [f"{path.name}: {line.strip()}" for line in (done.stdout + done.stderr).splitlines()
                if line.strip() and not line.startswith(("Schema validation errors", "  Underlying"))][:5]  # fmt: skip
    if shutil.which("actionlint"):
        done = subprocess.run(["actionlint", "-oneline", str(path)], capture_output=True, text=True)
        out += [line for line in done.stdout.splitlines() if line.strip()]
    return out


def config_problems(workflow: Path | None = WORKFLOW, data: Path = DATA_DIR) -> list[str]:
    """Every configuration file parses and refers to things that exist (one line per problem)."""
    from dataops import alerts, quality, scenarios
    from dataops.automation import declaration
    from dataops.config import load_settings
    from dataops.errors import DataOpsError
    from dataops.metrics import METRICS

    out: list[str] = []

    def attempt(what: str, fn: Any) -> Any:
        try:
            return fn()
        except (DataOpsError, ValueError, OSError) as exc:
            out.append(f"{what}: {exc}")
            return None

    attempt("pipeline.yaml", lambda: declaration.load(load_settings(), data / "pipeline" / "pipeline.yaml"))
    levels = attempt("levels.yaml", lambda: alerts.load_levels(data / "alerts" / "levels.yaml"))
    rules = attempt("rules.yaml", lambda: alerts.load_rules(data / "alerts" / "rules.yaml", levels)) if levels else None
    for rule in rules or []:
        unknown = [m for m in rule.metrics if m not in METRICS]
        if unknown:
            out.append(f"rules.yaml: rule {rule.name} reads {', '.join(unknown)}, a metric the monitor does not record")
    attempt("suite.yaml", lambda: quality.load_suite(data / "quality" / "suite.yaml"))
    names = {r.name for r in rules or []}
    for path in sorted((data / "scenarios").glob("*.yaml")):
        sc = attempt(path.name, lambda path=path: scenarios.load_scenario(path))
        for inc in sc.incidents if sc else ():
            missing = [r for r in inc.expected_rules if r not in names]
            if missing:
                out.append(f"{path.name}: expects rule(s) {', '.join(missing)}, which rules.yaml does not have")
    if workflow is not None:
        out += lint_workflow(workflow)
    return out
