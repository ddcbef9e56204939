"""Pictures a reader can read (issue 16, item 11): structural checks of the matplotlib figures, not pixels.

Each picture is built as a Figure from small hand-made data (or a tiny network) and checked for what a
reader needs: titles and tick labels that name the architecture, a ``c`` sweep in increasing order,
intervals on log axes that never reach down to a non-positive value, tick labels that do not collide,
legends outside the data, and neighbouring activation regions in different colours.
"""

from __future__ import annotations

import math
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PolyCollection

from maxbounds import Architecture
from maxbounds.report import plots, regions_plot
from maxbounds.sweep import show


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# -- structural helpers ----------------------------------------------------------------------------------------
def _drawn(fig):
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _overlap(a, b, margin: float = 0.0) -> bool:
    """Whether boxes ``a`` and ``b`` (display pixels) overlap or come closer than ``margin`` pixels."""
    return a.x0 < b.x1 + margin and b.x0 < a.x1 + margin and a.y0 < b.y1 + margin and b.y0 < a.y1 + margin


def _tick_labels(fig):
    out = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis):
            out += [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
    return out


def assert_tick_labels_apart(fig):
    """No two tick labels of the figure (any axes, either axis) come within 2 points of each other."""
    fig.set_dpi(100)
    renderer = _drawn(fig)
    labels = _tick_labels(fig)
    boxes = [t.get_window_extent(renderer) for t in labels]
    margin = 2.0 * fig.dpi / 72
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not _overlap(boxes[i], boxes[j], margin), \
                f"tick labels {labels[i].get_text()!r} and {labels[j].get_text()!r} collide"


def _legends(fig):
    return [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)


def assert_legends_cover_no_data(fig):
    """No legend overlaps any axes' data area (so it covers no bar, point or band)."""
    renderer = _drawn(fig)
    legends = _legends(fig)
    assert legends, "the figure has no legend"
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            if ax.get_visible() and ax.get_label() != "<colorbar>":
                assert not _overlap(box, ax.get_window_extent(renderer)), "a legend lies over an axes"


def _bar_segments(ax):
    """The vertical segments (x, y_low, y_high) of the error bars and bound bars of ``ax``."""
    out = []
    for coll in ax.collections:
        if isinstance(coll, LineCollection):
            for seg in coll.get_segments():
                seg = np.asarray(seg, dtype=float)
                if len(seg) == 2 and seg[0, 0] == seg[1, 0]:
                    out.append((seg[0, 0], min(seg[:, 1]), max(seg[:, 1])))
    return out


def assert_log_intervals_positive(fig):
    """On every log axis, no bar, line or point has a non-positive (or a hidden, clipped) lower end."""
    checked = 0
    for ax in fig.axes:
        if ax.get_yscale() != "log":
            continue
        for _, low, _ in _bar_segments(ax):
            assert low > 0, f"an interval on a log axis reaches {low}"
            checked += 1
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), dtype=float)
            y = y[np.isfinite(y)]
            assert np.all(y > 0), "a line on a log axis has a non-positive value"
    assert checked, "no interval was drawn on a log axis"


# -- maxbounds sweep show --plot --------------------------------------------------------------------------------
def _sweep_rows():
    rows = []
    task = 0
    for estimator, lower, exact in (("jacobian", 0.01, False), ("activation", None, True)):
        for widths in ("3-8-8-2", "3-16-16-2"):
            for K in (2, 3):
                for c in (1.0, "1/M"):
                    upper = 2.0
                    rows.append({"task": task, "estimator": estimator, "widths": widths, "K": K, "c": c,
                                 "c_out": 1.0, "bias_var": 0.0, "method": "chain", "samples": 200, "seed": 0,
                                 "statistic": "E||Ju||^2" if not exact else "E||x_l||^2 l=last",
                                 "estimate": 1.0 + 0.1 * K, "stderr": 0.05 if task % 3 else 0.9,
                                 "lower": upper if exact else lower, "upper": upper, "z": 0.0,
                                 "verdict": "inside"})
                    task += 1
    return rows


