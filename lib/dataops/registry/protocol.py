"""What a notebook may call on the Schema Registry layer (``p.schema_registry``, confluent
profile): subjects and their versions, read only."""

from __future__ import annotations

from typing import Protocol

import pandas as pd

__all__ = ["SchemaRegistry"]


class SchemaRegistry(Protocol):
    """Subjects and schemas of a Confluent Schema Registry."""

    def subjects(self) -> pd.DataFrame:
        """One row per subject with its latest version, schema id, type and fields."""
        ...

    def versions(self, subject: str) -> pd.DataFrame:
        """Every version of a subject (schema evolution), oldest first."""
        ...
