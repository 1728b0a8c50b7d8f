"""Every command of `python -m datasets` explains itself: a help text argparse can print."""

from __future__ import annotations

import argparse

import pytest

from datasets.__main__ import main, parser


def commands() -> list[str]:
    sub = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


def test_the_commands_include_the_evidence_ones():
    assert {"add-intervention", "evaluate", "forecast", "detect-incidents"} <= set(commands())


@pytest.mark.parametrize("command", [None, *commands()])
def test_help_prints(command, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"] if command is None else [command, "--help"])
    assert stop.value.code == 0
    assert "usage:" in capsys.readouterr().out
