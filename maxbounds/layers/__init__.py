r"""The layer vocabulary of maxbounds: each layer kind defined once, composed by :func:`serial`.

Kinds (one module each, registered in :data:`KINDS`):

* :class:`MaxoutDense` (rank ``K``), :class:`LeakyReLUDense` (slope ``a``;
  :func:`relu` is ``a = 0``), :class:`Linear` (the output layer);
* :class:`RandomisedLeakyReLUDense` (negative slopes i.i.d. :math:`U[l, u]` per unit and network;
  :func:`rrelu`): law side and NumPy reference only, no Numba kernels;
* :class:`MaxoutConv2d` and :class:`LeakyReLUConv2d` (``k x k``, 'same'
  padding; :func:`relu_conv` is ``a = 0``) and :class:`MaxPool2d` (``p x p`` windows).

A kind owns its parameter law, its factors in every law, its initialisers
and (in :mod:`maxbounds.layers._kernels`, Numba) its draw, forward pass with
the Jacobian-vector product, and backward pass.  See ``docs/design.md``.
"""

from .base import KINDS, Layer, NoLawError, register
from .conv import LeakyReLUConv2d, MaxoutConv2d
from .leaky_relu import LeakyReLUDense
from .linear import Linear
from .maxout import MaxoutDense
from .maxpool import MaxPool2d
from .rrelu import RandomisedLeakyReLUDense
from .serial import Plan, Serial, serial

__all__ = ["KINDS", "Layer", "NoLawError", "register", "MaxoutDense", "LeakyReLUDense", "Linear",
           "MaxoutConv2d", "LeakyReLUConv2d", "MaxPool2d", "RandomisedLeakyReLUDense", "Serial", "serial", "Plan",
           "relu", "leaky_relu", "rrelu", "maxout", "linear", "relu_conv"]


def maxout(n_in, width, K=2, c="1/M", bias_var=0.0) -> MaxoutDense:
    """A maxout dense layer (``c`` defaults to ``1/M`` at rank ``K``)."""
    return MaxoutDense(n_in, width, c=c, bias_var=bias_var, K=K)


def relu(n_in, width, c="he", bias_var=0.0) -> LeakyReLUDense:
    """A ReLU dense layer (``c`` defaults to He, 2)."""
    return LeakyReLUDense(n_in, width, c=c, bias_var=bias_var, slope=0.0)


def leaky_relu(n_in, width, slope=0.01, c="he", bias_var=0.0) -> LeakyReLUDense:
    """A leaky ReLU dense layer (``c`` defaults to :math:`2/(1+a^2)`)."""
    return LeakyReLUDense(n_in, width, c=c, bias_var=bias_var, slope=slope)


def rrelu(n_in, width, lower=1.0 / 8.0, upper=1.0 / 3.0, c="he", bias_var=0.0) -> RandomisedLeakyReLUDense:
    """A randomised leaky ReLU dense layer, slopes :math:`U[l, u]` (``c`` defaults to :math:`2/(1 + E a^2)`)."""
    return RandomisedLeakyReLUDense(n_in, width, c=c, bias_var=bias_var, lower=lower, upper=upper)


def linear(n_in, width, c=1.0, bias_var=0.0) -> Linear:
    """A linear dense layer (the output layer)."""
    return Linear(n_in, width, c=c, bias_var=bias_var)


def relu_conv(in_channels, channels, image, kernel_size=3, c="he", bias_var=0.0) -> LeakyReLUConv2d:
    """A ReLU convolution, ``k x k`` with 'same' padding (``c`` defaults to He, 2)."""
    return LeakyReLUConv2d(in_channels, channels, image, kernel_size, slope=0.0, c=c, bias_var=bias_var)
