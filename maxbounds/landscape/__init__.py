r"""The rank of the parametrisation's Jacobian per activation region (Karhadkar, Murray, Tseran & Montufar).

For a two-layer network :math:`f_\theta(x) = \sum_j v_j \phi(w_j\cdot x + b_j)` (ReLU,
leaky ReLU, or maxout units) and a finite data set, :mod:`.network` gives the
closed-form ``N x P`` Jacobian of :math:`\theta \mapsto (f_\theta(x_i))_i` and the
pattern matrix whose rank it shares (docs/landscape.md), :mod:`.rank` the
numerical rank with its tolerance, the exact rational rank and what the rank
implies for the global minima of the squared loss, :mod:`.phase` the
fraction of full-rank regions against the width, and :mod:`.oned` the exact
count of realisable regions for one-dimensional data.  See docs/landscape.md.
"""

from .network import (
    ACTIVATIONS,
    TwoLayer,
    activation_pattern,
    cell_condition,
    check_data,
    forward,
    jacobian,
    load_data,
    parameter_count,
    pattern_matrix,
    random_parameters,
)
from .oned import region_counts, set_ranks, surjections, unit_patterns
from .phase import (
    MODES,
    TOLERANCE_NOTE,
    Proportion,
    max_pattern_rank,
    random_data,
    sample_ranks,
    transition,
    uniform_patterns,
)
from .rank import (
    JacobianRank,
    Rank,
    batch_ranks,
    default_tolerance,
    exact_jacobian,
    exact_pattern_matrix,
    exact_rank,
    jacobian_rank,
    minima_dimension,
    numerical_rank,
)

__all__ = [
    "ACTIVATIONS", "MODES", "TOLERANCE_NOTE", "JacobianRank", "Proportion", "Rank", "TwoLayer",
    "activation_pattern", "batch_ranks", "cell_condition", "check_data", "default_tolerance", "exact_jacobian",
    "exact_pattern_matrix", "exact_rank", "forward", "jacobian", "jacobian_rank", "load_data",
    "max_pattern_rank", "minima_dimension", "numerical_rank", "parameter_count", "pattern_matrix",
    "random_data", "random_parameters", "region_counts", "sample_ranks", "set_ranks", "surjections",
    "transition", "uniform_patterns", "unit_patterns",
]
