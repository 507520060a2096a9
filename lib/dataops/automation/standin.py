"""The cloud fixtures' managed side made (:mod:`dataops.profiles.standin`): the declaration applied
in the ``cloud-standin`` profile, resource by resource, as ``apply`` does, without touching the local
pipeline's record of what it applied."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from dataops.automation import resources as res
from dataops.automation.declaration import load
from dataops.config import Settings
from dataops.profiles import standin


class _Layers:
    """The stand-in profile's layers (what ``apply`` needs of a pipeline: the settings and each layer)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        for name in settings.runs.layers:
            setattr(self, name, settings.runs.build(name, settings, self))


def provision(local: Settings, say: Callable[[str], None] = print) -> list[tuple[str, str]]:
    """Create (or repair) the managed side on the fixtures: topics, connector, job, table, sink, in
    the declaration's order; ``say`` gets one line per resource. Returns (resource, what was done).

    Raises:
        DataOpsError: A resource could not be made (one line: which, and what to do).
    """
    s = standin.standin_settings(local)
    p: Any = _Layers(s)
    record = _record(local)
    done = []
    for r in res.resources(load(s), s):
        current, problem = res.actual(p, r)
        if r.kind == "job" and current is not None:  # Flink does not echo a job's parameters: what was submitted
            current = record.get(r.key, r.desired)
        action = res.make_so(p, r, current, problem)
        if r.kind == "job":
            record[r.key] = r.desired
            _record_file(local).parent.mkdir(parents=True, exist_ok=True)
            _record_file(local).write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
        say(f"  {r.label}: {action}")
        done.append((r.key, action))
    return done


def _record_file(local: Settings) -> Path:
    """What the stand-in's job was submitted with (apart from the local pipeline's record)."""
    return local.paths.run / "cloud-standin-applied.json"


def _record(local: Settings) -> dict[str, dict[str, str]]:
    try:
        return dict(json.loads(_record_file(local).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def withdraw(local: Settings) -> str:
    """Cancel the stand-in's explode job on the local Flink (before the fixtures stop: a job whose
    broker is gone restarts without end). Its connectors stop with ``connect-cloud``. What was done."""
    s = standin.standin_settings(local)
    flink = s.runs.build("flink", s)
    job = flink.live_job(s.flink_job_name)
    if job is None:
        return "absent"
    flink.cancel(job["jid"])
    return "canceled"
