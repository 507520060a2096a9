"""Schema Registry inspection against a small HTTP server speaking its REST API (the real one,
Apicurio Registry, runs in tests/integration/test_schema_registry_live.py)."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dataops import ConfigError, DataOpsError, load_settings
from dataops.registry.layer import SchemaRegistryLayer

pytestmark = pytest.mark.unit

SCHEMA = {"type": "record", "name": "price", "fields": [{"name": "coin_id", "type": "string"}, {"name": "usd", "type": "double"}]}
VERSIONS = {1: {"subject": "crypto-prices-value", "version": 1, "id": 7, "schema": json.dumps(SCHEMA)}}


class _Registry(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        expected = "Basic " + base64.b64encode(b"KEY:SECRET").decode()
        if self.headers.get("Authorization") != expected:
            return self._send(401, {"error_code": 401})
        routes = {
            "/subjects": ["crypto-prices-value"],
            "/subjects/crypto-prices-value/versions": [1],
            "/subjects/crypto-prices-value/versions/1": VERSIONS[1],
            "/subjects/crypto-prices-value/versions/latest": VERSIONS[1],
        }
        if self.path in routes:
            return self._send(200, routes[self.path])
        return self._send(404, {"error_code": 40401})

    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture()
def registry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _settings(tmp_path, **kw):
    return load_settings(env_file=tmp_path / "none.env", profile="confluent", **kw)


def test_subjects_and_versions(registry, tmp_path):
    sr = SchemaRegistryLayer(_settings(tmp_path, schema_registry_url=registry, schema_registry_api_key="KEY", schema_registry_api_secret="SECRET"))
    subjects = sr.subjects()
    assert subjects.to_dict("records") == [{"subject": "crypto-prices-value", "version": 1, "id": 7, "type": "AVRO", "fields": ["coin_id", "usd"]}]
    assert list(sr.versions("crypto-prices-value")["id"]) == [7]
    with pytest.raises(DataOpsError, match="no tiene el sujeto nope"):
        sr.versions("nope")


def test_wrong_credentials_and_missing_settings_are_one_line(registry, tmp_path):
    bad = SchemaRegistryLayer(_settings(tmp_path, schema_registry_url=registry, schema_registry_api_key="KEY", schema_registry_api_secret="WRONG"))
    with pytest.raises(ConfigError, match="rechazó la clave y el secreto"):
        bad.subjects()
    with pytest.raises(ConfigError, match="DATAOPS_SCHEMA_REGISTRY_URL no está definida"):
        SchemaRegistryLayer(_settings(tmp_path)).subjects()
    with pytest.raises(ConfigError, match="el pipeline local no tiene Schema Registry.*dataops up schema-registry") as local:
        SchemaRegistryLayer(load_settings(env_file=tmp_path / "none.env", state_dir=tmp_path / "state")).subjects()
    assert "\n" not in str(local.value)
