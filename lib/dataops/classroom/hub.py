"""The class server's JupyterHub (``class-hub``, started by ``dataops class up --hub``).

- **The hub** is ``jupyterhub`` from PyPI, run as root (it must start each learner's server as
  that learner); its proxy is ``configurable-http-proxy`` from npm, installed with ``npm ci`` from
  the lock file beside this module (every package pinned with its integrity) into
  ``<state>/class/hub/proxy``. Browsers open the proxy (``DATAOPS_CLASS_HUB_PORT``, 8010); the
  hub's API (8011) and the proxy's (8012) stay on loopback.
- **Logging in**: JupyterHub's shared-password authenticator. Learners of the roster log in with
  their user name and the class code; the instructor (``instructor``) with a password of their
  own. Both are made once (``<state>/class/hub/secrets.json``, mode 600) and never printed:
  ``class up`` says which file holds them.
- **Each learner's server** (:mod:`dataops.classroom.hub_config`) runs JupyterLab under the
  learner's own Unix user, made at their first login, home mode 700, with the learner version
  of the course copied in (``~/curso``, never overwriting their work) and their settings
  (``~/.dataops/class.env``, mode 600), which ``DATAOPS_ENV_FILE`` names: ``dataops.connect()``
  in their notebooks picks their namespace by itself. The instructor's server opens the masters,
  which the hub makes unreadable to every other user (:func:`protect_masters`).
- **The learners' Python** must be one they can run: :func:`learner_python` makes a small venv
  from an interpreter of this version that other users can reach (the project's own may sit
  under ``/root``) that imports the project's packages.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from dataops.config import PROJECT_ROOT, Settings
from dataops.engine import Component, http_ok
from dataops.errors import StackError, ToolMissingError
from dataops.paths import StatePaths, write_private

NAME = "class-hub"
INSTRUCTOR = "instructor"
PROXY = Path(__file__).with_name("proxy")  # package.json and package-lock.json
LEARNER_NOTEBOOKS = PROJECT_ROOT / "notebooks" / "learner"
MASTER_NOTEBOOKS = PROJECT_ROOT / "notebooks"


def folder(paths: StatePaths) -> Path:
    return paths.classroom / "hub"


def settings_file(paths: StatePaths) -> Path:
    """What :mod:`dataops.classroom.hub_config` reads: ports, learners, folders (no secret)."""
    return folder(paths) / "hub.json"


def secrets_file(paths: StatePaths) -> Path:
    """The class code and the instructor's password (mode 600)."""
    return folder(paths) / "secrets.json"


#: The hub's secrets and how each is made: the learners' class code, the instructor's password,
#: the token of the instructor's view (``dataops class status``) on the hub's API, and the token
#: the instructor's notebook shows the room with (``room.live()``, through the class front's ``/room``).
SECRETS = {"class_code": 9, "instructor_password": 32, "api_token": 32, "room_token": 32}


def hub_secrets(paths: StatePaths) -> dict[str, str]:
    """:data:`SECRETS`: made once (any missing one added), then read back."""
    try:
        data = {k: str(v) for k, v in json.loads(secrets_file(paths).read_text(encoding="utf-8")).items()}
    except (OSError, ValueError, AttributeError):
        data = {}
    if not all(data.get(name) for name in SECRETS):
        data = {name: data.get(name) or secrets.token_urlsafe(size) for name, size in SECRETS.items()}
        write_private(secrets_file(paths), json.dumps(data))
    return {name: data[name] for name in SECRETS}


def proxy_command(paths: StatePaths) -> Path:
    return folder(paths) / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"


def install_proxy(paths: StatePaths) -> Path:
    """``configurable-http-proxy`` installed with ``npm ci`` from the lock file (once).

    Raises:
        ToolMissingError: No ``npm`` (one line: install Node.js).
        StackError: ``npm ci`` failed (one line: its last line).
    """
    target = proxy_command(paths)
    lock = (PROXY / "package-lock.json").read_bytes()
    where = target.parents[2]
    if target.exists() and (where / "package-lock.json").is_file() and (where / "package-lock.json").read_bytes() == lock:
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise ToolMissingError("falta npm para instalar el proxy de JupyterHub", "instala Node.js y npm (`apt install npm`)")
    where.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(PROXY / name, where / name)
    for _ in range(2):  # a registry's passing hiccup: once more
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=where, capture_output=True, text=True, timeout=600)
        if done.returncode == 0 and target.exists():
            break
    else:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["sin salida"]
        raise StackError(f"npm ci del proxy de JupyterHub falló: {last[0]}", f"revisa `npm config get registry`; borra {where} y repite")
    return target


def unreachable(path: Path) -> Path | None:
    """The first folder on the way to ``path`` that other users cannot pass (no ``o+x``), or None."""
    for parent in reversed(Path(os.path.realpath(path)).parents):
        if not parent.stat().st_mode & 0o001:
            return parent
    return None


def _reachable_or_say(path: Path, what: str) -> None:
    blocked = unreachable(path)
    if blocked is not None:
        raise StackError(f"los alumnos (otros usuarios Unix) no pueden llegar a {what} {path}: {blocked} no les deja pasar",
                         f"instala el proyecto en una carpeta que puedan leer (p. ej. /opt/curso), o `chmod o+x {blocked}`")  # fmt: skip


