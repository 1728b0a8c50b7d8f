"""The README is part of the product: its configuration table and commands must stay true."""

from pathlib import Path

import config

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_in_the_readme():
    missing = [
        config.env_name(name) for name in config.SETTINGS if config.env_name(name) not in README
    ]
    assert missing == []


def test_quick_start_gives_the_two_commands_ci_runs():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "./dev run" in README and "./dev test" in README
    assert "./dev test" in ci
