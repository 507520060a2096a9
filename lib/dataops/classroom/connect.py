"""The class server's Kafka Connect: one worker every learner shares (``class-connect``), reached only
through an authorising front (``class-front``, :mod:`dataops.classroom.front`) that
lets each learner see and change their own connectors and nothing else.

Why a front, and not Connect's own security: Connect's REST API can authenticate (a JAAS REST
extension, or TLS client certificates) but not authorise: whoever gets in may list, read, change and
delete every connector, and read every connector's config. So:

- **The worker** (https on ``DATAOPS_CLASS_CONNECT_PORT``, 8013) lets in one client only, the front,
  by its TLS certificate (``ssl.client.auth=required``): learners have shells on the server, so a
  loopback port is no boundary. The worker's own clients are the broker's administrator (its
  internal topics ``_class-connect-*``); a connector's clients log in as the learner it belongs to
  (the front puts their login in as client overrides), and a connector without one cannot log in
  at all (the worker's defaults for tasks carry no password).
- **Each learner's Kafka login** for their connectors sits in a file of its own
  (``<state>/class/connect/logins/<learner>.properties``, mode 600) that connectors name through
  Connect's ``FileConfigProvider``: the password is never in a connector's config, so reading a
  config back shows the file's name, not the secret.
- The certificates are made here with ``cryptography`` (a CA of the class's own signing the
  worker's and the front's, P-256 keys, ten years), once, in ``<state>/class/connect/tls`` (mode
  600); delete that folder for new ones.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import secrets
import sys
from pathlib import Path
from typing import Any

from dataops.classroom import broker
from dataops.classroom.namespace import prefix
from dataops.config import Settings
from dataops.engine import Component, java_cmd, stack_jvm_flags, port_open, properties
from dataops.kafka.security import SCRAM_MODULE, jaas_line
from dataops.paths import StatePaths, write_private

NAME = "class-connect"
FRONT = "class-front"
#: The worker's group: a source task's transactional id is ``connect-<connector>-<task>``, so a
#: learner's are ``connect-ana.…`` (:func:`dataops.classroom.namespace.acl_prefixes`).
GROUP = "connect"
HEAP, LOW_MEMORY_HEAP = "384m", "192m"
CLIENTS = ("producer.", "consumer.", "admin.")


def folder(paths: StatePaths) -> Path:
    return paths.classroom / "connect"


def tls_folder(paths: StatePaths) -> Path:
    return folder(paths) / "tls"


def login_file(paths: StatePaths, learner: str) -> Path:
    """``learner``'s Kafka login for their connectors' clients (``sasl.jaas.config=…``, mode 600)."""
    return folder(paths) / "logins" / f"{learner}.properties"


def worker_url(s: Settings) -> str:
    return f"https://{s.host}:{s.class_connect_port}"


def front_url(s: Settings) -> str:
    return f"http://{s.host}:{s.class_front_port}"


def _cert(common_name: str, s: Settings, issuer: tuple[Any, Any] | None = None) -> tuple[Any, Any]:
    """A new P-256 key and its certificate for ``common_name``: signed by ``issuer`` (key, certificate)
    for a leaf (SAN: the host, 127.0.0.1, localhost), else a self-signed CA. Returns (key, certificate)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    signer_key, signer = issuer if issuer else (key, None)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(signer.subject if signer else name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=3650))
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False))  # fmt: skip
    usage = dict.fromkeys(("content_commitment", "key_encipherment", "data_encipherment", "key_agreement", "crl_sign",
                           "encipher_only", "decipher_only"), False)  # fmt: skip
    if signer is None:
        builder = (builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=False, key_cert_sign=True, **{**usage, "crl_sign": True}), critical=True))  # fmt: skip
    else:
        hosts = sorted({s.host, "127.0.0.1"})
        alt = [x509.IPAddress(ipaddress.ip_address(h)) for h in hosts] + [x509.DNSName("localhost")]
        builder = (builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, **usage), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                   .add_extension(x509.SubjectAlternativeName(alt), critical=False))  # fmt: skip
    return key, builder.sign(signer_key, hashes.SHA256())