def test_sweep_show_ticks_name_widths_rank_and_scale_and_do_not_collide():
    rows = _sweep_rows()
    fig = show.summary_figure(rows, "a sweep")
    for ax in fig.axes:
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert len(labels) == 8
        for text in labels:
            assert re.search(r"3-(8|16)-(8|16)-2 K=[23] c=(1|1/M)\b", text), text
            assert "#" in text  # the grid position stays, after the architecture
    assert "c=1/M" in fig.axes[0].get_xticklabels()[1].get_text()
    assert_tick_labels_apart(fig)
    assert_legends_cover_no_data(fig)


def test_sweep_show_log_panel_draws_intervals_reaching_zero_as_upper_halves():
    rows = [r for r in _sweep_rows() if r["estimator"] == "jacobian"]
    fig = show.summary_figure(rows, "")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"  # bars from 0.005 to 1 span more than a decade
    assert_log_intervals_positive(fig)
    labels = ax.get_legend_handles_labels()[1]
    assert plots.REACHES_ZERO in labels  # task 0 has an interval 1.2 +- 1.76: it reaches 0


def test_sweep_show_marks_exact_values_and_one_sided_bounds():
    rows = _sweep_rows()
    for r in rows[:2]:
        r["lower"] = None  # one-sided: an upper bound only
    fig = show.summary_figure(rows, "")
    top, bottom = (ax.get_legend_handles_labels()[1] for ax in fig.axes)
    assert "upper bound only (= 1)" in top
    assert "exact mean (= 1)" in bottom
    assert not any(low <= 0 for _, low, _ in _bar_segments(fig.axes[0]))


# -- maxbounds validate QUANTITY --sweep ... --plot -------------------------------------------------------------
ARCH = Architecture((3, 8, 8, 2), ranks=3)


def _c_rows(as_text: bool):
    given = ["2", "1/M", "0.5", "1", "1/L"]
    archs = [ARCH.with_(c=v if "/" in v and v[2:].isalpha() else float(v)) for v in given]
    rows = []
    for text, a in zip(given, archs):
        c = a.c[0]
        where = {"c": text} if as_text else {"c": c, "c_rule": text if text[-1].isalpha() else None}
        rows.append({**where, "estimate": c, "stderr": 0.01 * c, "lower": 0.1 * c, "upper": 3 * c})
    return rows


@pytest.mark.parametrize("as_text", [False, True])
def test_c_sweep_runs_in_increasing_c_and_is_not_titled_with_the_base_c(as_text):
    fig = plots.sweep_figure(_c_rows(as_text), "c", "jacobian", ARCH)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    values = [float(m.group(1)) if (m := re.search(r"\(([^)]*)\)", s)) else float(s) for s in labels]
    assert values == sorted(values) and len(set(values)) == 5
    assert labels[0].startswith("1/L") and labels[-1] == "2"
    assert np.all(np.diff(ax.lines[0].get_xdata()) > 0)  # the bound line joins the values left to right
    upper = [line for line in ax.lines if len(line.get_xdata()) == 5][1].get_ydata()
    assert np.all(np.diff(upper) > 0)  # upper = 3c: increasing in the drawn order
    title = ax.get_title()
    assert "widths 3-8-8-2" in title and "K=3" in title
    assert "c swept" in title and not re.search(r"\bc=1\b", title)
    assert_legends_cover_no_data(fig)
    assert_tick_labels_apart(fig)


def test_depth_sweep_title_marks_the_depth_as_swept():
    rows = [{"depth": d, "estimate": float(d), "stderr": 0.1, "lower": 0.5 * d, "upper": 2.0 * d}
            for d in (2, 3, 4, 5)]
    fig = plots.sweep_figure(rows, "depth", "ntk", ARCH.describe())
    title = fig.axes[0].get_title()
    assert "widths 3-8x(L-1)-2" in title and "depth L swept" in title
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["2", "3", "4", "5"]


# -- maxbounds validate QUANTITY --plot ------------------------------------------------------------------------
def _entry(mean, half, lower, upper):
    return {"estimate": {"mean": mean, "stderr": half / 1.96, "interval": [mean - half, mean + half]},
            "bounds": {"lower": lower, "upper": upper}}


def test_validation_plot_legend_is_off_the_bound_bars_and_log_intervals_are_honest():
    result = {"quantity": "jacobian", "architecture": ARCH.describe(),
              "mean": _entry(0.8, 0.05, 0.02, 3.0), "second_moment": _entry(2.0, 2.5, 0.002, 20.0)}
    fig = plots.validation_figure(result)
    assert ARCH.describe() in fig.axes[0].get_title()
    assert_legends_cover_no_data(fig)
    assert_log_intervals_positive(fig)


