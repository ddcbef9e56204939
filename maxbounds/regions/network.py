r"""One explicit maxout (or ReLU) network: its weights, forward pass and activation pattern.

A :class:`Network` holds, for each layer ``l = 1..L``, a weight array ``W``
of shape ``(n_l, K_l, n_{l-1})`` and a bias array of shape ``(n_l, K_l)``, so
that

.. math::

    \zeta_{l,i,k}(x) = W_l[i, k]\cdot x_{l-1} + b_l[i, k],\qquad
    x_{l,i} = \max_k \zeta_{l,i,k}(x),

and the output layer (``K_L = 1``) is linear.  A ReLU unit is the maxout
unit of rank 2 whose second feature is identically zero, which is how
:meth:`Network.random` builds ReLU networks.  The *activation pattern* of an
input is the argmax ``k*`` of every hidden unit; the set of inputs with one
pattern is an activation region (convex: on it the network is one affine
map, and the pattern is a list of linear inequalities).
"""

from __future__ import annotations

import math
import os

import numpy as np

from .._validate import MaxboundsValueError
from ..architecture import Architecture, WidthsView
from ..layers.draw import draw_parameters

__all__ = ["Network"]

#: Most hidden units a network for region counting may have (patterns are stored per unit).
MAX_UNITS = 100_000
#: Largest rank for region counting (the splitting and the envelope walk cost K^2 per unit and cell).
MAX_RANK_REGIONS = 256
#: Most hidden features (sum of n_l K_l) for the exact 2-D partition.
MAX_FEATURES_EXACT = 20_000
#: Largest coordinate of a box or segment end.
MAX_COORDINATE = 1e100