def ensure_tls(s: Settings) -> dict[str, Path]:
    """A CA of the class's own, the worker's key store (PKCS12) and trust store (the CA), and the
    front's key and certificate (PEM) signed by it, made once. Returns the files by role; the
    stores' password is in ``store.json`` (mode 600). Only root (who runs ``class up``) reads them."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    tls = tls_folder(s.paths)
    files = {"keystore": tls / "worker.p12", "truststore": tls / "trust.p12", "ca_cert": tls / "ca.pem",
             "front_cert": tls / "front.pem", "front_key": tls / "front-key.pem", "password": tls / "store.json"}  # fmt: skip
    if all(f.is_file() for f in files.values()):
        return files
    password = secrets.token_urlsafe(24)
    store = serialization.BestAvailableEncryption(password.encode())
    ca = _cert("dataops class CA", s)
    worker_key, worker_cert = _cert("class-connect", s, ca)
    front_key, front_cert = _cert("class-front", s, ca)
    pem = serialization.Encoding.PEM
    write_private(files["front_key"], front_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())
    write_private(files["front_cert"], front_cert.public_bytes(pem).decode())
    write_private(files["ca_cert"], ca[1].public_bytes(pem).decode())
    write_private(files["keystore"], "")  # mode 600 before the bytes go in
    files["keystore"].write_bytes(pkcs12.serialize_key_and_certificates(b"worker", worker_key, worker_cert, [ca[1]], store))
    write_private(files["truststore"], "")
    files["truststore"].write_bytes(pkcs12.serialize_java_truststore([pkcs12.PKCS12Certificate(ca[1], b"ca")], store))
    write_private(files["password"], json.dumps({"password": password}))
    return files


def store_password(paths: StatePaths) -> str:
    return str(json.loads((tls_folder(paths) / "store.json").read_text(encoding="utf-8"))["password"])


def client_overrides(s: Settings, learner: str) -> dict[str, str]:
    """What the front puts in every connector of ``learner``'s: their clients log in as them (the
    password through the config provider), and exactly-once source offsets go to a topic of theirs."""
    login = f"${{file:{login_file(s.paths, learner)}:sasl.jaas.config}}"
    out = {"offsets.storage.topic": f"{prefix(learner)}connect-offsets"}
    for client in CLIENTS:
        out.update({f"{client}override.bootstrap.servers": broker.bootstrap(s),
                    f"{client}override.security.protocol": "SASL_PLAINTEXT",
                    f"{client}override.sasl.mechanism": broker.MECHANISM,
                    f"{client}override.sasl.jaas.config": login})  # fmt: skip
    return out


def write_login(s: Settings, learner: str, password: str) -> Path:
    """``learner``'s login file (the worker reads it when one of their connectors starts)."""
    return write_private(login_file(s.paths, learner), properties({"sasl.jaas.config": jaas_line(SCRAM_MODULE, learner, password)}))


def forget_login(s: Settings, learner: str) -> None:
    login_file(s.paths, learner).unlink(missing_ok=True)


