"""The figures of docs/reproduce.md and :func:`reproduce`, which writes one figure's files atomically.

Figure modules are imported lazily, by module path, when a figure is computed: ``--list`` and the
figures that need only NumPy work without PyTorch, and a figure whose module or whose PyTorch is
missing fails in one line that names it.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib
import importlib.util
import io
import os
import tempfile
import time
from collections.abc import Callable

from .. import __version__
from .._validate import MaxboundsValueError
from ..report.json import dumps
from ..report.output import document

#: How to install the PyTorch extra (the figures marked ``torch=True`` need it).
TORCH_HINT = 'pip install "maxbounds[torch]"'


def torch_available() -> bool:
    """Whether PyTorch can be imported (without importing it)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


class _Lazy:
    """``module.attribute`` (with leading positional ``args``), imported when first called.

    ``optional=True``: a module without the attribute gives ``None`` when called (``tables``).
    """

    def __init__(self, figure: str, module: str, attribute: str, args: tuple = (), optional: bool = False,
                 torch: bool = False):
        self.figure, self.module, self.attribute = figure, module, attribute
        self.args, self.optional, self.torch = tuple(args), optional, torch

    def resolve(self):
        """The function itself (``None`` if optional and absent); a one-line error if it cannot be imported."""
        if self.torch and not torch_available():
            raise MaxboundsValueError("figure", f"{self.figure!r} needs PyTorch, which is not installed; "
                                                f"{TORCH_HINT}")
        try:
            module = importlib.import_module(self.module)
        except ModuleNotFoundError as error:
            missing = error.name or "?"
            if missing == "torch" or missing.startswith("torch."):
                raise MaxboundsValueError("figure", f"{self.figure!r} needs PyTorch, which is not installed; "
                                                    f"{TORCH_HINT}") from None
            if missing == self.module:
                raise MaxboundsValueError("figure", f"{self.figure!r}: its module {self.module} is not "
                                                    "installed") from None
            raise MaxboundsValueError("figure", f"{self.figure!r} needs the package {missing!r}, which is not "
                                                "installed") from None
        function = getattr(module, self.attribute, None)
        if function is None:
            if self.optional:
                return None
            raise MaxboundsValueError("figure", f"{self.figure!r}: {self.module} has no {self.attribute}()")
        return function

    def __call__(self, *args, **kwargs):
        function = self.resolve()
        if function is None:
            return None
        return function(*self.args, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<lazy {self.module}.{self.attribute}>"


@dataclasses.dataclass(frozen=True)
class Figure:
    """One reproducible figure: its paper description and the functions that compute and draw it.

    ``compute``, ``plot``, ``csv_rows`` and the optional ``tables`` (``tables(data) -> {"md": text,
    "tex": text}``, written as ``<name>.md`` and ``<name>.tex``) are callables; :func:`_figure` makes
    them lazy references to a module's functions.  ``torch`` marks the figures that need PyTorch.
    """

    name: str
    paper: str
    description: str
    compute: Callable
    plot: Callable
    csv_rows: Callable
    tables: Callable | None = None
    torch: bool = False
    module: str | None = None


def _figure(name, paper, description, module, compute="compute", args=(), torch=False) -> Figure:
    path = f"{__package__}.{module}"

    def lazy(attribute, *, extra=(), optional=False):
        return _Lazy(name, path, attribute, extra, optional, torch)

    return Figure(name, paper, description, lazy(compute, extra=args), lazy("plot"), lazy("csv_rows"),
                  lazy("tables", optional=True), torch, path)


FIGURES: dict[str, Figure] = {f.name: f for f in (
    _figure("gradients", "Figure 1 (fully connected)",
            "n_0 (dN/dW)^2 against depth 2..10, width 2, K=5, c in {1/L, 1/M, 1, 2, 1/S, 0.1, 100}: "
            "median, IQR, mean with standard error, and the bounds of docs/bounds.md",
            "gradients"),
    _figure("gradients-conv", "Figure 1 (convolutional)",
            "the same for convolutional maxout networks: 3x3 kernels, 2 channels, 32x32x3 input",
            "gradients", "compute_conv"),
    _figure("jacobian-grid", "Figure 2",
            "E||J_N(x) u||^2 over the grid [-1000, 1000]^2, width 2, K=5, unit-variance weights and biases: "
            "varies with x for maxout, constant for ReLU",
            "jacobian_grid"),
    _figure("cosines-layer", "Figure 3 (against layer)",
            "|cos gamma_l| against layer, depth 100, width 100, K=2..5, for c = 1/M, 0.3, 10",
            "cosines", args=("layer",)),
    _figure("cosines-width", "Figure 3 (against width)",
            "|cos gamma_l| against layer, depth 100, c = 1/M(K), K=2..5, for widths 2, 10, 100",
            "cosines", args=("width",)),
    _figure("activation-length", "Figure 4",
            "||x_l||^2/n_l against layer: explicit networks, the exact law of docs/exact_laws.md and its mean formula "
            "(K=5, width 10, c=0.55555, beta=c/n)",
            "activation_length"),
    _figure("max-moment", "Figure 5",
            "M(K) = E[max of K standard normals, squared] for K = 2..100, with a Monte Carlo check, and 1/M(K)",
            "max_moment"),
    _figure("training", "Section 6 (training)",
            "SGD (Nesterov) and Adam training of 20-layer maxout networks (K=5) on Iris and digits from "
            "c = 1/M, 1/L, 1/S, 1, 2, 0.1 and of the He-initialised ReLU network, plus a maxout CNN with and "
            "without the max-pooling-aware scale: loss and test-accuracy curves, final-accuracy table "
            "(needs torch)",
            "training", torch=True),
    _figure("gradients-training", "Appendix (gradients during training)",
            "n_0 (dN/dW)^2 per layer of a deep maxout network (c = 1/M) trained on digits, before and after "
            "chosen epochs, with the bounds at initialisation (needs torch)",
            "gradients_training", torch=True),
    _figure("regions-training", "2021 paper (regions during training)",
            "activation regions and decision-boundary pieces in a 2-D slice of digits during training, for "
            "maxout-He, sphere and many-regions initialisations (needs torch)",
            "regions_training", torch=True),
    _figure("rank-transition", "Karhadkar et al. (rank transition)",
            "fraction of activation regions of a two-layer network whose Jacobian has rank N, against the width "
            "(Gaussian data; uniform patterns, random parameters, exact 1-D region counts; ReLU, leaky, maxout)",
            "rank_transition"),
    _figure("depth-exponential", "Seed 004 (Milkert, Hyde & Laine)",
            "width-3 ReLU networks forced to 2^d pieces (tents with trainable apexes), trained in derived "
            "parameters then raw weights, against He initialisation: max/RMS error against depth 2..10 on x^2, "
            "exp, a circle arc and |x-1/2|^1.5 with the sawtooth x^2 reference, exact piece counts (needs torch)",
            "depth_exponential", torch=True),
)}


def figure(name) -> Figure:
    """The :class:`Figure` called ``name``; an unknown name raises an error that lists the valid ones."""
    if name not in FIGURES:
        raise MaxboundsValueError("figure", f"unknown figure {name!r}; choose from {', '.join(FIGURES)} or all")
    return FIGURES[name]


def available(name) -> bool:
    """Whether figure ``name`` can run here (its PyTorch, if it needs it, is installed)."""
    return not figure(name).torch or torch_available()


def check_out_dir(out_dir, create: bool = True) -> str:
    """``out_dir`` as an absolute path, created (with its parents) if missing, after checking it is writable."""
    path = os.path.abspath(os.fspath(out_dir))
    if create and not os.path.exists(path):
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as error:
            raise MaxboundsValueError("out_dir", f"cannot create {out_dir!s}: {error.strerror}") from None
    if not os.path.isdir(path):
        raise MaxboundsValueError("out_dir", f"{out_dir!s} is not a folder")
    if not os.access(path, os.W_OK | os.X_OK):
        raise MaxboundsValueError("out_dir", f"cannot write into {out_dir!s}")
    return path


def _csv_text(rows: list[dict]) -> str:
    if not rows:
        return ""
    fields = list(rows[0])
    for row in rows[1:]:
        fields += [key for key in row if key not in fields]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _temp(folder: str, suffix: str) -> str:
    """An empty temporary file in ``folder`` with the permissions of a newly created file (umask applied)."""
    fd, path = tempfile.mkstemp(prefix=".maxbounds-", suffix=suffix, dir=folder)
    os.close(fd)
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)
    return path


