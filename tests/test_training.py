"""maxbounds.torch.training and the ``training`` figure: data split, reproducible training, ensembles, tables.

Also the registry's lazy figure loading (missing modules, missing PyTorch, tables written as .md/.tex,
``--out`` created).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from maxbounds._validate import MaxboundsValueError
from maxbounds.cli.main import main
from maxbounds.reproduce import FIGURES, registry, reproduce
from maxbounds.reproduce import training as fig
from maxbounds.torch import Maxout, MaxoutConv2d, init_
from maxbounds.torch.training import MaxoutEnsemble, load_dataset, train

nn = torch.nn


@pytest.fixture(autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _deep(n_in, n_out, widths=(16, 16, 8, 8), rank=5):
    layers, prev = [], n_in
    for w in widths:
        layers.append(Maxout(prev, w, rank))
        prev = w
    return nn.Sequential(*layers, nn.Linear(prev, n_out))


def _cnn():
    return nn.Sequential(MaxoutConv2d(1, 4, 3, 3), nn.MaxPool2d(2), MaxoutConv2d(4, 4, 3, 3), nn.MaxPool2d(2),
                         nn.Flatten(), Maxout(16, 8, 3), nn.Linear(8, 10))


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name, n, features, classes", [("iris", 150, 4, 3), ("digits", 1797, 64, 10)])
def test_split_is_fixed_stratified_and_standardised(name, n, features, classes):
    a, b = load_dataset(name), load_dataset(name)
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert torch.equal(getattr(a, field), getattr(b, field))
    assert a.x_train.dtype == torch.float32 and a.y_train.dtype == torch.int64
    assert (a.n_features, a.n_classes) == (features, classes)
    sizes = a.sizes
    assert sum(sizes.values()) == n
    assert abs(sizes["train"] / n - 0.7) < 0.01 and abs(sizes["test"] / n - 0.2) < 0.01
    # stratified: every split's class shares within one example of the whole set's
    for y in (a.y_train, a.y_val, a.y_test):
        counts = np.bincount(y.numpy(), minlength=classes)
        assert np.all(np.abs(counts - len(y) / classes) <= 1 + 0.02 * len(y))
    x = a.x_train.double()
    std = x.std(dim=0, unbiased=False)
    assert torch.allclose(x.mean(dim=0), torch.zeros(features, dtype=torch.float64), atol=1e-5)
    # constant features (digits' always-blank pixels) stay at 0 with std 1 used: std 0 after
    assert torch.all((torch.abs(std - 1) < 1e-4) | (std == 0))
    other = load_dataset(name, split_seed=1)
    assert not torch.equal(other.y_test, a.y_test) or not torch.equal(other.x_test, a.x_test)


def test_digits_images_and_refusals():
    d = load_dataset("digits")
    images = d.images()
    assert images.x_train.shape == (d.sizes["train"], 1, 8, 8)
    assert torch.equal(images.x_test.reshape(len(d.y_test), -1), d.x_test)
    with pytest.raises(MaxboundsValueError):
        load_dataset("iris").images()
    with pytest.raises(MaxboundsValueError) as error:
        load_dataset("mnist")
    assert error.value.argument == "dataset"


# ---------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def iris():
    return load_dataset("iris")


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_seeded_training_is_reproducible_bit_for_bit(iris, optimizer):
    runs = []
    for _ in range(2):
        model = _deep(4, 3)
        init_(model, "maxout", seed=7)
        seen = []
        history = train(model, iris, optimizer=optimizer, epochs=3, lr=1e-2, halve_every=2, seed=11,
                        callback=lambda epoch, m, seen=seen: seen.append(epoch))
        runs.append((history, [p.detach().clone() for p in model.parameters()]))
        assert seen == [0, 1, 2, 3]
    (h1, p1), (h2, p2) = runs
    assert all(torch.equal(a, b) for a, b in zip(p1, p2))
    for field in ("train_loss", "batch_loss", "train_acc", "val_acc", "test_acc"):
        np.testing.assert_array_equal(getattr(h1, field), getattr(h2, field))
    assert h1.train_loss.shape == (4,) and math.isnan(h1.batch_loss[0])
    np.testing.assert_array_equal(h1.lr, [1e-2, 1e-2, 1e-2, 5e-3])
    # another shuffling seed changes the run
    model = _deep(4, 3)
    init_(model, "maxout", seed=7)
    other = train(model, iris, optimizer=optimizer, epochs=3, lr=1e-2, seed=12)
    assert not np.array_equal(other.train_loss, h1.train_loss)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_ensemble_member_trains_like_the_model_alone(iris, optimizer):
    seeds = [3, 4, 5]
    ensemble = MaxoutEnsemble.from_init(lambda: _deep(4, 3), "maxout", seeds)
    history = train(ensemble, iris, optimizer=optimizer, epochs=3, seed=seeds, lr=1e-3)
    for g, seed in enumerate(seeds):
        alone = _deep(4, 3)
        init_(alone, "maxout", seed=seed)
        single = train(alone, iris, optimizer=optimizer, epochs=3, seed=seed, lr=1e-3)
        member = ensemble.member(g)
        for a, b in zip(alone.parameters(), member.parameters()):
            assert torch.allclose(a, b, rtol=0, atol=1e-6)
        np.testing.assert_allclose(history.member(g).train_loss, single.train_loss, rtol=1e-5)
        np.testing.assert_allclose(history.member(g).test_acc, single.test_acc)
    assert history.train_loss.shape == (4, 3)


def test_ensemble_of_cnns_matches_alone_and_member_copies():
    data = load_dataset("digits").images()
    import dataclasses

    data = dataclasses.replace(data, x_train=data.x_train[:96], y_train=data.y_train[:96])
    ensemble = MaxoutEnsemble.from_init(_cnn, "pool", [0, 1])
    before = ensemble.member(1)
    with torch.no_grad():
        out = ensemble(data.x_test[:5])
        assert out.shape == (2, 5, 10)
        assert torch.allclose(out[1], before(data.x_test[:5]), atol=1e-6)
    train(ensemble, data, optimizer="adam", epochs=1, seed=[0, 1])
    alone = _cnn()
    init_(alone, "pool", seed=1)
    train(alone, data, optimizer="adam", epochs=1, seed=1)
    for a, b in zip(alone.parameters(), ensemble.member(1).parameters()):
        assert torch.allclose(a, b, rtol=0, atol=1e-6)


def test_ensemble_and_train_refusals(iris):
    with pytest.raises(MaxboundsValueError):
        MaxoutEnsemble([_deep(4, 3), _deep(4, 2)])
    with pytest.raises(MaxboundsValueError):
        MaxoutEnsemble([nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))])
    with pytest.raises(MaxboundsValueError):
        MaxoutEnsemble([nn.Sequential(nn.Linear(4, 3), nn.Tanh())])
    model = _deep(4, 3)
    for kwargs, argument in [({"optimizer": "rmsprop"}, "optimizer"), ({"epochs": -1}, "epochs"),
                             ({"lr": 0.0}, "lr"), ({"seed": [1, 2]}, "seed")]:
        with pytest.raises(MaxboundsValueError) as error:
            train(model, iris, **{"epochs": 1, "seed": 0, **kwargs})
        assert error.value.argument == argument


# ---------------------------------------------------------------------------
# the figure
# ---------------------------------------------------------------------------
def test_trains_rule():
    assert fig.trains([0.9, 0.9, 0.2], 0.5) == {"seeds_above": 2, "seeds": 3, "trains": True}
    assert fig.trains([0.9, 0.2, 0.2, 0.9], 0.5)["trains"] is False  # half is not more than half
    assert fig.trains([None, float("nan"), 0.6], 0.5) == {"seeds_above": 1, "seeds": 3, "trains": False}
    d = load_dataset("iris")
    rule = fig.chance_threshold(d)
    assert rule["chance"] == pytest.approx(1 / 3, abs=0.01) and rule["n_test"] == 30
    assert rule["threshold"] == pytest.approx(rule["chance"] + 3 * math.sqrt(rule["chance"] * (1 - rule["chance"]) / 30))


def test_latex_escapes():
    assert fig.tex_escape("a_b & 50% #1 $x$ {y} ~ ^ \\") == (
        r"a\_b \& 50\% \#1 \$x\$ \{y\} \textasciitilde{} \textasciicircum{} \textbackslash{}")
    assert fig.tex_escape("0.5 ± 0.1 σ") == r"0.5 $\pm$ 0.1 $\sigma$"


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _check_tex(text):
    body = [line for line in text.splitlines() if not line.startswith("%")]
    assert body[0].startswith(r"\begin{tabular}") and body[-1] == r"\end{tabular}"
    assert r"\toprule" in body and r"\midrule" in body and r"\bottomrule" in body
    spec = body[0][len(r"\begin{tabular}{"):-1]
    columns = len(spec)
    for line in body:
        if line.endswith(r"\\"):
            # unescaped & separate the cells: exactly columns - 1 of them
            assert line.replace(r"\&", "").count("&") == columns - 1, line
            stripped = line.replace(r"\_", "").replace(r"\%", "").replace(r"\#", "").replace(r"\$", "")
            assert "_" not in stripped and "%" not in stripped and "#" not in stripped
            assert stripped.count("$") % 2 == 0


@pytest.fixture(scope="module")
def tiny_result(tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("training") / "new" / "folder"  # created by reproduce
    return reproduce("training", out, seed=0, size="tiny"), out


def test_tiny_figure_writes_every_file(tiny_result):
    result, out = tiny_result
    assert sorted(p.name for p in out.iterdir()) == sorted(f"training.{e}" for e in ("csv", "json", "md", "png", "tex"))
    with open(result["png"], "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    record = json.loads(_read(result["json"]))
    settings = record["settings"]
    assert settings["level"] == "tiny" and settings["rule"] == fig.RULE
    runs = record["runs"]
    inits = {(r["experiment"], r["dataset"], r["optimizer"], r["init"]) for r in runs}
    assert len(inits) == len(runs) == 2 * 2 * (len(fig.MAXOUT_INITS) + 1) + 2 * len(fig.CNN_INITS)
    for run in runs:
        assert len(run["curves"]["test_acc"]) == len(settings["seeds"])  # raw per-seed curves
        assert len(run["curves"]["test_acc"][0]) == run["epochs"] + 1
        assert run["final"]["seeds"] == len(settings["seeds"])
        assert isinstance(run["final"]["trains"], bool)
    c = {r["init"]: r["c_per_module"] for r in runs if r["experiment"] == "fc" and r["dataset"] == "iris"}
    assert c["1/M"][0] == pytest.approx(1 / 1.80002, rel=1e-3) and c["2"][:20] == [2.0] * 20 and c["2"][-1] == 1.0
    pool = {r["init"]: r["c_per_module"] for r in runs if r["experiment"] == "cnn"}
    assert pool["pool-aware"][1] < pool["1/M (maxout)"][1]  # the conv feeding a pool gets 1/M(K p^2)
    csv_lines = _read(result["csv"]).splitlines()
    assert len(csv_lines) == len(runs) + 1 and "trains" in csv_lines[0]
    md = _read(result["md"])
    assert sum(line.startswith("| ") for line in md.splitlines()) == len(runs) + 1 and "Rule:" in md
    _check_tex(_read(result["tex"]))


def test_progress_reaches_total():
    seen = {"total": None, "done": 0}

    def start(total):
        seen["total"] = total

        def advance(count=1):
            seen["done"] += count

        return advance

    data = fig.compute(seed=1, size="tiny", progress=start)
    assert seen["done"] == seen["total"] > 0
    assert data["settings"]["seeds"] == [1000, 1001]


# ---------------------------------------------------------------------------
# the registry and the command line
# ---------------------------------------------------------------------------
def test_registry_lists_the_training_figures():
    for name in ("training", "gradients-training", "regions-training"):
        assert FIGURES[name].torch
    assert not FIGURES["max-moment"].torch


def test_missing_module_is_one_line(tmp_path, monkeypatch, capsys):
    broken = registry._figure("ghost", "none", "a figure whose module is missing", "no_such_module", torch=False)
    monkeypatch.setitem(FIGURES, "ghost", broken)
    with pytest.raises(MaxboundsValueError) as error:
        reproduce("ghost", tmp_path)
    assert "'ghost'" in error.value.problem and "no_such_module" in error.value.problem
    assert main(["reproduce", "ghost", "--out", str(tmp_path), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ghost" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_without_torch(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(registry, "torch_available", lambda: False)
    with pytest.raises(MaxboundsValueError) as error:
        reproduce("training", tmp_path / "out")
    assert 'pip install "maxbounds[torch]"' in error.value.problem and "'training'" in error.value.problem
    assert not (tmp_path / "out").exists()
    assert main(["reproduce", "training", "--out", str(tmp_path), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install "maxbounds[torch]"' in err
    assert main(["reproduce", "--list"]) == 0
    assert "regions-training" in capsys.readouterr().out
    for name in list(FIGURES):
        if name not in ("max-moment", "training", "gradients-training"):
            monkeypatch.delitem(FIGURES, name)
    assert main(["reproduce", "all", "--out", str(tmp_path / "all"), "-q"]) == 0
    captured = capsys.readouterr()
    skipped = [line for line in captured.err.splitlines() if "skipping" in line]
    assert len(skipped) == 2 and all("maxbounds[torch]" in line for line in skipped)
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == ["max-moment.csv", "max-moment.json",
                                                                     "max-moment.png"]


def test_list_works_without_importing_torch():
    import subprocess
    import sys

    code = ("import sys; sys.modules['torch'] = None\n"
            "from maxbounds.cli.main import main\n"
            "raise SystemExit(main(['reproduce', '--list']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "training" in done.stdout and "torch" in done.stdout
    code = ("import sys; sys.modules['torch'] = None\n"
            "from maxbounds.cli.main import main\n"
            "raise SystemExit(main(['reproduce', 'regions-training', '-q']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "maxbounds[torch]" in done.stderr


def test_out_dir_is_created_but_a_file_is_refused(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("")
    with pytest.raises(MaxboundsValueError) as error:
        reproduce("max-moment", target, size="tiny")
    assert error.value.argument == "out_dir"
    result = reproduce("max-moment", tmp_path / "x" / "y", size="tiny")
    assert (tmp_path / "x" / "y" / "max-moment.png").exists() and "md" not in result
