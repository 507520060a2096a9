"""A learner's clients of the class's shared engines, through the class's front (:mod:`dataops.classroom.front`):
their token on every request, and the explode job submitted by the front rather than planned here."""

from __future__ import annotations

from typing import Any

import requests

from dataops.classroom.namespace import resolve
from dataops.config import Settings
from dataops.errors import ConfigError, HTTPError, ServiceUnavailableError, StackError
from dataops.flink.layer import FlinkLayer
from dataops.kafka_connect.layer import ConnectLayer
from dataops.iceberg.layer import IcebergLayer


def token_session(settings: Settings) -> requests.Session:
    """A session carrying the learner's class token (``Authorization: Bearer …``)."""
    session = requests.Session()
    token = settings.simulator_token.get_secret_value() if settings.simulator_token else ""
    session.headers["Authorization"] = f"Bearer {token}"
    return session


class Named(dict):
    """A ``{name: …}`` answer that a notebook's course name also finds (``crypto-prices-source`` is ``ana.crypto-prices-source``)."""

    def __init__(self, settings: Settings, data: dict) -> None:
        super().__init__(data)
        self.settings = settings

    def __getitem__(self, name: str) -> Any:
        return super().__getitem__(resolve(self.settings, name))

    def __contains__(self, name: object) -> bool:
        return super().__contains__(resolve(self.settings, name) if isinstance(name, str) else name)

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(resolve(self.settings, name), default)


class ClassConnectLayer(ConnectLayer):
    """The class's Kafka Connect as a learner sees it: through the front, with their token; a connector
    named as the notebooks name it is theirs (:func:`dataops.classroom.namespace.resolve`)."""

    def __init__(self, settings: Settings) -> None:
        token = settings.simulator_token.get_secret_value() if settings.simulator_token else ""
        super().__init__(settings.connect_url, headers={"Authorization": f"Bearer {token}"})
        self.settings = settings

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        parts = path.split("/", 3)  # "", "connectors", name, rest
        if len(parts) >= 3 and parts[1] == "connectors" and parts[2] and not parts[2].startswith("?"):
            name, _, query = parts[2].partition("?")
            parts[2] = resolve(self.settings, name) + (f"?{query}" if query else "")
            path = "/".join(parts)
        return super()._request(method, path, **kwargs)

    def states(self) -> dict[str, list[str]]:
        return Named(self.settings, super().states())


class ClassFlinkLayer(FlinkLayer):
    """The class's Flink as a learner sees it: their own jobs, through the front (``<front>/flink``)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(f"{settings.connect_url}/flink", job_name=settings.flink_job_name, http=token_session(settings))

    def ensure_explode_job(self, settings: Any) -> str:
        """Ask the front to submit this learner's explode job unless it runs (it plans and submits it
        with the names of ``settings``, theirs or a scratch copy's, and their login: a learner sends no
        code); what was done, on one line.

        Raises:
            StackError: The submission failed (the front's one line).
        """
        try:
            names = {"job": settings.flink_job_name, "source": settings.topic_raw, "good": settings.topic_exploded, "dlq": settings.topic_dlq}
            answer = self.http.post(f"{self.url}/dataops/explode", json=names, timeout=300)
        except requests.RequestException:
            raise ServiceUnavailableError("Flink", self.url) from None
        data = answer.json() if answer.content else {}
        if answer.status_code == 200:
            return str(data["done"])
        if answer.status_code in (400, 403):
            raise ConfigError(f"el servidor de la clase no envía ese job: {data.get('message', '?')}", "usa los nombres de tu espacio (los de p.settings)")
        if answer.status_code == 409:
            raise StackError(f"el servidor de la clase no pudo enviar tu job de Flink: {data.get('message', '?')}", "avisa al profesor")
        raise HTTPError("Flink", answer.status_code, "POST", "/dataops/explode", str(data.get("message", ""))[:300])


class ClassIcebergLayer(IcebergLayer):
    """The learner's Iceberg table on the class server: read from their own catalog and warehouse
    (``DATAOPS_ICEBERG_DIR``, readable by them only), made by the front (they cannot write there)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._front = token_session(settings)

    def ensure_table(self, name: str | None = None) -> str:
        """Ask the front to create the learner's table unless it exists; what was done.

        Raises:
            StackError: The front refused or failed (its one line).
        """
        name = name or self.settings.iceberg_table
        try:
            answer = self._front.post(f"{self.settings.connect_url}/iceberg/table", json={"name": name}, timeout=60)
        except requests.RequestException:
            raise ServiceUnavailableError("el servidor de la clase", self.settings.connect_url) from None
        data = answer.json() if answer.content else {}
        if answer.status_code != 200:
            raise StackError(f"el servidor de la clase no creó tu tabla {name}: {data.get('message', answer.status_code)}", "avisa al profesor")
        self._catalog = None  # read the catalog again: the table is new
        return str(data["done"])