def reproduce(name: str, out_dir=".", *, full: bool = False, seed: int = 0, progress=None,
              size: str | None = None) -> dict:
    """Compute figure ``name`` and write ``<name>.png``, ``<name>.json`` and ``<name>.csv`` into ``out_dir``.

    A figure with tables also writes ``<name>.md`` and ``<name>.tex``.  ``out_dir`` is created (with its
    parents) if it does not exist.  All files are written to temporary files in ``out_dir`` first and
    moved into place with :func:`os.replace` only when all are complete, so an error (or an interrupt)
    never leaves a half-written file.  ``full`` uses larger samples (minutes per figure; the paper's
    own sizes are not published with it, see docs/reproduce.md); the default is the quick setting.
    ``progress`` is a ``start(total) -> advance()`` callable (see
    :func:`maxbounds.cli._progress.progress_bar`); ``size`` (``"tiny"``, ``"quick"``, ``"full"``)
    overrides ``full`` and exists for the tests.

    Returns ``{"figure", "png", "json", "csv", "seconds"}`` (plus ``"md"`` and ``"tex"`` with tables).
    """
    fig = figure(name)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise MaxboundsValueError("seed", f"expected an integer in 0..2**63-1, got {seed!r}")
    if fig.torch and not torch_available():
        raise MaxboundsValueError("figure", f"{name!r} needs PyTorch, which is not installed; {TORCH_HINT}")
    folder = check_out_dir(out_dir)
    start = time.perf_counter()
    data = fig.compute(quick=not full, seed=seed, progress=progress, size=size)
    seconds = time.perf_counter() - start
    record = {"figure": name, "paper": fig.paper, "description": fig.description, "seed": seed,
              "maxbounds": __version__, "seconds": round(seconds, 3), **data}
    texts = fig.tables(data) if fig.tables is not None else None
    extensions = ["png", "json", "csv"] + (["md", "tex"] if texts else [])
    targets = {ext: os.path.join(folder, f"{name}.{ext}") for ext in extensions}
    temps = {}
    try:
        for ext in extensions:
            temps[ext] = _temp(folder, "." + ext)
        fig.plot(data, temps["png"])
        with open(temps["json"], "w", encoding="utf-8") as handle:
            handle.write(dumps(document("reproduce", record), indent=1))
            handle.write("\n")
        with open(temps["csv"], "w", encoding="utf-8", newline="") as handle:
            handle.write(_csv_text(fig.csv_rows(data)))
        for ext in ("md", "tex"):
            if ext in temps:
                with open(temps[ext], "w", encoding="utf-8") as handle:
                    handle.write(texts[ext])
        for ext in extensions:
            os.replace(temps[ext], targets[ext])
    except OSError as error:
        raise MaxboundsValueError("out_dir", f"cannot write the figure into {out_dir!s}: {error.strerror}") from None
    finally:
        for path in temps.values():
            if os.path.exists(path):
                os.remove(path)
    return {"figure": name, **targets, "seconds": seconds}
