"""Schema Registry layer (``confluent`` profile): subjects and their schemas over the REST API.

The local pipeline writes JSON without a registry, so in the ``local`` profile every
call says so in one line.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd
import requests

from dataops.config import Settings
from dataops.errors import ConfigError, DataOpsError, HTTPError, ServiceUnavailableError


class SchemaRegistryLayer:
    """Reads subjects and schemas from a Confluent Schema Registry.

    Args:
        settings: The loaded settings (``schema_registry_url`` and its API key/secret).
    """

    def __init__(self, settings: Settings, timeout: float = 10.0) -> None:
        self.settings = settings
        self.timeout = timeout

    def _get(self, path: str) -> Any:
        s = self.settings
        if "schema_registry" not in s.runs.layers and not s.schema_registry_url:
            raise ConfigError(
                "el pipeline local no tiene Schema Registry (sus topics llevan JSON sin esquema)",
                "pon DATAOPS_PROFILE=confluent y DATAOPS_SCHEMA_REGISTRY_URL para inspeccionar uno",
            )
        s.require("schema_registry_url")
        auth = None
        if s.schema_registry_api_key is not None:
            s.require("schema_registry_api_secret")
            auth = (s.schema_registry_api_key.get_secret_value(), s.schema_registry_api_secret.get_secret_value())  # type: ignore[union-attr]
        url = str(s.schema_registry_url).rstrip("/")
        try:
            resp = requests.get(f"{url}{path}", auth=auth, timeout=self.timeout)
        except requests.RequestException:
            raise ServiceUnavailableError("Schema Registry", url, "revisa DATAOPS_SCHEMA_REGISTRY_URL y la red") from None
        if resp.status_code == 401:
            raise ConfigError("Schema Registry rechazó las credenciales", "revisa DATAOPS_SCHEMA_REGISTRY_API_KEY/SECRET")
        if resp.status_code == 404:
            raise DataOpsError(f"Schema Registry no tiene {path.split('/')[2] if path.count('/') > 1 else path}", "lístalos con `subjects()`")
        if resp.status_code >= 400:
            raise HTTPError("Schema Registry", resp.status_code, "GET", path, resp.text[:200])
        return resp.json()

    def subjects(self) -> pd.DataFrame:
        """One row per subject with its latest version, schema id and type."""
        rows = [self._latest_row(subject) for subject in sorted(self._get("/subjects"))]
        return pd.DataFrame(rows, columns=["subject", "version", "id", "type", "fields"])

    def _latest_row(self, subject: str) -> dict[str, Any]:
        latest = self._get(f"/subjects/{subject}/versions/latest")
        kind = latest.get("schemaType", "AVRO")
        try:
            parsed = json.loads(latest["schema"])
            fields = [f["name"] for f in parsed.get("fields", [])] or sorted(parsed.get("properties", {}))
        except (ValueError, AttributeError, TypeError):
            fields = []
        return {"subject": subject, "version": latest["version"], "id": latest["id"], "type": kind, "fields": fields}

    def versions(self, subject: str) -> pd.DataFrame:
        """Every version of a subject (schema evolution), oldest first."""
        rows = []
        for version in self._get(f"/subjects/{subject}/versions"):
            item = self._get(f"/subjects/{subject}/versions/{version}")
            rows.append({"subject": subject, "version": version, "id": item["id"], "schema": item["schema"]})
        return pd.DataFrame(rows, columns=["subject", "version", "id", "schema"])


if TYPE_CHECKING:  # mypy checks the class against the protocol the Pipeline returns it as
    from dataops.registry.protocol import SchemaRegistry

    _CHECKED: type[SchemaRegistry] = SchemaRegistryLayer
