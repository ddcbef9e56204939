"""The figures of MATH.md section 8 and :func:`reproduce`, which writes one figure's PNG, JSON and CSV atomically."""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import os
import tempfile
import time
from typing import Callable

from .. import __version__
from .._validate import MaxboundsValueError
from ..report.json import dumps
from . import activation_length, cosines, gradients, jacobian_grid, max_moment


@dataclasses.dataclass(frozen=True)
class Figure:
    """One reproducible figure: its paper description and the functions that compute and draw it."""

    name: str
    paper: str
    description: str
    compute: Callable
    plot: Callable
    csv_rows: Callable


FIGURES: dict[str, Figure] = {f.name: f for f in (
    Figure("gradients", "Figure 1 (fully connected)",
           "n_0 (dN/dW)^2 against depth 2..10, width 2, K=5, c in {1/L, 1/M, 1, 2, 1/S, 0.1, 100}: "
           "median, IQR, mean with standard error, and the bounds of MATH.md 5",
           gradients.compute, gradients.plot, gradients.csv_rows),
    Figure("gradients-conv", "Figure 1 (convolutional)",
           "the same for convolutional maxout networks: 3x3 kernels, 2 channels, 32x32x3 input",
           gradients.compute_conv, gradients.plot, gradients.csv_rows),
    Figure("jacobian-grid", "Figure 2",
           "E||J_N(x) u||^2 over the grid [-1000, 1000]^2, width 2, K=5, unit-variance weights and biases: "
           "varies with x for maxout, constant for ReLU",
           jacobian_grid.compute, jacobian_grid.plot, jacobian_grid.csv_rows),
    Figure("cosines-layer", "Figure 3 (against layer)",
           "|cos gamma_l| against layer, depth 100, width 100, K=2..5, for c = 1/M, 0.3, 10",
           functools.partial(cosines.compute, "layer"), cosines.plot, cosines.csv_rows),
    Figure("cosines-width", "Figure 3 (against width)",
           "|cos gamma_l| against layer, depth 100, c = 1/M(K), K=2..5, for widths 2, 10, 100",
           functools.partial(cosines.compute, "width"), cosines.plot, cosines.csv_rows),
    Figure("activation-length", "Figure 4",
           "||x_l||^2/n_l against layer: explicit networks, the exact law of MATH.md 3 and its mean formula "
           "(K=5, width 10, c=0.55555, beta=c/n)",
           activation_length.compute, activation_length.plot, activation_length.csv_rows),
    Figure("max-moment", "Figure 5",
           "M(K) = E[max of K standard normals, squared] for K = 2..100, with a Monte Carlo check, and 1/M(K)",
           max_moment.compute, max_moment.plot, max_moment.csv_rows),
)}


def figure(name) -> Figure:
    """The :class:`Figure` called ``name``; an unknown name raises an error that lists the valid ones."""
    if name not in FIGURES:
        raise MaxboundsValueError("figure", f"unknown figure {name!r}; choose from {', '.join(FIGURES)} or all")
    return FIGURES[name]


def check_out_dir(out_dir) -> str:
    """``out_dir`` as an absolute path, after checking that it is an existing, writable folder."""
    path = os.path.abspath(os.fspath(out_dir))
    if not os.path.isdir(path):
        raise MaxboundsValueError("out_dir", f"{out_dir!s} is not an existing folder")
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

    All three are written to temporary files in ``out_dir`` first and moved into
    place with :func:`os.replace` only when all three are complete, so an
    error (or an interrupt) never leaves a half-written file.  ``full`` uses
    larger samples (minutes per figure; the paper's own sizes are not published
    with it, see docs/reproduce.md); the default is the quick setting.
    ``progress`` is a ``start(total) -> advance()`` callable (see
    :func:`maxbounds.cli._progress.progress_bar`); ``size`` (``"tiny"``,
    ``"quick"``, ``"full"``) overrides ``full`` and exists for the tests.

    Returns ``{"figure", "png", "json", "csv", "seconds"}``.
    """
    fig = figure(name)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise MaxboundsValueError("seed", f"expected an integer in 0..2**63-1, got {seed!r}")
    folder = check_out_dir(out_dir)
    start = time.perf_counter()
    data = fig.compute(quick=not full, seed=seed, progress=progress, size=size)
    seconds = time.perf_counter() - start
    record = {"figure": name, "paper": fig.paper, "description": fig.description, "seed": seed,
              "maxbounds": __version__, "seconds": round(seconds, 3), **data}
    targets = {ext: os.path.join(folder, f"{name}.{ext}") for ext in ("png", "json", "csv")}
    temps = {}
    try:
        for ext in ("png", "json", "csv"):
            temps[ext] = _temp(folder, "." + ext)
        fig.plot(data, temps["png"])
        with open(temps["json"], "w", encoding="utf-8") as handle:
            handle.write(dumps(record, indent=1))
            handle.write("\n")
        with open(temps["csv"], "w", encoding="utf-8", newline="") as handle:
            handle.write(_csv_text(fig.csv_rows(data)))
        for ext in ("png", "json", "csv"):
            os.replace(temps[ext], targets[ext])
    except OSError as error:
        raise MaxboundsValueError("out_dir", f"cannot write the figure into {out_dir!s}: {error.strerror}") from None
    finally:
        for path in temps.values():
            if os.path.exists(path):
                os.remove(path)
    return {"figure": name, **targets, "seconds": seconds}
