from pathlib import Path

import pytest

import app
import config


def test_environment_overrides_defaults():
    cfg = config.from_env(
        {"CITYLENS_PORT": "9000", "CITYLENS_DATA_DIR": "/tmp/x", "CITYLENS_DEBUG": "1"}
    )
    assert (cfg.port, cfg.data_dir, cfg.debug, cfg.host) == (
        9000,
        Path("/tmp/x"),
        True,
        "127.0.0.1",
    )


def test_bad_environment_value_says_which_variable():
    with pytest.raises(SystemExit, match="CITYLENS_PORT"):
        config.from_env({"CITYLENS_PORT": "eighty"})


def test_command_line_beats_environment(monkeypatch):
    monkeypatch.setenv("CITYLENS_PORT", "9000")
    monkeypatch.setenv("CITYLENS_HOST", "0.0.0.0")
    cfg = app.parse_args(["--port", "8123", "--data-dir", "/tmp/d"])
    assert (cfg.port, cfg.host, cfg.data_dir) == (8123, "0.0.0.0", Path("/tmp/d"))


def test_help_documents_every_setting(capsys):
    with pytest.raises(SystemExit):
        app.parse_args(["--help"])
    out = capsys.readouterr().out
    for name in config.SETTINGS:
        assert config.env_name(name) in out
