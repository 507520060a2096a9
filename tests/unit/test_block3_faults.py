"""Block 3's fault 1 breaks the setting the profile's source really uses: the simulator's port locally,
the API's URL where the source is the real CoinGecko API (``confluent``)."""

from __future__ import annotations

import pytest

import dataops
from dataops.course import block3

pytestmark = pytest.mark.unit


@pytest.fixture()
def clean_env(tmp_path, monkeypatch):
    for var in [v for v in __import__("os").environ if v.startswith("DATAOPS_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("DATAOPS_ENV_FILE", str(tmp_path / "none.env"))
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(tmp_path / "state"))


@pytest.mark.parametrize("profile, setting", [("local", "DATAOPS_SIMULATOR_PORT=8099"),
                                              ("confluent", "DATAOPS_COINGECKO_URL=http://127.0.0.1:8099/api/v3")])  # fmt: skip
def test_fault_1_mistypes_the_port_the_profiles_source_uses(clean_env, capsys, profile, setting):
    p = dataops.connect(profile=profile)
    wrong = block3.misconfigured(p)
    assert wrong.settings.profile == profile
    assert p.settings.source_api_url != wrong.settings.source_api_url == "http://127.0.0.1:8099/api/v3"
    assert f"como {setting} en .env" in capsys.readouterr().out
