r"""Hand-built networks whose region counts are known, for checks and teaching.

* :func:`sawtooth`: the tent map :math:`T(x) = 2\min(x, 1 - x)` composed
  ``depth`` times, one rank-2 unit per layer; :math:`T^d` has :math:`2^d`
  linear pieces on :math:`[0, 1]` (the construction behind depth-efficiency
  results, e.g. the exponential-in-depth initialisations of the seed papers).
* :func:`tangent_unit`: one maxout unit whose ``K`` features are the tangents of
  :math:`x^2/2` at :math:`x = 0, \dots, K-1`; every feature is the maximum on
  its own interval, so the unit has exactly ``K`` pieces on :math:`[-1, K]`,
  the most a rank-``K`` unit can have on a line.
"""

from __future__ import annotations

import numpy as np

from .._validate import MaxboundsValueError
from .network import Network

__all__ = ["sawtooth", "tangent_unit"]


def sawtooth(depth: int) -> Network:
    """The tent map composed ``depth`` times (``2**depth`` pieces on ``[0, 1]``).

    Layer 1 outputs :math:`y = \\max(-2x, 2x - 2) = -T(x)`; later layers read
    :math:`T = -y`, so their features are :math:`2y` and :math:`-2y - 2`; the
    output :math:`-y` is :math:`T^d(x)`.
    """
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or not 1 <= depth <= 60:
        raise MaxboundsValueError("depth", f"expected an integer between 1 and 60, got {depth!r}")
    first = (np.array([[[-2.0], [2.0]]]), np.array([[0.0, -2.0]]))
    later = (np.array([[[2.0], [-2.0]]]), np.array([[0.0, -2.0]]))
    return Network([first] + [later] * (int(depth) - 1) + [(np.array([[[-1.0]]]), np.zeros((1, 1)))])


def tangent_unit(K: int) -> Network:
    """One rank-``K`` unit (one input, one output) with exactly ``K`` pieces on ``[-1, K]``."""
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 1:
        raise MaxboundsValueError("K", f"expected an integer >= 1, got {K!r}")
    k = np.arange(int(K), dtype=float)
    return Network([(k.reshape(1, -1, 1), (-0.5 * k**2).reshape(1, -1)), (np.ones((1, 1, 1)), np.zeros((1, 1)))])
