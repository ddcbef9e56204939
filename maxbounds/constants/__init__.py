"""Order-statistic constants: M(K), S(K), L(K), their moments and laws."""

from .moments import (
    L,
    M,
    OutOfRangeError,
    S,
    chi2_max_moment,
    chi2_min_moment,
    constant,
    gaussian_max_moment,
)

__all__ = [
    "M",
    "S",
    "L",
    "gaussian_max_moment",
    "chi2_min_moment",
    "chi2_max_moment",
    "OutOfRangeError",
    "constant",
]

from .laws import chi2_max, chi2_min, gaussian_max  # noqa: E402

__all__ += ["gaussian_max", "chi2_min", "chi2_max"]

from .asymptotic import (  # noqa: E402
    L_asymptotic,
    M_asymptotic,
    S_asymptotic,
    asymptotic_error_bound,
    asymptotic_moment,
)

__all__ += ["asymptotic_moment", "asymptotic_error_bound", "M_asymptotic", "S_asymptotic", "L_asymptotic"]
