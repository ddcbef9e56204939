"""maxbounds: the mathematics of randomly initialised maxout networks.

Constants (order statistics of Gaussian and chi-squared samples), bounds on
gradients at initialisation, and Monte Carlo checks of every bound, after
Tseran & Montufar (ICML 2023; NeurIPS 2021).
"""

__version__ = "0.1.0"

from ._validate import MaxboundsValueError  # noqa: E402

__all__ = ["MaxboundsValueError", "__version__"]
