"""The cloud fixtures' managed side made (:mod:`dataops.profiles.standin`): the declaration applied
in the ``cloud-standin`` profile, resource by resource, as ``apply`` does, without touching the local
pipeline's record of what it applied."""

from __future__ import annotations

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
    done = []
    for r in res.resources(load(s), s):
        current, problem = res.actual(p, r)
        action = res.make_so(p, r, current, problem)
        say(f"  {r.label}: {action}")
        done.append((r.key, action))
    return done


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
