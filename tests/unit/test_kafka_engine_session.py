"""The pipeline's broker fences itself after a sleep unless its session is long, and cannot register
again after a crash while it is: the start picks (``dataops.kafka.engine.session_timeout_ms``)."""

from __future__ import annotations

import pytest

from dataops.kafka.engine import BROKER_SESSION_TIMEOUT_MS, KAFKA_SESSION_TIMEOUT_MS, session_timeout_ms

pytestmark = pytest.mark.unit


def test_a_long_session_unless_the_last_stop_was_a_crash(tmp_path):
    assert session_timeout_ms(tmp_path) == BROKER_SESSION_TIMEOUT_MS  # fresh storage: nobody registered yet
    (tmp_path / "__cluster_metadata-0").mkdir()
    assert session_timeout_ms(tmp_path) == KAFKA_SESSION_TIMEOUT_MS  # killed: its old registration must expire
    (tmp_path / ".kafka_cleanshutdown").write_text("{}")
    assert session_timeout_ms(tmp_path) == BROKER_SESSION_TIMEOUT_MS  # stopped cleanly
