"""The Connect client waits out a rebalance (409, or 500 "a rebalance is expected") instead of failing `up`."""

from __future__ import annotations

import pytest
import requests

from dataops.errors import HTTPError
from dataops.kafka_connect import layer as connect_layer
from dataops.kafka_connect.layer import ConnectLayer

pytestmark = pytest.mark.unit


class _Answer:
    def __init__(self, status: int, body: dict) -> None:
        self.status_code, self._body = status, body
        self.content = b"x"
        self.text = str(body)

    def json(self) -> dict:
        return self._body


def _serve(monkeypatch, answers: list[_Answer]) -> list[str]:
    calls: list[str] = []

    def fake(method, url, timeout, **kwargs):
        calls.append(f"{method} {url}")
        return answers.pop(0) if len(answers) > 1 else answers[0]

    monkeypatch.setattr(requests, "request", fake)
    monkeypatch.setattr(connect_layer.time, "sleep", lambda s: None)
    return calls


def test_a_rebalance_is_waited_out(monkeypatch):
    calls = _serve(monkeypatch, [_Answer(500, {"message": "Request cannot be completed because a rebalance is expected"}),
                                 _Answer(409, {"message": "Cannot complete request momentarily due to stale configuration"}),
                                 _Answer(200, {"connector.class": "x"})])  # fmt: skip
    assert ConnectLayer("http://127.0.0.1:1").config("c") == {"connector.class": "x"}
    assert len(calls) == 3


def test_other_errors_are_not_retried(monkeypatch):
    calls = _serve(monkeypatch, [_Answer(500, {"message": "Connector configuration is invalid"})])
    with pytest.raises(HTTPError, match="500") as err:
        ConnectLayer("http://127.0.0.1:1").put_config("c", {})
    assert err.value.status == 500 and len(calls) == 1


def test_a_rebalance_that_never_ends_is_one_error(monkeypatch):
    clock = iter(range(0, 10_000, 7))
    monkeypatch.setattr(connect_layer.time, "monotonic", lambda: float(next(clock)))
    calls = _serve(monkeypatch, [_Answer(409, {"message": "rebalance in progress"})])
    with pytest.raises(HTTPError, match="409"):
        ConnectLayer("http://127.0.0.1:1", rebalance_wait_s=60).status("c")
    assert 2 <= len(calls) <= 10
