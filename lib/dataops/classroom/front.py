"""The class's front (``class-front``): the only way a learner reaches the shared Kafka Connect
worker (:mod:`dataops.classroom.connect`) and Flink cluster (:mod:`dataops.classroom.flink`, on
``/flink/…``: :mod:`dataops.classroom.flink_front`), and the one way their Iceberg table is made
(``POST /iceberg/table``: :mod:`dataops.classroom.iceberg`), and only to their own connectors,
jobs and tables.

- **Who**: a learner is known by their class token (``DATAOPS_SIMULATOR_TOKEN`` in their settings
  file, sent as ``Authorization: Bearer …``: the library does it); the tokens are read from the
  settings files ``dataops class up`` writes, at each request, so a reset's new token works at once
  and a learner taken off the roster is refused.
- **What**: ``GET /``, ``GET /connector-plugins``, ``GET /connectors`` (their own only), and any
  request on ``/connectors/<name>…`` whose name starts with their prefix (``ana.``). Everything
  else is refused with one Spanish line (403), and the worker never hears of it.
- **A connector's config** (create or update) must be one of the course's connector classes, pointed
  at the learner's own simulator (or CoinGecko), carry no config-provider reference (``${…}``) and
  no client login or offsets topic of its own: the front puts in the learner's login and their
  offsets topic (:func:`dataops.classroom.connect.client_overrides`), so Kafka's ACLs hold their
  connectors to their topics as they hold them.

Run by the stack: ``python -m dataops.classroom.front --state-dir … --port …``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from dataops.classroom import access, connect, flink_front
from dataops.classroom import iceberg as class_iceberg
from dataops.classroom.namespace import prefix
from dataops.config import ENV_PREFIX, Settings, load_settings
from dataops.errors import RefusedError

#: The connector classes a learner may run: the course's HTTP source and the Iceberg sink (whose
#: catalog the front chooses: :func:`dataops.classroom.iceberg.sink_overrides`).
CLASSES = ("org.dataops.connect.http.HttpSourceConnector", class_iceberg.SINK)
#: Client settings a learner's connector may not set itself: the front sets them.
OWN_CLIENT_KEYS = ("bootstrap.servers", "security.protocol", "sasl.", "ssl.", "transactional.id")
COINGECKO = ("https://api.coingecko.com/", "https://pro-api.coingecko.com/")


def _bearer(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header ("" without one)."""
    return (authorization or "").removeprefix("Bearer ").strip()


def learner_of(s: Settings, authorization: str | None) -> str:
    """The learner whose token is in ``authorization`` (``Bearer <token>``).

    Raises:
        RefusedError: No token, or nobody's (401).
    """
    token = _bearer(authorization)
    if token:
        for learner, mine in _tokens(s).items():
            if secrets.compare_digest(mine.encode(), token.encode()):
                return learner
    raise RefusedError(401, "el servidor de la clase no te reconoce: tu token de la clase falta o ya no vale "
                       "(tras un `dataops class reset` vuelve a ejecutar dataops.connect())")  # fmt: skip


def room_rows(s: Settings, authorization: str | None) -> list[dict[str, Any]]:
    """The room (:func:`dataops.classroom.room.status`, one record per learner of the roster) for the
    instructor's notebook: their room token only (the hub gives it to their server), never a learner's.

    Raises:
        RefusedError: Not the instructor's token (403).
    """
    from dataops.classroom import hub, room, roster

    token = _bearer(authorization)
    try:
        mine = json.loads(hub.secrets_file(s.paths).read_text(encoding="utf-8")).get("room_token") or ""
    except (OSError, ValueError, AttributeError):
        mine = ""
    if not (token and mine and secrets.compare_digest(str(mine).encode(), token.encode())):
        raise RefusedError(403, "la vista de la clase es solo del profesor")
    frame = room.status(s, roster.load(s.paths.classroom / "roster.yaml").learners)
    return list(json.loads(frame.to_json(orient="records", force_ascii=False)))


_TOKENS: dict[Path, tuple[tuple, dict[str, str]]] = {}


def _tokens(s: Settings) -> dict[str, str]:
    """Each learner's class token, read again when a settings file changed (a reset's new token works at once)."""
    files = sorted(access.learners_dir(s.paths).glob("*.env"))
    key = tuple(_stamp(f) for f in files)
    cached = _TOKENS.get(s.paths.root)
    if cached is None or cached[0] != key:
        found = {f.stem: access.saved(s.paths, f.stem, "SIMULATOR_TOKEN") for f in files}
        cached = _TOKENS[s.paths.root] = (key, {learner: token for learner, token in found.items() if token})
    return cached[1]


def _stamp(f: Path) -> tuple | None:
    try:
        st = f.stat()
    except OSError:  # removed since: a roster without them
        return None
    return f.name, st.st_mtime_ns, st.st_size


def not_yours(learner: str, name: str) -> RefusedError:
    return RefusedError(403, f"el conector {name!r} no es tuyo: en la clase solo son tuyos los conectores que empiezan por {prefix(learner)!r}")


