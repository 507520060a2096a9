"""A local front shaped like Confluent Tableflow's Iceberg REST catalog, before Iceberg's own REST server.

Tableflow serves its catalog at ``…/iceberg/catalog/organizations/<org>/environments/<env>``,
hands out bearer tokens for a Tableflow API key and secret (OAuth2 client credentials, scope
``catalog``) and lets outside engines only read. Iceberg's REST catalog server (the
``iceberg-rest`` component, :mod:`dataops.iceberg.engine`) answers ``/v1/…`` to anyone and lets
anyone write. This server stands between the two:

- ``POST <prefix>/v1/oauth/tokens`` (form ``grant_type=client_credentials``, ``client_id``,
  ``client_secret``, ``scope``; or the pair as HTTP Basic): a signed token for the one client of
  :class:`FrontConfig`, else 401 ``invalid_client`` (OAuth2's error body, as pyiceberg and DuckDB read it).
- Every other ``<prefix>/v1/…`` request needs ``Authorization: Bearer <token>`` (else 401, with
  an Iceberg REST error body); reads (GET, HEAD and the read-only POSTs: scan planning, metrics
  reports) go to the backend with the prefix cut off; writes get 403, read-only as Tableflow's.
  ``/v1/config`` lists only those endpoints (:func:`read_only_config`).
- Any other path: 404.

The backend itself listens on the stack's host only; the project (standing in for Tableflow, which
materializes topics) writes through it directly.

Standard library only: the stack runs this file as a script (``python -P tableflow.py``), without
importing the rest of :mod:`dataops`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import logging
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

logger = logging.getLogger("dataops.iceberg.tableflow")  # the same name when run as a script

SCOPE = "catalog"
TOKEN_TTL_S = 3600
TOKEN_PATH = "/v1/oauth/tokens"
# POSTs that read: scan planning and its tasks, and a client's metrics report (the Java client's).
READ_POSTS = (re.compile(r"^/v1/namespaces/[^/]+/tables/[^/]+/(plan|tasks|metrics)$"),)
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length",
               "authorization", "proxy-authorization", "proxy-connection"}  # fmt: skip


def prefix(org: str, env: str) -> str:
    """Tableflow's path before ``/v1``: ``/iceberg/catalog/organizations/<org>/environments/<env>``."""
    return f"/iceberg/catalog/organizations/{org}/environments/{env}"


@dataclass(frozen=True)
class FrontConfig:
    """What the front needs: where it serves, the one client it accepts, the backend it reads."""

    org: str
    env: str
    client_id: str
    client_secret: str
    signing_key: str
    backend: str  # http://host:port of Iceberg's REST catalog server

    @classmethod
    def from_file(cls, path: Path, backend: str) -> FrontConfig:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["org"], data["env"], data["client_id"], data["client_secret"], data["signing_key"], backend)

    @property
    def prefix(self) -> str:
        return prefix(self.org, self.env)


# ---- tokens ---------------------------------------------------------------------------------
def _sign(key: str, payload: str) -> str:
    return base64.urlsafe_b64encode(hmac.new(key.encode(), payload.encode(), hashlib.sha256).digest()).decode().rstrip("=")


def issue_token(cfg: FrontConfig, now: float | None = None) -> str:
    """A bearer token for the client: ``<expiry>.<scope>.<signature>`` (stateless: a restart keeps it valid)."""
    payload = f"{int((now or time.time()) + TOKEN_TTL_S)}.{SCOPE}"
    return f"{payload}.{_sign(cfg.signing_key, cfg.client_id + '.' + payload)}"


def token_valid(cfg: FrontConfig, token: str, now: float | None = None) -> bool:
    """True for a token :func:`issue_token` made with this key, for this client, not yet expired."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        return False
    payload = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(parts[2], _sign(cfg.signing_key, cfg.client_id + "." + payload)):
        return False
    return parts[1] == SCOPE and int(parts[0]) > (now or time.time())


def client_pair(form: dict[str, str], authorization: str | None) -> tuple[str, str]:
    """The client id and secret of a token request: the form's, else HTTP Basic's."""
    if form.get("client_id") or form.get("client_secret"):
        return form.get("client_id", ""), form.get("client_secret", "")
    if authorization and authorization.lower().startswith("basic "):
        try:
            raw = base64.b64decode(authorization[6:].strip()).decode()
        except (ValueError, UnicodeDecodeError):
            return "", ""
        user, _, password = raw.partition(":")
        return urllib.parse.unquote(user), urllib.parse.unquote(password)
    return "", ""


def grant(cfg: FrontConfig, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, object]]:
    """Answer a token request: (status, JSON body)."""
    if form.get("grant_type") != "client_credentials":
        return 400, {"error": "unsupported_grant_type", "error_description": "only client_credentials"}
    scopes = form.get("scope", SCOPE).split()
    if SCOPE not in scopes:
        return 400, {"error": "invalid_scope", "error_description": f"scope must be {SCOPE}"}
    client_id, secret = client_pair(form, authorization)
    ok_id = hmac.compare_digest(client_id.encode(), cfg.client_id.encode())
    ok_secret = hmac.compare_digest(secret.encode(), cfg.client_secret.encode())
    if not (ok_id and ok_secret):
        return 401, {"error": "invalid_client", "error_description": "invalid client id or secret"}
    return 200, {"access_token": issue_token(cfg), "token_type": "bearer", "expires_in": TOKEN_TTL_S,
                 "issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "scope": SCOPE}  # fmt: skip


# ---- routing --------------------------------------------------------------------------------
def iceberg_error(code: int, kind: str, message: str) -> dict[str, object]:
    """The Iceberg REST catalog's error body."""
    return {"error": {"message": message, "type": kind, "code": code}}


