"""JupyterHub's configuration for the class (imported by the config file :mod:`dataops.classroom.hub`
writes): shared-password log-in for the roster, each learner's JupyterLab under their own Unix
user, their course and settings copied in at their first log-in.

Runs inside the hub (as root); nothing here is called by the library.
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
from pathlib import Path
from typing import Any

#: What a learner's JupyterLab leaves out: the grader's and instructor's extensions (nbgrader's
#: formgrader), the language server and the classic notebook UI. Its page exposes the app object
#: (``window.jupyterapp``), as for JupyterLab's own UI tests: the class's browser test drives it so;
#: a learner's page gains nothing by it they could not do with the mouse. Its extension manager only
#: lists what is installed: the class's environment is root's, and PyPI (which JupyterLab's default
#: manager asks) is not the class's to reach.
LEARNER_SERVER_CONFIG = {"ServerApp": {"jpserver_extensions": {
    **{f"nbgrader.server_extensions.{name}": False for name in ("formgrader", "validate_assignment", "assignment_list", "course_list")},
    "jupyter_lsp": False, "notebook": False}}, "LabApp": {"expose_app_in_browser": True, "extension_manager": "readonly"}}  # fmt: skip

#: Where a learner's settings go in their home: the file ``DATAOPS_ENV_FILE`` names in their session.
SESSION_ENV = ".dataops/class.env"
STATE = ".dataops/state"  # in the learner's home: what their session writes
ROOM_ACCESS = ".dataops/room.json"  # in the instructor's home: the class front's URL and their room token (mode 600)
COURSE = "curso"


def existing_user(name: str) -> pwd.struct_passwd | None:
    """The Unix user ``name``, or None when the machine has none of that name."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def remove_user(name: str) -> None:
    """Remove the Unix user ``name`` and their home (a test's or a benchmark's learner), when there."""
    if existing_user(name) is not None:
        subprocess.run(["userdel", "--remove", name], capture_output=True, timeout=60)


