"""The Tableflow-shaped Iceberg REST catalog: the front (:mod:`dataops.iceberg.tableflow`) served in
process before a fake backend that records what reaches it, and the two components' command lines,
files and secrets (:mod:`dataops.iceberg.engine`); nothing of the stack started
(tests/integration/test_tableflow_live.py starts the real server)."""

from __future__ import annotations

import base64
import json
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from dataops import ConfigError, load_settings, toolchain
from dataops.artifacts import OPTIONAL_MAVEN_BUILD, _maven_inputs_digest
from dataops.config import PORTS
from dataops.iceberg import engine, tableflow
from dataops.iceberg.layer import IcebergLayer, tableflow_catalog
from dataops.stack import engines

pytestmark = pytest.mark.unit

CFG = dict(org="0b3c2a9e-1111-2222-3333-444455556666", env="env-ab12c", client_id="KEY0123456789ABC",
           client_secret="s3cret-value", signing_key="k")  # fmt: skip


class Backend(BaseHTTPRequestHandler):
    """Iceberg's REST server, faked: answers every request with 200 and what it saw."""

    seen: list[dict[str, object]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self.seen.append({"method": self.command, "path": self.path, "body": body, "headers": dict(self.headers)})
        config = {"defaults": {}, "overrides": {}, "endpoints": ["POST /v1/{prefix}/namespaces"]}
        out = json.dumps(config if self.path.startswith("/v1/config") else {"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_DELETE = do_HEAD = _answer


def _serve(server: ThreadingHTTPServer) -> str:
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


@pytest.fixture()
def front():
    Backend.seen = []
    backend = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    cfg = tableflow.FrontConfig(**CFG, backend=_serve(backend))
    server = tableflow.make_server(cfg, "127.0.0.1", 0)
    base = _serve(server) + cfg.prefix
    yield base, cfg
    server.shutdown()
    backend.shutdown()
    server.server_close()
    backend.server_close()


def _token(base: str, **form: str) -> requests.Response:
    data = {"grant_type": "client_credentials", "client_id": CFG["client_id"], "client_secret": CFG["client_secret"],
            "scope": "catalog", **form}  # fmt: skip
    return requests.post(f"{base}/v1/oauth/tokens", data=data, timeout=5)


def _bearer(base: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(base).json()['access_token']}"}


# ---- tokens -----------------------------------------------------------------------------------
def test_the_right_pair_gets_a_bearer_token_and_a_wrong_secret_gets_401_invalid_client(front):
    base, _ = front
    ok = _token(base)
    assert ok.status_code == 200 and ok.json()["token_type"] == "bearer" and ok.json()["expires_in"] == 3600
    wrong = _token(base, client_secret="not-it")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert _token(base, client_id="OTHERKEY").status_code == 401
    assert "not-it" not in wrong.text and CFG["client_secret"] not in ok.text


def test_the_pair_may_come_as_http_basic_and_the_scope_must_be_catalog(front):
    base, _ = front
    basic = base64.b64encode(f"{CFG['client_id']}:{CFG['client_secret']}".encode()).decode()
    got = requests.post(f"{base}/v1/oauth/tokens", data={"grant_type": "client_credentials", "scope": "catalog"},
                        headers={"Authorization": f"Basic {basic}"}, timeout=5)  # fmt: skip
    assert got.status_code == 200
    assert _token(base, scope="admin").json()["error"] == "invalid_scope"
    assert _token(base, grant_type="password").json()["error"] == "unsupported_grant_type"


def test_tokens_are_signed_for_the_client_and_expire():
    cfg = tableflow.FrontConfig(**CFG, backend="http://x")
    token = tableflow.issue_token(cfg, now=1000.0)
    assert tableflow.token_valid(cfg, token, now=1000.0)
    assert not tableflow.token_valid(cfg, token, now=1000.0 + tableflow.TOKEN_TTL_S + 1)  # expired
    other = tableflow.FrontConfig(**{**CFG, "signing_key": "another"}, backend="http://x")
    assert not tableflow.token_valid(other, token, now=1000.0)  # another catalog's key
    expiry, scope, sig = token.split(".")
    assert not tableflow.token_valid(cfg, f"{int(expiry) + 99999}.{scope}.{sig}", now=1000.0)  # a longer life, forged
    assert not tableflow.token_valid(cfg, "garbage", now=1000.0)


# ---- reads, writes and the URL shape ----------------------------------------------------------
def test_reads_with_a_token_reach_the_backend_without_the_prefix(front):
    base, _ = front
    got = requests.get(f"{base}/v1/namespaces/lkc-abc12/tables?pageSize=10", headers=_bearer(base), timeout=5)
    assert got.status_code == 200 and got.json() == {"path": "/v1/namespaces/lkc-abc12/tables?pageSize=10"}
    (seen,) = Backend.seen
    assert seen["method"] == "GET" and "Authorization" not in seen["headers"]  # the token stays at the front
    plan = requests.post(f"{base}/v1/namespaces/lkc-abc12/tables/t/plan", json={}, headers=_bearer(base), timeout=5)
    assert plan.status_code == 200 and Backend.seen[-1]["path"] == "/v1/namespaces/lkc-abc12/tables/t/plan"


def test_without_a_valid_token_every_catalog_request_is_401_with_an_iceberg_error(front):
    base, _ = front
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic Zm9vOmJhcg=="}):
        got = requests.get(f"{base}/v1/config", headers=headers, timeout=5)
        assert got.status_code == 401
        assert got.json()["error"] == {"message": "missing or invalid bearer token", "type": "NotAuthorizedException", "code": 401}
    assert Backend.seen == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/namespaces"), ("POST", "/v1/namespaces/lkc-abc12/tables"), ("POST", "/v1/namespaces/lkc-abc12/tables/t"),
     ("DELETE", "/v1/namespaces/lkc-abc12/tables/t"), ("POST", "/v1/transactions/commit"), ("POST", "/v1/tables/rename"),
     ("POST", "/v1/namespaces/lkc-abc12/properties"), ("PUT", "/v1/namespaces/lkc-abc12")],
)  # fmt: skip
def test_writes_from_outside_are_403_and_never_reach_the_backend(front, method, path):
    base, _ = front
    got = requests.request(method, f"{base}{path}", json={"namespace": ["x"]}, headers=_bearer(base), timeout=5)
    assert got.status_code == 403 and got.json()["error"]["type"] == "ForbiddenException"
    assert Backend.seen == []


def test_another_organization_or_environment_is_404(front):
    base, cfg = front
    for path in (tableflow.prefix("other-org", cfg.env), tableflow.prefix(cfg.org, "env-zzzzz"), "/v1", "/iceberg/catalog"):
        got = requests.get(f"{base.split('/iceberg')[0]}{path}/v1/config", headers=_bearer(base), timeout=5)
        assert got.status_code == 404 and got.json()["error"]["type"] == "NotFoundException"
    assert Backend.seen == []


def test_the_config_lists_only_what_an_outside_engine_may_call(front):
    base, _ = front
    backend = {"defaults": {}, "overrides": {}, "endpoints": [
        "POST v1/oauth/tokens", "POST https://auth-server.com/token", "GET v1/config", "GET /v1/{prefix}/namespaces",
        "POST /v1/{prefix}/namespaces", "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
        "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}", "POST /v1/{prefix}/transactions/commit",
        "DELETE /v1/{prefix}/namespaces/{namespace}", "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/plan"]}  # fmt: skip
    kept = json.loads(tableflow.read_only_config(json.dumps(backend).encode()))
    assert kept["endpoints"] == ["POST v1/oauth/tokens", "GET v1/config", "GET /v1/{prefix}/namespaces",
                                 "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
                                 "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/plan"]  # fmt: skip
    assert tableflow.read_only_config(b"not json") == b"not json"
    got = requests.get(f"{base}/v1/config", headers=_bearer(base), timeout=5)
    assert got.json() == {"defaults": {}, "overrides": {}, "endpoints": []}  # the fake backend's one write endpoint dropped


def test_route_is_pure_and_cuts_only_the_prefix():
    cfg = tableflow.FrontConfig(**CFG, backend="http://x")
    auth = f"Bearer {tableflow.issue_token(cfg)}"
    assert tableflow.route(cfg, "GET", cfg.prefix + "/v1/config?warehouse=w", auth) == (200, None, "/v1/config?warehouse=w")
    assert tableflow.route(cfg, "HEAD", cfg.prefix + "/v1/namespaces/n", auth)[2] == "/v1/namespaces/n"
    assert tableflow.route(cfg, "GET", cfg.prefix + "/v1x/config", auth)[0] == 404
    assert tableflow.route(cfg, "POST", cfg.prefix + "/v1/namespaces/n/tables/t/metrics", auth)[0] == 200
    assert tableflow.route(cfg, "POST", cfg.prefix + "/v1/namespaces/n/tables/t", auth)[0] == 403


# ---- the client side (pyiceberg), against the in-process front --------------------------------------
def test_pyiceberg_reaches_the_front_and_a_wrong_secret_is_one_spanish_line(front, tmp_path):
    base, _ = front

    def layer(secret: str) -> IcebergLayer:
        s = load_settings(env_file=tmp_path / "none.env", profile="confluent", tableflow_endpoint=base,
                          tableflow_api_key=CFG["client_id"], tableflow_api_secret=secret)  # fmt: skip
        return IcebergLayer(s, tableflow_catalog)

    catalog = layer(CFG["client_secret"]).catalog()
    assert catalog.name == "tableflow" and Backend.seen[-1]["path"].startswith("/v1/config")
    with pytest.raises(ConfigError) as err:
        layer("wrong").catalog()
    line = str(err.value)
    assert "\n" not in line and "DATAOPS_TABLEFLOW_API_SECRET" in line and "rechazó" in line and "wrong" not in line


# ---- the components -----------------------------------------------------------------------------
@pytest.fixture()
def settings(tmp_path, monkeypatch):
    for var in [v for v in __import__("os").environ if v.startswith("DATAOPS_")]:
        monkeypatch.delenv(var)
    java = toolchain.Java(Path("/opt/jdk/bin/java"), Path("/opt/jdk"), "17.0.15", "system")
    monkeypatch.setattr(toolchain, "require_java", lambda: java)
    monkeypatch.setattr(engine, "install", lambda paths, quiet=False: engine.lib(paths))
    return load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / "state")


