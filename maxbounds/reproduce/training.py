r"""Training deep maxout networks from each initialisation (Tseran & Montufar 2023, section 6).

The paper's claim: deep maxout networks initialised with :math:`c = 1/M(K)` train with SGD and Adam
where other weight scales fail.  This figure trains, on Iris and the 8 x 8 digits of scikit-learn
(:func:`maxbounds.torch.training.load_dataset`: stratified 70/10/20 split, standardised inputs):

* **fully connected**: 20 maxout layers of widths 64 x 5, 32 x 5, 16 x 5, 8 x 5, rank ``K = 5``, zero
  biases, then a linear output layer with :math:`c = 1`; weights initialised by
  :func:`maxbounds.torch.init_` with :math:`c \in \{1/M, 1/L, 1/S, 1, 2, 0.1\}` (``1/M`` etc. at
  ``K = 5``), and the ReLU network of the same widths (``nn.Linear`` + ``nn.ReLU``) with He's scale;
* **convolutional** (digits as 1 x 8 x 8 images): MaxoutConv2d(1, 8, 3, K=5), MaxoutConv2d(8, 8, 3, K=5),
  MaxPool2d(2), MaxoutConv2d(8, 16, 3, K=5), MaxPool2d(2), Flatten, Maxout(64, 32, K=5), Linear(32, 10),
  initialised with ``"maxout"`` (:math:`c = 1/M(5)` everywhere) and ``"pool"`` (the max-pooling-aware
  scale: a maxout convolution feeding a ``p x p`` max-pool gets :math:`1/M(K p^2)`);

each with SGD (Nesterov momentum 0.9) and Adam, batches of 32, learning rate 1e-3 halved every 100
epochs, cross-entropy, for several seeds (seed ``i`` initialises network ``i`` and shuffles its batches;
every initialisation uses the same seeds).  The networks of one dataset, optimiser and architecture train
together as one :class:`~maxbounds.torch.training.MaxoutEnsemble` (each member exactly as it would alone).

**"Trains"** (the rule of the table): with ``chance`` the test accuracy of always predicting the most
frequent training class and :math:`\sigma = \sqrt{\text{chance}(1-\text{chance})/n_\text{test}}` the
standard deviation of the test accuracy of a predictor that ignores its input, a network *beats chance*
if its final test accuracy exceeds :math:`\text{chance} + 3\sigma`; an initialisation **trains** if more
than half of its seeds beat chance.

Outputs: per-seed curves (training loss on the whole training split, train / validation / test accuracy,
one value per epoch, epoch 0 before training) in the JSON; the PNG draws the mean over seeds with a
min-max band over seeds; the table (CSV, Markdown, LaTeX) gives the final mean ± standard deviation
(``ddof = 1``) over seeds (the training loss over the seeds whose final loss is finite, with the count
of the others, "diverged").  The training loss is the running mean of the epoch's mini-batch losses
(``train(..., eval_train=False)``, as Keras reports it); epoch 0 is the loss of the whole training split
at initialisation.
"""

from __future__ import annotations

import functools
import math
import time
import warnings

import numpy as np

from ..torch._require import require_torch as _torch  # imports no torch until called
from . import _common

K = 5
WIDTHS = (64,) * 5 + (32,) * 5 + (16,) * 5 + (8,) * 5
BATCH = 32
LR = 1e-3
HALVE_EVERY = 100
OPTIMIZERS = ("sgd", "adam")
DATASETS = ("iris", "digits")
#: Maxout initialisations of the fully connected networks: (label, init_ scheme).
MAXOUT_INITS = (("1/M", "maxout"), ("1/L", "upper"), ("1/S", "lower"), ("1", 1.0), ("2", 2.0), ("0.1", 0.1))
RELU_INIT = ("He (ReLU)", "he")
CNN_INITS = (("1/M (maxout)", "maxout"), ("pool-aware", "pool"))
#: Beating chance: final test accuracy above chance + ``THRESHOLD_SIGMAS`` standard deviations.
THRESHOLD_SIGMAS = 3.0

