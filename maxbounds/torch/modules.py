r"""Maxout modules for PyTorch whose parameters are laid out as maxbounds lays them out.

:class:`Maxout` is a dense maxout layer of rank ``K``: ``out_features`` units,
each the maximum of ``K`` affine pieces of the input,

.. math:: y_i = \max_{k<K} \big(W_{i,k}\cdot x + b_{i,k}\big),

with ``weight`` of shape ``(out_features, K, in_features)`` and ``bias`` of
shape ``(out_features, K)`` (:class:`maxbounds.layers.MaxoutDense`'s shapes).
It computes one linear map to ``out_features * K`` features and the maximum
over each unit's ``K`` consecutive features (the first maximum on ties, as
maxbounds does).

:class:`MaxoutConv2d` is the convolutional maxout layer of
:class:`maxbounds.layers.MaxoutConv2d`: ``k x k`` kernels, stride 1, 'same'
zero padding (odd ``k``), ``weight`` ``(C, K, C_in, k, k)``, ``bias``
``(C, K)``, on inputs ``(N, C_in, H, W)``.

Both initialise themselves with the weight scale :math:`c = 1/M(K)` and zero
biases, drawn by maxbounds' one draw of a layer
(:func:`maxbounds.layers.draw.draw_parameters`) on a seed taken from
PyTorch's default generator, so ``torch.manual_seed`` makes them
reproducible.  :func:`maxbounds.torch.init_` re-initialises them with any
scheme.
"""

from __future__ import annotations

from ._require import require_torch

torch = require_torch()
nn = torch.nn
F = torch.nn.functional

__all__ = ["Maxout", "MaxoutConv2d"]


def _check_positive(value, name):
    from ..layers.base import check_size

    return check_size(value, name)


def _check_flag(value, name):
    if value is not True and value is not False:
        from .._validate import MaxboundsValueError

        raise MaxboundsValueError(name, f"expected True or False, got {value!r}")


class Maxout(nn.Module):
    """A dense maxout layer: ``out_features`` units of rank ``rank`` on ``in_features`` inputs."""

    def __init__(self, in_features: int, out_features: int, rank: int = 2, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        self.in_features = _check_positive(in_features, "in_features")
        self.out_features = _check_positive(out_features, "out_features")
        self.rank = _check_positive(rank, "rank")
        _check_flag(bias, "bias")
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(self.out_features, self.rank, self.in_features, **factory))
        self.bias = nn.Parameter(torch.empty(self.out_features, self.rank, **factory)) if bias else None
        self.reset_parameters()

    def maxbounds_layer(self, c="1/M", bias_var=0.0):
        """The :class:`maxbounds.layers.MaxoutDense` of this module's shape."""
        from ..layers import MaxoutDense

        return MaxoutDense(self.in_features, self.out_features, c=c, bias_var=bias_var, K=self.rank)

    def reset_parameters(self) -> None:
        """Weights :math:`N(0, (1/M(K))/\\mathrm{in\\_features})`, zero biases (maxbounds' draw)."""
        from .init import draw_into

        draw_into([(self, self.maxbounds_layer())], seed=None)

    def forward(self, x):
        K, n = self.rank, self.out_features
        bias = None if self.bias is None else self.bias.reshape(n * K)
        z = F.linear(x, self.weight.reshape(n * K, self.in_features), bias)
        return z.unflatten(-1, (n, K)).max(dim=-1).values

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, rank={self.rank}, "
                f"bias={self.bias is not None}")


class MaxoutConv2d(nn.Module):
    """Convolutional maxout: ``out_channels`` maps of rank ``rank``, ``k x k`` kernels, 'same' padding."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, rank: int = 2, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        from .._validate import MaxboundsValueError

        self.in_channels = _check_positive(in_channels, "in_channels")
        self.out_channels = _check_positive(out_channels, "out_channels")
        self.kernel_size = _check_positive(kernel_size, "kernel_size")
        if self.kernel_size % 2 == 0:
            raise MaxboundsValueError("kernel_size", f"'same' padding needs an odd kernel size, got {kernel_size}")
        self.rank = _check_positive(rank, "rank")
        _check_flag(bias, "bias")
        k = self.kernel_size
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(self.out_channels, self.rank, self.in_channels, k, k, **factory))
        self.bias = nn.Parameter(torch.empty(self.out_channels, self.rank, **factory)) if bias else None
        self.reset_parameters()

    def maxbounds_layer(self, image=(1, 1), c="1/M", bias_var=0.0):
        """The :class:`maxbounds.layers.MaxoutConv2d` of this module on images of size ``image``."""
        from ..layers import MaxoutConv2d as Layer

        return Layer(in_channels=self.in_channels, channels=self.out_channels, image=image,
                     kernel_size=self.kernel_size, K=self.rank, c=c, bias_var=bias_var)

    def reset_parameters(self) -> None:
        """Weights :math:`N(0, (1/M(K))/(k^2 C_{in}))`, zero biases (maxbounds' draw)."""
        from .init import draw_into

        draw_into([(self, self.maxbounds_layer())], seed=None)

    def forward(self, x):
        C, K, k = self.out_channels, self.rank, self.kernel_size
        bias = None if self.bias is None else self.bias.reshape(C * K)
        z = F.conv2d(x, self.weight.reshape(C * K, self.in_channels, k, k), bias, padding=k // 2)
        return z.unflatten(-3, (C, K)).max(dim=-3).values

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, rank={self.rank}, "
                f"bias={self.bias is not None}")