# -- maxbounds reproduce: log axes, ticks, legends ---------------------------------------------------------------
def _gradient_conv_data():
    depths = [2, 3, 4]
    curves = []
    for label, c in (("0.1", 0.1), ("1", 1.0), ("100", 100.0)):
        mean = [c ** d for d in depths]
        curves.append({"c": c, "label": label, "mean": mean,
                       "stderr": [0.2 * mean[0], 0.7 * mean[1], 0.2 * mean[2]],  # depth 3: 1.96 * 0.7 > 1
                       "q25": [0.5 * m for m in mean], "median": mean, "q75": [2 * m for m in mean]})
    settings = {"variant": "convolutional", "channels": 2, "K": 5, "kernel": 3, "image": [3, 4, 4], "n_0": 48,
                "c_out": 1.0}
    return {"settings": settings, "depths": depths, "curves": curves}


def test_gradients_conv_intervals_crossing_zero_are_upper_halves_with_a_caret():
    from maxbounds.reproduce import gradients

    data = _gradient_conv_data()
    fig = gradients.figure(data)
    right = fig.axes[1]
    assert_log_intervals_positive(fig)
    # every bar starts at its true lower end, or at the point itself when that end is <= 0
    expected = set()
    for curve in data["curves"]:
        for d, m, se in zip(data["depths"], curve["mean"], curve["stderr"]):
            low = m - 1.96 * se
            expected.add((d, round(math.log(low if low > 0 else m), 9)))
    drawn = {(x, round(math.log(low), 9)) for x, low, _ in _bar_segments(right)}
    assert drawn == expected
    assert plots.REACHES_ZERO in [t.get_text() for t in right.get_legend().get_texts()]
    title = fig.get_suptitle()
    assert "2 channels" in title and "K=5" in title
    assert_legends_cover_no_data(fig)


def test_gradients_training_does_not_invent_a_lower_end():
    pytest.importorskip("torch")  # the module imports PyTorch (about 2 s of this file's time)
    from maxbounds.reproduce import gradients_training

    layers = [1, 2, 3]
    data = {"layers": layers, "bounds": {"lower": [0.1, 0.1, 0.1], "upper": [10.0, 10.0, 10.0]},
            "settings": {"dataset": "digits", "width": 4, "maxout layers": 2, "K": 5, "seeds": [0, 1],
                         "lr": 0.01},
            "curves": [{"epoch": 0, "mean": [1.0, 2.0, 3.0], "stderr": [0.1, 1.5, 0.1], "q25": [0.5] * 3,
                        "median": [1.0] * 3, "q75": [2.0] * 3}]}
    fig = gradients_training.figure(data)
    lows = sorted(low for _, low, _ in _bar_segments(fig.axes[0]))
    assert lows == pytest.approx(sorted([1.0 - 0.196, 2.0, 3.0 - 0.196]))  # not 2.0 / 10
    assert_log_intervals_positive(fig)
    assert_legends_cover_no_data(fig)


def _jacobian_grid_data(steps=9):
    axis = np.linspace(-1000, 1000, steps)
    grid = [[1.0 + abs(a) / 100 + abs(b) / 200 for b in axis] for a in axis]
    flat = np.array(grid).ravel().tolist()
    return {"axis": axis.tolist(), "maxout": {"mean": flat}, "maxout_chain": {"mean": flat},
            "relu": {"mean": [1.0] * len(flat)}, "relu_theory": 1.0,
            "settings": {"widths": [2, 2, 2, 2, 2], "K": 5, "networks": 10}}


def test_jacobian_grid_tick_labels_do_not_collide():
    from maxbounds.reproduce import jacobian_grid

    fig = jacobian_grid.figure(_jacobian_grid_data())
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels[0] == "-1000" and labels[-1] == "1000"
    assert_tick_labels_apart(fig)


