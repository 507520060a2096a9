"""Block 5's two live checks judged offline: Practice 5's dashboard (``block5.check_dashboard``) and
Practice 6's drill (``block5.eth_drill``) give ✔ to the right answer and ✘, on the line it is wrong
about, to each known-wrong one (``tests/course/answers.py``: DASHBOARD_WRONG, DRILL_WRONG).

Neither needs the stack here. The dashboard is the real one (``dataops.monitor.dashboard``) over a
metrics store that a feeder thread fills the way the stack's monitor does; ``start_monitoring`` is a
stand-in for ``dataops.start_monitoring`` that builds it so (``dataops.course.offline``, which the
mutation run shares). The drill runs against a pipeline whose
source is a stand-in for the simulator (``spike`` moves ethereum's price and reported 24 h change) and
whose ``metrics()`` are samples of it written to a real store, with the real alert manager, the alert
log and a real local webhook receiver as Slack.
"""

from __future__ import annotations

import itertools
import time

import pandas as pd
import pytest

from dataops import alerts
from dataops.config import load_settings
from dataops.course import block5
from dataops.course.offline import OfflineStarter
from dataops.metrics import MetricsStore, Sample
from dataops.pipeline import Pipeline
from tests.course import answers

pytestmark = pytest.mark.unit


@pytest.fixture()
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(tmp_path / "state"))
    return load_settings(env_file="/nonexistent")


# ---- Practice 5 ----------------------------------------------------------------------------------
@pytest.fixture()
def start_monitoring(settings, tmp_path):
    """The stand-in for ``dataops.start_monitoring``: same arguments, a live dashboard over a fed store."""
    start = OfflineStarter(settings, tmp_path)
    yield start
    start.stop_all()


def _dashboard_answer(code: str, start_monitoring, settings):
    scope = {"start_monitoring": start_monitoring, "p": Pipeline(settings)}
    exec(code, scope)  # noqa: S102 - the answer as a learner types it
    return scope["monitor"]


def test_the_right_dashboard_passes(start_monitoring, settings):
    check = block5.check_dashboard(_dashboard_answer(answers.DASHBOARD_RIGHT, start_monitoring, settings), wait_s=10)
    assert check.passed, str(check)


def test_no_dashboard_yet_is_not_done():
    check = block5.check_dashboard(None)
    assert not check.done and "sin hacer" in str(check)


@pytest.mark.parametrize("case", answers.DASHBOARD_WRONG)
def test_each_known_wrong_dashboard_gets_a_cross_on_the_line_it_is_wrong_about(start_monitoring, settings, case):
    code, line = answers.DASHBOARD_WRONG[case]
    check = block5.check_dashboard(_dashboard_answer(code, start_monitoring, settings), wait_s=3)
    assert check.done and not check.passed, (case, str(check))
    assert any(line in failed for failed in check.failed), (case, line, check.failed)


# ---- Practice 6, live ------------------------------------------------------------------------------
class _Source:
    """The simulator as the drill uses it: ethereum at 3,500 USD, ``spike`` faults on a coin."""

    BASE = {"ethereum": (3500.0, 1.0), "bitcoin": (95000.0, 0.5)}

    def __init__(self) -> None:
        self.faults: dict[int, dict] = {}
        self._ids = itertools.count(1)

    def price(self, coins=None) -> pd.DataFrame:
        return pd.DataFrame([{"coin": c, "price": self.now(c)[0]} for c in (coins or self.BASE)])

    def inject_fault(self, kind: str, duration_s: float = 0.0, **params) -> dict:
        assert kind == "spike", kind
        fault = {"id": next(self._ids), **params}
        self.faults[fault["id"]] = fault
        return fault

    def clear_faults(self, fault_id=None) -> None:
        self.faults.pop(fault_id, None) if fault_id is not None else self.faults.clear()

    def now(self, coin: str) -> tuple[float, float]:
        price, change = self.BASE[coin]
        for f in self.faults.values():
            if f.get("coin") == coin:
                price *= f["factor"]
                change = f.get("change_24h", change + 100.0 * (f["factor"] - 1.0))
        return price, change


class _Pipeline:
    """What ``eth_drill`` reads of the pipeline: settings, the source, and the monitor's metrics."""

    def __init__(self, settings, store: MetricsStore) -> None:
        self.settings, self.source, self.store = settings, _Source(), store

    def metrics(self, metric=None, minutes: float = 15.0) -> pd.DataFrame:
        now = time.time()  # the monitor samples every layer: one sample of each coin now
        self.store.write([Sample(m, v, {"coin": c}, now) for c in _Source.BASE
                          for m, v in zip(("price", "price_change_24h"), self.source.now(c))])  # fmt: skip
        return self.store.query(metric, since=now - minutes * 60)


@pytest.fixture()
def drill(settings, tmp_path):
    slack = alerts.WebhookReceiver()
    p = _Pipeline(settings, MetricsStore(tmp_path / "drill.db"))

    def run(rules: str):
        manager = block5.alert_manager(p, slack, display=False)
        return block5.eth_drill(p, rules, manager, timeout_s=2.0, step_s=0.05)

    yield run
    slack.stop()


def test_the_right_rules_fire_live_reach_slack_and_the_log_and_resolve(drill, settings):
    check = drill(answers.ETH_RULES_RIGHT)
    assert check.passed, str(check)
    assert list(check.table["regla"]) == ["ETH_PRICE_HIGH", "ETH_CRASH"]
    assert check.table["canales"].str.contains("webhook:slack").all()
    assert settings.paths.alert_log.exists() and "ETH_CRASH" in settings.paths.alert_log.read_text()


def test_no_rules_yet_is_not_done(drill):
    check = drill(None)
    assert not check.done and "sin hacer" in str(check)


@pytest.mark.parametrize("case", answers.DRILL_WRONG)
def test_each_known_wrong_rule_set_gets_a_cross_in_the_drill_on_the_line_it_is_wrong_about(drill, case):
    rules, line = answers.DRILL_WRONG[case]
    check = drill(rules)
    assert check.done and not check.passed, (case, str(check))
    assert any(line in failed for failed in check.failed), (case, line, check.failed)