def backend_path(cfg: FrontConfig, path: str) -> str | None:
    """``/v1/…`` for a request under the catalog's prefix (query kept), else None."""
    if not path.startswith(cfg.prefix + "/v1/") and path.split("?", 1)[0] != cfg.prefix + "/v1":
        return None
    return path[len(cfg.prefix):]


def is_read(method: str, path: str) -> bool:
    """True for the requests an outside engine may make (``path`` as the backend sees it)."""
    if method in ("GET", "HEAD"):
        return True
    bare = path.split("?", 1)[0]
    return method == "POST" and any(p.match(bare) for p in READ_POSTS)


def read_only_config(body: bytes) -> bytes:
    """The backend's ``/v1/config`` answer with only the endpoints an outside engine may use (reads
    and the token endpoint), so a client learns the catalog is read-only before it tries to write."""
    try:
        config = json.loads(body)
    except ValueError:
        return body
    if not isinstance(config, dict) or not isinstance(config.get("endpoints"), list):
        return body
    kept = []
    for entry in config["endpoints"]:
        method, _, path = str(entry).partition(" ")
        if path.startswith("http"):
            continue  # the fixture's example of an outside token server
        if path.lstrip("/") == TOKEN_PATH.lstrip("/") or method in ("GET", "HEAD") or (
            method == "POST" and path.rsplit("/", 1)[-1] in ("plan", "tasks", "metrics")
        ):
            kept.append(entry)
    return json.dumps({**config, "endpoints": kept}).encode()


def route(cfg: FrontConfig, method: str, path: str, authorization: str | None) -> tuple[int, dict[str, object] | None, str | None]:
    """Decide a catalog request: (status, error body, backend path). A backend path means "forward it"."""
    target = backend_path(cfg, path)
    if target is None:
        return 404, iceberg_error(404, "NotFoundException", f"no catalog at {path.split('?', 1)[0]}"), None
    token = authorization[7:].strip() if authorization and authorization.lower().startswith("bearer ") else ""
    if not token or not token_valid(cfg, token):
        return 401, iceberg_error(401, "NotAuthorizedException", "missing or invalid bearer token"), None
    if not is_read(method, target):
        return 403, iceberg_error(403, "ForbiddenException", "the catalog is read-only for external engines"), None
    return 200, None, target


class Handler(BaseHTTPRequestHandler):
    server_version = "dataops-tableflow/1"
    protocol_version = "HTTP/1.1"
    cfg: FrontConfig  # set on the subclass by make_server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - BaseHTTPRequestHandler's signature
        logger.info("%s %s", self.address_string(), format % args)  # no headers: no token or secret in the log

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {"Content-Type": "application/json"}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, body: dict[str, object]) -> None:
        self._send(status, json.dumps(body).encode())

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        body = self._body()
        if self.command == "POST" and self.path.split("?", 1)[0] == self.cfg.prefix + TOKEN_PATH:
            form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(errors="replace")).items()}
            status, answer = grant(self.cfg, form, self.headers.get("Authorization"))
            self._json(status, answer)
            return
        status, error, target = route(self.cfg, self.command, self.path, self.headers.get("Authorization"))
        if target is None:
            self._json(status, error or {})
            return
        self._forward(target, body)

    def _forward(self, target: str, body: bytes) -> None:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS and k.lower() != "accept-encoding"}
        request = urllib.request.Request(self.cfg.backend + target, data=body or None, headers=headers, method=self.command)
        try:
            with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310 - the backend's http URL
                status, data, resp_headers = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as exc:
            status, data, resp_headers = exc.code, exc.read(), exc.headers
        except OSError as exc:
            self._json(503, iceberg_error(503, "ServiceUnavailableException", f"catalog backend unreachable: {exc}"))
            return
        keep = {k: v for k, v in resp_headers.items() if k.lower() not in HOP_HEADERS}
        if status == 200 and target.split("?", 1)[0] == "/v1/config":
            data = read_only_config(data)
        self._send(status, data, keep)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


def make_server(cfg: FrontConfig, host: str, port: int) -> ThreadingHTTPServer:
    """The front, bound but not yet serving (``serve_forever`` it, in a thread for tests)."""
    handler = type("BoundHandler", (Handler,), {"cfg": cfg})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    """``python -P tableflow.py --host H --port P --backend URL --config FILE``."""
    parser = argparse.ArgumentParser(prog="dataops.iceberg.tableflow", description="Tableflow-shaped front of an Iceberg REST catalog")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", required=True, help="http://host:port of the Iceberg REST catalog server")
    parser.add_argument("--config", type=Path, required=True, help="the JSON file with org, env, client_id, client_secret, signing_key")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(levelname)s %(message)s", stream=sys.stdout)
    cfg = FrontConfig.from_file(args.config, args.backend.rstrip("/"))
    server = make_server(cfg, args.host, args.port)
    logger.info("Tableflow-shaped catalog on http://%s:%s%s", args.host, args.port, cfg.prefix)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