def unix_user(name: str) -> pwd.struct_passwd:
    """The Unix user ``name``, made (home mode 700, a group of its own) when missing."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--user-group", "--shell", "/bin/bash", name], check=True, capture_output=True, timeout=60)
        user = pwd.getpwnam(name)
        os.chmod(user.pw_dir, 0o700)
        return user


#: Writes one file as its owner (``$1``, from stdin): folders made on the way (mode 700), an existing
#: file left alone unless ``$2`` is ``replace``. Run as the user, so a link they planted in their home
#: leads nowhere they could not write themselves.
_PUT = ('umask 077; mkdir -p -- "$(dirname -- "$1")" || exit 1; '
        'if [ "$2" != replace ] && { [ -e "$1" ] || [ -L "$1" ]; }; then exit 0; fi; cat > "$1"')


def put_as(user: pwd.struct_passwd, relative: str, data: bytes, replace: bool) -> None:
    """Write ``data`` to ``~/<relative>`` of ``user`` as that user (never as root: their home is theirs to
    fill with links), mode 600; an existing file is kept unless ``replace``.

    Raises:
        subprocess.CalledProcessError: The write failed (e.g. a folder on the way is not a folder).
    """
    subprocess.run(["/bin/sh", "-c", _PUT, "sh", str(Path(user.pw_dir) / relative), "replace" if replace else "keep"],
                   input=data, user=user.pw_uid, group=user.pw_gid, extra_groups=[], cwd=user.pw_dir,
                   check=True, capture_output=True, timeout=60)  # fmt: skip


def prepare_home(name: str, notebooks: Path, env_file: Path | None) -> pwd.struct_passwd:
    """The user's home ready for their server: the course's notebooks copied in (missing ones only,
    their work is never overwritten) and, for a learner, their settings file (mode 600). Written as
    the user, read here as root (the masters and settings files are root's only)."""
    user = unix_user(name)
    for source in sorted(notebooks.glob("*.ipynb")):
        put_as(user, f"{COURSE}/{source.name}", source.read_bytes(), replace=False)
    if env_file is not None:
        put_as(user, SESSION_ENV, env_file.read_bytes(), replace=True)
    return user


def current(settings_path: str) -> dict[str, Any]:
    """The hub's settings as ``class up`` last wrote them: read at each log-in and each start of a
    server, so a learner added to or taken off the roster needs no restart of the hub (nor of the
    other learners' servers)."""
    return dict(json.loads(Path(settings_path).read_text(encoding="utf-8")))


def roster_authenticator(settings_path: str) -> type:
    """JupyterHub's shared-password authenticator, letting in whoever is on the roster now (and the instructor)."""
    from jupyterhub.authenticators.shared import SharedPasswordAuthenticator

    class RosterAuthenticator(SharedPasswordAuthenticator):  # type: ignore[misc]
        def check_allowed(self, username: str, authentication: Any = None) -> bool:
            now = current(settings_path)
            return username == now["instructor"] or username in now["learners"]

    return RosterAuthenticator


def configure(c: Any, settings_path: str) -> None:
    """Fill JupyterHub's config ``c`` from :func:`dataops.classroom.hub.write_settings`'s file."""
    data = json.loads(Path(settings_path).read_text(encoding="utf-8"))
    secrets = json.loads((Path(data["folder"]) / "secrets.json").read_text(encoding="utf-8"))
    state = Path(data["folder"])
    c.JupyterHub.bind_url = f"http://{data['ip']}:{data['port']}"
    c.JupyterHub.hub_bind_url = f"http://{data['ip']}:{data['hub_port']}"
    c.ConfigurableHTTPProxy.api_url = f"http://{data['ip']}:{data['proxy_api_port']}"
    c.ConfigurableHTTPProxy.command = [data["proxy"]]
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "cookie_secret")
    c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
    c.JupyterHub.authenticator_class = roster_authenticator(settings_path)
    c.Authenticator.any_allow_config = True  # who may log in is the roster's, read at each log-in
    c.SharedPasswordAuthenticator.user_password = secrets["class_code"]
    c.SharedPasswordAuthenticator.admin_password = secrets["instructor_password"]
    c.Authenticator.admin_users = {data["instructor"]}
    # The instructor's view of the room (`dataops class status`) reads who is in and since when; `class up`
    # stops the session of a learner taken off the roster (servers). Nothing more.
    c.JupyterHub.services = [{"name": "dataops-class", "api_token": secrets["api_token"]}]
    c.JupyterHub.load_roles = [{"name": "dataops-class-view", "scopes": ["list:users", "read:users", "read:servers", "servers"], "services": ["dataops-class"]}]
    c.Spawner.cmd = [data["python"], "-m", "jupyterhub.singleuser"]
    c.Spawner.default_url = "/lab"
    c.Spawner.notebook_dir = f"~/{COURSE}"
    c.Spawner.start_timeout = 120
    c.Spawner.http_timeout = 120

    def session_env(spawner: Any) -> str:
        return str(Path(pwd.getpwnam(spawner.user.name).pw_dir) / SESSION_ENV)

    learner_config = state / "learner-config"
    learner_config.mkdir(exist_ok=True)
    (learner_config / "jupyter_server_config.json").write_text(json.dumps(LEARNER_SERVER_CONFIG), encoding="utf-8")
    learner_config.chmod(0o755)

    def config_path(spawner: Any) -> str:
        """The project's Jupyter config (JupyterLab's server extension enabled); a learner's first, which leaves some out."""
        shared = f"{data['prefix']}/etc/jupyter"
        return shared if spawner.user.name == data["instructor"] else f"{learner_config}:{shared}"

    def session_state(spawner: Any) -> str:  # what their session writes, theirs (the settings file's folder is the server's)
        return str(Path(pwd.getpwnam(spawner.user.name).pw_dir) / STATE)

    c.Spawner.environment = {"DATAOPS_ENV_FILE": session_env, "DATAOPS_STATE_DIR": session_state, "PLOTLY_RENDERER": "notebook_connected", "PATH": data["path"],
                             # the project's Jupyter data (JupyterLab's assets) and config
                             "JUPYTER_PATH": f"{data['prefix']}/share/jupyter", "JUPYTERLAB_DIR": f"{data['prefix']}/share/jupyter/lab",
                             "JUPYTER_CONFIG_PATH": config_path}  # fmt: skip

    def pre_spawn(spawner: Any) -> None:
        name = spawner.user.name
        if name == data["instructor"]:
            user = prepare_home(name, Path(data["master_notebooks"]), None)
            # the room, in their notebook (`room.live()`): the class's state is root's, so they read it from the front
            if data.get("front") and secrets.get("room_token"):  # (a hub started before `class up` wrote them: not yet)
                put_as(user, ROOM_ACCESS, json.dumps({"url": data["front"], "token": secrets["room_token"]}).encode(), replace=True)
        else:
            now = current(settings_path)
            prepare_home(name, Path(now["learner_notebooks"]), Path(now["env_files"][name]))
            for kind in ("iceberg_dirs", "monitor_dirs"):  # their Iceberg catalog and metrics store, now that they have a group
                folder = Path(now.get(kind, {}).get(name, ""))
                if folder.name == name and folder.is_dir():
                    from dataops.classroom.iceberg import give_to

                    give_to(folder, name)

    c.Spawner.pre_spawn_hook = pre_spawn
