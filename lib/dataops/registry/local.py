"""Where the local Schema Registry (``dataops up --with schema-registry``) is and which key opens it.

The component (:mod:`dataops.stack.schema_registry`) writes the key and secret it starts with to
the state folder (``<state>/schema-registry/credentials.json``, mode 600); the layer reads them
back, so a notebook of the ``local`` profile reaches the registry with no setting. The settings'
``DATAOPS_SCHEMA_REGISTRY_API_KEY``/``SECRET`` win when set (the component starts with them too).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from pydantic import SecretStr

from dataops.config import Settings
from dataops.paths import StatePaths, write_private

DEFAULT_KEY = "dataops"


@dataclass(frozen=True)
class Endpoint:
    """A Schema Registry's API base URL and its Basic-auth pair (the secret masked in any repr)."""

    url: str
    key: str | None = None
    secret: SecretStr | None = None

    @property
    def auth(self) -> tuple[str, str] | None:
        return (self.key, self.secret.get_secret_value()) if self.key and self.secret else None


def local_url(settings: Settings) -> str:
    """The local registry's Confluent-compatible API (Apicurio serves it under ``/apis/ccompat/v7``)."""
    return f"http://{settings.host}:{settings.schema_registry_port}/apis/ccompat/v7"


def read_credentials(paths: StatePaths) -> tuple[str, SecretStr] | None:
    """The key and secret the local registry was started with, or None when it never was."""
    try:
        data = json.loads(paths.schema_registry_credentials.read_text(encoding="utf-8"))
        return str(data["key"]), SecretStr(str(data["secret"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def credentials(settings: Settings) -> tuple[str, SecretStr]:
    """The pair the local registry starts with, written to the state folder (mode 600).

    The settings' key and secret when both are set; else the pair kept from an earlier start;
    else key ``dataops`` and a fresh random secret.
    """
    if settings.schema_registry_api_key is not None and settings.schema_registry_api_secret is not None:
        pair = (settings.schema_registry_api_key.get_secret_value(), settings.schema_registry_api_secret)
    else:
        pair = read_credentials(settings.paths) or (DEFAULT_KEY, SecretStr(secrets.token_urlsafe(24)))
    write_private(settings.paths.schema_registry_credentials, json.dumps({"key": pair[0], "secret": pair[1].get_secret_value()}))
    return pair


def endpoint(settings: Settings) -> Endpoint | None:
    """The registry the layer talks to: ``DATAOPS_SCHEMA_REGISTRY_URL`` with the settings' pair when
    set; else, in a profile that runs the stack, the local registry once it has been started; else None."""
    s = settings
    if s.schema_registry_url:
        key = s.schema_registry_api_key.get_secret_value() if s.schema_registry_api_key is not None else None
        return Endpoint(str(s.schema_registry_url).rstrip("/"), key, s.schema_registry_api_secret)
    if not s.runs.runs_stack:
        return None
    saved = read_credentials(s.paths)
    if saved is None:
        return None
    key = s.schema_registry_api_key.get_secret_value() if s.schema_registry_api_key is not None else saved[0]
    return Endpoint(local_url(s), key, s.schema_registry_api_secret or saved[1])