def admit(s: Settings, learner: str, name: str, config: dict[str, Any]) -> dict[str, str]:
    """The config the worker gets for ``learner``'s connector ``name``: theirs, checked, with their
    login and offsets topic put in.

    Raises:
        RefusedError: Something in it could reach beyond the learner's namespace (403, one line naming it).
    """
    if not name.startswith(prefix(learner)):
        raise not_yours(learner, name)
    if not isinstance(config, dict) or not all(isinstance(v, (str, int, float, bool)) for v in config.values()):
        raise RefusedError(400, "la configuración de un conector es un objeto JSON de claves y valores de texto")
    config = {str(k): str(v) for k, v in config.items()}
    if config.get("name", name) != name:
        raise RefusedError(400, f"el nombre de la configuración ({config['name']!r}) no es el del conector ({name!r})")
    if config.get("connector.class") not in CLASSES:
        raise RefusedError(403, f"en la clase solo se crean conectores {', '.join(c.rsplit('.', 1)[1] for c in CLASSES)} "
                           f"(connector.class={config.get('connector.class')!r})")  # fmt: skip
    for key, value in config.items():
        if "${" in value:
            raise RefusedError(403, f"{key}: en la clase un conector no lee ficheros ni variables del servidor (${{...}})")
        own = key.split("override.", 1)[1] if "override." in key else key.removeprefix("iceberg.kafka.")
        if key in ("offsets.storage.topic", "iceberg.coordinator.transactional.prefix", "iceberg.control.group-id-prefix") \
                or own.startswith(OWN_CLIENT_KEYS) \
                or key.startswith("iceberg.catalog"):
            raise RefusedError(403, f"{key}: en la clase tu conector usa tu usuario de Kafka, tus topics y tu catálogo, y eso lo pone el servidor")
    if config["connector.class"] == class_iceberg.SINK:
        wrong = class_iceberg.check_sink(learner, config)
        if wrong:
            raise RefusedError(403, wrong)
        return {**config, **connect.client_overrides(s, learner), **class_iceberg.sink_overrides(s, learner)}
    url = config.get("http.url", "")
    simulator = f"http://{s.host}:{access.saved(s.paths, learner, 'SIMULATOR_PORT')}/"
    # Connect trims a config's value before its use: a blank anywhere else is not a way around this
    if not url.startswith((simulator, *COINGECKO)):
        raise RefusedError(403, f"http.url={url!r}: en la clase tu conector solo lee de tu simulador ({simulator}) o de CoinGecko")
    return {**config, **connect.client_overrides(s, learner)}


def _own(learner: str, listing: Any) -> Any:
    """``GET /connectors`` (a list, or with ``?expand=`` a dict by name) cut to ``learner``'s."""
    if isinstance(listing, dict):
        return {k: v for k, v in listing.items() if k.startswith(prefix(learner))}
    return [name for name in listing if isinstance(name, str) and name.startswith(prefix(learner))]


def as_theirs(s: Settings, learner: str, data: Any) -> Any:
    """A worker's answer as the learner set things: without the keys the front put in their configs
    (their login, their offsets topic), so ``plan`` sees no drift and a config read back is theirs."""
    return _without(data, set(connect.client_overrides(s, learner)) | set(class_iceberg.sink_overrides(s, learner)))


def _without(data: Any, keys: set[str]) -> Any:
    if isinstance(data, dict):
        return {k: _without(v, keys) for k, v in data.items() if k not in keys}
    if isinstance(data, list):
        return [_without(v, keys) for v in data]
    return data


def refresh(s: Settings, learners: tuple[str, ...]) -> list[str]:
    """Put what the front adds (:func:`admit`) into every learner's connector again, where it changed
    since (a newer server): a learner's ``plan`` cannot see those keys, so it never would. Returns the
    connectors updated."""
    session, worker, updated = connect.worker_session(s), connect.worker_url(s), []
    for name in connect.connectors(s):
        learner = name.split(".", 1)[0]
        if learner not in learners:
            continue
        current = session.get(f"{worker}/connectors/{quote(name, safe='')}/config", timeout=30).json()  # type: ignore[attr-defined]
        try:
            wanted = admit(s, learner, name, as_theirs(s, learner, current))
        except RefusedError:
            continue  # no longer admissible: left as it is (the instructor sees it in `class status`)
        if wanted != current:
            session.put(f"{worker}/connectors/{quote(name, safe='')}/config", json=wanted, timeout=60)  # type: ignore[attr-defined]
            updated.append(name)
    return updated


