"""``maxbounds constants`` from the command line."""

import json
import subprocess
import sys

import mpmath as mp
import pytest

from maxbounds.cli.main import main
from maxbounds.constants import L, M, S


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


#: Ranks checked against the 20-digit path (about a second per rank and constant): both ends, the small
#: ranks where the integrands change shape fastest, and a spread over the rest of 2..100, so a fault
#: confined to a range of ranks shows.
CHECKED = [(2, 3, 4, 5, 6), (7, 9, 11, 13, 16), (19, 23, 29, 37, 47), (53, 61, 71, 83, 100)]


@pytest.mark.parametrize("ranks", CHECKED, ids=lambda r: f"{r[0]}-{r[-1]}")
def test_json_for_ranks_2_to_100_agrees_with_high_precision(capsys, ranks):
    # The acceptance check of the constants: rows of
    # `maxbounds constants --rank 2-100 --format json` within 1e-12 of an
    # independent 20-digit computation (mpmath, integration in x).
    status, out, _ = run(capsys, "constants", "--rank", "2-100", "--format", "json")
    assert status == 0
    rows = json.loads(out)["rows"]
    assert [row["K"] for row in rows] == list(range(2, 101))
    for row in (rows[K - 2] for K in ranks):
        K = row["K"]
        assert set(row) == {"K", "S", "L", "M", "inv_S", "inv_L", "inv_M"}
        for name, function in (("S", S), ("L", L), ("M", M)):
            exact = function(K, dps=20)
            assert abs(row[name] - exact) <= 1e-12 * exact, (name, K)
            assert abs(row["inv_" + name] - 1 / exact) <= 1e-12 / exact, (name, K)


def test_dps_beyond_double_gives_decimal_strings(capsys):
    status, out, _ = run(capsys, "constants", "--rank", "3", "--dps", "40", "--format", "json")
    row = json.loads(out)["rows"][0]
    decimal = row["decimal"]["M"]  # the number stays a number; the digits are in "decimal"
    assert isinstance(row["M"], float) and isinstance(decimal, str)
    assert len(decimal.replace(".", "").lstrip("0")) == 40
    with mp.workdps(50):
        exact = 1 + mp.sqrt(3) / (2 * mp.pi)
        assert abs(mp.mpf(decimal) - exact) <= mp.mpf(10) ** -39
        assert abs(row["M"] - float(exact)) <= 1e-16 * float(exact)


def test_dps_within_double_gives_numbers(capsys):
    _, out, _ = run(capsys, "constants", "--rank", "2,3", "--dps", "10", "--format", "json")
    rows = json.loads(out)["rows"]
    assert all(isinstance(v, float) for row in rows for k, v in row.items() if k != "K")
    assert not any("decimal" in row for row in rows)


def test_moments_add_columns(capsys):
    _, out, _ = run(capsys, "constants", "--rank", "4", "--moment", "0.5", "3", "--format", "json")
    row = json.loads(out)["rows"][0]
    assert {"S_0.5", "L_0.5", "Mabs_0.5", "S_3", "L_3", "M_3"} <= set(row)


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "latex"])
def test_text_formats(capsys, fmt):
    status, out, _ = run(capsys, "constants", "--rank", "2-4", "--format", fmt)
    assert status == 0
    if fmt == "latex":
        assert out.count("\\toprule") == 1 and "\\bottomrule" in out and "$1/M(K)$" in out
    elif fmt == "csv":
        header, *lines = out.strip().splitlines()
        assert header == "K,S,L,M,inv_S,inv_L,inv_M" and len(lines) == 3
        assert float(lines[0].split(",")[1]) == S(2)
    else:
        assert "inv_M" in out and len(out.strip().splitlines()) == 5


@pytest.mark.parametrize(
    "argv, option",
    [
        (["--rank", "0"], "--rank"),
        (["--rank", "2.5"], "--rank"),
        (["--rank", "5-2"], "--rank"),
        (["--rank", "a-b"], "--rank"),
        (["--rank", str(2**60)], "--rank"),
        (["--moment", "-1"], "--moment"),
        (["--moment", "nan"], "--moment"),
        (["--moment", "1000"], "--moment"),
        (["--format", "xml"], "--format"),
        (["--dps", "0"], "--dps"),
        (["--dps", "100000"], "--dps"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, option):
    # rejected either by the parser (SystemExit) or by the Python API (return value)
    try:
        code = main(["constants", *argv])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and f"argument {option}" in err and "Traceback" not in err


def test_console_script_exit_code_and_stderr():
    result = subprocess.run(
        [sys.executable, "-m", "maxbounds.cli.main", "constants", "--rank", "0"],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert result.stdout == "" and result.stderr.count("\n") == 1


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "latex", "json"])
def test_a_long_range_streams_in_chunks_with_the_same_output(fmt, capsys, monkeypatch):
    """More ranks than one chunk: computed and printed piece by piece, the same table as in one piece."""
    import re

    from maxbounds.cli import constants_cmd

    assert main(["constants", "--rank", "2-12", "--format", fmt]) == 0
    whole = capsys.readouterr().out
    monkeypatch.setattr(constants_cmd, "CHUNK", 4)
    assert main(["constants", "--rank", "2-12", "--format", fmt]) == 0
    pieces = capsys.readouterr().out
    if fmt == "table":  # column widths may differ from piece to piece
        def norm(text):
            return [re.sub(r"\s+", " ", line.strip()) for line in text.splitlines() if not set(line) <= set("- ")]

        assert norm(pieces) == norm(whole)
    else:
        assert pieces == whole
