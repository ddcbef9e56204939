"""The benchmark cases of :mod:`benchmarks.compare`: architectures, inputs and sample counts.

All networks use the paper's recommended scale ``c = 1/M(K)`` and zero biases.
The convolutional case has the shape of the paper's figure 1: 3x3 kernels on a
32x32x3 input, width (channels) 2, ``K = 5``, depth 10.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from maxbounds.architecture import Architecture


@dataclasses.dataclass(frozen=True)
class JacobianCase:
    r""":math:`\lVert J_N(x)u\rVert^2` of a fully connected network; ``x = 1/\sqrt{n_0}``, ``u = e_1``."""

    arch: Architecture
    samples: int
    quick_samples: int
    #: the chain and its limit run ``chain_factor`` times as many networks (they are too fast to time otherwise)
    chain_factor: int = 100
    kind: str = "dense"

    def inputs(self):
        n0 = self.arch.n_in
        u = np.zeros(n0)
        u[0] = 1.0
        return np.full(n0, 1 / math.sqrt(n0)), u


@dataclasses.dataclass(frozen=True)
class ConvCase(JacobianCase):
    """The same for a convolutional network; ``x`` a fixed image, ``u`` a unit-length one-hot image."""

    kind: str = "conv"


@dataclasses.dataclass(frozen=True)
class RegionsCase:
    """Linear regions of a random network with 2 inputs in the box ``[-3, 3]^2``."""

    widths: str
    rank: int
    seed: int = 2021
    kind: str = "regions"


@dataclasses.dataclass(frozen=True)
class ConstantsCase:
    """``M, S, L`` for every ``K = 1..k_max``; plain mpmath on ``sample`` ranks, extrapolated per value."""

    k_max: int = 10**4
    sample: int = 12
    quick_sample: int = 4
    dps: int = 20
    kind: str = "constants"


@dataclasses.dataclass(frozen=True)
class SuiteCase:
    """The default ``maxbounds validate`` suite, run as a user runs it: a new process, warm Numba cache."""

    #: the suite's own time must be at most this (issue 15: 15 s on 2 cores)
    target_seconds: float = 15.0
    #: arguments after ``validate`` (none: the default suite)
    argv: tuple = ()
    kind: str = "suite"


def _fig1_conv():
    return Architecture.convolutional(channels=(3,) + (2,) * 9, image=(32, 32), n_out=1, kernel_size=3,
                                      ranks=5, c="1/M")


CASES = {
    "jacobian-w100-K5-L10": JacobianCase(Architecture.parse("100,100x9,1", rank="5", c="1/M"), 400, 40),
    "jacobian-w1000-K2-L50": JacobianCase(Architecture.parse("1000,1000x49,1", rank="2", c="1/M"), 8, 2),
    "conv-fig1": ConvCase(_fig1_conv(), 400, 40),
    "regions-w20-K2": RegionsCase("2,20x3,2", 2),
    "regions-w20-K5": RegionsCase("2,20x3,2", 5),
    "regions-w6-K2": RegionsCase("2,6x3,2", 2),
    "regions-w6-K5": RegionsCase("2,6x3,2", 5),
    "constants": ConstantsCase(),
    "validate-suite": SuiteCase(),
}

#: Small cases for tests; run only when named with ``--case``.
TINY = {
    "tiny": JacobianCase(Architecture.parse("4,6x2,2", rank="3", c="1/M"), 400, 200, chain_factor=1),
    "tiny-conv": ConvCase(Architecture.convolutional(channels=(2, 3, 2), image=(5, 4), n_out=2, ranks=3,
                                                     c="1/M"), 400, 200),
    "tiny-constants": ConstantsCase(k_max=100, sample=2, quick_sample=2),
    "tiny-suite": SuiteCase(argv=("--suite", "network")),
}


def conv_inputs(arch):
    """A fixed input image (a smooth pattern) and a one-hot direction, both of shape (C_0, H, W)."""
    C0, (H, W) = arch.conv.channels[0], arch.conv.image
    c, h, w = np.meshgrid(np.arange(C0), np.arange(H), np.arange(W), indexing="ij")
    x = np.sin(1.0 + c + 0.3 * h) * np.cos(0.2 * w)
    u = np.zeros((C0, H, W))
    u[0, H // 2, W // 2] = 1.0
    return x, u
