"""The instructor's view of the room: where each learner is, how their self-checks went, where they
are stuck, whether their session and pipeline are up.

- **Block and self-checks** come from each learner's own notebooks (``~/curso``, saved by
  JupyterLab as they work, every two minutes at most): their block is the notebook they changed
  last; each graded self-check cell's last verdict line (``✔ … correcto``, ``✘ … revisa``,
  ``… sin hacer todavía``) counts as passed, failed or pending; "stuck" lists the exercises whose
  check says ✘.
- **Session** comes from the hub's API (a service token that may only read users and servers).
- **Pipeline**: their Kafka user, rights, topics, connectors, jobs and simulator (:func:`status`).
- **Live**, in a notebook cell of the instructor's: :class:`RoomTable` (``room.live()``), the same
  table redrawn every few seconds, the stuck learners first. In the instructor's server on the hub,
  which runs as their Unix user and cannot read the class's state (root's), the table comes from
  the class front (``GET /room``, with the room token the hub puts in their home).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dataops.classroom import access, hub, simulators
from dataops.classroom import connect as class_connect
from dataops.classroom import flink as class_flink
from dataops.classroom.hub_config import COURSE, ROOM_ACCESS, existing_user
from dataops.config import Settings, load_settings
from dataops.errors import DataOpsError
from dataops.live import Refreshing

if TYPE_CHECKING:
    import pandas as pd

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


def status(s: Settings, learners: tuple[str, ...]) -> pd.DataFrame:
    """The room: each learner's session, block, self-checks and stuck points (:func:`view`), Kafka
    user, rights, topics and groups (:func:`dataops.classroom.access.status`), their running
    connectors and Flink jobs, whether their simulator answers and how much of their pipeline is up
    (their monitor's last ``pipeline_availability``)."""
    import pandas as pd

    frame = pd.DataFrame(view(s, learners)).merge(access.status(s, learners), on="learner")
    running = class_connect.connectors(s)
    frame.insert(len(frame.columns) - 1, "connectors", [sum(c.startswith(f"{name}.") for c in running) for name in learners])
    jobs = [j for j in class_flink.jobs(s) if j["state"] == "RUNNING"]
    frame.insert(len(frame.columns) - 1, "jobs", [sum(j["name"].startswith(f"{name}.") for j in jobs) for name in learners])
    alive = []
    for learner in learners:
        try:
            simulators.source(s, learner).health()
            alive.append("up")
        except DataOpsError:
            alive.append("down")
    frame.insert(len(frame.columns) - 1, "simulator", alive)
    frame.insert(len(frame.columns) - 1, "pipeline", [_availability(s, learner) for learner in learners])
    return frame


def _availability(s: Settings, learner: str) -> str:
    """Their pipeline's layers up, as their monitor (the class's) last sampled it: ``"100 %"``, ``"-"`` with no sample of the last minute."""
    from dataops.classroom import monitors
    from dataops.metrics import MetricsStore

    store = monitors.folder(s.paths, learner) / "metrics.db"
    latest = MetricsStore(store).latest("pipeline_availability", max_age_s=60) if store.is_file() else None
    return "-" if latest is None or not len(latest) else f"{latest['value'].iloc[-1]:.0f} %"


class RoomTable(Refreshing):
    """The instructor's live view of the room in a notebook cell: :func:`status` for the roster of the
    last ``dataops class up``, redrawn every ``refresh_s`` seconds (0: only by :meth:`refresh`), the
    learners stuck on an exercise first; ``stop()`` ends the refreshes.

    Args:
        settings: The class server's settings (default: this project's ``local`` ones, as ``dataops class`` uses).
    """

    COLUMNS = ["learner", "session", "block", "checks", "stuck_on", "topics", "connectors", "jobs", "simulator", "pipeline"]

    def __init__(self, refresh_s: float = 10.0, settings: Settings | None = None) -> None:
        import ipywidgets as w

        self.s = settings or load_settings(profile="local")
        # In the instructor's server on the hub the class's state is root's: the room comes from the front.
        self.remote = None if settings is not None or self._roster().is_file() else remote_access()
        self.when, self.table = w.HTML(), w.HTML()
        self.widget = w.VBox([self.when, self.table])
        self.refresh()
        self._start(refresh_s, "dataops-room")

    def frame(self) -> pd.DataFrame:
        """The table as it is now: stuck learners first, then by block, most advanced first."""
        from dataops.classroom import roster

        if self.remote is not None:
            frame = remote_status(self.remote)[self.COLUMNS]
        else:
            frame = status(self.s, roster.load(self._roster()).learners)[self.COLUMNS]
        order = frame.assign(_stuck=frame["stuck_on"] != "-").sort_values(["_stuck", "block"], ascending=False)
        return order.drop(columns="_stuck").reset_index(drop=True)

    def _roster(self) -> Path:
        return self.s.paths.classroom / "roster.yaml"

    def refresh(self) -> None:
        """Redraw the table (a failure is shown in its place, never raised from the refresh thread)."""
        import html

        try:
            frame = self.frame()
        except Exception as exc:  # noqa: BLE001 - shown in the cell: the next refresh may succeed
            self.when.value = f"<span style='color:#c62828'>sin lectura de la clase: {html.escape(type(exc).__name__)}: {html.escape(str(exc)[:200])}</span>"
            return
        stuck = int((frame["stuck_on"] != "-").sum())
        self.when.value = (f"<b>{len(frame)} alumnos</b>, {int((frame['session'] == 'up').sum())} con sesión, "
                           f"{stuck} atascados · {datetime.now().strftime('%H:%M:%S')}")  # fmt: skip
        styled = frame.style.apply(lambda row: ["background:#fdecea" if row["stuck_on"] != "-" else "" for _ in row], axis=1)
        self.table.value = styled.hide(axis="index").to_html()


def remote_access() -> dict[str, str] | None:
    """The class front's URL and the instructor's room token, which the hub writes into the
    instructor's home at each start of their server (:data:`dataops.classroom.hub_config.ROOM_ACCESS`)."""
    try:
        found = json.loads((Path.home() / ROOM_ACCESS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and found.get("url") and found.get("token") else None


def remote_status(where: dict[str, str]) -> pd.DataFrame:
    """:func:`status` as the class front answers it to the instructor's token (``GET /room``).

    Raises:
        DataOpsError: The front does not answer, or refuses (one line).
    """
    import pandas as pd
    import requests

    try:
        answer = requests.get(f"{where['url']}/room", headers={"Authorization": f"Bearer {where['token']}"}, timeout=60)
    except requests.RequestException as exc:
        raise DataOpsError(f"el front de la clase no responde ({type(exc).__name__})", "comprueba `dataops class status` en el servidor") from None
    if answer.status_code != 200:
        try:
            said = str(answer.json().get("message", ""))
        except (ValueError, AttributeError):
            said = answer.text[:200]
        raise DataOpsError(f"el front de la clase no da la vista de la clase: {answer.status_code} {said}", "vuelve a entrar en el hub como profesor")
    return pd.DataFrame(answer.json())


def live(refresh_s: float = 10.0) -> RoomTable:
    """The room, live, in a notebook cell of the instructor's (leave it last in the cell)."""
    return RoomTable(refresh_s)
