"""Argument checking shared by the Python API and the command line.

Every public function validates its arguments here, so that a bad value gets
the same one-line message (naming the argument) whether it comes from Python
or from the command line.  Errors are :class:`MaxboundsValueError`, a
subclass of :class:`ValueError`.
"""

from __future__ import annotations

import numbers

import numpy as np

#: Largest rank accepted: ranks are used as floating-point exponents, and
#: every integer up to 2**53 is exact in double precision.
MAX_RANK = 2**53
#: Largest moment order accepted by the constants.
MAX_ORDER = 32
#: Largest number of decimal digits accepted by the arbitrary-precision path.
MAX_DPS = 200


class MaxboundsValueError(ValueError):
    """A bad argument; the message names the argument and what is wrong."""

    def __init__(self, argument: str, problem: str):
        self.argument = argument
        self.problem = problem
        super().__init__(f"{argument}: {problem}")


def _is_integral(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Integral):
        return True
    if isinstance(value, numbers.Real):
        return float(value).is_integer()
    return False


def as_rank(K, argument: str = "K") -> np.ndarray:
    """Return ``K`` as an integer array, checking ``1 <= K <= 2**53``.

    Accepts a Python or NumPy integer, an integral float (``3.0``) or an
    array of them; rejects booleans, strings, non-integral values and
    out-of-range ranks with a :class:`MaxboundsValueError` naming ``argument``.
    """
    return as_counts(K, argument, "rank")


def as_counts(value, argument: str, noun: str, highest: int = MAX_RANK) -> np.ndarray:
    """Return ``value`` as an int64 array of integers in ``[1, highest]`` (ranks, widths, ...).

    ``noun`` names the quantity in the messages ("the rank must be ...").
    """
    arr = np.asarray(value)
    if arr.dtype == bool or arr.dtype == object and any(isinstance(v, bool) for v in arr.ravel()):
        raise MaxboundsValueError(argument, f"the {noun} must be an integer >= 1, not a boolean")
    if arr.size == 0:
        raise MaxboundsValueError(argument, f"no {noun} given")
    if arr.dtype.kind in "USO" and any(isinstance(v, (str, bytes)) for v in arr.ravel()):
        raise MaxboundsValueError(argument, f"the {noun} must be an integer >= 1, got {value!r}")
    if arr.dtype == object and all(isinstance(v, numbers.Integral) for v in arr.ravel()):
        # exact Python integers (possibly beyond int64): compare without rounding
        if any(v < 1 or v > highest for v in arr.ravel()):
            raise MaxboundsValueError(argument, f"the {noun} must be between 1 and {highest}, got {value!r}")
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.number):
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError):
            raise MaxboundsValueError(argument, f"the {noun} must be an integer >= 1, got {value!r}") from None
    if np.iscomplexobj(arr) or not np.all(np.isfinite(arr)):
        raise MaxboundsValueError(argument, f"the {noun} must be a finite integer >= 1, got {value!r}")
    if not np.all(np.floor(arr) == arr):
        bad = arr[np.floor(arr) != arr].ravel()[0]
        raise MaxboundsValueError(argument, f"the {noun} must be an integer, got {bad:g}")
    if np.any(arr < 1):
        bad = arr[arr < 1].ravel()[0]
        raise MaxboundsValueError(argument, f"the {noun} must be >= 1, got {bad:g}")
    if np.any(arr > highest):
        raise MaxboundsValueError(argument, f"the {noun} must be at most {highest}")
    return arr.astype(np.int64)


def as_order(t, argument: str = "t") -> np.ndarray:
    """Return the moment order ``t`` as a float array, checking ``0 <= t <= 32``."""
    if isinstance(t, bool):
        raise MaxboundsValueError(argument, "the moment order must be a real number >= 0, not a boolean")
    try:
        arr = np.asarray(t, dtype=float)
    except (TypeError, ValueError):
        raise MaxboundsValueError(argument, f"the moment order must be a real number >= 0, got {t!r}") from None
    if arr.size == 0:
        raise MaxboundsValueError(argument, "no moment order given")
    if not np.all(np.isfinite(arr)):
        raise MaxboundsValueError(argument, f"the moment order must be finite, got {t!r}")
    if np.any(arr < 0):
        bad = arr[arr < 0].ravel()[0]
        raise MaxboundsValueError(argument, f"the moment order must be >= 0, got {bad:g}")
    if np.any(arr > MAX_ORDER):
        raise MaxboundsValueError(argument, f"the moment order must be at most {MAX_ORDER}")
    return arr


def as_dps(dps, argument: str = "dps") -> int | None:
    """Return the number of decimal digits (``None`` for double precision)."""
    if dps is None:
        return None
    if not _is_integral(dps):
        raise MaxboundsValueError(argument, f"the number of digits must be an integer, got {dps!r}")
    dps = int(dps)
    if not 1 <= dps <= MAX_DPS:
        raise MaxboundsValueError(argument, f"the number of digits must be between 1 and {MAX_DPS}, got {dps}")
    return dps


def as_real_array(value, argument: str) -> np.ndarray:
    """``value`` as a finite float array (booleans and non-numbers rejected)."""
    if isinstance(value, bool):
        raise MaxboundsValueError(argument, "expected numbers, not a boolean")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise MaxboundsValueError(argument, f"expected real numbers, got {value!r}") from None
    if not np.all(np.isfinite(arr)):
        raise MaxboundsValueError(argument, "must be finite (no NaN or infinity)")
    return arr


def as_vector(value, argument: str, length: int) -> np.ndarray:
    """``value`` as a contiguous finite float vector of ``length`` entries (an input or a direction)."""
    arr = as_real_array(value, argument)
    if arr.ndim != 1 or arr.size != length:
        raise MaxboundsValueError(argument, f"need a vector of length n_0 = {length}, got shape {arr.shape}")
    return np.ascontiguousarray(arr)
