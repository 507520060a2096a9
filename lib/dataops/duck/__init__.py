"""The DuckDB layer: the Iceberg table queryable by name (:mod:`.layer`)."""

from typing import TYPE_CHECKING, Any

from dataops.duck.protocol import Duck

if TYPE_CHECKING:
    from dataops.duck.layer import DuckLayer

__all__ = ["Duck", "DuckLayer"]


def __getattr__(name: str) -> Any:
    """``DuckLayer`` on first use: importing the protocol (as the Pipeline does) loads no duckdb."""
    if name == "DuckLayer":
        from dataops.duck.layer import DuckLayer

        return DuckLayer
    raise AttributeError(f"el módulo {__name__!r} no tiene el atributo {name!r}")
