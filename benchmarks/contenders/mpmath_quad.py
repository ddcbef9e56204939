r"""The constants by plain ``mpmath.quad``: what a user would write without maxbounds.

:math:`M(K) = E[\max_k g_k^2]`-type constants as integrals of the order-statistic densities
(MATH.md section 1), at ``dps`` digits:

* :math:`M = \int_{-\infty}^{\infty} x^2 K\varphi(x)\Phi(x)^{K-1}\,dx` (largest of ``K`` normals),
* :math:`S = \int_0^\infty x^2\,2K\varphi(x)\operatorname{erfc}(x/\sqrt2)^{K-1}\,dx` (smallest of ``K`` :math:`|g|`),
* :math:`L = \int_0^\infty x^2\,2K\varphi(x)\operatorname{erf}(x/\sqrt2)^{K-1}\,dx` (largest of ``K`` :math:`|g|`).
"""

from __future__ import annotations

import mpmath as mp


def constants(K: int, dps: int = 15) -> tuple[float, float, float]:
    """``(M(K), S(K), L(K))`` by ``mpmath.quad`` at ``dps`` digits (split at 0 for ``M``)."""
    with mp.workdps(dps):
        m = mp.quad(lambda x: x * x * K * mp.npdf(x) * mp.ncdf(x) ** (K - 1), [-mp.inf, 0, mp.inf])
        s = mp.quad(lambda x: x * x * 2 * K * mp.npdf(x) * mp.erfc(x / mp.sqrt(2)) ** (K - 1), [0, mp.inf])
        big = mp.quad(lambda x: x * x * 2 * K * mp.npdf(x) * mp.erf(x / mp.sqrt(2)) ** (K - 1), [0, mp.inf])
    return float(m), float(s), float(big)
