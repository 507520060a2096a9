"""Maintenance's log: a metadata file the other writer already deleted is not a warning."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import dataops.iceberg.maintenance  # noqa: F401  (installs the filter)

pytestmark = pytest.mark.unit


def warned(caplog: pytest.LogCaptureFixture, message: str) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pyiceberg.catalog"):
        logging.getLogger("pyiceberg.catalog").warning(message)
    return [r.getMessage() for r in caplog.records]


def test_a_metadata_file_already_gone_is_not_a_warning_but_one_still_there_is(tmp_path: Path, caplog) -> None:
    gone = tmp_path / "00001-a b.metadata.json"
    there = tmp_path / "00002-c.metadata.json"
    there.write_text("{}")
    assert warned(caplog, f"Failed to delete metadata file {gone.as_uri()}") == []
    assert warned(caplog, f"Failed to delete metadata file {there.as_uri()}") == [f"Failed to delete metadata file {there.as_uri()}"]
    assert warned(caplog, "Failed to delete data file x.parquet") == ["Failed to delete data file x.parquet"]
