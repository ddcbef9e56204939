"""A tiny Sphinx extension: compute the tables shown in the docs at build time.

Tables of numbers in the documentation are computed by maxbounds itself when
the docs are built, never typed in.  Each table is written to
``docs/_generated/`` and included with ``{include}`` from the pages.
"""

from __future__ import annotations

import pathlib


def _write(app, name: str, text: str) -> None:
    folder = pathlib.Path(app.srcdir) / "_generated"
    folder.mkdir(exist_ok=True)
    path = folder / name
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def generate(app) -> None:
    from maxbounds.constants.table import constants_table
    from maxbounds.report import render

    rows = constants_table(range(1, 11))
    _write(app, "constants_table.md", render(rows, "markdown") + "\n")
    digits = constants_table([2, 3, 4, 5], dps=30)
    _write(app, "constants_table_30.md", render(digits, "markdown", digits=30) + "\n")


def setup(app):
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