def worker_properties(s: Settings, paths: StatePaths) -> dict[str, object]:
    """The worker's properties: the administrator for its own topics; no login for a task unless its
    connector brings one; https with the front's certificate only."""
    tls = ensure_tls(s)
    password = store_password(paths)
    admin = broker.admin_config(s)
    own = {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.jaas.config": broker.admin_jaas(admin["sasl.password"])}
    # A task's clients: the learners' listener, SCRAM, and no JAAS line: without its connector's overrides it cannot log in.
    tasks = {f"{c}{k}": v for c in CLIENTS for k, v in {"bootstrap.servers": broker.bootstrap(s), "security.protocol": "SASL_PLAINTEXT",
                                                         "sasl.mechanism": broker.MECHANISM}.items()}  # fmt: skip
    https = "listeners.https."
    return {
        "bootstrap.servers": admin["bootstrap.servers"], **own, **tasks,
        "group.id": GROUP,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "config.storage.topic": "_class-connect-configs", "offset.storage.topic": "_class-connect-offsets",
        "status.storage.topic": "_class-connect-status",
        "config.storage.replication.factor": 1, "offset.storage.replication.factor": 1, "status.storage.replication.factor": 1,
        "offset.storage.partitions": 1, "status.storage.partitions": 1,
        "offset.flush.interval.ms": 1000,
        "plugin.path": paths.plugins, "plugin.discovery": "service_load",
        "exactly.once.source.support": "enabled",
        "scheduled.rebalance.max.delay.ms": 0,
        "task.shutdown.graceful.timeout.ms": 5000,
        "producer.transaction.timeout.ms": 900000,
        "connector.client.config.override.policy": "All",  # the front decides which overrides a learner's connector gets
        "config.providers": "file",
        "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
        "config.providers.file.param.allowed.paths": str(folder(paths) / "logins"),
        "listeners": f"https://{s.host}:{s.class_connect_port}",
        "rest.advertised.listener": "https", "rest.advertised.host.name": s.host, "rest.advertised.port": s.class_connect_port,
        f"{https}ssl.keystore.type": "PKCS12", f"{https}ssl.keystore.location": tls["keystore"],
        f"{https}ssl.keystore.password": password, f"{https}ssl.key.password": password,
        f"{https}ssl.truststore.type": "PKCS12", f"{https}ssl.truststore.location": tls["truststore"],
        f"{https}ssl.truststore.password": password,
        f"{https}ssl.client.auth": "required",
    }  # fmt: skip


def command(s: Settings, paths: StatePaths) -> list[str]:
    """The worker's command line; writes its properties (mode 600: the administrator's password)."""
    conf = paths.conf / f"{NAME}.properties"
    write_private(conf, properties(worker_properties(s, paths)))
    (folder(paths) / "logins").mkdir(parents=True, exist_ok=True)
    heap = LOW_MEMORY_HEAP if s.low_memory else HEAP
    return java_cmd(paths, heap, "org.apache.kafka.connect.cli.ConnectDistributed", str(conf), jvm_flags=stack_jvm_flags(s, "192m", "64m", hot=True))


_SESSIONS: dict[Path, object] = {}


def worker_session(s: Settings) -> object:
    """A ``requests`` session that the worker lets in: the front's certificate; the class's CA the only
    one trusted. One per state folder and process (its connections kept), made at the first call."""
    import requests

    if (session := _SESSIONS.get(s.paths.root)) is None:
        tls = ensure_tls(s)
        session = requests.Session()
        session.cert = (str(tls["front_cert"]), str(tls["front_key"]))
        session.verify = str(tls["ca_cert"])
        session.trust_env = False  # else REQUESTS_CA_BUNDLE (or a proxy) of the environment wins over ``verify``
        session = _SESSIONS.setdefault(s.paths.root, session)
    return session


def healthy(s: Settings) -> bool:
    """Ready when the worker answers the front (its connectors' list, over mutual TLS)."""
    import requests

    if not port_open(s.host, s.class_connect_port):
        return False
    try:
        return worker_session(s).get(f"{worker_url(s)}/connectors", timeout=2).status_code == 200  # type: ignore[attr-defined, no-any-return]
    except requests.RequestException:
        return False


def front_command(s: Settings, paths: StatePaths) -> list[str]:
    return [sys.executable, "-m", "dataops.classroom.front", "--state-dir", str(paths.root), "--host", s.host,
            "--port", str(s.class_front_port), "--worker-port", str(s.class_connect_port),
            "--broker-port", str(s.kafka_class_port), "--simulator-port", str(s.class_simulator_port),
            "--flink-port", str(s.class_flink_port), "--internal-port", str(s.kafka_class_internal_port),
            "--hub-api-port", str(s.class_hub_api_port)]  # fmt: skip


def front_healthy(s: Settings) -> bool:
    from dataops.engine import http_ok

    return http_ok(f"{front_url(s)}/health")


def components(s: Settings) -> list[Component]:
    """The class's Connect worker and its front, optional components started by ``dataops class up``."""
    return [
        Component(NAME, s.class_connect_port, (s.class_connect_port,), worker_url(s), command, healthy,
                  start_timeout=120, java=True, optional=True, after=(broker.NAME,)),  # fmt: skip
        Component(FRONT, s.class_front_port, (s.class_front_port,), front_url(s), front_command, front_healthy,
                  start_timeout=30, optional=True, after=()),  # fmt: skip
    ]


def connectors(s: Settings) -> list[str]:
    """Every connector on the class's worker (the instructor's view), [] when it is not running."""
    import requests

    try:
        answer = worker_session(s).get(f"{worker_url(s)}/connectors", timeout=10)  # type: ignore[attr-defined]
    except (requests.RequestException, OSError):
        return []
    return list(answer.json()) if answer.status_code == 200 else []


def delete_connectors(s: Settings, learner: str) -> int:
    """Delete ``learner``'s connectors (a reset, or a learner taken off the roster); how many.

    Raises:
        StackError: The worker refused one (one line).
    """
    from dataops.errors import StackError

    mine = [name for name in connectors(s) if name.startswith(prefix(learner))]
    for name in mine:
        answer = worker_session(s).delete(f"{worker_url(s)}/connectors/{name}", timeout=60)  # type: ignore[attr-defined]
        if answer.status_code not in (204, 404):
            raise StackError(f"el Kafka Connect de la clase no borró el conector {name}: {answer.status_code} {answer.text[:200]}",
                             f"mira `dataops logs {NAME}`")  # fmt: skip
    return len(mine)
