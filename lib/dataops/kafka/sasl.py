"""The optional Kafka broker on SASL_SSL with PLAIN, a local stand-in of Confluent Cloud
(``dataops up --with cloud-fixtures``, or ``dataops up kafka-sasl``).

Confluent Cloud speaks to its clients in one way only: TLS, and SASL PLAIN with an API key as the
user name and its secret as the password. This component is a broker that does the same on this
machine, so the ``confluent`` profile's clients (confluent-kafka, later Connect and Flink) run
against a real server with the settings a user fills for a real cluster.

- **A second broker, not a second listener of the stack's own**: its own KRaft node (controller
  on ``DATAOPS_KAFKA_SASL_CONTROLLER_PORT``, 9095, plaintext on loopback; the SASL_SSL listener on
  ``DATAOPS_KAFKA_SASL_PORT``, 9094), its own data under ``<state>/data/kafka-sasl``. Starting or
  stopping it never restarts the pipeline's broker (a listener is no process the supervisor could
  start and stop on its own), and the ``confluent`` profile's topics, which have the local
  pipeline's names, live apart from the local ones, as on a cluster elsewhere.
- **TLS**: a CA made with ``keytool`` the first time (``ca.p12``, its certificate ``ca.pem``), and
  the broker's key pair signed by it with SANs ``dns:localhost`` and ``ip:127.0.0.1``
  (``broker.p12``; the CA alone in ``truststore.p12`` for the broker's own client side). Kept and
  reused; delete ``<state>/kafka-sasl`` for new ones. The keystores' password reaches ``keytool``
  through an environment variable, never a command line.
- **SASL PLAIN**: one API key and secret, generated once (``credentials.json``, mode 600), in the
  listener's JAAS configuration inside the broker's properties file (mode 600: Kafka logs that
  value as ``[hidden]``); the broker authenticates to itself with the same pair.
- **Client settings**: ``confluent.env`` (mode 600) holds what a user of the ``confluent`` profile
  fills for a real cluster: ``DATAOPS_KAFKA_BOOTSTRAP``, ``DATAOPS_KAFKA_API_KEY``/``SECRET`` and
  ``DATAOPS_KAFKA_CA_FILE`` (Confluent Cloud's certificates chain to the system's CAs, so there it
  stays unset). ``dataops.connect(profile="confluent", env_file=...)`` with that file reaches this broker.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path

from pydantic import SecretStr

from dataops import subproc
from dataops.artifacts import require_java
from dataops.config import ENV_PREFIX, Settings
from dataops.engine import Component, java_cmd, stack_jvm_flags, properties
from dataops.errors import StackError, ToolMissingError
from dataops.kafka.engine import broker_answers, format_once, node_properties
from dataops.paths import StatePaths, write_private

NAME = "kafka-sasl"
LISTENER = "SASL_SSL"
PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"
PASSWORD_VAR = "DATAOPS_KEYSTORE_PASSWORD"  # how keytool gets the keystores' password (``-storepass:env``)
VALIDITY_DAYS = 3650
HEAP, LOW_MEMORY_HEAP = "256m", "160m"


# ---- files ------------------------------------------------------------------------------------
def credentials_file(paths: StatePaths) -> Path:
    return paths.kafka_sasl / "credentials.json"


def ca_file(paths: StatePaths) -> Path:
    """The CA's certificate (PEM): what a client trusts (``ssl.ca.location``)."""
    return paths.kafka_sasl / "ca.pem"


def keystore(paths: StatePaths) -> Path:
    return paths.kafka_sasl / "broker.p12"


def truststore(paths: StatePaths) -> Path:
    return paths.kafka_sasl / "truststore.p12"


def config_file(paths: StatePaths) -> Path:
    return paths.conf / f"{NAME}.properties"


def client_env_file(paths: StatePaths) -> Path:
    """The ``confluent`` profile's settings that reach this broker (a dotenv file, mode 600)."""
    return paths.kafka_sasl / "confluent.env"


# ---- the key, the secret and the keystores' password ------------------------------------------
def read_credentials(paths: StatePaths) -> dict[str, SecretStr] | None:
    """``key``, ``secret`` and ``store_password`` kept from the first start, or None before it."""
    try:
        data = json.loads(credentials_file(paths).read_text(encoding="utf-8"))
        return {name: SecretStr(str(data[name])) for name in ("key", "secret", "store_password")}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def credentials(paths: StatePaths) -> dict[str, SecretStr]:
    """The broker's API key and secret and its keystores' password: made once, then read back.

    The key looks like Confluent Cloud's (16 capitals and digits), the secret is 64 characters.
    """
    saved = read_credentials(paths)
    if saved is not None:
        return saved
    made = {"key": secrets.token_hex(8).upper(), "secret": secrets.token_urlsafe(48), "store_password": secrets.token_urlsafe(24)}
    write_private(credentials_file(paths), json.dumps(made))
    return {name: SecretStr(value) for name, value in made.items()}


