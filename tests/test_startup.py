"""The start-up benchmark runs (its timings are measured, never unit-tested), and the lazy command table is true."""

import json
import subprocess
import sys

import pytest

from maxbounds.cli import main as cli


def test_the_benchmark_script_runs():
    out = subprocess.run([sys.executable, "-m", "benchmarks.startup", "--repeats", "1", "--format", "json"],
                         check=True, capture_output=True, text=True)
    result = json.loads(out.stdout)
    assert set(result["seconds"]) == {"numpy", "help", "constants"} and set(result["ratios"]) == {"help", "constants"}


@pytest.mark.parametrize("name", list(cli.COMMANDS))
def test_the_command_table_matches_each_module(name):
    # the top-level help is declared without importing the modules: it must say what each module says
    assert cli.COMMANDS[name] == cli.command_module(name).HELP


def test_every_command_parses_its_own_options():
    for name in cli.COMMANDS:
        with pytest.raises(SystemExit) as stop:
            cli.main([name, "--help"])
        assert stop.value.code == 0


def test_unknown_command_lists_the_choices(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["colour"])
    assert stop.value.code == 2 and "constants" in capsys.readouterr().err