def test_cosines_legend_is_outside_the_panels():
    from maxbounds.reproduce import cosines

    layers = list(range(1, 11))
    curve = {"mean": [0.5] * 10, "q25": [0.1] * 10, "q75": [0.9] * 10, "wide_limit": [0.5] * 10}
    panels = [{"label": f"width {w}, c = 1/M(K)", "curves": [{"K": K, **curve} for K in (2, 3)]} for w in (2, 10)]
    fig = cosines.figure({"layers": layers, "panels": panels, "settings": {"layers": 10, "networks": 5}})
    assert_legends_cover_no_data(fig)
    assert "depth 10" in fig.get_suptitle()


# -- maxbounds regions count --plot -------------------------------------------------------------------------------
def _network():
    from maxbounds.regions import Network

    arch = Architecture((2, 6, 6, 2), ranks=3, bias_var=1.0)
    return arch, Network.random(arch, 3, 0)


@pytest.fixture(scope="module")
def partition():
    from maxbounds.regions import plane_partition

    return plane_partition(_network()[1], (-3.0, 3.0))


def test_partition_names_the_architecture_and_neighbours_differ_in_colour(partition):
    arch, net = _network()
    assert partition.regions > 30
    fig = regions_plot.partition_figure(partition, architecture=arch.describe())
    ax = fig.axes[0]
    assert "widths 2-6-6-2" in ax.get_title() and "K=3" in ax.get_title()
    polys = next(c for c in ax.collections if isinstance(c, PolyCollection))
    colours = polys.get_facecolors()
    index = {tuple(p): r for r, p in enumerate(partition.patterns.tolist())}
    # the two sides of the midpoint of every interior edge, located by the network's own activation patterns
    checked = 0
    for r, poly in enumerate(partition.polygons):
        poly = np.asarray(poly)
        for a, b in zip(poly, np.roll(poly, -1, axis=0)):
            d = b - a
            length = float(np.hypot(*d))
            if length < 1e-3:
                continue
            mid, normal = (a + b) / 2, np.array([-d[1], d[0]]) / length
            sides = np.stack([mid + 1e-7 * normal, mid - 1e-7 * normal])
            if np.any(np.abs(sides) >= 3.0):
                continue
            found = [index.get(tuple(p)) for p in net.patterns(sides).tolist()]
            if None in found or found[0] == found[1]:
                continue
            assert not np.allclose(colours[found[0]], colours[found[1]]), f"regions {found} share a colour"
            checked += 1
    assert checked > 50


def test_grid_panel_neighbours_differ_in_colour(partition):
    from maxbounds.regions import grid_count

    arch, net = _network()
    grid = grid_count(net, (-3.0, 3.0), resolution=40)
    fig = regions_plot.partition_figure(partition, grid=grid, architecture=arch.describe())
    image = fig.axes[1].get_images()[0].get_array()
    labels = grid.labels
    for axis in (0, 1):
        a, b = np.take(labels, range(39), axis=axis), np.take(labels, range(1, 40), axis=axis)
        ca, cb = np.take(image, range(39), axis=axis), np.take(image, range(1, 40), axis=axis)
        assert np.all(ca[a != b] != cb[a != b])
    assert "widths 2-6-6-2" in fig.axes[1].get_title()


def test_greedy_colours_and_adjacency_on_a_known_map():
    # four unit squares in a 2 x 2 block: each touches two by an edge and one only at the centre
    squares = [np.array([[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1]], float) for y in (0, 1) for x in (0, 1)]
    squares.append(np.array([[2, 0], [3, 0], [3, 2], [2, 2]], float))  # a tall square beside two (T-junction)
    pairs = {tuple(p) for p in regions_plot.region_adjacency(squares).tolist()}
    assert pairs == {(0, 1), (0, 2), (1, 3), (2, 3), (1, 4), (3, 4)}
    colours = regions_plot.greedy_colours(5, sorted(pairs))
    assert all(colours[i] != colours[j] for i, j in pairs)


def test_line_plot_names_the_architecture_and_keeps_its_legend_outside():
    from maxbounds.regions import line_regions

    arch, net = _network()
    lines = line_regions(net, np.array([-3.0, -3.0]), np.array([3.0, 3.0]))
    fig = regions_plot.line_figure(lines, architecture=arch.describe())
    assert "widths 2-6-6-2" in fig.axes[0].get_title()
    assert "output 1" in fig.axes[0].get_legend_handles_labels()[1]
    assert_legends_cover_no_data(fig)
