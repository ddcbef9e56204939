r"""Training maxout networks: small shipped data sets, a seeded training loop, and ensembles trained as one.

The experiment of Tseran & Montufar (2023, section 6) trains deep maxout networks initialised by
maxbounds' schemes with SGD (Nesterov momentum) and Adam.  This module holds what it needs:

* :func:`load_dataset`: Iris or the 8 x 8 digits shipped with scikit-learn (nothing is downloaded),
  with a fixed stratified 70/10/20 train/validation/test split and inputs standardised with the
  training set's mean and standard deviation (a constant feature keeps standard deviation 1);
* :func:`train`: cross-entropy training with SGD (momentum 0.9, Nesterov) or Adam, the learning rate
  halved every ``halve_every`` epochs, mini-batches shuffled by a :class:`torch.Generator` of ``seed``;
  returns a :class:`History` of per-epoch loss and accuracies;
* :class:`MaxoutEnsemble`: ``G`` independent networks of one architecture held as stacked parameters
  (a leading group axis) and run as one batched module (:func:`torch.func.vmap`).  The loss is the sum
  of the members' mean losses, so each member's gradient is its own; SGD and Adam act elementwise, so
  every member trains as it would alone (same batches, same steps) -- tests/test_training.py checks it.

Every initialisation goes through :func:`maxbounds.torch.init_` (a member is a plain model initialised
by ``init_`` with its own seed, then stacked).
"""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np

from .._validate import MaxboundsValueError
from ._require import require_torch

torch = require_torch()
nn = torch.nn
F = torch.nn.functional

__all__ = [
    "DATASETS",
    "OPTIMIZERS",
    "Dataset",
    "Ensemble",
    "History",
    "MaxoutEnsemble",
    "evaluate",
    "load_dataset",
    "train",
]

#: Data sets :func:`load_dataset` knows (scikit-learn's shipped copies).
DATASETS = ("iris", "digits")
#: Optimisers :func:`train` knows.
OPTIMIZERS = ("sgd", "adam")
#: Fractions of the split: train, validation, test.
SPLIT = (0.7, 0.1, 0.2)


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Dataset:
    """A split, standardised data set: ``x_*`` float32 ``(N, n_features)`` (or images), ``y_*`` int64 ``(N,)``."""

    name: str
    x_train: object
    y_train: object
    x_val: object
    y_val: object
    x_test: object
    y_test: object
    n_features: int
    n_classes: int
    image_shape: tuple | None = None

    def images(self) -> Dataset:
        """The same data with inputs shaped as images ``(N, 1, 8, 8)`` (digits only)."""
        if self.image_shape is None:
            raise MaxboundsValueError("dataset", f"{self.name!r} has no image shape (only 'digits' does)")
        shape = tuple(self.image_shape)
        return dataclasses.replace(self, x_train=self.x_train.reshape((-1,) + shape),
                                   x_val=self.x_val.reshape((-1,) + shape),
                                   x_test=self.x_test.reshape((-1,) + shape))

    @property
    def sizes(self) -> dict:
        """Number of examples in each split."""
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}

    @property
    def chance(self) -> float:
        """Accuracy of always predicting the most frequent training class on the test set."""
        counts = np.bincount(self.y_train.numpy(), minlength=self.n_classes)
        return float((self.y_test.numpy() == int(np.argmax(counts))).mean())


def _split_indices(y, split_seed):
    from sklearn.model_selection import train_test_split

    index = np.arange(len(y))
    rest, test = train_test_split(index, test_size=SPLIT[2], stratify=y, random_state=split_seed)
    val_share = SPLIT[1] / (SPLIT[0] + SPLIT[1])
    train, val = train_test_split(rest, test_size=val_share, stratify=y[rest], random_state=split_seed)
    return np.sort(train), np.sort(val), np.sort(test)