def learner_python(paths: StatePaths) -> Path:
    """An interpreter every learner can run that imports this project's packages: a small venv
    (``<state>/class/hub/venv``, no pip) of this Python's version, from the first interpreter of
    that version other users can reach (this one, else the system's), whose only package is a
    ``.pth`` line adding this project's site-packages.

    Raises:
        StackError: No such interpreter, or the project out of the learners' reach (one line).
    """
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [Path(os.path.realpath(sys.executable)), Path("/usr/bin") / version, Path("/usr/local/bin") / version]
    base = next((c for c in candidates if c.is_file() and unreachable(c) is None), None)
    if base is None:
        raise StackError(f"ningún {version} que los alumnos puedan ejecutar ({', '.join(map(str, candidates))})",
                         f"instala el {version} del sistema (`apt install {version}`) o el proyecto con un Python fuera de /root")  # fmt: skip
    site = Path(sysconfig_purelib())
    _reachable_or_say(site, "los paquetes del proyecto")
    _reachable_or_say(PROJECT_ROOT / "lib", "la librería")
    venv = folder(paths) / "venv"
    python = venv / "bin" / "python"
    if not python.exists() or Path(os.path.realpath(python)) != base:
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([str(base), "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True, timeout=120)
    bridge = venv / "lib" / version / "site-packages" / "dataops-project.pth"
    bridge.write_text(f"import site; site.addsitedir({str(site)!r})\n", encoding="utf-8")
    _reachable_or_say(python, "el Python de la clase")
    return python


def sysconfig_purelib() -> str:
    """This environment's site-packages (where the project is installed)."""
    import sysconfig

    return sysconfig.get_paths()["purelib"]


def write_settings(s: Settings, learners: tuple[str, ...]) -> Path:
    """Write :func:`settings_file` for the roster ``learners``; returns it."""
    from dataops.classroom.access import env_file
    from dataops.classroom.connect import front_url

    data = {
        "ip": s.host, "port": s.class_hub_port, "hub_port": s.class_hub_api_port, "proxy_api_port": s.class_proxy_api_port,
        "learners": list(learners), "instructor": INSTRUCTOR, "folder": str(folder(s.paths)),
        "proxy": str(proxy_command(s.paths)), "python": str(learner_python(s.paths)),
        "prefix": sys.prefix,
        "learner_notebooks": str(LEARNER_NOTEBOOKS), "master_notebooks": str(MASTER_NOTEBOOKS),
        "env_files": {name: str(env_file(s.paths, name)) for name in learners},
        "iceberg_dirs": {name: str(s.paths.classroom / "iceberg" / name) for name in learners},
        "monitor_dirs": {name: str(s.paths.classroom / "monitors" / name) for name in learners},  # their metrics store
        "path": os.environ.get("PATH", "/usr/bin:/bin"),
        "front": front_url(s),  # where the instructor's notebook reads the room
    }  # fmt: skip
    target = settings_file(s.paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return target


def command(s: Settings, paths: StatePaths) -> list[str]:
    """JupyterHub's command line: a config file that hands ``c`` to :func:`dataops.classroom.hub_config.configure`.

    Raises:
        StackError: Not root (one line: the hub starts each learner's server as that learner).
    """
    if os.geteuid() != 0:
        raise StackError("JupyterHub de la clase necesita ejecutarse como root (abre el servidor de cada alumno como su usuario)",
                         "ejecuta `sudo dataops class up --hub` en el servidor de la clase")  # fmt: skip
    install_proxy(paths)
    hub_secrets(paths)
    protect_masters()
    conf = folder(paths) / "jupyterhub_config.py"
    conf.write_text("# written by `dataops class up --hub`\nfrom dataops.classroom.hub_config import configure\n\n"
                    f"configure(c, {str(settings_file(paths))!r})  # noqa: F821 - JupyterHub's config object\n", encoding="utf-8")  # fmt: skip
    return [str(Path(sys.executable).with_name("jupyterhub")), "-f", str(conf)]


def protect_masters() -> list[Path]:
    """Take the masters (the solutions) away from other users: on a class server learners have a
    shell (JupyterLab's terminal), and the project's folder is readable by them. The instructor's
    server gets its copy from the hub, which runs as root. Returns the notebooks changed."""
    changed = []
    for notebook in sorted(MASTER_NOTEBOOKS.glob("*.ipynb")):
        mode = notebook.stat().st_mode
        if mode & 0o077:
            notebook.chmod(mode & ~0o077)
            changed.append(notebook)
    return changed


def healthy(s: Settings) -> bool:
    """Ready when the proxy routes to the hub: its login page answers through the public port."""
    return http_ok(f"http://{s.host}:{s.class_hub_port}/hub/login")


def components(s: Settings) -> list[Component]:
    return [
        Component(NAME, s.class_hub_port, (s.class_hub_port, s.class_hub_api_port, s.class_proxy_api_port),
                  f"http://{s.host}:{s.class_hub_port}/hub/", command, healthy, start_timeout=90, optional=True, after=()),  # fmt: skip
    ]
