r"""A network is a composition of layers: :func:`serial` checks the chain and builds the kernels' plan.

:class:`Serial` holds layers ``1..L`` (each ``n_in`` equal to the previous
``width``).  Its :meth:`Serial.plan` is what every Numba kernel reads: one
integer row and one float row per layer,

* ``ispec[l] = (kind code, n_in, width, K, weight offset, bias offset,
  selection offset, C_in, C_out, H, W, k or p)``,
* ``fspec[l] = (weight sd, bias sd, slope)``,

and the sizes of the flat parameter and selection buffers.  The kernels draw
and evaluate a network from these arrays alone (:mod:`maxbounds.layers._kernels`),
so the network behind one estimate is the network behind any other.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validate import MaxboundsValueError
from .base import Layer

__all__ = ["Serial", "serial", "Plan", "I_KIND", "I_NIN", "I_WIDTH", "I_RANK", "I_WOFF", "I_BOFF", "I_SOFF",
           "I_CIN", "I_COUT", "I_H", "I_W", "I_K", "F_WSD", "F_BSD", "F_SLOPE"]

# columns of the integer and float plan rows
I_KIND, I_NIN, I_WIDTH, I_RANK, I_WOFF, I_BOFF, I_SOFF, I_CIN, I_COUT, I_H, I_W, I_K = range(12)
F_WSD, F_BSD, F_SLOPE = range(3)

#: Largest number of parameters of one network the kernels hold in memory (per thread).
MAX_PARAMETERS = 2 * 10**8


@dataclasses.dataclass(frozen=True)
class Plan:
    """The arrays a kernel reads: ``ispec`` (L, 12) int64, ``fspec`` (L, 3) float64 and the buffer sizes."""

    ispec: np.ndarray
    fspec: np.ndarray
    n_params: int
    n_select: int
    width_max: int

    def dense_layout(self) -> tuple:
        """``(widths, ranks, w_off, b_off)`` of a dense network: the split layout the region and length kernels
        read, with weights at ``params[w_off[l]:]`` and biases at ``params[b_off[l]:]`` of one flat buffer."""
        widths = np.concatenate(([self.ispec[0, I_NIN]], self.ispec[:, I_WIDTH])).astype(np.int64)
        return (widths, self.ispec[:, I_RANK].copy(), self.ispec[:, I_WOFF].copy(), self.ispec[:, I_BOFF].copy())


@dataclasses.dataclass(frozen=True)
class Serial:
    """Layers ``1..L`` applied in turn; ``layers[l-1].n_in == layers[l-2].width``."""

    layers: tuple

    def __post_init__(self):
        layers = tuple(self.layers)
        if not layers:
            raise MaxboundsValueError("layers", "a network needs at least one layer")
        checked = []
        for position, layer in enumerate(layers, start=1):
            if not isinstance(layer, Layer):
                raise MaxboundsValueError("layers", f"item {position} is not a layer: {layer!r}")
            if checked and layer.n_in != checked[-1].width:
                raise MaxboundsValueError(
                    "layers", f"layer {position} ({layer.label}) takes {layer.n_in} inputs but layer "
                    f"{position - 1} gives {checked[-1].width}")
            if layer.index != position:
                layer = dataclasses.replace(layer, index=position)
            checked.append(layer)
        object.__setattr__(self, "layers", tuple(checked))

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __getitem__(self, item):
        return self.layers[item]

    @property
    def depth(self) -> int:
        return len(self.layers)

    @property
    def n_in(self) -> int:
        return self.layers[0].n_in

    @property
    def n_out(self) -> int:
        return self.layers[-1].width

    @property
    def widths(self) -> tuple:
        """``(n_0, n_1, ..., n_L)`` (flattened feature counts)."""
        return (self.n_in,) + tuple(layer.width for layer in self.layers)

    @property
    def parameter_count(self) -> int:
        return sum(layer.weight_count + layer.bias_count for layer in self.layers)

    def describe(self) -> str:
        return "; ".join(f"{layer.index}: {layer.describe()}" for layer in self.layers)

    def plan(self) -> Plan:
        """The kernels' arrays (see the module docstring); refuses networks beyond ``MAX_PARAMETERS`` and
        layers whose kind has no Numba kernels (:attr:`~maxbounds.layers.Layer.has_kernels`)."""
        from .base import NoLawError

        for layer in self.layers:
            if not layer.has_kernels:
                raise NoLawError(layer, "the Numba draw and forward pass (every simulator of maxbounds.simulate)",
                                 layer._no_kernel_reason())
        L = len(self.layers)
        ispec = np.zeros((L, 12), dtype=np.int64)
        fspec = np.zeros((L, 3), dtype=np.float64)
        offset = selection = 0
        for row, layer in enumerate(self.layers):
            ispec[row, I_KIND] = layer.code
            ispec[row, I_NIN] = layer.n_in
            ispec[row, I_WIDTH] = layer.width
            ispec[row, I_RANK] = layer.rank
            ispec[row, I_WOFF] = offset
            offset += layer.weight_count
            ispec[row, I_BOFF] = offset
            offset += layer.bias_count
            ispec[row, I_SOFF] = selection
            selection += layer.selection_count
            ispec[row, I_CIN:I_K + 1] = layer.geometry()
            fspec[row, F_WSD] = layer.weight_sd
            fspec[row, F_BSD] = layer.bias_sd
            fspec[row, F_SLOPE] = layer.kernel_slope
        if offset > MAX_PARAMETERS:
            raise MaxboundsValueError("widths", f"a network of {offset:.3g} parameters is beyond the "
                                                f"{MAX_PARAMETERS:.0e} the simulators hold in memory")
        return Plan(ispec, fspec, int(offset), int(selection), int(max(self.widths)))


def serial(*layers) -> Serial:
    """Compose layers (or lists of layers) into a :class:`Serial` network."""
    flat = []
    for item in layers:
        if isinstance(item, Serial):
            flat.extend(item.layers)
        elif isinstance(item, (list, tuple)):
            flat.extend(item)
        else:
            flat.append(item)
    return Serial(tuple(flat))
