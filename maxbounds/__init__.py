"""maxbounds: the mathematics of randomly initialised maxout networks.

Constants (order statistics of Gaussian and chi-squared samples), bounds on
gradients at initialisation, and Monte Carlo checks of every bound, after
Tseran & Montufar (ICML 2023; NeurIPS 2021).

``import maxbounds as mb`` reaches the whole library: layers and
architectures (``mb.serial``, ``mb.MaxoutDense``, ``mb.Architecture``),
constants (``mb.M``, ``mb.S``, ``mb.L``), bounds and exact laws
(``mb.jacobian_bounds``, ``mb.ReLUJacobianLaw``, ``mb.gradient_bounds``, ...),
the simulators (``mb.chain_samples``, ``mb.explicit_samples``, ...), region
counting (``mb.regions``), initialisation (``mb.init_scale``), validation
(``mb.validate``) and the result types (``mb.Estimate``, ``mb.Bound``,
``mb.Verdict``).  See docs/api.md.

Every name is imported on first use (PEP 562), so ``import maxbounds`` costs
little more than NumPy and never loads Numba, SciPy's statistics, SymPy,
matplotlib or Dask.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

from ._validate import MaxboundsValueError

#: Subpackages reached as ``mb.<name>`` (imported on first use).
_MODULES = ("layers", "constants", "laws", "simulate", "regions", "validation", "estimators", "results",
            "reference", "architecture", "report", "reproduce", "sweep", "landscape")
#: Subpackages that need an optional extra (``mb.torch``: ``pip install "maxbounds[torch]"``); reached
#: the same way, but not in ``__all__``, so that ``from maxbounds import *`` works without them.
_OPTIONAL = ("torch",)

#: Public name -> (module, attribute in it).
_NAMES = {
    # layers and architectures
    **{name: ("maxbounds.layers", name) for name in (
        "Layer", "NoLawError", "KINDS", "register", "MaxoutDense", "LeakyReLUDense", "Linear", "MaxoutConv2d",
        "LeakyReLUConv2d", "MaxPool2d", "Serial", "serial", "Plan", "maxout", "relu", "leaky_relu", "linear")},
    "draw_parameters": ("maxbounds.layers.draw", "draw_parameters"),
    "draw_many": ("maxbounds.layers.draw", "draw_many"),
    "Architecture": ("maxbounds.architecture", "Architecture"),
    "parse_widths": ("maxbounds.architecture", "parse_widths"),
    # constants
    **{name: ("maxbounds.constants", name) for name in (
        "M", "S", "L", "constant", "gaussian_max_moment", "chi2_min_moment", "chi2_max_moment", "gaussian_max",
        "chi2_min", "chi2_max", "OutOfRangeError", "asymptotic_moment", "asymptotic_error_bound")},
    "constants_table": ("maxbounds.constants.table", "constants_table"),
    "closed_form": ("maxbounds.constants.symbolic", "closed_form"),
    # bounds and exact laws
    **{name: ("maxbounds.laws.jacobian", name) for name in (
        "JacobianBound", "jacobian_bounds", "jacobian_moment_bounds", "ReLUJacobianLaw")},
    **{name: ("maxbounds.laws.gradients", name) for name in (
        "gradient_bounds", "ntk_bounds", "length_bounds", "log_delta_sq_bounds")},
    **{name: ("maxbounds.laws.regions", name) for name in (
        "region_bounds", "RegionBounds", "c_bias", "c_grad_bound", "c_grad_estimate", "DensityBound")},
    **{name: ("maxbounds.laws.exact", name) for name in (
        "GramChainSamples", "gram_chain_samples", "activation_length_moments", "activation_length_mean_var",
        "sum_sq_max_moments", "layer_correlation", "expected_jacobian_gain", "wide_limit_correlation_map")},
    **{name: ("maxbounds.laws.sums", name) for name in ("iid_sum_moment", "iid_sum_log_moment")},
    # fractional initialisation, the law of log||x_L||, heavy-tailed weights (docs/fractional.md)
    "RandomisedLeakyReLUDense": ("maxbounds.layers", "RandomisedLeakyReLUDense"), "rrelu": ("maxbounds.layers", "rrelu"),
    **{name: ("maxbounds.laws.lognorm", name) for name in ("LogNormLaw", "lognorm_samples", "kolmogorov_distance")},
    "validate_lognorm": ("maxbounds.validation.lognorm", "validate_lognorm"),
    **{name: ("maxbounds.laws.heavy_tails", name) for name in (
        "stable_scale", "student_t_chain_scale", "student_t_gclt_scale", "stable_abs_moment", "student_t_abs_moment")},
    "jacobian_mean_bounds": ("maxbounds.laws.symbolic", "jacobian_mean_bounds"),
    **{name: ("maxbounds.laws.sweep", name) for name in ("depth_sweep", "scale_sweep", "parse_sweep")},
    # simulators
    **{name: ("maxbounds.simulate", name) for name in (
        "chain_samples", "explicit_samples", "explicit_samples_many", "gradient_samples", "GradientSamples",
        "segment_length_samples", "SegmentLengthSamples", "circle_length_samples", "CircleLengthSamples",
        "conv_jacobian_samples", "ConvJacobianSamples")},
    "feature_gradient_moments": ("maxbounds.simulate.feature_gradients", "feature_gradient_moments"),
    "network_samples": ("maxbounds.simulate.explicit", "network_samples"),
    # region counting
    **{name: ("maxbounds.regions", name) for name in (
        "count_plane_regions", "plane_partition", "line_regions", "grid_count")},
    "count_regions": ("maxbounds.regions.summary", "count_regions"),
    # initialisation
    **{name: ("maxbounds.laws.init", name) for name in ("init_scale", "weight_std", "conv_fan_in", "init_network")},
    # validation
    "validate": ("maxbounds.validation.checks", "validate"),
    "run_suite": ("maxbounds.validation.checks", "run_suite"),
    "Check": ("maxbounds.validation.checks", "Check"),
    # results
    "Estimate": ("maxbounds.estimators", "Estimate"),
    "Verdict": ("maxbounds.estimators", "Verdict"),
    "estimate": ("maxbounds.estimators", "estimate"),
    "compare": ("maxbounds.estimators", "compare"),
    "Bound": ("maxbounds.results", "Bound"),
    "dumps": ("maxbounds.report.json", "dumps"),
}

__all__ = ["MaxboundsValueError", "__version__", *_MODULES, *_NAMES]


def __getattr__(name: str):
    """Import ``name`` on first use (PEP 562) and keep it in the package namespace."""
    if name in _MODULES or name in _OPTIONAL:
        value = importlib.import_module(f"{__name__}.{name}")
    elif name in _NAMES:
        module, attribute = _NAMES[name]
        try:
            value = getattr(importlib.import_module(module), attribute)
        except AttributeError:
            raise AttributeError(f"maxbounds.{name} is declared but {module} has no {attribute!r} "
                                 "(not implemented yet in this version)") from None
    else:
        raise AttributeError(f"module 'maxbounds' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
