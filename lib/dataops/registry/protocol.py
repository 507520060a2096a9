"""What a notebook may call on the Schema Registry layer (``p.schema_registry``): subjects, their
versions and compatibility; registering a schema and setting a level are the two changes."""

from __future__ import annotations

from typing import Any, Mapping, Protocol

import pandas as pd

from dataops.protocols import action

__all__ = ["SchemaRegistry"]


class SchemaRegistry(Protocol):
    """Subjects and schemas of a Confluent-compatible Schema Registry."""

    def subjects(self) -> pd.DataFrame:
        """One row per subject with its latest version, schema id, type and fields."""
        ...

    def versions(self, subject: str) -> pd.DataFrame:
        """Every version of a subject (schema evolution), oldest first."""
        ...

    def schema(self, schema_id: int) -> dict[str, Any]:
        """The schema registered with ``schema_id`` (what a message in the wire format names), parsed."""
        ...

    def compatibility(self, subject: str | None = None) -> str:
        """The compatibility level, global or the one that applies to ``subject``."""
        ...

    def test_compatibility(self, subject: str, schema: Mapping[str, Any] | str, schema_type: str = "AVRO") -> dict[str, Any]:
        """Whether ``schema`` would be accepted as ``subject``'s next version (the registry's verdict); registers nothing."""
        ...

    @action
    def register(self, subject: str, schema: Mapping[str, Any] | str, schema_type: str = "AVRO") -> int:
        """Register ``schema`` as ``subject``'s next version; its id. Refused: :class:`~dataops.errors.SchemaRejectedError`."""
        ...

    @action
    def put_compatibility(self, level: str, subject: str | None = None) -> str:
        """Set the compatibility level, global or of one ``subject``."""
        ...