# ---- the CA and the broker's certificate --------------------------------------------------------
def subject_alt_names(s: Settings) -> str:
    """``dns:localhost,ip:127.0.0.1``, and the stack's host when it is another one."""
    names = ["dns:localhost", "ip:127.0.0.1"]
    if s.host not in ("localhost", "127.0.0.1"):
        kind = "ip" if s.host.replace(".", "").isdigit() or ":" in s.host else "dns"
        names.append(f"{kind}:{s.host}")
    return ",".join(names)


def keytool_commands(keytool: str, folder: Path, san: str) -> list[list[str]]:
    """The ``keytool`` runs that make the CA, sign the broker's key pair and fill the trust store.

    Every password is ``-storepass:env``/``-keypass:env`` :data:`PASSWORD_VAR`: none on a command line.
    """
    pw = ["-storepass:env", PASSWORD_VAR]
    keypw = ["-keypass:env", PASSWORD_VAR]
    ca, broker, trust = str(folder / "ca.p12"), str(folder / "broker.p12"), str(folder / "truststore.p12")
    csr, signed, pem = str(folder / "broker.csr"), str(folder / "broker.pem"), str(folder / "ca.pem")
    new_key = ["-keyalg", "RSA", "-keysize", "2048", "-validity", str(VALIDITY_DAYS), "-storetype", "PKCS12"]
    return [
        [keytool, "-genkeypair", "-alias", "ca", "-dname", "CN=dataops local CA", *new_key, "-ext", "bc:c",
         "-keystore", ca, *pw, *keypw],
        [keytool, "-exportcert", "-rfc", "-alias", "ca", "-keystore", ca, *pw, "-file", pem],
        [keytool, "-genkeypair", "-alias", "broker", "-dname", "CN=localhost", *new_key, "-ext", f"SAN={san}",
         "-keystore", broker, *pw, *keypw],
        [keytool, "-certreq", "-alias", "broker", "-keystore", broker, *pw, "-file", csr],
        [keytool, "-gencert", "-rfc", "-alias", "ca", "-keystore", ca, *pw, "-infile", csr, "-outfile", signed,
         "-validity", str(VALIDITY_DAYS), "-ext", f"SAN={san}", "-ext", "KU=digitalSignature,keyEncipherment",
         "-ext", "EKU=serverAuth,clientAuth"],
        [keytool, "-importcert", "-noprompt", "-alias", "ca", "-file", pem, "-keystore", broker, *pw],
        [keytool, "-importcert", "-alias", "broker", "-file", signed, "-keystore", broker, *pw],
        [keytool, "-importcert", "-noprompt", "-alias", "ca", "-file", pem, "-keystore", trust, "-storetype", "PKCS12", *pw],
    ]  # fmt: skip


def find_keytool() -> str:
    """``keytool`` beside the stack's ``java``.

    Raises:
        ToolMissingError: That Java has none (a bare runtime).
    """
    tool = Path(require_java()).resolve().parent / "keytool"
    if not tool.is_file():
        raise ToolMissingError(f"falta keytool junto a {Path(require_java()).resolve().parent}",
                               "instala un JDK completo (p. ej. `apt install openjdk-17-jdk-headless`) o define DATAOPS_JAVA_HOME")  # fmt: skip
    return str(tool)


