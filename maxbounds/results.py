r"""The result vocabulary of maxbounds: :class:`Estimate`, :class:`Bound` and :class:`Verdict`.

* :class:`Estimate` (from :mod:`maxbounds.estimators`): a Monte Carlo answer,
  the mean of ``n`` i.i.d. samples with its standard error, quantiles and a
  normal-approximation interval;
* :class:`Bound`: a pair of bounding random variables :math:`B_{\mathrm{lo}}
  \le X \le B_{\mathrm{up}}` (either side may be absent), each with the
  :mod:`scipy.stats` interface (``moment``, ``mean``, ``var``, ``rvs``), so
  that :math:`E[B_{\mathrm{lo}}^t] \le E[X^t] \le E[B_{\mathrm{up}}^t]` for
  every :math:`t \ge 0`;
* :class:`Verdict` (from :mod:`maxbounds.estimators`): the outcome of one
  check, with its z-score, tolerance and the smallest relative error it can
  detect.

Example::

    >>> import maxbounds as mb
    >>> bound = mb.Bound.jacobian(mb.Architecture((4, 8, 1), ranks=3))
    >>> bound.upper.rvs(size=(2, 3), random_state=0).shape
    (2, 3)
    >>> lower_mean, upper_mean = bound.mean()
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import MaxboundsValueError
from .estimators import Estimate, Verdict

__all__ = ["Bound", "BoundVariable", "Estimate", "Verdict"]


def _size(size) -> tuple:
    """``size`` (an int or a tuple of ints >= 0) as a shape tuple."""
    shape = (size,) if np.ndim(size) == 0 else tuple(size)
    for n in shape:
        if isinstance(n, bool) or not float(n).is_integer() or n < 0:
            raise MaxboundsValueError("size", f"must be an integer >= 0 or a tuple of them, got {size!r}")
    return tuple(int(n) for n in shape)


class BoundVariable:
    """One bounding random variable with the :mod:`scipy.stats` interface, whatever object computes it.

    Wraps ``law`` (an object with ``moment(t)``, ``mean()``, ``rvs(size,
    random_state)`` and optionally ``var()`` and ``log_moment(t)``); ``rvs``
    accepts any shape (``size=(2, 3)`` returns an array of shape (2, 3)) and
    an int seed or a :class:`numpy.random.Generator`.
    """

    def __init__(self, law, name: str = "law"):
        missing = [m for m in ("moment", "mean", "rvs") if not hasattr(law, m)]
        if missing:
            raise MaxboundsValueError(name, f"needs {', '.join(missing)} method(s), got {type(law).__name__}")
        self.law = law

    def __repr__(self):
        return repr(self.law)

    def moment(self, t) -> float:
        """``E[B^t]``."""
        return self.law.moment(t)

    def log_moment(self, t) -> float:
        """``log E[B^t]`` (from the law's own ``log_moment`` where it has one: no overflow)."""
        if hasattr(self.law, "log_moment"):
            return self.law.log_moment(t)
        return math.log(self.law.moment(t))

    def mean(self) -> float:
        """``E[B]``."""
        return self.law.mean()

    def var(self) -> float:
        """``Var B = E[B^2] - E[B]^2``."""
        if hasattr(self.law, "var"):
            return self.law.var()
        return self.law.moment(2) - self.law.mean() ** 2

    def std(self) -> float:
        """``sqrt(Var B)``."""
        return math.sqrt(self.var())

    def rvs(self, size=1, random_state=None) -> np.ndarray:
        """``size`` samples (an int or a shape tuple) as an array of that shape."""
        shape = _size(size)
        rng = np.random.default_rng(random_state)
        draws = np.asarray(self.law.rvs(size=math.prod(shape), random_state=rng), dtype=float)
        return draws.reshape(shape)


class Bound:
    r"""Lower and upper bounding random variables of one quantity :math:`X`.

    ``lower`` and ``upper`` are objects with ``moment(t)``, ``mean()``,
    ``var()``, ``rvs(size, random_state)`` and optionally ``log_moment(t)``
    (for example :class:`maxbounds.laws.jacobian.JacobianBound`); they are
    kept as :class:`BoundVariable` (so ``bound.lower.rvs(size=(2, 3))`` has
    shape (2, 3)).  ``None`` marks a one-sided bound.  The methods of the
    bound return ``(lower, upper)`` pairs, ``None`` on a missing side.
    """

    def __init__(self, lower, upper, quantity: str = "X"):
        if lower is None and upper is None:
            raise MaxboundsValueError("lower", "a bound needs a lower or an upper side")
        self.lower = None if lower is None else BoundVariable(lower, "lower")
        self.upper = None if upper is None else BoundVariable(upper, "upper")
        self.quantity = str(quantity)

    @classmethod
    def jacobian(cls, arch) -> Bound:
        r"""The stochastic-order bounds of :math:`\|J_N(x)u\|^2` (:func:`maxbounds.laws.jacobian.jacobian_bounds`)."""
        from .laws.jacobian import jacobian_bounds

        lower, upper = jacobian_bounds(arch)
        return cls(lower, upper, "||J u||^2")

    def __iter__(self):
        """Unpack as ``lower, upper = bound``."""
        return iter((self.lower, self.upper))

    def __repr__(self):
        return f"Bound({self.quantity}: lower={self.lower!r}, upper={self.upper!r})"

    def _both(self, method: str, *args, **kwargs):
        return tuple(None if side is None else getattr(side, method)(*args, **kwargs)
                     for side in (self.lower, self.upper))

    def moment(self, t) -> tuple:
        r"""``(E[B_lo^t], E[B_up^t])``: :math:`E[X^t]` lies between them."""
        return self._both("moment", t)

    def log_moment(self, t) -> tuple:
        r"""``(log E[B_lo^t], log E[B_up^t])``."""
        return self._both("log_moment", t)

    def mean(self) -> tuple:
        """``(E[B_lo], E[B_up])``."""
        return self._both("mean")

    def var(self) -> tuple:
        """``(Var B_lo, Var B_up)`` (the variances of the bounding variables, not bounds on Var X)."""
        return self._both("var")

    def rvs(self, size=1, random_state=None) -> tuple:
        """``(lower samples, upper samples)``, each of shape ``size``; the lower side is drawn first."""
        rng = np.random.default_rng(random_state)
        return self._both("rvs", size=size, random_state=rng)

    def contains(self, est: Estimate, t: float = 1.0) -> Verdict:
        """The :class:`Verdict` of ``est`` (an estimate of :math:`E[X^t]`) against the moment bounds."""
        from .estimators import compare

        lo, hi = self.moment(t)
        return compare(est, lower=lo, upper=hi)["check"]

    def as_dict(self, moments=(1.0, 2.0)) -> dict:
        """``{"quantity", "lower": {"mean", "moment_2", ...}, "upper": {...}}`` (``None`` for a missing side)."""
        def side(var):
            if var is None:
                return None
            out = {"mean": var.mean()}
            out.update({f"moment_{float(t):g}": var.moment(t) for t in moments if float(t) != 1.0})
            return out

        return {"quantity": self.quantity, "lower": side(self.lower), "upper": side(self.upper)}