#: Per level: seeds, epochs per experiment, and (tiny only) a cap on the training examples.
SIZES = {
    "tiny": {"seeds": 2, "epochs": {"iris": 2, "digits": 1, "cnn": 1}, "max_train": 40, "cnn": True},
    "quick": {"seeds": 5, "epochs": {"iris": 60, "digits": 8, "cnn": 3}, "max_train": None, "cnn": True},
    "full": {"seeds": 5, "epochs": {"iris": 300, "digits": 300, "cnn": 300}, "max_train": None, "cnn": True},
}

RULE = ("an initialisation trains if more than half of its seeds end with test accuracy above "
        f"chance + {THRESHOLD_SIGMAS:g} sigma, chance = test share of the most frequent training class, "
        "sigma = sqrt(chance (1 - chance) / n_test)")


def fc_model(n_in: int, n_out: int, kind: str = "maxout", widths=WIDTHS, rank: int = K):
    """The fully connected ``nn.Sequential``: maxout (rank ``rank``) or ReLU layers ``widths``, then linear."""
    torch = _torch()
    from ..torch import Maxout

    layers, prev = [], n_in
    for width in widths:
        layers += [Maxout(prev, width, rank)] if kind == "maxout" else [torch.nn.Linear(prev, width),
                                                                         torch.nn.ReLU()]
        prev = width
    layers.append(torch.nn.Linear(prev, n_out))
    return torch.nn.Sequential(*layers)


def cnn_model(n_classes: int = 10, rank: int = K):
    """The small maxout CNN on 1 x 8 x 8 images (see the module docstring)."""
    nn = _torch().nn
    from ..torch import Maxout, MaxoutConv2d

    return nn.Sequential(MaxoutConv2d(1, 8, 3, rank), MaxoutConv2d(8, 8, 3, rank), nn.MaxPool2d(2),
                         MaxoutConv2d(8, 16, 3, rank), nn.MaxPool2d(2), nn.Flatten(), Maxout(64, 32, rank),
                         nn.Linear(32, n_classes))


def seeds_for(seed: int, count: int) -> list[int]:
    """The ``count`` network seeds of figure seed ``seed``."""
    return [1000 * int(seed) + i for i in range(count)]


def chance_threshold(data) -> dict:
    """``{"chance", "sigma", "threshold"}`` of the "trains" rule for a :class:`Dataset`."""
    chance = data.chance
    n = len(data.y_test)
    sigma = math.sqrt(chance * (1 - chance) / n)
    return {"chance": chance, "sigma": sigma, "threshold": chance + THRESHOLD_SIGMAS * sigma, "n_test": n}


def trains(final_test_acc, threshold: float) -> dict:
    """``{"seeds_above", "seeds", "trains"}``: how many seeds beat ``threshold`` and whether more than half do.

    A missing (``None`` / NaN) accuracy counts as not beating it.
    """
    acc = np.array([np.nan if a is None else a for a in final_test_acc], dtype=float)
    above = int(np.sum(np.nan_to_num(acc, nan=-np.inf) > threshold))
    return {"seeds_above": above, "seeds": int(acc.size), "trains": bool(2 * above > acc.size)}


