r"""Render a list of records (dicts with the same keys) in one of :data:`FORMATS`.

Numbers are floats or :class:`mpmath.mpf`.  With ``digits=None`` floats are
shown to 12 significant digits in text, Markdown and LaTeX and exactly (shortest
round-trip) in CSV and JSON.  With ``digits=N`` every number is shown to ``N``
significant digits; JSON then carries numbers when ``N <= 15`` and decimal
strings beyond (a double cannot hold more).  LaTeX is a ``booktabs`` tabular,
ready to ``\input``.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import re

import mpmath as mp

from .json import dumps

FORMATS = ("table", "latex", "markdown", "csv", "json")
#: Significant digits that survive a round trip through a double.
DOUBLE_DIGITS = 15
TEXT_DIGITS = 12


def _is_number(value) -> bool:
    return isinstance(value, (numbers.Real, mp.mpf)) and not isinstance(value, bool)


def _digits_text(value, digits: int) -> str:
    if isinstance(value, numbers.Integral):
        return str(value)
    if isinstance(value, mp.mpf):
        return mp.nstr(value, digits, min_fixed=-4, max_fixed=digits + 1, strip_zeros=False)
    return f"{value:.{digits}g}"


def _text(value, digits: int | None) -> str:
    if not _is_number(value):
        return str(value)
    return _digits_text(value, digits or TEXT_DIGITS)


def _exact(value, digits: int | None):
    """A JSON/CSV value: full precision, or ``digits`` significant digits."""
    if isinstance(value, numbers.Integral) or not _is_number(value):
        return value
    if digits is None:
        return float(value)
    if digits <= DOUBLE_DIGITS:
        return float(_digits_text(value, digits))
    return _digits_text(value, digits)


def _latex_number(value, digits: int | None) -> str:
    text = _text(value, digits)
    if not _is_number(value):
        return _latex_text(text)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"${mantissa}\\times 10^{{{int(exponent)}}}$"
    return text


_LATEX_NAMES = {
    "mean_lower": r"$E[B_{\mathrm{lo}}]$", "mean_upper": r"$E[B_{\mathrm{up}}]$",
    "second_lower": r"$E[B_{\mathrm{lo}}^2]$", "second_upper": r"$E[B_{\mathrm{up}}^2]$",
    "second_moment_lower": r"$E[B_{\mathrm{lo}}^2]$", "second_moment_upper": r"$E[B_{\mathrm{up}}^2]$",
    "mean_sq_norm": r"$E\|x_l\|^2$", "var_sq_norm": r"$\operatorname{Var}\|x_l\|^2$",
    "depth": "$L$", "c": "$c$", "layer": "layer", "quantity": "quantity", "lower": "lower", "upper": "upper",
}


#: The text width of LaTeX's ``article`` class at 10 pt, in points: a wider table carries a comment on fitting it.
TEXT_WIDTH_PT = 345.0
#: An upper estimate of one printed character (a digit of Computer Modern at 10 pt is 5 pt) and of the space
#: around a column (``\\tabcolsep`` on each side, 6 pt).
_CHAR_PT, _COLUMN_PT = 5.5, 12.0


def _latex_visible(cell: str) -> int:
    """How many characters ``cell`` prints, roughly: control words, braces and math markers print nothing."""
    return len(re.sub(r"[{}$^_]", "", re.sub(r"\\[a-zA-Z]+", "", cell)))


def latex_width_pt(cells: list[list[str]]) -> float:
    """An upper estimate of a tabular's width in points: per column, its widest cell plus the column spacing."""
    return sum(_COLUMN_PT + _CHAR_PT * max(_latex_visible(row[i]) for row in cells) for i in range(len(cells[0])))


_LATEX_ESCAPES = {"\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "$": "\\$", "#": "\\#", "_": "\\_",
                  "{": "\\{", "}": "\\}", "^": "\\^{}", "~": "\\~{}", "|": "$|$"}


def _latex_text(text: str) -> str:
    """``text`` as LaTeX text: every special character escaped, in one pass (so no escape is escaped again)."""
    return re.sub(r"[\\&%$#_{}^~|]", lambda match: _LATEX_ESCAPES[match.group()], text)