def test_ports_groups_and_components(settings):
    assert PORTS["iceberg_rest"] == 8181 and PORTS["tableflow"] == 8182 and len(set(PORTS.values())) == len(PORTS)
    backend, front = engine.components(settings)
    assert (backend.name, backend.ports, backend.optional) == ("iceberg-rest", (8181,), True)
    assert (front.name, front.ports, front.optional) == ("tableflow", (8182,), True)
    assert {"iceberg-rest", "tableflow"} <= set(engines.GROUPS["cloud-fixtures"])
    group = engines.expand(["cloud-fixtures"])
    assert group.index("iceberg-rest") + 1 == group.index("tableflow")  # the catalog before its front


def test_the_backend_listens_on_the_stack_host_with_its_catalog_under_the_state_folder(settings):
    cmd = engine.backend_command(settings, settings.paths)
    assert cmd[0] == "/opt/jdk/bin/java" and engine.MAIN_CLASS in cmd
    assert f"{engine.lib(settings.paths)}/*" in cmd
    args = dict(a.split("=", 1) for a in cmd[cmd.index(engine.MAIN_CLASS) + 1:])
    assert args["rest.host"] == "127.0.0.1" and args["rest.port"] == "8181"
    state = str(settings.paths.root)
    assert args["uri"] == f"jdbc:sqlite:{state}/data/iceberg-rest/catalog.db" and args["warehouse"] == f"file://{state}/data/iceberg-rest/warehouse"


