"""Every LaTeX output is a table that compiles: checked structurally always, and with pdflatex where it exists.

The structural check reads each output the way LaTeX would: the column count of
``\\begin{tabular}`` against the cells of every row, ``$`` balanced on every line,
and no special character (``_ ^ # & % ~``) outside math unless escaped.  Lines of
``%`` are comments.
"""

import re
import shutil

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
    ["bounds", "jacobian", *W, "--relu", "--format", "latex"],
    ["bounds", "jacobian", *W, "--sweep", "c=0.5,1/M", "--format", "latex"],
    ["bounds", "jacobian", "--widths", "10,10x10000,10", "--rank", "3", "--format", "latex"],
    ["bounds", "gradient", *W, "--input", "0,0,0", "--format", "latex"],
    ["bounds", "regions", *W, "--bias-var", "1", "--format", "latex"],
    ["bounds", "lognorm", *W, "--format", "latex"],
    ["constants", "--rank", "2", "--dps", "40", "--moment", "0.5", "--format", "latex"],
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


def _sweep_show_latex(tmp_path, capsys) -> str:
    """``sweep show --format latex`` (headline and ``--all``) of a small database written without a cluster."""
    from maxbounds.sweep import SweepDB, parse_config, run_task

    config = parse_config('[sweep]\nname = "latex"\n[sweep.grid]\nwidths = ["3,4,2"]\nrank = [2]\n'
                          'c = [0.5, "1/M"]\nestimator = ["jacobian", "gradient", "length"]\nsamples = 50\n')
    path = tmp_path / "s.sqlite"
    with SweepDB.create_or_resume(path, config) as db:
        for task in config.tasks:
            out = run_task(task.params())
            db.record_done(task.key, out["result"], out["seconds"], out["worker"])
    return [_latex(["sweep", "show", str(path), "--format", "latex", *extra], capsys) for extra in ([], ["--all"])]


def test_sweep_show_latex_is_a_well_formed_table(tmp_path, capsys):
    for text in _sweep_show_latex(tmp_path, capsys):
        check_structure(text)


def test_text_cells_escape_every_special_character_once():
    from maxbounds.report.formats import render

    text = render([{"name": "a\\b{c}^d_e|f&g%h#i~j$"}], "latex")
    assert "a\\textbackslash{}b\\{c\\}\\^{}d\\_e$|$f\\&g\\%h\\#i\\~{}j\\$" in text
    check_structure(text)


PAGE_NOTE = "may be wider than the text"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed here")
def test_latex_compiles_with_pdflatex_and_fits_the_page_or_says_so(capsys, tmp_path, compile_latex):
    """Every LaTeX output compiles; one wider than an article's text width carries the note on how to set it."""
    outputs = [_latex(argv, capsys) for argv in COMMANDS] + _sweep_show_latex(tmp_path, capsys)
    outputs.append(_latex(["bounds", "jacobian", *W, "--symbolic", "--format", "latex"], capsys))  # align*
    outputs.append(_latex(["constants", "--rank", "2-4", "--moment", "0.5", "1.5", "3", "4", "--format", "latex"],
                          capsys))
    wide = 0
    for number, text in enumerate(outputs):
        folder = tmp_path / f"t{number}"
        folder.mkdir()
        log = compile_latex(text, folder)
        overfull = re.findall(r"Overfull \\hbox \(([0-9.]+)pt too wide\)", log)
        if overfull:
            wide += 1
            assert PAGE_NOTE in text, (text[:300], overfull)
    assert wide >= 1  # the wide constants table is among them: the page check has something to see


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed here")
def test_the_pdflatex_check_sees_a_table_that_does_not_compile(tmp_path, compile_latex):
    with pytest.raises(AssertionError):
        compile_latex("\\begin{tabular}{rr}\n\\toprule\n$K$ & a_b \\\\\n\\bottomrule\n\\end{tabular}", tmp_path)