#: Column stems that are constants of the rank K (S, L, M and their moments): written as math, S_t as $S_{t}(K)$.
_CONSTANT_STEMS = ("S", "L", "M", "Mabs")


def _latex_header(name: str) -> str:
    if name in _LATEX_NAMES:
        return _LATEX_NAMES[name]
    if name == "K":
        return "$K$"
    if name.startswith("inv_") and name[4:] in _CONSTANT_STEMS:
        return f"$1/{name[4:]}(K)$"
    stem, _, order = name.partition("_")
    if stem in _CONSTANT_STEMS and (not order or order.replace(".", "", 1).isdigit()):
        if stem == "Mabs":
            return f"$E|\\Xi|^{{{order}}}$"
        return f"${stem}_{{{order}}}(K)$" if order else f"${stem}(K)$"
    return _latex_text(name)


def latex_equations(expressions: dict[str, str], caption: str | None = None) -> str:
    """Named LaTeX expressions as one ``align*`` display (amsmath): ``name &= expression`` per line.

    Names are set as :func:`render`'s column headers are; a display estimated wider than an article's text
    carries the same comment on fitting it as a wide table.
    """
    lines = [f"% {caption}"] if caption else []
    headers = {name: _latex_header(name) for name in expressions}
    named = [(headers[name].strip("$") if headers[name].startswith("$") else f"\\text{{{headers[name]}}}", value)
             for name, value in expressions.items()]
    width = max((_CHAR_PT * (_latex_visible(n) + _latex_visible(v)) for n, v in named), default=0.0)
    if width > TEXT_WIDTH_PT:
        lines.append(f"% this display may be wider than the text (about {width:.0f} pt of an article's "
                     f"{TEXT_WIDTH_PT:.0f} pt): set it in landscape (pdflscape) or break the lines by hand")
    lines.append("\\begin{align*}")
    lines += [f"{n} &= {v}" + (" \\\\" if i < len(named) - 1 else "") for i, (n, v) in enumerate(named)]
    lines.append("\\end{align*}")
    return "\n".join(lines)


def render(rows: list[dict], fmt: str = "table", digits: int | None = None, caption: str | None = None,
           width_rows: list[dict] = ()) -> str:
    """Return ``rows`` rendered as ``fmt`` (one of :data:`FORMATS`).

    LaTeX only: ``width_rows`` are further rows counted (not printed) in the width estimate that decides the
    page-width comment, for a table printed in pieces.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    columns = list(rows[0]) if rows else []
    if fmt == "json":
        return dumps([{k: _exact(v, digits) for k, v in row.items()} for row in rows], indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_exact(row[c], digits) if digits else _csv_full(row[c]) for c in columns])
        return out.getvalue().rstrip("\n")
    if fmt == "latex":
        header = [_latex_header(c) for c in columns]
        body = [[_latex_number(row[c], digits) for c in columns] for row in rows]
        lines = []
        if caption:
            lines.append(f"% {caption}")
        extra = [[_latex_number(row[c], digits) for c in columns] for row in width_rows]
        width = latex_width_pt([header, *body, *extra]) if columns else 0.0
        if width > TEXT_WIDTH_PT:
            lines.append(f"% this table may be wider than the text (about {width:.0f} pt of an article's "
                         f"{TEXT_WIDTH_PT:.0f} pt): wrap the tabular in \\resizebox{{\\textwidth}}{{!}}{{...}} "
                         "(graphicx), set it in landscape (pdflscape), or print fewer digits (--digits)")
        lines += [
            "\\begin{tabular}{" + "r" * len(columns) + "}",
            "\\toprule",
            " & ".join(header) + " \\\\",
            "\\midrule",
        ]
        lines += [" & ".join(cells) + " \\\\" for cells in body]
        lines += ["\\bottomrule", "\\end{tabular}"]
        return "\n".join(lines)
    cells = [[_text(row[c], digits) for c in columns] for row in rows]
    if fmt == "markdown":
        lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---:" for _ in columns) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in cells]
        return "\n".join(lines)
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(x.rjust(w) for x, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def _csv_full(value):
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    return value
