"""Test configuration: property-based tests are derandomised under CI, so a run is reproducible."""

import os
import subprocess

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def _compile_latex(text: str, folder) -> str:
    """pdflatex on ``text`` in a minimal booktabs/amsmath article in ``folder``; return the log.

    Fails the calling test when it does not compile.
    """
    document = ("\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage{amsmath}\n"
                "\\begin{document}\n" + text + "\n\\end{document}\n")
    (folder / "table.tex").write_text(document)
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "table.tex"],
                            cwd=folder, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:]
    return (folder / "table.log").read_text(errors="replace")


@pytest.fixture
def compile_latex():
    """:func:`_compile_latex`, for the tests that compile LaTeX output (where pdflatex exists)."""
    return _compile_latex
