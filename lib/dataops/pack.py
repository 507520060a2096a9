"""A class pack: every download the course needs, in one folder an instructor brings on a USB
stick or a LAN share, so 25 laptops install with no other network access.

``dataops pack DIR`` writes::

    DIR/wheels/   the Python wheels (the project's, the dev tools', the build backend, Java from
                  PyPI, the Flink distribution), for this machine and any ``--platform`` asked for
    DIR/maven/    a Maven repository: every JVM artifact and plugin the build needs, and the
                  Maven distribution the wrapper pins
    DIR/npm/      mermaid's tarball for the offline HTML reports
    DIR/pack.json what is inside, for which Python and platforms

``DATAOPS_PACK=DIR make run`` then installs from it: pip with ``--no-index``, Maven with the pack
as its only repository (a mirror of everything), the Maven distribution unpacked from the pack.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from xml.sax.saxutils import escape
from pathlib import Path

from dataops import subproc, toolchain
from dataops.cli_registry import CliContext, SubParsers
from dataops.config import PROJECT_ROOT
from dataops.errors import ConfigError, StackError

PACK_ENV = "DATAOPS_PACK"
MAVEN_DIST = ("org.apache.maven", "apache-maven")
NO_NETWORK = "no network is needed: the pack holds everything"


def pack_dir() -> Path | None:
    """The pack ``DATAOPS_PACK`` names, or None.

    Raises:
        ConfigError: It names a folder that is not a pack (one line: what to do).
    """
    value = os.environ.get(PACK_ENV, "").strip()
    if not value:
        return None
    pack = Path(value).expanduser()
    if not (pack / "pack.json").is_file():
        raise ConfigError(f"{PACK_ENV}={value} no es un pack de clase (no tiene pack.json)",
                          "apúntala a la carpeta que escribió `dataops pack DIR`, o quítala para descargar de los registros")  # fmt: skip
    return pack


def requirements() -> list[str]:
    """What ``pip install -e '.[dev]'`` needs: the dependencies, the dev extra and the build backend."""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    build = project["build-system"]["requires"]
    return [*build, "wheel", *project["project"]["dependencies"], *project["project"]["optional-dependencies"]["dev"]]


def maven_version() -> str:
    props = (PROJECT_ROOT / ".mvn" / "wrapper" / "maven-wrapper.properties").read_text()
    found = re.search(r"apache-maven-([\d.]+)-bin\.zip", props)
    if not found:
        raise StackError("no hay versión de Maven en .mvn/wrapper/maven-wrapper.properties", "ejecuta `git checkout -- .mvn`")
    return found.group(1)


def maven_sha256() -> str | None:
    props = (PROJECT_ROOT / ".mvn" / "wrapper" / "maven-wrapper.properties").read_text()
    found = re.search(r"^distributionSha256Sum=([0-9a-f]{64})$", props, re.M)
    return found.group(1) if found else None


def maven_zip(repo: Path) -> Path:
    version = maven_version()
    group, artifact = MAVEN_DIST
    return repo.joinpath(*group.split("."), artifact, version, f"{artifact}-{version}-bin.zip")


# ---- building a pack -------------------------------------------------------------------------


def _pip_download(dest: Path, reqs: list[str], *extra: str, log: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q", "-d", str(dest), *extra, *reqs]
    with log.open("a") as fh:
        rc = subproc.run(cmd, "`pip download`", f"mira {log}", 3600, stdout=fh, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        raise StackError(f"`pip download` falló ({' '.join(extra) or 'esta plataforma'})", f"mira {log}; comprueba el acceso a PyPI")


def build(dest: Path, platforms: list[str], log=print) -> dict:
    """Fill ``dest`` with every download the course needs; returns the manifest."""
    from dataops.artifacts import FLINK_WHEELS
    from dataops.report_assets import mermaid_tarball

    dest.mkdir(parents=True, exist_ok=True)
    logfile = dest / "pack.log"
    logfile.write_text("")
    t0 = time.monotonic()
    wheels = dest / "wheels"
    log(f"Python wheels for this machine ({platform.system()} {platform.machine()})…")
    _pip_download(wheels, requirements(), log=logfile)
    _pip_download(wheels, list(FLINK_WHEELS), "--no-deps", log=logfile)
    for tag in platforms:
        log(f"Python wheels for {tag}…")
        binary = ["--only-binary=:all:", "--platform", tag, "--python-version", "3.11", "--implementation", "cp"]
        _pip_download(wheels, requirements(), *binary, log=logfile)
        _pip_download(wheels, list(FLINK_WHEELS), "--no-deps", *binary, log=logfile)

    log("The JVM artifacts and Maven plugins (a Maven build into the pack's repository)…")
    repo = dest / "maven"
    env = toolchain.java_env()
    mvn = toolchain.find_maven(env)
    with tempfile.TemporaryDirectory(prefix="dataops-pack-") as tmp:
        _maven(mvn, env, logfile, "-Dmaven.repo.local=" + str(repo), f"-Dstack.dir={tmp}", "package")
    group, artifact = MAVEN_DIST
    _maven(mvn, env, logfile, "-Dmaven.repo.local=" + str(repo),
           "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get",
           f"-Dartifact={group}:{artifact}:{maven_version()}:zip:bin", "-Dtransitive=false")  # fmt: skip
    _check_maven_zip(maven_zip(repo))

    log("mermaid for the offline reports…")
    npm = dest / "npm"
    npm.mkdir(exist_ok=True)
    os.environ.pop(PACK_ENV, None)  # fetch it from the registry, not from a pack
    tarball = mermaid_tarball(npm)
    manifest = {
        "python": "3.11",
        "platforms": [f"{platform.system()}-{platform.machine()}", *platforms],
        "wheels": len(list(wheels.glob("*"))),
        "maven": maven_version(),
        "mermaid": tarball.name if tarball else None,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.monotonic() - t0, 1),
        "megabytes": round(sum(f.stat().st_size for f in dest.rglob("*") if f.is_file()) / 1e6),
    }
    (dest / "pack.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def _maven(mvn: toolchain.Maven, env: dict[str, str], logfile: Path, *args: str) -> None:
    cmd = [*mvn.command, "-B", "-q", "-f", str(PROJECT_ROOT / "pom.xml"), *args]
    with logfile.open("a") as fh:
        rc = subproc.run(cmd, "`mvn`", f"mira {logfile}", 3600, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=PROJECT_ROOT).returncode
    if rc != 0:
        raise StackError("falló la compilación de Maven en el pack", f"mira {logfile}; comprueba el acceso a Maven Central")


def _check_maven_zip(path: Path) -> None:
    expected = maven_sha256()
    if expected and hashlib.sha256(path.read_bytes()).hexdigest() != expected:
        raise StackError(f"{path.name} no coincide con el SHA-256 fijado en .mvn/wrapper/maven-wrapper.properties",
                         "bórralo y vuelve a construir el pack")  # fmt: skip


# ---- installing from a pack ----------------------------------------------------------------


def pip_args(pack: Path) -> list[str]:
    """pip's arguments to install from the pack only."""
    return ["--no-index", "--find-links", str(pack / "wheels")]