def _mean_std(values) -> tuple:
    """Mean and standard deviation (``ddof=1``) of the finite ``values``; ``(None, None)`` if none is."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (None, None)
    mean = float(np.mean(v))
    std = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
    return (mean if math.isfinite(mean) else None, std if math.isfinite(std) else None)


def _subset(data, cap):
    """``data`` with at most ``cap`` examples per split (the tiny level only)."""
    if cap is None:
        return data
    import dataclasses

    return dataclasses.replace(data, x_train=data.x_train[:cap], y_train=data.y_train[:cap],
                               x_val=data.x_val[:cap], y_val=data.y_val[:cap], x_test=data.x_test[:cap],
                               y_test=data.y_test[:cap])


def _groups(lvl):
    """The ensembles to train: (experiment, dataset, network, [(label, scheme)], epochs key)."""
    groups = []
    for name in DATASETS:
        groups.append(("fc", name, "maxout", MAXOUT_INITS, name))
        groups.append(("fc", name, "relu", (RELU_INIT,), name))
    if SIZES[lvl]["cnn"]:
        groups.append(("cnn", "digits", "maxout-cnn", CNN_INITS, "cnn"))
    return groups


def compute(quick: bool = True, seed: int = 0, progress=None, *, size: str | None = None) -> dict:
    """Train every (experiment, dataset, optimiser, initialisation) for the seeds of ``seed``."""
    lvl = _common.level(quick, size)
    with _common.torch_threads() as threads:
        data = _compute(lvl, seed, progress)
    data["settings"]["torch_threads"] = threads
    return data


def _compute(lvl, seed, progress):
    from ..torch.training import MaxoutEnsemble, load_dataset, train

    sizes = SIZES[lvl]
    seeds = seeds_for(seed, sizes["seeds"])
    groups = _groups(lvl)
    total = sum(sizes["epochs"][key] for *_, key in groups) * len(OPTIMIZERS)
    advance = _common.tracker(progress, total)
    datasets = {name: _subset(load_dataset(name), sizes["max_train"]) for name in DATASETS}
    rules = {name: chance_threshold(data) for name, data in datasets.items()}
    runs, timings = [], []
    for experiment, name, network, inits, key in groups:
        data = datasets[name].images() if experiment == "cnn" else datasets[name]
        epochs = sizes["epochs"][key]
        if experiment == "cnn":
            factory = functools.partial(cnn_model, data.n_classes)
        else:
            factory = functools.partial(fc_model, data.n_features, data.n_classes,
                                        "maxout" if network == "maxout" else "relu")
        for optimizer in OPTIMIZERS:
            members, member_seeds, init_c = [], [], {}
            from ..torch import init_

            for label, scheme in inits:
                for s in seeds:
                    model = factory()
                    done = init_(model, scheme, seed=s, c_linear=1.0, bias_var=0.0)
                    members.append(model)
                    member_seeds.append(s)
                    init_c[label] = [None if c is None else float(c) for c in done.c]
            ensemble = MaxoutEnsemble(members)
            start = time.perf_counter()
            history = train(ensemble, data, optimizer=optimizer, epochs=epochs, batch_size=BATCH, lr=LR,
                            halve_every=HALVE_EVERY, seed=member_seeds, eval_train=False,
                            callback=lambda epoch, _: advance() if epoch > 0 else None)
            seconds = time.perf_counter() - start
            timings.append({"experiment": experiment, "dataset": name, "network": network, "optimizer": optimizer,
                            "members": len(members), "epochs": epochs, "seconds": round(seconds, 3),
                            "seconds_per_epoch": round(seconds / max(epochs, 1), 4)})
            for i, (label, scheme) in enumerate(inits):
                cols = slice(i * len(seeds), (i + 1) * len(seeds))
                curves = {field: _common.clean(getattr(history, field)[:, cols].T)
                          for field in ("train_loss", "train_acc", "val_acc", "test_acc")}
                final_acc = history.test_acc[-1, cols]
                final_loss = history.train_loss[-1, cols]
                acc_mean, acc_std = _mean_std(final_acc)
                acc_se = acc_std / math.sqrt(len(final_acc)) if acc_std is not None else None
                loss_mean, loss_std = _mean_std(final_loss)
                verdict = trains(list(final_acc), rules[name]["threshold"])
                runs.append({
                    "experiment": experiment, "dataset": name, "optimizer": optimizer, "network": network,
                    "init": label, "scheme": scheme,
                    "c_per_module": init_c[label],  # null for the modules without weights (pooling, flatten)
                    "seeds": list(seeds), "epochs": epochs,
                    "curves": curves,
                    "final": {"test_acc_mean": acc_mean, "test_acc_std": acc_std, "test_acc_stderr": acc_se,
                              "train_loss_mean": loss_mean,
                              "train_loss_std": loss_std, "diverged": int(np.sum(~np.isfinite(final_loss))),
                              "test_acc": _common.clean(final_acc),
                              "train_loss": _common.clean(final_loss), **verdict,
                              "threshold": rules[name]["threshold"]},
                })
    settings = {
        "level": lvl, "seeds": seeds, "epochs": dict(sizes["epochs"]), "max_train": sizes["max_train"],
        "widths": list(WIDTHS), "rank": K, "batch_size": BATCH, "lr": LR, "halve_every": HALVE_EVERY,
        "optimizers": {"sgd": "SGD, momentum 0.9, Nesterov", "adam": "Adam (PyTorch defaults)"},
        "biases": "zero", "output_layer": "linear, c = 1", "split": "stratified 70/10/20, split_seed 0",
        "sizes": {name: data.sizes for name, data in datasets.items()},
        "cnn": ("MaxoutConv2d(1,8,3,K=5), MaxoutConv2d(8,8,3,K=5), MaxPool2d(2), MaxoutConv2d(8,16,3,K=5), "
                "MaxPool2d(2), Flatten, Maxout(64,32,K=5), Linear(32,10)") if sizes["cnn"] else None,
        "band": "min-max over seeds (line: mean over seeds)",
        "table": "final epoch: mean ± std (ddof=1) over seeds; s.e. = std / sqrt(seeds)",
        "rule": RULE, "chance": rules, "timings": timings,
    }
    return {"settings": settings, "runs": runs}


# ---------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------
def _fmt(mean, std, digits=3):
    if mean is None:
        return "nan"
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if std is not None else f"{mean:.{digits}f}"


def _fmt_loss(mean, std):
    if mean is None:
        return "nan"
    if abs(mean) >= 1e3 or 0 < abs(mean) < 1e-2:
        return f"{mean:.3g} ± {std:.3g}" if std is not None else f"{mean:.3g}"
    return _fmt(mean, std)


def csv_rows(data: dict) -> list[dict]:
    """One row per (experiment, dataset, optimiser, initialisation): the final values over seeds."""
    rows = []
    for run in data["runs"]:
        f = run["final"]
        rows.append({"experiment": run["experiment"], "dataset": run["dataset"], "optimizer": run["optimizer"],
                     "network": run["network"], "init": run["init"], "epochs": run["epochs"],
                     "seeds": f["seeds"], "test_acc_mean": f["test_acc_mean"], "test_acc_std": f["test_acc_std"],
                     "test_acc_stderr": f["test_acc_stderr"], "train_loss_mean": f["train_loss_mean"], "train_loss_std": f["train_loss_std"],
                     "diverged": f["diverged"], "threshold": f["threshold"], "seeds_above": f["seeds_above"], "trains": f["trains"]})
    return rows


def _table_rows(data):
    for run in data["runs"]:
        f = run["final"]
        yield [run["experiment"], run["dataset"], run["optimizer"], run["network"], run["init"],
               str(run["epochs"]), _fmt(f["test_acc_mean"], f["test_acc_std"]),
               "-" if f["test_acc_stderr"] is None else f"{f['test_acc_stderr']:.3f}",
               _fmt_loss(f["train_loss_mean"], f["train_loss_std"])
               + (f" ({f['diverged']}/{f['seeds']} diverged)" if f["diverged"] else ""),
               f"{f['seeds_above']}/{f['seeds']}",
               "yes" if f["trains"] else "no"]


HEADER = ["experiment", "dataset", "optimiser", "network", "init", "epochs", "test acc (mean ± std)", "s.e.",
          "train loss (mean ± std)", "seeds > chance+3σ", "trains"]


def markdown(data: dict) -> str:
    """The table as Markdown, with the rule and the chance thresholds under it."""
    def cell(text):
        return str(text).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(h) for h in HEADER) + " |",
             "|" + "|".join("---" if i < 5 else "---:" for i in range(len(HEADER))) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in _table_rows(data)]
    s = data["settings"]
    notes = [f"Rule: {s['rule']}."]
    for name, rule in s["chance"].items():
        notes.append(f"{name}: chance {rule['chance']:.3f}, sigma {rule['sigma']:.3f}, threshold "
                     f"{rule['threshold']:.3f} (n_test = {rule['n_test']}).")
    notes.append(f"Level {s['level']}, seeds {s['seeds']}, epochs {s['epochs']}; {s['table']}; the training "
                 "loss over the seeds whose final loss is finite ('k/n diverged': NaN or infinite).")
    return "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
        "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "±": r"$\pm$", "σ": r"$\sigma$",
        "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}


def tex_escape(text) -> str:
    """``text`` with LaTeX's special characters escaped (and ± and σ as math), safe in a tabular cell."""
    return "".join(_TEX.get(ch, ch) for ch in str(text))


