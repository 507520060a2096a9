"""The optional Iceberg REST catalog shaped like Confluent Tableflow's (``dataops up --with cloud-fixtures``,
or ``dataops up iceberg-rest tableflow``): a local stand-in of what the ``confluent`` profile reads.

Two components:

- ``iceberg-rest``: Apache Iceberg's own REST catalog server (``RESTCatalogServer`` of
  ``iceberg-open-api``'s test fixtures, with ``iceberg-core``'s tests jar; ``lib/stack/iceberg-rest``),
  built by the project's Maven the first time it starts into ``<state>/iceberg-rest/lib`` (~80 MB,
  mostly Hadoop's client, shared with the sink in ``~/.m2``). A JDBC catalog on a SQLite file,
  ``<state>/data/iceberg-rest/catalog.db``, and a file warehouse beside it. It listens on the
  stack's host only, on ``DATAOPS_ICEBERG_REST_PORT`` (8181), and accepts anyone: it is the
  project's own door (standing in for Tableflow, which materializes topics into tables), see
  :func:`writer_catalog`.
- ``tableflow``: the front (:mod:`dataops.iceberg.tableflow`) on ``DATAOPS_TABLEFLOW_PORT`` (8182),
  at Tableflow's URL shape ``/iceberg/catalog/organizations/<org>/environments/<env>``; OAuth2 client
  credentials (scope ``catalog``), read-only for outside engines.

The organization (a UUID), environment (``env-…``), Kafka cluster id (``lkc-…``, the namespace of
the tables, as in Tableflow), client id and secret and the tokens' signing key are made once, in
``<state>/tableflow/catalog.json`` (mode 600). ``<state>/tableflow/tableflow.env`` (mode 600)
holds what a user of the ``confluent`` profile fills for the real Tableflow:
``DATAOPS_TABLEFLOW_ENDPOINT``, ``DATAOPS_TABLEFLOW_API_KEY`` and ``DATAOPS_TABLEFLOW_API_SECRET``.
"""

from __future__ import annotations

import json
import secrets
import string
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from dataops import pack as pack_mod
from dataops import subproc, toolchain
from dataops.config import ENV_PREFIX, PROJECT_ROOT, Settings
from dataops.engine import Component, http_ok, stack_jvm_flags
from dataops.errors import StackError
from dataops.iceberg import tableflow
from dataops.paths import StatePaths, file_uri, last_lines, write_private

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

BACKEND = "iceberg-rest"
FRONT = "tableflow"
POM = PROJECT_ROOT / "lib" / "stack" / "iceberg-rest" / "pom.xml"
MAIN_CLASS = "org.apache.iceberg.rest.LoopbackCatalogServer"
LAUNCHER_JAR = "dataops-iceberg-rest-1.0.0.jar"
HEAP, LOW_MEMORY_HEAP = "192m", "128m"
BUILD_TIMEOUT_S = 1800.0


# ---- files ----------------------------------------------------------------------------------
def folder(paths: StatePaths) -> Path:
    """The front's configuration and the client settings (mode 600 each)."""
    return paths.tableflow


def config_file(paths: StatePaths) -> Path:
    return folder(paths) / "catalog.json"


def client_env_file(paths: StatePaths) -> Path:
    return folder(paths) / "tableflow.env"


def lib(paths: StatePaths) -> Path:
    """The server's classpath (the launcher jar and its dependencies)."""
    return paths.iceberg_rest / "lib"


def data(paths: StatePaths) -> Path:
    """The backend's SQLite catalog and warehouse."""
    return paths.data / BACKEND


def _short_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(5))


def catalog_config(paths: StatePaths) -> dict[str, str]:
    """The catalog's identity and secrets: made once (mode 600), then read back."""
    try:
        saved = json.loads(config_file(paths).read_text(encoding="utf-8"))
        if all(saved.get(k) for k in ("org", "env", "cluster", "client_id", "client_secret", "signing_key")):
            return {str(k): str(v) for k, v in saved.items()}
    except (OSError, ValueError):
        pass
    made = {
        "org": str(uuid.uuid4()),
        "env": _short_id("env-"),
        "cluster": _short_id("lkc-"),
        "client_id": secrets.token_hex(8).upper(),  # shaped like a Confluent Cloud API key
        "client_secret": secrets.token_urlsafe(48),
        "signing_key": secrets.token_urlsafe(32),
    }
    write_private(config_file(paths), json.dumps(made))
    return made


def backend_url(s: Settings) -> str:
    return f"http://{s.host}:{s.iceberg_rest_port}"


def endpoint(s: Settings) -> str:
    """The catalog's URI as Tableflow gives it (``DATAOPS_TABLEFLOW_ENDPOINT``)."""
    cfg = catalog_config(s.paths)
    return f"http://{s.host}:{s.tableflow_port}{tableflow.prefix(cfg['org'], cfg['env'])}"


def namespace(s: Settings) -> str:
    """The tables' namespace: the Kafka cluster's id, as in Tableflow."""
    return catalog_config(s.paths)["cluster"]


def client_settings(s: Settings) -> dict[str, str]:
    """The ``confluent`` profile's Tableflow settings for this catalog, as ``DATAOPS_*`` variables (secret included)."""
    cfg = catalog_config(s.paths)
    return {
        f"{ENV_PREFIX}TABLEFLOW_ENDPOINT": endpoint(s),
        f"{ENV_PREFIX}TABLEFLOW_API_KEY": cfg["client_id"],
        f"{ENV_PREFIX}TABLEFLOW_API_SECRET": cfg["client_secret"],
        f"{ENV_PREFIX}CONFLUENT_CLUSTER_ID": cfg["cluster"],  # the tables' namespace, as Tableflow's
    }


