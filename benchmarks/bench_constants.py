"""asv: the constants M, S, L (vectorised double path) and plain mpmath quadrature for reference."""

import numpy as np

from maxbounds.constants import L, M, S

from .contenders import mpmath_quad


class Constants:
    params = [10, 10**4]
    param_names = ["K_max"]

    def setup(self, K_max):
        self.K = np.arange(1, K_max + 1)
        M(self.K[:2])  # first-call imports and caches

    def time_M_S_L_all_ranks(self, K_max):
        M(self.K), S(self.K), L(self.K)

    def peakmem_M_S_L_all_ranks(self, K_max):
        M(self.K), S(self.K), L(self.K)


class PlainMpmath:
    params = [2, 100, 10**4]
    param_names = ["K"]

    def time_plain_mpmath_quad(self, K):
        mpmath_quad.constants(K, dps=20)