def latex(data: dict) -> str:
    """The table as a booktabs ``tabular`` (needs ``\\usepackage{booktabs}``), with the rule as a comment."""
    header = [tex_escape(h) for h in HEADER]
    lines = [f"% {tex_escape(data['settings']['rule'])}",
             r"\begin{tabular}{lllll" + "r" * (len(HEADER) - 5) + "}", r"\toprule",
             " & ".join(header) + r" \\", r"\midrule"]
    lines += [" & ".join(tex_escape(c) for c in row) + r" \\" for row in _table_rows(data)]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def tables(data: dict) -> dict:
    """``{"md": Markdown, "tex": LaTeX}`` of the final-accuracy table."""
    return {"md": markdown(data), "tex": latex(data)}


# ---------------------------------------------------------------------------
# figure
# ---------------------------------------------------------------------------
def _run_length(widths) -> str:
    """``64x5-32x5`` for five layers of width 64 then five of 32."""
    parts, previous, count = [], None, 0
    for w in list(widths) + [None]:
        if w == previous:
            count += 1
            continue
        if previous is not None:
            parts.append(f"{previous}x{count}" if count > 1 else f"{previous}")
        previous, count = w, 1
    return "-".join(parts)


def figure(data: dict):
    """The figure of :func:`plot` (a matplotlib Figure; the caller closes it)."""
    import matplotlib.ticker

    from ..report.plots import legend_outside

    plt = _common.pyplot()
    panels = []
    for run in data["runs"]:
        key = (run["experiment"], run["dataset"], run["optimizer"])
        if key not in panels:
            panels.append(key)
    fig, axes = plt.subplots(len(panels), 2, figsize=(12, 2.7 * len(panels) + 0.6), squeeze=False,
                             layout="constrained")
    colors = plt.get_cmap("tab10")
    labels = []
    for run in data["runs"]:
        if run["init"] not in labels:
            labels.append(run["init"])
    for row, key in enumerate(panels):
        for run in (r for r in data["runs"] if (r["experiment"], r["dataset"], r["optimizer"]) == key):
            color = colors(labels.index(run["init"]) % 10)
            for col, field in enumerate(("train_loss", "test_acc")):
                values = np.array([[np.nan if v is None else v for v in seed] for seed in run["curves"][field]],
                                  dtype=float)
                xs = np.arange(values.shape[1])
                finite = np.where(np.isfinite(values), values, np.nan)
                with warnings.catch_warnings():  # a column of diverged (all-NaN) seeds draws nothing
                    warnings.simplefilter("ignore", RuntimeWarning)
                    mean = np.nanmean(finite, axis=0)
                    lo, hi = np.nanmin(finite, axis=0), np.nanmax(finite, axis=0)
                ax = axes[row, col]
                ax.fill_between(xs, lo, hi, color=color, alpha=0.15, lw=0)
                ax.plot(xs, mean, color=color, lw=1.4, label=run["init"])
        experiment, dataset, optimizer = key
        title = f"{'CNN' if experiment == 'cnn' else 'FC'} {dataset}, {optimizer}"
        axes[row, 0].set_yscale("log")
        axes[row, 0].set_ylabel("training loss")
        axes[row, 0].set_title(title, fontsize=9)
        axes[row, 1].set_ylabel("test accuracy")
        axes[row, 1].set_ylim(0, 1)
        axes[row, 1].set_title(title, fontsize=9)
        chance = data["settings"]["chance"][dataset]
        axes[row, 1].axhline(chance["threshold"], color="grey", lw=0.8, ls=":")
        legend_outside(axes[row, 1], fontsize=7, title="initialisation", title_fontsize=7)
        for ax in axes[row]:
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    s = data["settings"]
    import textwrap

    arch = f"FC: maxout, hidden widths {_run_length(s['widths'])}, K={s['rank']}, {s['biases']} biases"
    if any(p[0] == "cnn" for p in panels):
        arch += "\n" + "\n".join(textwrap.wrap(f"CNN: {s['cnn']}", 130))
    fig.suptitle("Training from each initialisation: mean over seeds, min-max band "
                 f"(level {s['level']}; dotted: chance + 3 sigma)\n{arch}", fontsize=9)
    return fig


def plot(data: dict, path) -> None:
    """Rows: (experiment, dataset, optimiser); columns: training loss (log scale) and test accuracy."""
    _common.save(figure(data), path, dpi=80, format="png")