def maven_settings(pack: Path, folder: Path) -> Path:
    """A Maven settings file whose one mirror, of every repository, is the pack."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = folder / "maven-pack-settings.xml"
    url = (pack / "maven").resolve().as_uri()
    # ~/.m2 of $HOME (Java alone would take the password database's home)
    local = escape(str(Path.home() / ".m2" / "repository"))
    settings.write_text(
        f"<settings>\n  <localRepository>{local}</localRepository>\n  <mirrors>\n    <mirror>\n      <id>dataops-pack</id>\n      <mirrorOf>*</mirrorOf>\n"
        f"      <url>{url}</url>\n    </mirror>\n  </mirrors>\n</settings>\n"
    )
    return settings


def maven_from_pack(pack: Path, tools: Path) -> toolchain.Maven:
    """The pinned Maven, unpacked from the pack (checked by the wrapper's SHA-256) into ``tools``."""
    version = maven_version()
    home = tools / f"apache-maven-{version}"
    mvn = home / "bin" / "mvn"
    if not mvn.is_file():
        archive = maven_zip(pack / "maven")
        if not archive.is_file():
            raise StackError(f"el pack no tiene Maven {version} ({archive.name})", "vuelve a construirlo con `dataops pack DIR`")
        _check_maven_zip(archive)
        tools.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="maven-", dir=tools))
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():  # keep the executable bits zipfile drops
                path = Path(zf.extract(member, staging))
                mode = member.external_attr >> 16
                if mode:
                    path.chmod(mode & 0o777)
        (staging / home.name).replace(home)
        shutil.rmtree(staging, ignore_errors=True)
    return toolchain.Maven(["bash", str(mvn)], version, f"the class pack ({pack})")


def maven_command(tools: Path, conf: Path, env: dict[str, str]) -> tuple[list[str], str]:
    """How to run Maven to fetch something: ``mvn -B -q`` from the class pack when one is set
    (``DATAOPS_PACK``: the pack's Maven, with the pack as the one mirror), else from Maven Central;
    and the hint for the one line a failure gives."""
    pack = pack_dir()
    if pack is None:
        return [*toolchain.find_maven(env).command, "-B", "-q"], "comprueba el acceso a Maven Central"
    settings = maven_settings(pack, conf)
    return [*maven_from_pack(pack, tools).command, "-B", "-q", "-s", str(settings)], f"comprueba que el paquete de clase {pack} lo incluye"


# ---- command line ------------------------------------------------------------------------------


def cmd_pack(args: argparse.Namespace, ctx: CliContext) -> int:
    dest = Path(args.dir).expanduser().resolve()
    if dest.exists() and any(dest.iterdir()) and not (dest / "pack.json").exists() and not (dest / "pack.log").exists():
        raise ConfigError(f"{dest} no está vacía y no es un pack", "da una carpeta vacía o nueva, o un pack anterior para actualizarlo")
    print(f"Writing the class pack into {dest} (about 700 MB for one platform; downloads once)…", flush=True)
    manifest = build(dest, args.platform, log=lambda line: print("  " + line, flush=True))
    print(f"✔ {manifest['megabytes']} MB in {manifest['seconds']} s: {manifest['wheels']} wheels, Maven {manifest['maven']}, "
          f"{manifest['mermaid'] or 'no mermaid (npm missing)'}")  # fmt: skip
    print(f"On each laptop: `DATAOPS_PACK={dest} make run` ({NO_NETWORK}).")
    return 0


def add_commands(sub: SubParsers) -> None:
    """Add ``pack`` to ``sub``."""
    p = sub.add_parser("pack", help="write every download the course needs into one folder, to install a class offline")
    p.add_argument("dir", help="the folder to write (new, empty, or an older pack to refresh)")
    p.add_argument("--platform", action="append", default=[], metavar="TAG",
                   help="also the wheels for another laptop, e.g. macosx_11_0_arm64, macosx_10_9_x86_64, "
                        "manylinux2014_x86_64 (repeatable)")  # fmt: skip
    p.set_defaults(func=cmd_pack)
