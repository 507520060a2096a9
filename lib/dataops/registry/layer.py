"""Schema Registry layer: subjects, their schemas and compatibility over Confluent's REST API.

It talks to ``DATAOPS_SCHEMA_REGISTRY_URL`` (Confluent Cloud's registry in the ``confluent``
profile) or, in the ``local`` profile, to the local registry once ``dataops up --with
schema-registry`` has started it (:mod:`dataops.registry.local`: its address and key come from
the state folder). The local pipeline itself writes JSON without a registry: with neither, every
call says so in one line.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import quote

import pandas as pd
import requests

from dataops.config import Settings
from dataops.errors import ConfigError, DataOpsError, HTTPError, SchemaRejectedError, ServiceUnavailableError, UndecodableError
from dataops.protocols import action
from dataops.registry.local import Endpoint, endpoint

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
LEVELS = ("BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE")


def _schema_text(schema: Mapping[str, Any] | str) -> str:
    return schema if isinstance(schema, str) else json.dumps(schema)


def _verdict(resp: requests.Response) -> str:
    """The registry's reason, without the Java exception's class name Apicurio puts first."""
    try:
        message = str(resp.json().get("message", "")) or resp.text
    except ValueError:
        message = resp.text
    head, sep, rest = message.partition("Exception: ")
    return (rest if sep and " " not in head.strip() else message).strip()[:400]


class SchemaRegistryLayer:
    """Subjects, versions and compatibility of a Confluent-compatible Schema Registry.

    Args:
        settings: The loaded settings (``schema_registry_url`` and its API key/secret, or the
            local registry's state folder).
    """

    def __init__(self, settings: Settings, timeout: float = 10.0) -> None:
        self.settings = settings
        self.timeout = timeout

    def endpoint(self) -> Endpoint:
        """Where the registry is and its login (one line when there is none to reach)."""
        s = self.settings
        found = endpoint(s)
        if found is not None:
            return found
        if s.runs.runs_stack:
            raise ConfigError(
                "el pipeline local no tiene Schema Registry (sus tópicos llevan JSON sin esquema)",
                "arranca el registro local con `dataops up schema-registry` (o `--with cloud-fixtures`), "
                "o define DATAOPS_SCHEMA_REGISTRY_URL",
            )
        s.require("schema_registry_url")  # raises: it is not set
        raise ConfigError("DATAOPS_SCHEMA_REGISTRY_URL no está definida", "añádela a .env")  # pragma: no cover

    def _call(self, method: str, path: str, body: Any = None, ok_404: bool = False) -> requests.Response:
        where = self.endpoint()
        try:
            resp = requests.request(method, f"{where.url}{path}", auth=where.auth, timeout=self.timeout,
                                    headers={"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE},
                                    data=None if body is None else json.dumps(body))  # fmt: skip
        except requests.RequestException:
            raise ServiceUnavailableError(
                "Schema Registry", where.url, "arráncalo con `dataops up schema-registry`, o revisa DATAOPS_SCHEMA_REGISTRY_URL y la red"
            ) from None
        if resp.status_code == 401:
            raise ConfigError("el Schema Registry rechazó la clave y el secreto (401)", "revisa DATAOPS_SCHEMA_REGISTRY_API_KEY/SECRET")
        if resp.status_code == 403:
            raise ConfigError("el Schema Registry no deja a esta clave hacer eso (403)", "usa una clave con permiso sobre ese sujeto")
        if resp.status_code == 404 and not ok_404:
            subject = path.split("/")[2] if path.startswith(("/subjects/", "/config/")) and path.count("/") > 1 else path
            raise DataOpsError(f"el Schema Registry no tiene el sujeto {subject}", "lista los sujetos con p.schema_registry.subjects()")
        if resp.status_code >= 400 and resp.status_code not in (404, 409, 422):
            raise HTTPError("Schema Registry", resp.status_code, method, path, resp.text[:200])
        return resp

    def _get(self, path: str) -> Any:
        return self._call("GET", path).json()

    @staticmethod
    def _subject(subject: str) -> str:
        return quote(subject, safe="")

    # ---- read ----------------------------------------------------------------------------------
    def subjects(self) -> pd.DataFrame:
        """One row per subject with its latest version, schema id and type."""
        rows = [self._latest_row(subject) for subject in sorted(self._get("/subjects"))]
        return pd.DataFrame(rows, columns=["subject", "version", "id", "type", "fields"])

    def _latest_row(self, subject: str) -> dict[str, Any]:
        latest = self._get(f"/subjects/{self._subject(subject)}/versions/latest")
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
        for version in self._get(f"/subjects/{self._subject(subject)}/versions"):
            item = self._get(f"/subjects/{self._subject(subject)}/versions/{version}")
            rows.append({"subject": subject, "version": version, "id": item["id"], "schema": item["schema"]})
        return pd.DataFrame(rows, columns=["subject", "version", "id", "schema"])

    def schema(self, schema_id: int) -> dict[str, Any]:
        """The schema registered with ``schema_id`` (what a message in the wire format names), parsed.

        Raises:
            UndecodableError: No schema has that id here (one line: a message from another registry?).
        """
        resp = self._call("GET", f"/schemas/ids/{int(schema_id)}", ok_404=True)
        if resp.status_code == 404:
            raise UndecodableError(f"el Schema Registry no tiene ningún esquema con id {schema_id}",
                               "el mensaje se escribió con otro registro: revisa DATAOPS_SCHEMA_REGISTRY_URL")  # fmt: skip
        parsed: dict[str, Any] = json.loads(resp.json()["schema"])
        return parsed

    def compatibility(self, subject: str | None = None) -> str:
        """The compatibility level (``BACKWARD``, ``FULL``, …): the global one, or the one that
        applies to ``subject`` (its own, else the global)."""
        if subject is None:
            data = self._get("/config")
        else:
            resp = self._call("GET", f"/config/{self._subject(subject)}?defaultToGlobal=true", ok_404=True)
            data = resp.json() if resp.status_code == 200 else self._get("/config")  # Confluent: 40408, no level of its own
        return str(data.get("compatibilityLevel") or data.get("compatibility"))

    def test_compatibility(self, subject: str, schema: Mapping[str, Any] | str, schema_type: str = "AVRO") -> dict[str, Any]:
        """Whether ``schema`` would be accepted as the next version of ``subject``, registering nothing.

        Returns:
            ``{"compatible": bool, "level": the level applied, "messages": the registry's reasons}``
            (a subject with no version yet accepts any valid schema).
        """
        body = {"schema": _schema_text(schema), "schemaType": schema_type}
        resp = self._call("POST", f"/compatibility/subjects/{self._subject(subject)}/versions/latest?verbose=true", body, ok_404=True)
        level = self.compatibility(subject)
        if resp.status_code == 404:
            return {"compatible": True, "level": level, "messages": ["el sujeto no tiene versiones: cualquier esquema válido es compatible"]}
        if resp.status_code == 422:
            return {"compatible": False, "level": level, "messages": [_verdict(resp)]}
        data = resp.json()
        return {"compatible": bool(data.get("is_compatible")), "level": level, "messages": list(data.get("messages") or [])}

    # ---- change --------------------------------------------------------------------------------
    @action
    def register(self, subject: str, schema: Mapping[str, Any] | str, schema_type: str = "AVRO") -> int:
        """Register ``schema`` (a dict or its JSON text) as the next version of ``subject``.

        Returns:
            The schema's id (the same id when that very schema is already registered).

        Raises:
            SchemaRejectedError: The registry refused it (incompatible with the subject's rule,
                or invalid), with the registry's own verdict.
        """
        body = {"schema": _schema_text(schema), "schemaType": schema_type}
        resp = self._call("POST", f"/subjects/{self._subject(subject)}/versions", body, ok_404=True)
        if resp.status_code in (404, 409, 422):
            raise SchemaRejectedError(subject, _verdict(resp), resp.status_code,
                                      f"compruébalo antes con p.schema_registry.test_compatibility({subject!r}, esquema)")  # fmt: skip
        return int(resp.json()["id"])

    @action
    def put_compatibility(self, level: str, subject: str | None = None) -> str:
        """Set the compatibility level, global or of one ``subject``; returns the level now set.

        Raises:
            ConfigError: ``level`` is none of :data:`LEVELS`.
        """
        if level.upper() not in LEVELS:
            raise ConfigError(f"nivel de compatibilidad desconocido: {level!r}", f"usa uno de {', '.join(LEVELS)}")
        path = "/config" if subject is None else f"/config/{self._subject(subject)}"
        data = self._call("PUT", path, {"compatibility": level.upper()}).json()
        return str(data.get("compatibility") or data.get("compatibilityLevel"))


if TYPE_CHECKING:  # mypy checks the class against the protocol the Pipeline returns it as
    from dataops.registry.protocol import SchemaRegistry

    _CHECKED: type[SchemaRegistry] = SchemaRegistryLayer