def route(s: Settings, learner: str, method: str, path: str, body: bytes) -> tuple[str, bytes | None, bool]:
    """What to send the worker for ``learner``'s request: (path, body, whether to cut the answer to theirs).

    Raises:
        RefusedError: The request is not theirs to make (one line).
    """
    where = urlsplit(path)
    parts = [unquote(p) for p in where.path.split("/") if p]
    if any(p in (".", "..") or "/" in p for p in parts):
        raise RefusedError(403, f"{where.path}: una ruta con . o .. no llega al Kafka Connect de la clase")
    path = "/" + "/".join(quote(p, safe="") for p in parts) + (f"?{where.query}" if where.query else "")  # what the worker gets: these parts
    if method == "GET" and parts in ([], ["connector-plugins"]):
        return path, None, False
    if parts == ["connectors"]:
        if method == "GET":
            return path, None, True
        if method == "POST":
            data = _json(body)
            data = data if isinstance(data, dict) else {}
            name = str(data.get("name", ""))
            return path, json.dumps({"name": name, "config": admit(s, learner, name, data.get("config", {}))}).encode(), False
    if len(parts) >= 2 and parts[0] == "connectors":
        name = parts[1]
        if not name.startswith(prefix(learner)):
            raise not_yours(learner, name)
        if method == "PUT" and parts[2:] == ["config"]:
            return path, json.dumps(admit(s, learner, name, _json(body))).encode(), False
        if method in ("GET", "DELETE") or (method in ("PUT", "POST") and parts[2:] in (["pause"], ["resume"], ["stop"], ["restart"])):
            return path, body or None, False
    raise RefusedError(403, f"{method} {where.path}: en la clase solo puedes ver y cambiar tus conectores")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"{}")
    except ValueError:
        raise RefusedError(400, "el cuerpo de la petición no es JSON") from None


def handler(s: Settings) -> type[BaseHTTPRequestHandler]:
    """The front's request handler for the class whose server settings are ``s``."""
    import requests

    worker = connect.worker_url(s)

    class Front(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass  # no request line in the log: a query could carry something private

        def _answer(self, status: int, data: Any) -> None:
            raw = json.dumps(data, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _handle(self, method: str) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if method == "GET" and self.path == "/health":
                return self._answer(200, {"status": "ok"})
            try:
                if method == "GET" and self.path == "/room":
                    try:
                        return self._answer(200, room_rows(s, self.headers.get("Authorization")))
                    except RefusedError:
                        raise
                    except Exception as exc:  # noqa: BLE001 - an engine of the class that does not answer: one line to the instructor
                        return self._answer(503, {"error_code": 503, "message": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"})
                learner = learner_of(s, self.headers.get("Authorization"))
                if self.path == "/flink" or self.path.startswith("/flink/"):
                    return self._answer(*flink_front.handle(s, learner, method, self.path, body))
                if method == "POST" and self.path == "/iceberg/table":
                    data = _json(body)
                    name = str(data.get("name", "")) if isinstance(data, dict) else ""
                    try:
                        return self._answer(200, {"done": class_iceberg.ensure_table(s, learner, name)})
                    except RefusedError:
                        raise
                    except Exception as exc:  # noqa: BLE001 - the catalog's own errors: one line to the learner
                        return self._answer(409, {"error_code": 409, "message": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"})
                path, payload, cut = route(s, learner, method, self.path, body)
            except RefusedError as refused:
                return self._answer(refused.status, {"error_code": refused.status, "message": str(refused)})
            try:
                answer = connect.worker_session(s).request(method, worker + path, data=payload, timeout=60,  # type: ignore[attr-defined]
                                                           headers={"Content-Type": "application/json"} if payload else {})  # fmt: skip
            except requests.RequestException:
                return self._answer(503, {"error_code": 503, "message": "el Kafka Connect de la clase no responde: avisa al profesor"})
            data = answer.json() if answer.content else None
            self._answer(answer.status_code, as_theirs(s, learner, _own(learner, data) if cut and answer.status_code == 200 else data))

        def do_GET(self) -> None:
            self._handle("GET")

        def do_PUT(self) -> None:
            self._handle("PUT")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

    return Front


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dataops.classroom.front",
                                     description="The class's front: each learner's own connectors and Flink jobs only.")  # fmt: skip
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--worker-port", type=int, required=True)
    parser.add_argument("--broker-port", type=int, required=True)
    parser.add_argument("--simulator-port", type=int, required=True)
    parser.add_argument("--flink-port", type=int, required=True)
    parser.add_argument("--internal-port", type=int, required=True, help="the broker's administrator listener (the room's Kafka column)")
    parser.add_argument("--hub-api-port", type=int, required=True, help="the hub's API (the room's sessions)")
    args = parser.parse_args(argv)
    # The stack hands its components the server's settings as DATAOPS_* variables: a learner's settings
    # read here (their names, their login) must come from their file alone.
    for name in [k for k in os.environ if k.startswith(ENV_PREFIX)]:
        del os.environ[name]
    s = load_settings(profile="local", state_dir=args.state_dir, host=args.host, class_front_port=args.port, class_connect_port=args.worker_port,
                      kafka_class_port=args.broker_port, class_simulator_port=args.simulator_port, class_flink_port=args.flink_port,
                      kafka_class_internal_port=args.internal_port, class_hub_api_port=args.hub_api_port)  # fmt: skip
    server = ThreadingHTTPServer((s.host, s.class_front_port), handler(s))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
