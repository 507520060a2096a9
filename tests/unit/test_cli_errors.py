"""The `dataops` command never shows a traceback: every error is one line and a non-zero exit."""

from __future__ import annotations

import pytest

from dataops import cli
from dataops.config import load_settings
from dataops.errors import ConfigError
from dataops.stack import Stack


def test_an_unexpected_error_is_one_line_with_the_log_of_its_traceback(monkeypatch, capsys):
    from dataops.stack import cli as stack_cli

    def boom(args, ctx):
        raise RuntimeError("something nobody foresaw\nsecond line")

    monkeypatch.setattr(stack_cli, "cmd_status", boom)
    assert cli.main(["status"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: RuntimeError inesperado: something nobody foresaw: el traceback está en ")
    assert "\n" not in err and "Traceback" not in err
    log = err.rsplit(" ", 1)[1]
    assert "RuntimeError: something nobody foresaw" in open(log, encoding="utf-8").read()


@pytest.mark.parametrize("speed", ["0", "-2", "fast", "nan", "inf"])
def test_a_replay_speed_that_is_not_positive_is_refused(speed, capsys):
    assert cli.main(["scenario", "api_outage", "--replay", "--speed", speed]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: dataops scenario: argument --speed: ") and err.count("\n") == 1


def test_a_non_utf8_env_file_is_one_line(tmp_path):
    env = tmp_path / ".env"
    env.write_bytes(b"DATAOPS_PROFILE=local\nDATAOPS_COINS=bitcoin,\xe9ther\n")
    with pytest.raises(ConfigError, match=r"\.env línea 2 no es texto UTF-8: guarda .* como UTF-8"):
        load_settings(env_file=env)


def test_down_works_with_a_broken_env_file(tmp_path, monkeypatch, capsys):
    env = tmp_path / ".env"
    env.write_text("this is not KEY=VALUE\n")
    monkeypatch.setenv("DATAOPS_ENV_FILE", str(env))
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(tmp_path / "state"))
    assert cli.main(["down"]) == 0
    assert "stopping with the default settings" in capsys.readouterr().err


def test_up_refuses_a_non_loopback_host_unless_told(tmp_path):
    settings = load_settings(env_file="/nonexistent", state_dir=str(tmp_path / "state"), host="10.1.2.3")
    with pytest.raises(ConfigError, match="no es una dirección de loopback.*DATAOPS_ALLOW_REMOTE_HOST"):
        Stack(settings).up(progress=False)
    assert not (tmp_path / "state").exists()  # refused before anything was written
    Stack(load_settings(env_file="/nonexistent", host="localhost"))._check_host()  # a loopback name is fine
    Stack(load_settings(env_file="/nonexistent", host="10.1.2.3", allow_remote_host=True))._check_host()
