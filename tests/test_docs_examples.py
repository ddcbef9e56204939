"""The Python examples of the README and the getting-started page run and print what they show."""

import doctest
import pathlib
import re

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FILES = [ROOT / "README.md", ROOT / "docs" / "getting_started.md"]
#: Pages whose examples need an optional extra: (path, module it needs).
OPTIONAL = [(ROOT / "docs" / "torch.md", "torch")]


def python_blocks(path):
    text = path.read_text()
    return [block for block in re.findall(r"```python\n(.*?)```", text, flags=re.S) if ">>>" in block]


@pytest.mark.parametrize("path", FILES + [path for path, _ in OPTIONAL], ids=lambda p: p.name)
def test_examples(path):
    for optional, module in OPTIONAL:
        if path == optional:
            pytest.importorskip(module)
    blocks = python_blocks(path)
    assert blocks
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    )
    globs = {"np": np}
    for i, block in enumerate(blocks):
        test = parser.get_doctest(block, globs, f"{path.name}[{i}]", str(path), 0)
        runner.run(test, clear_globs=False)
    assert runner.summarize(verbose=False).failed == 0
