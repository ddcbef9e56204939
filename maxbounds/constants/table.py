"""The table of constants that ``maxbounds constants`` prints.

One row per rank ``K``: the constants ``S, L, M`` and their reciprocals
``1/S, 1/L, 1/M`` (the weight scales ``c`` of Tseran & Montufar, 2023), and
optionally further moments ``S_t, L_t, M_t``.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

from .. import _validate
from .moments import chi2_max_moment, chi2_min_moment, gaussian_max_moment

BASE_COLUMNS = ("K", "S", "L", "M", "inv_S", "inv_L", "inv_M")


def _order_label(t: float) -> str:
    return f"{t:g}"


def moment_columns(t: float) -> tuple[str, str, str]:
    """Column names for the moments of order ``t``.

    ``M_t`` is the signed moment ``E[Xi^t]`` for integer ``t`` and the
    absolute moment ``Mabs_t = E|Xi|^t`` otherwise.
    """
    label = _order_label(t)
    m_name = f"M_{label}" if float(t).is_integer() else f"Mabs_{label}"
    return f"S_{label}", f"L_{label}", m_name


def constants_table(K, moments=(), dps: int | None = None) -> list[dict]:
    """Rows ``{"K", "S", "L", "M", "inv_S", "inv_L", "inv_M", ...}`` for each rank.

    Parameters
    ----------
    K : int or array_like of int
        Ranks, one row each.
    moments : sequence of float
        Extra orders ``t``; each adds the columns of :func:`moment_columns`.
    dps : int, optional
        Digits of the verified arbitrary-precision path; values are then
        :class:`mpmath.mpf`, otherwise floats.
    """
    ranks = np.atleast_1d(_validate.as_rank(K))
    orders = [float(t) for t in np.atleast_1d(_validate.as_order(list(moments) or 0.0))] if moments else []
    dps = _validate.as_dps(dps)
    columns = {
        "S": chi2_min_moment(ranks, 1.0, dps=dps),
        "L": chi2_max_moment(ranks, 1.0, dps=dps),
        "M": gaussian_max_moment(ranks, 2.0, dps=dps),
    }
    for t in orders:
        s_name, l_name, m_name = moment_columns(t)
        columns[s_name] = chi2_min_moment(ranks, t, dps=dps)
        columns[l_name] = chi2_max_moment(ranks, t, dps=dps)
        columns[m_name] = gaussian_max_moment(ranks, t, dps=dps, absolute=not t.is_integer())
    rows = []
    for i, k in enumerate(ranks):
        row = {"K": int(k)}
        values = {name: column[i] for name, column in columns.items()}
        if dps is None:
            values = {name: float(v) for name, v in values.items()}
        row.update({name: values[name] for name in ("S", "L", "M")})
        with mp.workdps(dps or 15):
            for name in ("S", "L", "M"):
                row[f"inv_{name}"] = 1 / values[name] if dps is not None else 1.0 / values[name]
        row.update({name: values[name] for name in values if name not in ("S", "L", "M")})
        rows.append(row)
    return rows