def load_dataset(name: str, split_seed: int = 0) -> Dataset:
    """Iris (150 x 4, 3 classes) or digits (1797 x 64, 10 classes; 8 x 8 images), split 70/10/20.

    The split is stratified by class and fixed by ``split_seed``; inputs are standardised with the
    training split's per-feature mean and standard deviation (``ddof=0``; features constant on the
    training split get standard deviation 1, so they become 0 there).
    """
    if name not in DATASETS:
        raise MaxboundsValueError("dataset", f"expected one of {', '.join(DATASETS)}, got {name!r}")
    if isinstance(split_seed, bool) or not isinstance(split_seed, (int, np.integer)) or not 0 <= split_seed < 2**32:
        raise MaxboundsValueError("split_seed", f"expected an integer in 0..2**32-1, got {split_seed!r}")
    try:
        from sklearn import datasets
    except ImportError:
        raise MaxboundsValueError("sklearn", "scikit-learn is not installed; pip install scikit-learn") from None
    raw = datasets.load_iris() if name == "iris" else datasets.load_digits()
    x = np.asarray(raw.data, dtype=np.float64)
    y = np.asarray(raw.target, dtype=np.int64)
    train, val, test = _split_indices(y, int(split_seed))
    mean = x[train].mean(axis=0)
    std = x[train].std(axis=0)
    std = np.where(std > 0, std, 1.0)

    def inputs(rows):
        return torch.from_numpy(((x[rows] - mean) / std).astype(np.float32))

    def labels(rows):
        return torch.from_numpy(y[rows].copy())

    return Dataset(name, inputs(train), labels(train), inputs(val), labels(val), inputs(test), labels(test),
                   n_features=int(x.shape[1]), n_classes=int(y.max() + 1),
                   image_shape=(1, 8, 8) if name == "digits" else None)


# ---------------------------------------------------------------------------
# ensembles
# ---------------------------------------------------------------------------
def _leaf_modules(model):
    return [m for m in model.modules() if next(m.children(), None) is None]


