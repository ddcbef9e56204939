"""The one JSON serialiser of maxbounds: every ``--format json`` and every JSON file the CLI writes.

:func:`dumps` turns results into standard JSON (RFC 8259):

* objects with an ``as_dict()`` method (:class:`~maxbounds.estimators.Estimate`,
  :class:`~maxbounds.estimators.Verdict`, :class:`~maxbounds.results.Bound`,
  :class:`~maxbounds.validation.Check`, ...) are written as that dict;
  other dataclasses field by field;
* NumPy scalars as numbers, NumPy arrays and tuples as lists, mpmath numbers as
  floats, keys as strings; anything else unknown raises :class:`TypeError`
  naming its type and where it sits.

**Non-finite numbers.** JSON has no NaN or Infinity, and maxbounds never writes
them.  A non-finite number is written as ``null``; where it is the value of a
key ``k`` of an object, the object also gets the key ``k_nonfinite`` with the
value ``"inf"``, ``"-inf"`` or ``"nan"``, so nothing is lost (for example a
z-score of a deterministic quantity outside its bound, ``"z": null,
"z_nonfinite": "inf"``, or the log of a zero norm, ``"log_x": null,
"log_x_nonfinite": "-inf"``).  Inside a list a non-finite number is a bare
``null``.  :func:`json.dumps` runs with ``allow_nan=False`` as a final guard.
"""

from __future__ import annotations

import dataclasses
import json as _json
import math
import numbers

import numpy as np

__all__ = ["NONFINITE_SUFFIX", "dumps", "to_json"]

#: Suffix of the key that records the kind of a non-finite value written as null.
NONFINITE_SUFFIX = "_nonfinite"


def _nonfinite_name(value: float) -> str:
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _number(value):
    """A JSON number (int or float), or a non-finite float as it is (handled by the caller)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    return float(value)


def to_json(obj, where: str = "the result"):
    """``obj`` as plain JSON types (dict, list, str, int, float, bool, None), following the rules above."""
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, (bool, np.bool_, numbers.Real, np.number)) and not isinstance(obj, np.ndarray):
        value = _number(obj)
        return None if isinstance(value, float) and not math.isfinite(value) else value
    if type(obj).__module__.startswith("mpmath") and hasattr(obj, "__float__"):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            key = str(key)
            out[key] = to_json(value, f"{where}[{key!r}]")
            if out[key] is None and _is_nonfinite(value):
                out[key + NONFINITE_SUFFIX] = _nonfinite_name(float(value))
        return out
    if isinstance(obj, np.ndarray):
        return [to_json(v, where) for v in obj.tolist()] if obj.ndim else to_json(obj.item(), where)
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_json(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if hasattr(obj, "as_dict") and callable(obj.as_dict):
        return to_json(obj.as_dict(), where)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_json({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}, where)
    if hasattr(obj, "__fspath__"):
        return str(obj)
    raise TypeError(f"cannot write {where} as JSON: a {type(obj).__module__}.{type(obj).__name__}")


def _is_nonfinite(value) -> bool:
    try:
        return isinstance(value, (numbers.Real, np.number)) and not isinstance(value, (bool, np.bool_)) \
            and not math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def dumps(obj, *, indent: int | None = 2, sort_keys: bool = False) -> str:
    """``obj`` as a JSON text (``indent`` spaces; ``None`` for one line); never NaN or Infinity."""
    return _json.dumps(to_json(obj), indent=indent, sort_keys=sort_keys, allow_nan=False)