def ensure_certificates(s: Settings) -> None:
    """Make the CA, the broker's keystore and the trust store, unless all three are there (with
    the credentials file that holds their password).

    Raises:
        StackError: A ``keytool`` run failed (one line: its last line; delete the folder to retry).
    """
    paths = s.paths
    folder = paths.kafka_sasl
    made = keystore(paths).is_file() and truststore(paths).is_file() and ca_file(paths).is_file()
    if made and read_credentials(paths) is not None:  # without the credentials, no password opens them
        return
    password = credentials(paths)["store_password"].get_secret_value()
    for name in ("ca.p12", "broker.p12", "truststore.p12", "broker.csr", "broker.pem", "ca.pem"):
        (folder / name).unlink(missing_ok=True)  # a half-made set from an interrupted start
    hint = f"borra {folder} y vuelve a ejecutar `dataops up --with cloud-fixtures`"
    env = {**os.environ, PASSWORD_VAR: password}
    for cmd in keytool_commands(find_keytool(), folder, subject_alt_names(s)):
        out = subproc.run(cmd, f"keytool {cmd[1]}", hint, 60, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if out.returncode != 0:
            last = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["sin salida"]
            raise StackError(f"keytool {cmd[1]} falló al hacer los certificados de {NAME}: {last[0]}", hint)
    for path in folder.iterdir():
        path.chmod(0o600)
    folder.chmod(0o700)


# ---- the broker ---------------------------------------------------------------------------------
def jaas(key: str, secret: str) -> str:
    """The listener's JAAS line: the broker's own login (``username``/``password``) and the one user it accepts."""
    return f'{PLAIN_MODULE} required username="{key}" password="{secret}" user_{key}="{secret}";'


def broker_properties(s: Settings, paths: StatePaths, key: str, secret: str, store_password: str) -> dict[str, object]:
    """The broker's ``server.properties``: a KRaft node whose only client listener is SASL_SSL with PLAIN."""
    listener = LISTENER.lower()
    return {
        **node_properties(s, paths.data / NAME, s.kafka_sasl_controller_port),
        "listeners": f"{LISTENER}://{s.host}:{s.kafka_sasl_port},CONTROLLER://{s.host}:{s.kafka_sasl_controller_port}",
        "advertised.listeners": f"{LISTENER}://{s.host}:{s.kafka_sasl_port}",
        "listener.security.protocol.map": f"CONTROLLER:PLAINTEXT,{LISTENER}:{LISTENER}",
        "inter.broker.listener.name": LISTENER,
        "sasl.enabled.mechanisms": "PLAIN",
        "sasl.mechanism.inter.broker.protocol": "PLAIN",
        f"listener.name.{listener}.plain.sasl.jaas.config": jaas(key, secret),
        "ssl.keystore.type": "PKCS12",
        "ssl.keystore.location": keystore(paths),
        "ssl.keystore.password": store_password,
        "ssl.key.password": store_password,
        "ssl.truststore.type": "PKCS12",
        "ssl.truststore.location": truststore(paths),
        "ssl.truststore.password": store_password,
        "ssl.client.auth": "none",  # clients prove who they are by SASL, as on Confluent Cloud
    }


def client_settings(s: Settings) -> dict[str, str]:
    """The ``confluent`` profile's Kafka settings for this broker, as ``DATAOPS_*`` variables (secret included)."""
    pair = credentials(s.paths)
    return {
        f"{ENV_PREFIX}PROFILE": "confluent",
        f"{ENV_PREFIX}KAFKA_BOOTSTRAP": f"{s.host}:{s.kafka_sasl_port}",
        f"{ENV_PREFIX}KAFKA_API_KEY": pair["key"].get_secret_value(),
        f"{ENV_PREFIX}KAFKA_API_SECRET": pair["secret"].get_secret_value(),
        f"{ENV_PREFIX}KAFKA_CA_FILE": str(ca_file(s.paths)),
    }


def write_client_env(s: Settings) -> Path:
    """Write :func:`client_settings` as a dotenv file (mode 600) and return its path."""
    target = client_env_file(s.paths)
    head = f"# The confluent profile on the local {NAME} broker (`dataops up --with cloud-fixtures`).\n"
    write_private(target, head + "".join(f"{k}={v}\n" for k, v in client_settings(s).items()))
    return target


def command(s: Settings, paths: StatePaths) -> list[str]:
    """The broker's command line; makes the certificates and the credentials first when missing."""
    ensure_certificates(s)
    pair = {name: value.get_secret_value() for name, value in credentials(paths).items()}
    conf = config_file(paths)
    write_private(conf, properties(broker_properties(s, paths, pair["key"], pair["secret"], pair["store_password"])))
    write_client_env(s)
    format_once(paths, paths.data / NAME, conf)
    heap = LOW_MEMORY_HEAP if s.low_memory else HEAP
    return java_cmd(paths, heap, "kafka.Kafka", str(conf), jvm_flags=stack_jvm_flags(s, "128m", "64m"))


def client_config(s: Settings) -> dict[str, str]:
    """librdkafka's configuration for this broker, from the files the component wrote (secret included)."""
    pair = credentials(s.paths)
    return {
        "bootstrap.servers": f"{s.host}:{s.kafka_sasl_port}",
        "security.protocol": LISTENER,
        "sasl.mechanisms": "PLAIN",
        "sasl.username": pair["key"].get_secret_value(),
        "sasl.password": pair["secret"].get_secret_value(),
        "ssl.ca.location": str(ca_file(s.paths)),
    }


def healthy(s: Settings) -> bool:
    """Ready when a client with the key and secret, trusting the CA, gets the broker's metadata."""
    if read_credentials(s.paths) is None:
        return False
    return broker_answers(s.host, s.kafka_sasl_port, {**client_config(s), "log_level": 0})


def components(s: Settings) -> list[Component]:
    """The optional broker, as a component of the local stack (started only when asked for)."""
    return [
        Component(
            NAME,
            s.kafka_sasl_port,
            (s.kafka_sasl_port, s.kafka_sasl_controller_port),
            f"{LISTENER.lower()}://{s.host}:{s.kafka_sasl_port}",
            command,
            healthy,
            start_timeout=90,
            java=True,
            optional=True,
        ),
    ]