class _Op:
    """One leaf module of the member architecture applied to a whole group: ``x`` is ``(G, B, ...)``."""

    def __init__(self, module, names):
        self.module, self.names = module, names  # names: the module's own parameter names, in order

    def __call__(self, x, params, G):
        from .modules import Maxout, MaxoutConv2d

        m = self.module
        p = dict(zip(self.names, params))
        if isinstance(m, (Maxout, nn.Linear)):
            rows = m.out_features * (m.rank if isinstance(m, Maxout) else 1)
            weight = p["weight"].reshape(G, rows, m.in_features)
            if p.get("bias") is not None:
                z = torch.baddbmm(p["bias"].reshape(G, 1, rows), x, weight.transpose(1, 2))
            else:
                z = torch.bmm(x, weight.transpose(1, 2))
            if isinstance(m, Maxout):
                z = z.unflatten(-1, (m.out_features, m.rank)).max(dim=-1).values
            return z
        if isinstance(m, (MaxoutConv2d, nn.Conv2d)):
            B = x.shape[1]
            maps = x.transpose(0, 1).reshape(B, G * m.in_channels, *x.shape[3:])
            if isinstance(m, MaxoutConv2d):
                C, K, k = m.out_channels, m.rank, m.kernel_size
                weight = p["weight"].reshape(G * C * K, m.in_channels, k, k)
                bias = None if p.get("bias") is None else p["bias"].reshape(G * C * K)
                z = F.conv2d(maps, weight, bias, padding=k // 2, groups=G)
                z = z.reshape(B, G, C, K, *z.shape[2:]).max(dim=3).values
            else:
                weight = p["weight"].reshape(G * m.out_channels, *p["weight"].shape[2:])
                bias = None if p.get("bias") is None else p["bias"].reshape(-1)
                z = F.conv2d(maps, weight, bias, stride=m.stride, padding=m.padding, dilation=m.dilation,
                             groups=G * m.groups)
                z = z.reshape(B, G, m.out_channels, *z.shape[2:])
            return z.transpose(0, 1)
        if isinstance(m, nn.ReLU):
            return F.relu(x)
        if isinstance(m, nn.LeakyReLU):
            return F.leaky_relu(x, m.negative_slope)
        if isinstance(m, nn.MaxPool2d):
            y = F.max_pool2d(x.reshape(-1, *x.shape[2:]), m.kernel_size, m.stride, m.padding, m.dilation,
                             ceil_mode=m.ceil_mode)
            return y.reshape(*x.shape[:2], *y.shape[1:])
        if isinstance(m, nn.Flatten):
            return x.flatten(2)
        return x  # nn.Identity, nn.Dropout(p=0)


def _check_leaf(index, module):
    from .modules import Maxout, MaxoutConv2d

    known = (Maxout, MaxoutConv2d, nn.Linear, nn.Conv2d, nn.ReLU, nn.LeakyReLU, nn.MaxPool2d, nn.Flatten,
             nn.Identity, nn.Dropout)
    if not isinstance(module, known):
        raise MaxboundsValueError("members", f"module {index} ({type(module).__name__}) is not supported in an "
                                             "ensemble")
    if isinstance(module, nn.Dropout) and module.p != 0:
        raise MaxboundsValueError("members", f"module {index} (Dropout): only p=0 is supported in an ensemble")
    if isinstance(module, nn.Flatten) and (module.start_dim != 1 or module.end_dim != -1):
        raise MaxboundsValueError("members", f"module {index} (Flatten): only Flatten(start_dim=1) is supported")
    if isinstance(module, nn.MaxPool2d) and module.return_indices:
        raise MaxboundsValueError("members", f"module {index} (MaxPool2d): return_indices is not supported")
    if isinstance(module, nn.Conv2d) and module.padding_mode != "zeros":
        raise MaxboundsValueError("members", f"module {index} (Conv2d): only zero padding is supported")


class MaxoutEnsemble(nn.Module):
    """``G`` independent copies of one architecture, run as one batched module.

    ``members`` are plain models of one architecture: a chain of leaf modules run in the order they are
    registered (as :func:`maxbounds.torch.init_` reads a model), made of
    :class:`~maxbounds.torch.Maxout`, :class:`~maxbounds.torch.MaxoutConv2d`, ``nn.Linear``,
    ``nn.Conv2d``, ``nn.ReLU``, ``nn.LeakyReLU``, ``nn.MaxPool2d``, ``nn.Flatten`` (``nn.Identity``,
    ``nn.Dropout(0)`` pass through); no buffers such as batch norm.  Their parameters are copied into
    stacked parameters with a leading axis of size ``G``; dense layers run as one batched matrix
    product (:func:`torch.baddbmm`), convolutions as one grouped convolution.

    ``forward(x)`` (or :meth:`shared`) takes ``x`` of shape ``(N, ...)``, the same inputs for every
    member; :meth:`separate` takes ``(G, N, ...)``, member ``g`` on ``x[g]``.  Both return
    ``(G, N, outputs)``.
    """

    def __init__(self, members):
        super().__init__()
        members = list(members)
        if not members:
            raise MaxboundsValueError("members", "an ensemble needs at least one model")
        first = members[0]
        if not isinstance(first, nn.Module):
            raise MaxboundsValueError("members", f"expected torch.nn.Module members, got {type(first).__name__}")
        signature = [(name, tuple(p.shape)) for name, p in first.named_parameters()]
        for model in members:
            if not isinstance(model, nn.Module) or type(model) is not type(first) or \
                    [(name, tuple(p.shape)) for name, p in model.named_parameters()] != signature:
                raise MaxboundsValueError("members", "all members must have the same architecture")
            if any(True for _ in model.buffers()):
                raise MaxboundsValueError("members", "members with buffers (e.g. batch norm) are not supported")
        self.size = len(members)
        leaves = [_leaf_modules(m) for m in members]
        ops, stacked = [], []
        for index, leaf in enumerate(leaves[0]):
            _check_leaf(index, leaf)
            names = [name for name, _ in leaf.named_parameters(recurse=False)]
            ops.append(_Op(leaf, names))
            with torch.no_grad():
                for name in names:
                    stacked.append(nn.Parameter(torch.stack(
                        [getattr(member[index], name).detach() for member in leaves]).clone()))
        if sum(len(op.names) for op in ops) != len(signature):
            raise MaxboundsValueError("members", "every parameter must belong to a leaf module")
        self.stacked = nn.ParameterList(stacked)
        object.__setattr__(self, "_ops", ops)  # the member's modules: kept out of the module tree
        object.__setattr__(self, "_template", first)

    @classmethod
    def from_init(cls, factory, scheme, seeds, **init_kwargs) -> MaxoutEnsemble:
        """Members ``factory()`` initialised by ``init_(member, scheme, seed=s, **init_kwargs)``, one per seed."""
        from .init import init_

        members = []
        for seed in seeds:
            model = factory()
            init_(model, scheme, seed=int(seed), **init_kwargs)
            members.append(model)
        return cls(members)

    def member(self, g: int):
        """Member ``g`` as a plain model (a copy holding its current parameters)."""
        if isinstance(g, bool) or not isinstance(g, (int, np.integer)) or not 0 <= g < self.size:
            raise MaxboundsValueError("g", f"expected a member index in 0..{self.size - 1}, got {g!r}")
        model = copy.deepcopy(self._template)
        params = iter(self.stacked)
        with torch.no_grad():
            for leaf in _leaf_modules(model):
                for name, _ in leaf.named_parameters(recurse=False):
                    getattr(leaf, name).copy_(next(params)[g])
        return model

    def _run(self, x):
        params = iter(self.stacked)
        for op in self._ops:
            x = op(x, [next(params) for _ in op.names], self.size)
        return x

    def forward(self, x):
        """Outputs ``(G, N, outputs)`` on inputs ``x`` ``(N, ...)`` shared by every member (see :meth:`separate`)."""
        return self._run(x.unsqueeze(0).expand(self.size, *x.shape))

    def shared(self, x):
        """Outputs ``(G, N, outputs)`` on inputs ``x`` ``(N, ...)`` shared by every member."""
        return self(x)

    def separate(self, x):
        """Outputs ``(G, N, outputs)`` on inputs ``x`` ``(G, N, ...)``, member ``g`` on ``x[g]``."""
        if x.dim() < 2 or x.shape[0] != self.size:
            raise MaxboundsValueError("x", f"expected inputs (G={self.size}, N, ...), got shape {tuple(x.shape)}")
        return self._run(x)

    def extra_repr(self) -> str:
        return f"members={self.size}, architecture={type(self._template).__name__}"


#: Short name for :class:`MaxoutEnsemble` (it holds any architecture ``init_`` reads, not only maxout).
Ensemble = MaxoutEnsemble


# ---------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------
@dataclasses.dataclass
class History:
    """Per-epoch records; index 0 is before training, index ``e`` after epoch ``e``.

    ``train_loss`` and ``train_acc`` are the mean cross-entropy and the accuracy on the whole training
    split evaluated after the epoch (with ``train(..., eval_train=False)``: the running means over the
    epoch's mini-batches), ``batch_loss`` the mean of the epoch's mini-batch losses (NaN at epoch 0),
    ``lr`` the learning rate of the epoch.  For an ensemble every array but ``epochs`` and ``lr`` has a
    second axis, one column per member.
    """

    epochs: object
    train_loss: object
    batch_loss: object
    train_acc: object
    val_acc: object
    test_acc: object
    lr: object
    settings: dict

    def member(self, g: int) -> History:
        """Member ``g``'s history (of an ensemble's)."""
        pick = {f.name: (getattr(self, f.name)[:, g] if getattr(self, f.name).ndim == 2 else getattr(self, f.name))
                for f in dataclasses.fields(self) if f.name not in ("epochs", "lr", "settings")}
        return History(self.epochs, lr=self.lr, settings=dict(self.settings), **pick)

    def as_dict(self) -> dict:
        """JSON-ready lists (NaN and infinities as ``None``)."""
        from ..reproduce._common import clean

        out = {f.name: clean(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "settings"}
        out["epochs"] = [int(e) for e in self.epochs]
        out["settings"] = dict(self.settings)
        return out


def _check_int(value, name, low=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise MaxboundsValueError(name, f"expected an integer >= {low}, got {value!r}")
    return int(value)


def _check_seeds(seed, groups):
    if isinstance(seed, (list, tuple, np.ndarray)):
        seeds = [_check_int(s, "seed", 0) for s in seed]
        if groups is None or len(seeds) != groups:
            raise MaxboundsValueError("seed", f"expected one seed per ensemble member ({groups}), got {len(seeds)}"
                                      if groups else "a list of seeds needs a MaxoutEnsemble model")
        return seeds
    return [_check_int(seed, "seed", 0)]


def _logits(model, x, ensemble):
    return model.shared(x) if ensemble else model(x)


def _loss(logits, y, ensemble):
    """Mean cross-entropy per member, summed over members (one member: the mean)."""
    if not ensemble:
        return F.cross_entropy(logits, y)
    G, N, C = logits.shape
    target = y if y.dim() == 2 else y.expand(G, N)
    per = F.cross_entropy(logits.reshape(G * N, C), target.reshape(G * N), reduction="none").reshape(G, N)
    return per.mean(dim=1).sum()


@torch.no_grad()
def evaluate(model, x, y, *, chunk: int = 4096):
    """Mean cross-entropy and accuracy of ``model`` on ``(x, y)``: floats, or ``(G,)`` arrays for an ensemble."""
    ensemble = isinstance(model, MaxoutEnsemble)
    was_training = model.training
    model.eval()
    losses, hits = [], []
    for start in range(0, len(y), chunk):
        xb, yb = x[start:start + chunk], y[start:start + chunk]
        logits = _logits(model, xb, ensemble)
        if ensemble:
            G, N, C = logits.shape
            loss = F.cross_entropy(logits.reshape(G * N, C), yb.repeat(G), reduction="none").reshape(G, N)
            losses.append(loss.sum(dim=1).double())
            hits.append((logits.argmax(dim=-1) == yb).sum(dim=1).double())
        else:
            losses.append(F.cross_entropy(logits, yb, reduction="sum").double().reshape(1))
            hits.append((logits.argmax(dim=-1) == yb).sum().double().reshape(1))
    model.train(was_training)
    loss = (torch.stack(losses).sum(dim=0) / len(y)).numpy()
    acc = (torch.stack(hits).sum(dim=0) / len(y)).numpy()
    return (loss, acc) if ensemble else (float(loss[0]), float(acc[0]))


def _optimizer(name, params, lr):
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True)
    return torch.optim.Adam(params, lr=lr)


def train(model, data: Dataset, *, optimizer: str = "sgd", epochs: int, batch_size: int = 32, lr: float = 1e-3,
          halve_every: int = 100, seed, callback=None, eval_train: bool = True) -> History:
    """Train ``model`` in place on ``data`` with cross-entropy; returns its :class:`History`.

    ``optimizer`` is ``"sgd"`` (momentum 0.9, Nesterov) or ``"adam"`` (PyTorch's defaults), at learning
    rate ``lr`` halved after every ``halve_every`` epochs.  Each epoch visits the training split in a
    random order, ``torch.randperm`` from a :class:`torch.Generator` seeded by ``seed``, in batches of
    ``batch_size`` (the last one smaller).  For a :class:`MaxoutEnsemble`, ``seed`` is one seed (every
    member sees the same batches) or one per member (member ``g`` sees the batches that
    ``train(member, ..., seed=seed[g])`` would); the step minimises the sum of the members' mean losses.

    ``callback(epoch, model)`` runs before training (``epoch=0``) and after each epoch ``1..epochs``.

    ``eval_train=True`` evaluates the whole training split after every epoch for ``train_loss`` and
    ``train_acc``; ``eval_train=False`` saves that pass and records instead the epoch's running means
    over its mini-batches (the loss and accuracy of each batch under the parameters it was computed
    with, as Keras reports them; epoch 0 is still evaluated on the whole split).

    Denormal floats are flushed to zero while it trains (:func:`torch.set_flush_denormal`; reset to
    PyTorch's default, off, afterwards): they slow CPU arithmetic down by orders of magnitude.
    """
    ensemble = isinstance(model, MaxoutEnsemble)
    if not isinstance(model, nn.Module):
        raise MaxboundsValueError("model", f"expected a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(data, Dataset):
        raise MaxboundsValueError("data", f"expected a Dataset (load_dataset), got {type(data).__name__}")
    if optimizer not in OPTIMIZERS:
        raise MaxboundsValueError("optimizer", f"expected one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    epochs = _check_int(epochs, "epochs", 0)
    batch_size = _check_int(batch_size, "batch_size")
    halve_every = _check_int(halve_every, "halve_every")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise MaxboundsValueError("lr", f"expected a number > 0, got {lr!r}")
    seeds = _check_seeds(seed, model.size if ensemble else None)
    if callback is not None and not callable(callback):
        raise MaxboundsValueError("callback", "expected a callable callback(epoch, model)")
    # denormal floats (tiny Adam second moments, dying activations) slow CPU arithmetic down by 10-100x;
    # flushing them to zero changes nothing else
    flushed = torch.set_flush_denormal(True)
    try:
        return _train(model, data, optimizer, epochs, batch_size, float(lr), halve_every, seeds, callback,
                      ensemble, bool(eval_train))
    finally:
        if flushed:
            torch.set_flush_denormal(False)


def _train(model, data, optimizer, epochs, batch_size, lr, halve_every, seeds, callback, ensemble, eval_train):
    generators = [torch.Generator().manual_seed(s) for s in seeds]
    opt = _optimizer(optimizer, model.parameters(), lr)
    n = len(data.y_train)
    x, y = data.x_train, data.y_train
    rows = {key: [] for key in ("train_loss", "batch_loss", "train_acc", "val_acc", "test_acc")}
    rates = []

    def record(batch_loss, batch_acc=None):
        loss, acc = evaluate(model, x, y) if batch_acc is None else (batch_loss, batch_acc)
        rows["train_loss"].append(loss)
        rows["train_acc"].append(acc)
        rows["val_acc"].append(evaluate(model, data.x_val, data.y_val)[1])
        rows["test_acc"].append(evaluate(model, data.x_test, data.y_test)[1])
        rows["batch_loss"].append(batch_loss)
        rates.append(opt.param_groups[0]["lr"])

    nan = np.full(model.size, np.nan) if ensemble else float("nan")
    record(nan)
    if callback is not None:
        callback(0, model)
    model.train()
    for epoch in range(1, epochs + 1):
        lr_now = lr * 0.5 ** ((epoch - 1) // halve_every)
        for group in opt.param_groups:
            group["lr"] = lr_now
        perms = torch.stack([torch.randperm(n, generator=g) for g in generators])
        total = torch.zeros(model.size if ensemble else 1, dtype=torch.float64)
        hits = torch.zeros(model.size if ensemble else 1, dtype=torch.float64)
        batches = 0
        for start in range(0, n, batch_size):
            index = perms[:, start:start + batch_size]
            if len(seeds) == 1:
                xb, yb = x[index[0]], y[index[0]]
                logits = _logits(model, xb, ensemble)
            else:
                xb, yb = x[index], y[index]
                logits = model.separate(xb)
            loss = _loss(logits, yb, ensemble)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():
                if ensemble:
                    G, N, C = logits.shape
                    target = yb if yb.dim() == 2 else yb.expand(G, N)
                    total += F.cross_entropy(logits.reshape(G * N, C), target.reshape(G * N),
                                             reduction="none").reshape(G, N).mean(dim=1).double()
                    hits += (logits.argmax(dim=-1) == target).sum(dim=1).double()
                else:
                    total += loss.detach().double()
                    hits += (logits.argmax(dim=-1) == yb).sum().double()
            batches += 1
        mean_batch = (total / batches).numpy()
        running_acc = (hits / n).numpy()
        if ensemble:
            record(mean_batch, None if eval_train else running_acc)
        else:
            record(float(mean_batch[0]), None if eval_train else float(running_acc[0]))
        if callback is not None:
            callback(epoch, model)
    settings = {"optimizer": optimizer, "epochs": epochs, "batch_size": batch_size, "lr": lr,
                "halve_every": halve_every, "seed": seeds if ensemble and len(seeds) > 1 else seeds[0],
                "momentum": 0.9 if optimizer == "sgd" else None, "nesterov": optimizer == "sgd",
                "dataset": data.name, "loss": "cross-entropy",
                "train_metrics": "whole training split after each epoch" if eval_train
                else "running means over each epoch's mini-batches"}
    arrays = {key: np.asarray(value, dtype=float) for key, value in rows.items()}
    return History(np.arange(epochs + 1), lr=np.asarray(rates, dtype=float), settings=settings, **arrays)