def test_the_front_gets_its_secrets_from_a_private_file_never_its_command_line(settings):
    cmd = engine.front_command(settings, settings.paths)
    assert cmd[1:3] == ["-P", tableflow.__file__] and cmd[cmd.index("--backend") + 1] == "http://127.0.0.1:8181"
    cfg = engine.catalog_config(settings.paths)
    assert cfg["client_secret"] not in " ".join(cmd) and cfg["signing_key"] not in " ".join(cmd)
    for path in (engine.config_file(settings.paths), engine.client_env_file(settings.paths)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert engine.catalog_config(settings.paths) == cfg  # made once, then read back
    assert cfg["cluster"].startswith("lkc-") and cfg["env"].startswith("env-") and len(cfg["client_id"]) == 16
    env = engine.client_env_file(settings.paths).read_text()
    assert f"DATAOPS_TABLEFLOW_ENDPOINT=http://127.0.0.1:8182/iceberg/catalog/organizations/{cfg['org']}/environments/{cfg['env']}\n" in env
    assert f"DATAOPS_TABLEFLOW_API_SECRET={cfg['client_secret']}\n" in env
    again = tableflow.FrontConfig.from_file(engine.config_file(settings.paths), "http://b")
    assert again.prefix == f"/iceberg/catalog/organizations/{cfg['org']}/environments/{cfg['env']}"


def test_the_front_runs_on_the_standard_library_alone():
    """The stack runs it as a script: an import of dataops there would fail (or load the whole library)."""
    import ast

    tree = ast.parse(Path(tableflow.__file__).read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert {m.split(".")[0] for m in imported} <= set(__import__("sys").stdlib_module_names) | {"__future__"}


def test_the_optional_build_does_not_rebuild_the_stack(monkeypatch):
    before = _maven_inputs_digest()
    launcher = next(OPTIONAL_MAVEN_BUILD.glob("src/**/*.java"))
    assert launcher.is_file() and (OPTIONAL_MAVEN_BUILD / "pom.xml").is_file()
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: b"changed" if self == launcher else original(self))
    assert _maven_inputs_digest() == before
    root_pom = (OPTIONAL_MAVEN_BUILD.parents[2] / "pom.xml").read_text()
    assert "lib/stack/iceberg-rest" not in root_pom  # not a module: a plain `up` never fetches it


def test_the_exploded_rows_table_is_the_one_tableflow_names_after_the_topic_unless_set(tmp_path):
    base = dict(profile="confluent", env_file=tmp_path / "none.env", kafka_bootstrap="127.0.0.1:1", kafka_api_key="k",
                kafka_api_secret="s", confluent_cluster_id="lkc-abc12")  # fmt: skip
    assert IcebergLayer(load_settings(**base), tableflow_catalog).table_name == "lkc-abc12.crypto-prices-exploded"
    assert IcebergLayer(load_settings(**base, iceberg_table="mio.tabla"), tableflow_catalog).table_name == "mio.tabla"
    assert IcebergLayer(load_settings(**{**base, "profile": "local"})).table_name == "crypto.crypto_prices_exploded"