class Network(WidthsView):
    """An explicit feed-forward maxout network (hidden maxout layers, linear output layer).

    Parameters
    ----------
    layers : sequence of (W, b)
        ``W`` of shape ``(n_l, K_l, n_{l-1})`` and ``b`` of shape
        ``(n_l, K_l)`` per layer; the last layer must have ``K_L = 1`` (a
        ``(n_L, n_{L-1})`` matrix and an ``(n_L,)`` vector are accepted for it).
        Entries must be finite.
    """

    def __init__(self, layers):
        checked = []
        layers = list(layers)
        if not layers:
            raise MaxboundsValueError("layers", "give at least one (W, b) layer")
        n_prev = None
        for number, layer in enumerate(layers, start=1):
            try:
                W, b = layer
            except (TypeError, ValueError):
                raise MaxboundsValueError("layers", f"layer {number} must be a pair (W, b)") from None
            W = _layer_array(W, f"layer {number}: W")
            b = _layer_array(b, f"layer {number}: b")
            last = number == len(layers)
            if last and W.ndim == 2:
                W = W[:, None, :]
            if last and b.ndim == 1:
                b = b[:, None]
            if W.ndim != 3 or b.shape != W.shape[:2]:
                raise MaxboundsValueError(
                    "layers", f"layer {number}: W must have shape (n, K, n_prev) and b shape (n, K); "
                    f"got W {W.shape} and b {b.shape}")
            if W.shape[0] < 1 or W.shape[1] < 1 or W.shape[2] < 1:
                raise MaxboundsValueError("layers", f"layer {number} has an empty dimension: W {W.shape}")
            if n_prev is not None and W.shape[2] != n_prev:
                raise MaxboundsValueError(
                    "layers", f"layer {number} takes {W.shape[2]} inputs but layer {number - 1} has {n_prev} units")
            if last and W.shape[1] != 1:
                raise MaxboundsValueError("layers", "the output layer must be linear (rank 1)")
            if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
                raise MaxboundsValueError("layers", f"layer {number} has a non-finite weight or bias")
            checked.append((W, b))
            n_prev = W.shape[0]
        self.layers = tuple(checked)
        if self.hidden_units > MAX_UNITS:
            raise MaxboundsValueError("widths", f"at most {MAX_UNITS} hidden units, got {self.hidden_units}")

    # -- construction --------------------------------------------------------
    @classmethod
    def random(cls, arch: Architecture, seed: int, index: int = 0, *, relu: bool = False) -> "Network":
        r"""Network ``index`` of ``seed`` drawn from ``arch``.

        Weights :math:`N(0, c_l/n_{l-1})`, biases :math:`N(0, \beta_l)`, drawn by
        :func:`maxbounds.layers.draw.draw_parameters` from ``arch.network()``: the
        very network of sample ``index`` of :func:`maxbounds.simulate.explicit_samples`
        (same seed).  With ``relu=True`` the network is ``arch.network("relu")``
        (the architecture's widths, numbers ``c_l`` and bias variances; its ranks
        are ignored), the network of ``explicit_samples(..., activation="relu")``,
        and every hidden unit is written as the rank-2 maxout unit
        :math:`\max(w\cdot x + b, 0)` (its second feature identically zero).
        """
        if not isinstance(arch, Architecture):
            raise MaxboundsValueError("arch", f"expected an Architecture, got {type(arch).__name__}")
        arch.require_fully_connected("Network.random")
        layers = draw_parameters(arch.network("relu" if relu else "maxout"), seed, index)
        if relu:
            layers = [(np.concatenate([W, np.zeros_like(W)], axis=1), np.concatenate([b, np.zeros_like(b)], axis=1))
                      for W, b in layers[:-1]] + [layers[-1]]
        return cls(layers)

    @classmethod
    def load(cls, path) -> "Network":
        """Read a network saved by :meth:`save` (``W1, b1, W2, b2, ...`` in an ``.npz`` file).

        Every failure is a :class:`MaxboundsValueError` on ``weights`` saying
        what is wrong: no such file, a folder, an empty, damaged or non-``.npz``
        file, missing or unexpected arrays, or arrays that are not of real
        numbers (strings, objects, booleans, complex numbers) or not finite.
        Nothing is unpickled.
        """
        return cls(_read_layers(path))

    def save(self, path) -> None:
        """Write the weights as ``W1, b1, ...`` to an ``.npz`` file."""
        arrays = {}
        for l, (W, b) in enumerate(self.layers, start=1):
            arrays[f"W{l}"], arrays[f"b{l}"] = W, b
        np.savez(path, **arrays)

    # -- shape -----------------------------------------------------------------
    @property
    def widths(self) -> tuple:
        """``(n_0, n_1, ..., n_L)``."""
        return (self.layers[0][0].shape[2],) + tuple(W.shape[0] for W, _ in self.layers)

    @property
    def ranks(self) -> tuple:
        """Ranks of the hidden layers ``(K_1, ..., K_{L-1})``."""
        return tuple(W.shape[1] for W, _ in self.layers[:-1])

    @property
    def hidden_units(self) -> int:
        """Number of hidden maxout units :math:`N = \\sum_{l<L} n_l`."""
        return sum(W.shape[0] for W, _ in self.layers[:-1])

    def __repr__(self) -> str:
        return f"Network(widths={'-'.join(map(str, self.widths))}, ranks={self.ranks})"

    # -- evaluation ----------------------------------------------------------
    def forward(self, x, *, patterns: bool = False):
        """Outputs ``N(x)`` for inputs ``x`` of shape ``(..., n_0)``; with ``patterns=True`` also the argmaxes.

        The patterns have shape ``(..., N)`` (hidden units in layer order),
        the first maximal feature on ties.
        """
        x = np.asarray(x, dtype=float)
        if x.shape[-1:] != (self.n_in,):
            raise MaxboundsValueError("x", f"inputs must have last dimension n_0 = {self.n_in}, got shape {x.shape}")
        lead = x.shape[:-1]
        h = x.reshape(-1, self.n_in)
        chosen = []
        for W, b in self.layers[:-1]:
            z = np.einsum("ikj,pj->pik", W, h) + b
            k = np.argmax(z, axis=2)
            chosen.append(k)
            h = np.take_along_axis(z, k[:, :, None], axis=2)[:, :, 0]
        W, b = self.layers[-1]
        out = (h @ W[:, 0, :].T + b[:, 0]).reshape(lead + (self.n_out,))
        if not patterns:
            return out
        pattern = (np.concatenate(chosen, axis=1) if chosen else np.empty((h.shape[0], 0), dtype=np.int64))
        return out, pattern.reshape(lead + (self.hidden_units,))

    def patterns(self, x) -> np.ndarray:
        """The activation patterns of inputs ``x`` (shape ``(..., N)``)."""
        return self.forward(x, patterns=True)[1]

    # -- flat layout for the Numba kernels --------------------------------------
    def flat(self) -> tuple:
        """``(widths, ranks, w_off, b_off, weights, biases)`` with ``ranks`` including ``K_L = 1``."""
        widths = np.asarray(self.widths, dtype=np.int64)
        ranks = np.asarray([W.shape[1] for W, _ in self.layers], dtype=np.int64)
        w_off = np.zeros(len(self.layers) + 1, dtype=np.int64)
        b_off = np.zeros(len(self.layers) + 1, dtype=np.int64)
        for l, (W, b) in enumerate(self.layers):
            w_off[l + 1] = w_off[l] + W.size
            b_off[l + 1] = b_off[l] + b.size
        weights = np.concatenate([W.ravel() for W, _ in self.layers])
        biases = np.concatenate([b.ravel() for _, b in self.layers])
        return widths, ranks, w_off, b_off, np.ascontiguousarray(weights), np.ascontiguousarray(biases)


