"""The instructor's view of the room: where each learner is, how their self-checks went, where they
are stuck, whether their session and pipeline are up.

- **Block and self-checks** come from each learner's own notebooks (``~/curso``, saved by
  JupyterLab as they work, every two minutes at most): their block is the notebook they changed
  last; each graded self-check cell's last verdict line (``✔ … correcto``, ``✘ … revisa``,
  ``… sin hacer todavía``) counts as passed, failed or pending; "stuck" lists the exercises whose
  check says ✘.
- **Session** comes from the hub's API (a service token that may only read users and servers).
- **Pipeline**: their Kafka user, rights, topics and simulator (:func:`dataops.classroom.cli.room_status`).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dataops.classroom import hub
from dataops.classroom.hub_config import COURSE, existing_user
from dataops.config import Settings

PASSED, FAILED, PENDING = "✔", "✘", "…"


def _verdict(cell: dict[str, Any]) -> tuple[str, str] | None:
    """(exercise, mark) of a self-check cell's last verdict line, None without one."""
    text = "".join("".join(o.get("text", "")) if isinstance(o.get("text"), list) else o.get("text", "")
                   for o in cell.get("outputs", []) if o.get("output_type") == "stream")  # fmt: skip
    for line in reversed(text.splitlines()):
        line = line.strip()
        for mark in (PASSED, FAILED, PENDING):
            if line.startswith(mark + " ") and ":" in line:
                exercise = line[len(mark) + 1:].split(":", 1)[0].strip()
                if mark == PENDING or line.endswith(("correcto", "revisa las líneas con ✘")):
                    return exercise, mark
    return None


def notebook_checks(path: Path) -> list[tuple[str, str]]:
    """Each graded self-check of the notebook at ``path``: (exercise or grade id, ✔/✘/…)."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return []
    found = []
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and meta.get("grade"):
            verdict = _verdict(cell)
            found.append(verdict if verdict else (str(meta.get("grade_id", "?")), PENDING))
    return found


def progress(home: Path) -> dict[str, Any]:
    """Where the learner whose home is ``home`` is: block, self-checks passed/failed/pending, stuck on."""
    notebooks = sorted((home / COURSE).glob("*.ipynb"), key=lambda p: p.stat().st_mtime) if (home / COURSE).is_dir() else []
    checks = [c for nb in notebooks for c in notebook_checks(nb)]
    return {
        "block": notebooks[-1].name.split("_", 1)[0] if notebooks else "-",
        "checks": " ".join(f"{mark}{sum(m == mark for _, m in checks)}" for mark in (PASSED, FAILED, PENDING)) if checks else "-",
        "stuck_on": ", ".join(name for name, mark in checks if mark == FAILED) or "-",
    }


def learner_home(name: str) -> Path | None:
    user = existing_user(name)
    return Path(user.pw_dir) if user is not None else None


def sessions(s: Settings) -> dict[str, dict[str, Any]]:
    """The hub's users: name -> {"session": up/starting/-, "last_activity": "HH:MM" or "-"}; {} when
    the hub is not running."""
    import requests

    if not hub.secrets_file(s.paths).is_file():
        return {}
    token = hub.hub_secrets(s.paths)["api_token"]
    try:
        answer = requests.get(f"http://{s.host}:{s.class_hub_api_port}/hub/api/users",
                              headers={"Authorization": f"token {token}"}, timeout=5)  # fmt: skip
    except requests.RequestException:
        return {}
    if answer.status_code != 200:
        return {}
    out = {}
    for user in answer.json():
        server = (user.get("servers") or {}).get("", {})
        state = "up" if server.get("ready") else ("starting" if server else "-")
        out[user["name"]] = {"session": state, "last_activity": _clock(user.get("last_activity"))}
    return out


def stop_sessions(s: Settings, names: list[str]) -> list[str]:
    """Stop the hub sessions of ``names`` (learners taken off the roster); the names whose session
    the hub stopped. Nothing when the hub is not running."""
    import requests

    if not names or not hub.secrets_file(s.paths).is_file():
        return []
    auth = {"Authorization": f"token {hub.hub_secrets(s.paths)['api_token']}"}
    stopped = []
    for name in names:
        try:
            answer = requests.delete(f"http://{s.host}:{s.class_hub_api_port}/hub/api/users/{name}/server", headers=auth, timeout=30)
        except requests.RequestException:
            return stopped
        if answer.status_code in (202, 204):
            stopped.append(name)
    return stopped


def _clock(stamp: str | None) -> str:
    if not stamp:
        return "-"
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return "-"
    return when.astimezone(timezone.utc).astimezone().strftime("%H:%M")


def view(s: Settings, learners: tuple[str, ...]) -> list[dict[str, Any]]:
    """One row per learner: their session, block, self-checks and stuck points."""
    hub_users = sessions(s)
    rows = []
    for name in learners:
        home = learner_home(name)
        rows.append({"learner": name, **hub_users.get(name, {"session": "-", "last_activity": "-"}),
                     **(progress(home) if home else {"block": "-", "checks": "-", "stuck_on": "-"})})  # fmt: skip
    return rows
