"""Parsers for the command line's compact value syntax.

Each parser raises :class:`argparse.ArgumentTypeError` with a short message;
argparse then reports it as ``argument --rank: <message>``.
"""

from __future__ import annotations

import argparse
import re

#: Most ranks one ``--rank`` may list (a range like 2-100000 is fine).
MAX_RANKS = 1_000_000

_INT = re.compile(r"^\s*\d+\s*$")
_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


def integer_list(text: str, *, noun: str, most: int, expected: str) -> list[int]:
    """Parse ``5``, ``2,3,5`` or ``2-100`` (ranges may be mixed: ``2-4,8``) into at most ``most`` integers.

    ``noun`` names the items in the messages ("ranks"), ``expected`` is the hint of the malformed case.
    """
    values: list[int] = []
    for part in text.split(","):
        match = _RANGE.match(part)
        if match:
            lo, hi = int(match.group(1)), int(match.group(2))
            if hi < lo:
                raise argparse.ArgumentTypeError(f"empty range {part.strip()!r} (write low-high)")
            if hi - lo + 1 + len(values) > most:
                raise argparse.ArgumentTypeError(f"more than {most} {noun} requested")
            values.extend(range(lo, hi + 1))
        elif _INT.match(part):
            values.append(int(part))
        else:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return values


def rank_list(text: str) -> list[int]:
    """Parse ``5``, ``2,3,5`` or ``2-100`` (ranges may be mixed: ``2-4,8``)."""
    ranks = integer_list(text, noun="ranks", most=MAX_RANKS, expected="a rank K, a list 2,3,5 or a range 2-100")
    for K in ranks:
        if K < 1:
            raise argparse.ArgumentTypeError(f"the rank must be >= 1, got {K}")
    return ranks


def nonnegative_real(text: str) -> float:
    """Parse a real number ``>= 0`` (a moment order)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a real number >= 0, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite real number >= 0, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """Parse an integer ``>= 1``."""
    if not _INT.match(text) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return int(text)


def nonnegative_int(text: str) -> int:
    """Parse an integer ``>= 0`` (a seed)."""
    if not _INT.match(text) or int(text) >= 2**64:
        raise argparse.ArgumentTypeError(f"expected an integer between 0 and 2**64 - 1, got {text!r}")
    return int(text)


def add_digits_option(parser) -> None:
    """``--digits N``: significant digits of the numbers printed (tables, LaTeX, Markdown; 1..40)."""
    parser.add_argument("--digits", type=digits_count, default=None, metavar="N",
                        help="significant digits of the printed numbers (table, latex, markdown; csv and json "
                             "keep full precision unless given); default 12")


def digits_count(text: str) -> int:
    """Parse a number of significant digits, 1..40."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of digits 1..40, got {text!r}") from None
    if not 1 <= value <= 40:
        raise argparse.ArgumentTypeError(f"expected a number of digits 1..40, got {value}")
    return value
