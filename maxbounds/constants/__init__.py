"""Order-statistic constants: M(K), S(K), L(K), their moments and laws.

The names are imported on first use (PEP 562): ``maxbounds constants`` needs
only the moments, not the :mod:`scipy.stats` laws.
"""

import importlib

#: Public name -> submodule that defines it.
_WHERE = {
    **dict.fromkeys(("M", "S", "L", "gaussian_max_moment", "chi2_min_moment", "chi2_max_moment",
                     "OutOfRangeError", "constant"), "moments"),
    **dict.fromkeys(("gaussian_max", "chi2_min", "chi2_max"), "laws"),
    **dict.fromkeys(("asymptotic_moment", "asymptotic_error_bound", "M_asymptotic", "S_asymptotic",
                     "L_asymptotic"), "asymptotic"),
}

__all__ = list(_WHERE)


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