def write_client_env(s: Settings) -> Path:
    target = client_env_file(s.paths)
    head = f"# The confluent profile's Tableflow settings for the local catalog (`dataops up {BACKEND} {FRONT}`).\n"
    write_private(target, head + "".join(f"{k}={v}\n" for k, v in client_settings(s).items()))
    return target


# ---- the backend ----------------------------------------------------------------------------
def installed(paths: StatePaths) -> bool:
    return (lib(paths) / LAUNCHER_JAR).is_file()


def install(paths: StatePaths, quiet: bool = False) -> Path:
    """Build the launcher and copy the server's classpath (``mvn package`` on :data:`POM`), when missing.

    Raises:
        StackError: Maven failed (one line: the log's last lines and where the log is).
    """
    if installed(paths):
        return lib(paths)
    pack = pack_mod.pack_dir()
    if not quiet:
        where = f"el paquete de clase {pack}" if pack else "Maven Central"
        print(f"Descargando el servidor de catálogo REST de Iceberg de {where} (solo la primera vez, ~80 MB)…", flush=True)
    env = toolchain.java_env()
    mvn, hint = pack_mod.maven_command(paths.root / "tools", paths.conf, env)
    paths.logs.mkdir(parents=True, exist_ok=True)
    log = paths.log_file(f"mvn-{BACKEND}")
    cmd = [*mvn, "-f", str(POM), f"-Dstack.dir={paths.root}", "package"]
    with log.open("w") as fh:
        rc = subproc.run(cmd, "la descarga del catálogo REST de Iceberg", f"mira {log}; {hint}", BUILD_TIMEOUT_S,
                         stdout=fh, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT, env=env).returncode  # fmt: skip
    if rc != 0 or not installed(paths):
        raise StackError(f"no se pudo preparar el catálogo REST de Iceberg ({last_lines(log, 2)})", f"mira {log}; {hint}")
    return lib(paths)


def backend_properties(s: Settings) -> dict[str, str]:
    """The catalog server's properties (its ``key=value`` arguments: no secret among them)."""
    return {
        "rest.host": s.host,
        "rest.port": str(s.iceberg_rest_port),
        "catalog.name": "tableflow",
        "catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog",
        "uri": f"jdbc:sqlite:{data(s.paths) / 'catalog.db'}",
        "jdbc.schema-version": "V1",
        "warehouse": file_uri(data(s.paths) / "warehouse"),
        "io-impl": "org.apache.iceberg.hadoop.HadoopFileIO",
    }


def backend_command(s: Settings, paths: StatePaths) -> list[str]:
    """The catalog server's command line; builds it first when missing."""
    java = toolchain.require_java()
    install(paths)
    (data(paths) / "warehouse").mkdir(parents=True, exist_ok=True)
    heap = LOW_MEMORY_HEAP if s.low_memory else HEAP
    return [str(java.path), f"-Xmx{heap}", "-XX:+UseSerialGC", *stack_jvm_flags(s, metaspace="96m", direct="32m"),
            "-Djava.awt.headless=true", "-cp", f"{lib(paths)}/*", MAIN_CLASS,
            *(f"{k}={v}" for k, v in backend_properties(s).items())]  # fmt: skip


def backend_healthy(s: Settings) -> bool:
    return http_ok(f"{backend_url(s)}/v1/config")


# ---- the front ------------------------------------------------------------------------------
def front_command(s: Settings, paths: StatePaths) -> list[str]:
    """The front's command line; makes the catalog's identity and secrets first when missing."""
    catalog_config(paths)
    write_client_env(s)
    # The module as a script, ``-P`` keeping its folder off ``sys.path``: it needs the standard library
    # only, and ``-m dataops.iceberg.tableflow`` would import the whole library first (~135 MB instead of ~20).
    return [sys.executable, "-P", tableflow.__file__, "--host", s.host, "--port", str(s.tableflow_port),
            "--backend", backend_url(s), "--config", str(config_file(paths))]  # fmt: skip


def token(s: Settings, client_id: str | None = None, client_secret: str | None = None) -> requests.Response:
    """A token request to the front, as an OAuth2 client sends it (the stored pair unless given)."""
    cfg = catalog_config(s.paths)
    form = {"grant_type": "client_credentials", "scope": tableflow.SCOPE,
            "client_id": client_id or cfg["client_id"], "client_secret": client_secret or cfg["client_secret"]}  # fmt: skip
    return requests.post(f"{endpoint(s)}{tableflow.TOKEN_PATH}", data=form, timeout=5)


def front_healthy(s: Settings) -> bool:
    """Ready when a token for the stored pair reads the catalog's config through the front."""
    try:
        got = token(s)
        if got.status_code != 200:
            return False
        auth = {"Authorization": f"Bearer {got.json()['access_token']}"}
        return requests.get(f"{endpoint(s)}/v1/config", headers=auth, timeout=5).status_code == 200
    except (requests.RequestException, ValueError, KeyError):
        return False


def writer_catalog(s: Settings) -> Catalog:
    """The project's own catalog on the backend (standing in for Tableflow's materialization): it may write."""
    from pyiceberg.catalog.rest import RestCatalog

    return RestCatalog("tableflow-writer", uri=backend_url(s))


def components(s: Settings) -> list[Component]:
    """The optional catalog server and its front, as components of the local stack (started only when asked for)."""
    return [
        Component(BACKEND, s.iceberg_rest_port, (s.iceberg_rest_port,), backend_url(s), backend_command, backend_healthy,
                  start_timeout=120, optional=True),
        Component(FRONT, s.tableflow_port, (s.tableflow_port,), f"http://{s.host}:{s.tableflow_port}/iceberg/catalog",
                  front_command, front_healthy, start_timeout=30, optional=True),
    ]  # fmt: skip