def _layer_array(value, what: str) -> np.ndarray:
    """``value`` as an array of floats; complex numbers, booleans and non-numbers refused (on ``layers``)."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise MaxboundsValueError("layers", f"{what} is not an array of numbers") from None
    if array.dtype.kind == "c":
        raise MaxboundsValueError("layers", f"{what} is complex: complex weights are not supported")
    if array.dtype.kind == "b":
        raise MaxboundsValueError("layers", f"{what} holds booleans, not numbers")
    if array.dtype.kind in "US":
        raise MaxboundsValueError("layers", f"{what} holds strings, not numbers")
    try:
        return np.array(array, dtype=float)
    except (TypeError, ValueError):
        raise MaxboundsValueError("layers", f"{what} is not an array of numbers") from None


def _read_layers(path) -> list:
    """The ``(W_l, b_l)`` of the ``.npz`` file ``path``, checked to be real finite numbers (:meth:`Network.load`)."""
    try:
        path = os.fspath(path)
    except TypeError:
        raise MaxboundsValueError("weights", f"expected a file path, got {type(path).__name__}") from None
    if os.path.isdir(path):
        raise MaxboundsValueError("weights", f"{path} is a folder, not an .npz file")
    if not os.path.exists(path):
        raise MaxboundsValueError("weights", f"no such file: {path}")
    try:
        if os.path.getsize(path) == 0:
            raise MaxboundsValueError("weights", f"{path} is an empty file, not an .npz file")
        data = np.load(path, allow_pickle=False)
    except MaxboundsValueError:
        raise
    except OSError as error:
        raise MaxboundsValueError("weights", f"cannot read {path}: {error.strerror or type(error).__name__}") from None
    except Exception:  # any other failure of the reader: the file is not an .npz archive
        raise MaxboundsValueError("weights", f"{path} is not a readable .npz file of arrays W1, b1, W2, b2, ...") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise MaxboundsValueError(
            "weights", f"{path} holds a single array (an .npy file), not the arrays W1, b1, W2, b2, ... of an .npz file")
    with data:
        keys = list(data.files)
        count = sum(1 for key in keys if key.startswith("W"))
        expected = [f"{name}{l}" for l in range(1, count + 1) for name in ("W", "b")]
        if count == 0:
            raise MaxboundsValueError("weights", f"{path} holds no arrays W1, b1, W2, b2, ...: found "
                                      f"{', '.join(map(repr, keys)) or 'no arrays'}")
        missing = [key for key in expected if key not in keys]
        unexpected = [key for key in keys if key not in expected]
        if missing or unexpected:
            problems = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unexpected {', '.join(map(repr, unexpected))}"] if unexpected else [])
            raise MaxboundsValueError(
                "weights", f"{path}: {'; '.join(problems)} (expected exactly W1, b1, ..., W{count}, b{count})")
        arrays = {}
        for key in expected:
            try:
                array = data[key]
            except Exception as error:  # object arrays (never unpickled) or a damaged member
                what = "holds Python objects, not numbers" if "object" in str(error).lower() else "cannot be read"
                raise MaxboundsValueError("weights", f"{path}: array {key} {what}") from None
            if not isinstance(array, np.ndarray):  # a member that is not an .npy array comes back as bytes
                raise MaxboundsValueError("weights", f"{path}: {key} is not an .npy array")
            arrays[key] = _real_array(array, f"{path}: array {key}")
    return [(arrays[f"W{l}"], arrays[f"b{l}"]) for l in range(1, count + 1)]


def _real_array(array, what: str) -> np.ndarray:
    """``array`` as floats; refused (on ``weights``) unless of finite real numbers."""
    kind = array.dtype.kind
    if kind == "c":
        raise MaxboundsValueError("weights", f"{what} is complex: complex weights are not supported")
    if kind == "b":
        raise MaxboundsValueError("weights", f"{what} holds booleans, not numbers")
    if kind in "US":
        raise MaxboundsValueError("weights", f"{what} holds strings, not numbers")
    if kind not in "iuf":
        raise MaxboundsValueError("weights", f"{what} holds {array.dtype} values, not real numbers")
    array = array.astype(float)
    if not np.all(np.isfinite(array)):
        raise MaxboundsValueError("weights", f"{what} has a NaN or infinite entry")
    return array


def check_network(net) -> Network:
    """``net`` if it is a :class:`Network`, else a one-line error."""
    if not isinstance(net, Network):
        raise MaxboundsValueError("net", f"expected a maxbounds.regions.Network, got {type(net).__name__}")
    return net


def decision_function_rows(net: Network) -> int:
    """Which output combination is the decision function: 1 output (its sign) or 2 outputs (their difference)."""
    if net.n_out not in (1, 2):
        raise MaxboundsValueError(
            "widths", f"the decision boundary is defined for 1 or 2 outputs (N = 0 or N_1 = N_2), got {net.n_out}")
    return net.n_out


def finite_box(box, argument: str = "box") -> tuple:
    """``(lo, hi)`` with finite ``lo < hi``."""
    try:
        lo, hi = (float(v) for v in box)
    except (TypeError, ValueError):
        raise MaxboundsValueError(argument, f"expected two numbers lo, hi, got {box!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise MaxboundsValueError(argument, f"expected finite lo < hi, got {lo:g}, {hi:g}")
    if max(abs(lo), abs(hi)) > MAX_COORDINATE:
        raise MaxboundsValueError(
            argument, f"coordinates beyond {MAX_COORDINATE:g} in absolute value overflow the areas and the "
            f"features; got {lo:g}, {hi:g}")
    return lo, hi


def check_size(model, method: str) -> None:
    """A one-line error, before any work, for networks too large to partition in reasonable time.

    ``model`` is a :class:`Network` or an :class:`~maxbounds.architecture.Architecture`
    (both have ``widths`` and the hidden ``ranks``).  The exact 2-D splitting
    clips a cell with ``K - 1`` half-planes for each of ``K`` features, and the
    number of regions grows with the square of the number of features in the
    slice; the limits keep one count within minutes.
    """
    features = sum(n * K for n, K in zip(model.widths[1:-1], model.ranks))
    rank = max(model.ranks, default=1)
    if rank > MAX_RANK_REGIONS:
        raise MaxboundsValueError("rank", f"{method} counting takes ranks up to {MAX_RANK_REGIONS}, got {rank}")
    if method == "exact" and features > MAX_FEATURES_EXACT:
        raise MaxboundsValueError(
            "widths", f"exact 2-D counting takes up to {MAX_FEATURES_EXACT} hidden features (sum of n_l K_l), got "
            f"{features}: the slice would hold too many regions; count along a line (--method line) instead")
