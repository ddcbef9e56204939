"""Numba Monte Carlo estimators (docs/exact_laws.md): the Gram chain and explicit random networks.

* :func:`chain_samples`: the exact Gram chain, :math:`O(n_l)` work per layer and sample;
* :func:`explicit_samples`: networks with explicitly drawn weights (maxout or ReLU),
  :math:`O(K_l n_l n_{l-1})` per layer and sample;
* :func:`explicit_samples_many`: many inputs through each random network;
* :func:`gradient_samples`: squared parameter gradients and the NTK diagonal of
  explicitly drawn networks (forward and backward pass);
* :func:`segment_length_samples`: the exact length of the image of a segment
  (a sum over the network's linear pieces along it);
* :func:`circle_length_samples`: the same for a circle (elliptic arc lengths on each
  linear piece, exact);
* :func:`conv_jacobian_samples`: convolutional maxout networks ('same' padding,
  ``k x k`` kernels) with explicitly drawn weights.

Both run samples in parallel and are reproducible from one integer seed
whatever the number of threads; both return
:class:`maxbounds.laws.exact.GramChainSamples`.  See ``docs/simulate.md``.
"""

from .chain import chain_samples
from .circle import CircleLengthSamples, circle_length_samples
from .conv import ConvJacobianSamples, conv_jacobian_samples
from .explicit import explicit_samples, explicit_samples_many, network_samples
from .gradients import GradientSamples, gradient_samples
from .length import SegmentLengthSamples, segment_length_samples

__all__ = [
    "chain_samples", "explicit_samples", "explicit_samples_many", "network_samples", "gradient_samples", "GradientSamples",
    "segment_length_samples", "SegmentLengthSamples", "circle_length_samples", "CircleLengthSamples", "conv_jacobian_samples", "ConvJacobianSamples",
]
