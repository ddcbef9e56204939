"""Every LaTeX output is a table that compiles: checked structurally always, and with pdflatex where it exists.

The structural check reads each output the way LaTeX would: the column count of
``\\begin{tabular}`` against the cells of every row, ``$`` balanced on every line,
and no special character (``_ ^ # & % ~``) outside math unless escaped.  Lines of
``%`` are comments.
"""

import re
import shutil
import subprocess

import pytest

from maxbounds.cli.main import main

W = ["--widths", "3,4,4,2", "--rank", "3"]
COMMANDS = [
    ["constants", "--rank", "2-5", "--format", "latex"],
    ["constants", "--rank", "3", "--moment", "0.5", "3", "--format", "latex", "--digits", "5"],
    ["constants", "--rank", "2", "--dps", "30", "--format", "latex"],
    ["bounds", "jacobian", *W, "--format", "latex"],
    ["bounds", "jacobian", *W, "--moment", "0.5", "3", "--format", "latex"],
    ["bounds", "gradient", *W, "--format", "latex"],
    ["bounds", "ntk", *W, "--format", "latex"],
    ["bounds", "length", *W, "--format", "latex"],
    ["bounds", "activation", *W, "--format", "latex"],
    ["bounds", "jacobian", *W, "--sweep", "depth=2-4", "--format", "latex"],
    ["regions", "count", "--widths", "2,5,1", "--format", "latex", "--quiet"],
    ["regions", "count", "--widths", "2,5,5,1", "--networks", "3", "--format", "latex", "--quiet"],
]


def _latex(argv, capsys) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def _outside_math(line: str) -> str:
    parts = re.split(r"(?<!\\)\$", line)
    assert len(parts) % 2 == 1, f"unbalanced $ in {line!r}"
    return "".join(parts[::2])


def check_structure(text: str) -> None:
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("%")]
    begin = next(line for line in lines if line.startswith("\\begin{tabular}"))
    columns = len(re.match(r"\\begin\{tabular\}\{([lrc|]+)\}", begin).group(1).replace("|", ""))
    assert lines[-1] == "\\end{tabular}"
    inside = lines[lines.index(begin) + 1:-1]
    for line in inside:
        if line in ("\\toprule", "\\midrule", "\\bottomrule"):
            continue
        assert line.endswith("\\\\"), line
        bare = _outside_math(line[:-2])
        cells = len(re.findall(r"(?<!\\)&", bare)) + 1
        assert cells == columns, (cells, columns, line)
        for char in "_^#%~":
            assert not re.search(r"(?<!\\)" + re.escape(char), bare), (char, line)


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(a[:2]) + " " + " ".join(a[2:])[:40] for a in COMMANDS])
def test_latex_is_a_well_formed_table(argv, capsys):
    check_structure(_latex(argv, capsys))


def test_the_structure_check_sees_the_faults_it_is_for():
    good = "\\begin{tabular}{rr}\n\\toprule\n$K$ & a\\_b \\\\\n\\midrule\n2 & 3 \\\\\n\\bottomrule\n\\end{tabular}"
    check_structure(good)
    for bad in (good.replace("a\\_b", "a_b"), good.replace("2 & 3", "2 & 3 & 4"), good.replace("$K$", "$K"),
                good.replace("a\\_b", "x^2")):
        with pytest.raises(AssertionError):
            check_structure(bad)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed here")
def test_latex_compiles_with_pdflatex(capsys, tmp_path):
    body = "\n\n".join(_latex(argv, capsys) for argv in COMMANDS)
    document = ("\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage{amsmath}\n"
                "\\begin{document}\n" + body + "\n\\end{document}\n")
    (tmp_path / "tables.tex").write_text(document)
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "tables.tex"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:]
