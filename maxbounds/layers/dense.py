r"""The parameter law shared by the dense kinds (maxout, leaky ReLU, linear).

Unit ``i`` of a dense layer has ``K`` pieces (``K = 1`` for leaky ReLU and
linear units), each an affine map
:math:`\zeta_{i,k}(x) = W_{i,k}\cdot x + b_{i,k}` with
:math:`W_{i,k,j}\sim N(0, c/n_{\mathrm{in}})` and :math:`b_{i,k}\sim N(0,\beta)`.

Draw order (the random-stream convention of every simulator): for each unit
``i`` and piece ``k``, the weights ``j = 0..n_in-1``, then the bias when
:math:`\beta > 0` (no number is read for a zero bias).  Weights are stored
``[i, k, j]`` and biases ``[i, k]``.
"""

from __future__ import annotations

import dataclasses

from .base import Layer

__all__ = ["DenseLayer"]


@dataclasses.dataclass(frozen=True)
class DenseLayer(Layer):
    """A fully connected layer of ``width`` units with ``rank`` pieces each (base of the dense kinds)."""

    @property
    def weight_count(self) -> int:
        return self.width * self.rank * self.n_in

    @property
    def bias_count(self) -> int:
        return self.width * self.rank

    def weight_shape(self) -> tuple:
        """``(width, K, n_in)``; a rank-1 kind is usually given as ``(width, n_in)``."""
        return (self.width, self.rank, self.n_in)
