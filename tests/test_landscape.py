"""maxbounds.landscape: the Jacobian of the parametrisation, its rank (numerical and exact), the 1-D region counts,
the transition sweep, ``maxbounds landscape rank`` and the rank-transition figure."""

import itertools
import json
import math
from fractions import Fraction

import numpy as np
import pytest

from maxbounds import landscape as L
from maxbounds._validate import MaxboundsValueError
from maxbounds.cli.main import main
from maxbounds.report.json import dumps
from maxbounds.report.output import payload


def run(capsys, *argv):
    try:
        status = main(list(argv))
    except SystemExit as stop:  # argparse's own errors
        status = stop.code
    out, err = capsys.readouterr()
    return status, out, err


def _net(activation, m, d, seed, K=3, slope=0.3):
    return L.random_parameters(m, d, activation, rank=K, slope=slope, rng=seed)


def _finite_differences(net, X, h=1e-6):
    theta = net.flat()
    cols = []
    for e in np.eye(theta.size):
        cols.append((L.forward(net.with_flat(theta + h * e), X) - L.forward(net.with_flat(theta - h * e), X)) / (2 * h))
    return np.stack(cols, axis=1)


def _margin(net, X):
    """The smallest |pre-activation| (ReLU) or gap between the two best pieces (maxout) at the data."""
    if net.activation == "maxout":
        z = np.sort(np.einsum("id,jkd->ijk", X, net.W) + net.b[None], axis=2)
        return float(np.min(z[..., -1] - z[..., -2]))
    return float(np.min(np.abs(X @ net.W.T + net.b)))


# ---------------------------------------------------------------------------
# the closed-form Jacobian
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["relu", "leaky-relu", "maxout"])
def test_closed_form_jacobian_equals_finite_differences(activation):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((7, 3))
    net = _net(activation, 4, 3, 11)
    assert _margin(net, X) > 1e-3  # central differences with h = 1e-6 stay inside one region
    J = L.jacobian(net, X)
    assert J.shape == (7, net.parameter_count) == (7, 4 * (3 + 2) if activation != "maxout" else 4 * (3 * 4 + 1))
    assert np.max(np.abs(J - _finite_differences(net, X))) < 1e-7


def test_flat_round_trip_and_parameter_order():
    net = _net("maxout", 2, 3, 0, K=2)
    theta = net.flat()
    again = net.with_flat(theta)
    assert np.array_equal(again.W, net.W) and np.array_equal(again.b, net.b) and np.array_equal(again.v, net.v)
    # unit 0 first: w_00 (3), b_00, w_01 (3), b_01, v_0
    assert np.array_equal(theta[:4], np.r_[net.W[0, 0], net.b[0, 0]]) and theta[8] == net.v[0]
    relu = _net("relu", 3, 2, 1)
    assert np.array_equal(relu.flat()[:4], np.r_[relu.W[0], relu.b[0], relu.v[0]])


@pytest.mark.parametrize("activation", ["relu", "leaky-relu", "maxout"])
def test_rank_depends_only_on_the_pattern(activation):
    rng = np.random.default_rng(2)
    for seed in range(6):
        X = rng.standard_normal((9, 2))
        net = _net(activation, 3, 2, seed, K=2)
        r = L.jacobian_rank(net, X)
        assert r.rank == r.pattern_rank <= min(r.points, r.parameters)
        # another network with the same pattern (positive rescaling of (w, b), new v) has the same rank
        other = L.TwoLayer(net.W * 2.5, net.b * 2.5, rng.standard_normal(3) + 3.0, activation, net.slope)
        assert np.array_equal(L.activation_pattern(other, X), r.pattern)
        assert L.jacobian_rank(other, X).rank == r.rank


def test_a_zero_output_weight_can_only_lower_the_rank():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((8, 2))
    net = _net("relu", 4, 2, 3)
    v = net.v.copy()
    v[0] = 0.0
    dead = L.TwoLayer(net.W, net.b, v)
    J = L.jacobian(dead, X)
    assert np.all(J[:, :3] == 0)  # the (w_0, b_0) columns vanish with v_0
    assert L.numerical_rank(J).rank <= L.jacobian_rank(net, X).rank


# ---------------------------------------------------------------------------
# hand-built patterns with known rank
# ---------------------------------------------------------------------------
X3 = np.array([[0.0], [1.0], [2.0]])


@pytest.mark.parametrize("pattern, rank", [
    ([[0, 0], [1, 0], [1, 1]], 2),  # suffixes {2,3} and {3}: point 1 is active nowhere -> a zero row
    ([[1, 0], [1, 1], [1, 1]], 3),  # all points, and {2,3}: full rank
    ([[1, 1], [1, 1], [1, 1]], 2),  # two units active on all points: both blocks are [x, 1]
    ([[0, 0], [0, 0], [0, 0]], 0),  # every unit inactive everywhere
    ([[1, 0], [0, 1], [1, 0]], 3),  # not realisable in 1-D (a unit active on {1, 3} only), yet full rank
])
def test_one_dimensional_hand_cases(pattern, rank):
    M = L.pattern_matrix(np.array(pattern), X3, "relu")
    assert M.shape == (3, 4)
    assert L.numerical_rank(M).rank == rank == L.exact_rank(L.exact_pattern_matrix(np.array(pattern), X3, "relu"))


def test_an_inactive_unit_zeroes_its_block_and_an_all_active_unit_gives_x1():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 2))
    A = rng.integers(0, 2, size=(6, 3))
    A[:, 1] = 0
    A[:, 2] = 1
    M = L.pattern_matrix(A, X, "relu")
    assert np.all(M[:, 3:6] == 0)
    assert np.array_equal(M[:, 6:9], np.c_[X, np.ones(6)])
    assert L.numerical_rank(M).rank == L.numerical_rank(np.delete(M, np.s_[3:6], axis=1)).rank
    # leaky ReLU: an inactive unit keeps a block a [X, 1], of rank d + 1
    leaky = L.pattern_matrix(A, X, "leaky-relu", slope=0.1)
    assert np.allclose(leaky[:, 3:6], 0.1 * np.c_[X, np.ones(6)])


@pytest.mark.parametrize("activation", ["relu", "leaky-relu", "maxout"])
def test_duplicated_data_points_lower_the_rank(activation):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((6, 2))
    X[5] = X[0]
    net = _net(activation, 40, 2, 2)  # wide: without the duplicate the rank would be N = 6
    r = L.jacobian_rank(net, X, exact=True)
    assert r.rank == r.exact == 5 and not r.full and r.minima_dimension is None
    assert L.jacobian_rank(net, X[:5]).full


def test_maxout_rank_is_bounded_by_the_shared_block():
    # the K blocks of a maxout unit add up to [X, 1]: rank <= (d + 1)(1 + m(K - 1))
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 2))
    A = L.uniform_patterns(50, 30, 3, "maxout", rank=2, rng=rng)
    ranks = L.batch_ranks(L.pattern_matrix(A, X, "maxout", rank=2))
    assert ranks.max() == L.max_pattern_rank(30, 2, 3, "maxout", 2) == 12 < 3 * 2 * 3


def test_the_cell_condition_is_necessary():
    # three points of R^1 in one cell (same pattern row): their values are affine in x, so rank < N
    A = np.array([[1, 0], [1, 0], [1, 0], [0, 1]])
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    assert not L.cell_condition(A, 1) and L.numerical_rank(L.pattern_matrix(A, X)).rank < 4
    assert not L.cell_condition(np.array([[1, 0], [0, 0], [0, 1]]), 1)  # a dead point (ReLU)
    assert L.cell_condition(np.array([[1, 0], [0, 0], [0, 1]]), 1, "leaky-relu")
    rng = np.random.default_rng(8)
    X = rng.standard_normal((12, 2))
    for _ in range(40):
        net = L.random_parameters(int(rng.integers(4, 16)), 2, rng=rng)
        r = L.jacobian_rank(net, X)
        assert not r.full or L.cell_condition(r.pattern, 2)


# ---------------------------------------------------------------------------
# numerical and exact rank
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["relu", "leaky-relu", "maxout"])
def test_exact_rank_agrees_with_the_svd_rank(activation):
    rng = np.random.default_rng(7)
    seen = set()
    for seed in range(12):
        N, d, m = int(rng.integers(3, 8)), int(rng.integers(1, 4)), int(rng.integers(1, 5))
        X = rng.standard_normal((N, d))
        net = _net(activation, m, d, seed, K=2)
        r = L.jacobian_rank(net, X, exact=True)
        assert r.exact == r.rank == r.pattern_rank <= min(N, net.parameter_count)
        seen.add(r.full)
    assert seen == {True, False}  # both outcomes were checked


def test_exact_rank_on_integer_and_rational_matrices_and_sympy():
    sympy = pytest.importorskip("sympy")
    M = [[1, 2, 3], [2, 4, 6], [1, 0, 1]]
    assert L.exact_rank(M) == 2 == sympy.Matrix(M).rank()
    assert L.exact_rank([[Fraction(1, 3), Fraction(2, 3)], [1, 2]]) == 1
    assert L.exact_rank([[0.1, 0.2, 0.30000000000000004], [1, 2, 3]]) == 2  # floats at their exact binary value
    X = np.random.default_rng(0).standard_normal((5, 2))
    J, _ = L.exact_jacobian(_net("relu", 2, 2, 1), X)
    assert L.exact_rank(J) == sympy.Matrix([[sympy.Rational(x.numerator, x.denominator) for x in row]
                                            for row in J]).rank()
    assert L.exact_rank(np.zeros((3, 4))) == 0 and L.exact_rank(np.eye(4)[:, :3]) == 3


def test_numerical_rank_tolerance_is_documented_default():
    M = np.diag([1.0, 1e-3, 1e-17])
    r = L.numerical_rank(M)
    assert r.rank == 2 and r.tolerance == 3 * np.finfo(float).eps * 1.0
    assert L.numerical_rank(M, tol=1e-2).rank == 1
    assert r.as_dict()["sigma_first_dropped"] == pytest.approx(1e-17)


def test_minima_dimension():
    assert L.minima_dimension(5, 5, 12) == 7
    assert L.minima_dimension(4, 5, 12) is None
    with pytest.raises(MaxboundsValueError):
        L.minima_dimension(6, 5, 12)


# ---------------------------------------------------------------------------
# one-dimensional data: exact region counts
# ---------------------------------------------------------------------------
def test_unit_patterns_are_the_2u_sectors_and_each_is_realised():
    x = np.array([0.3, -1.0, 2.0, 0.7])
    U = L.unit_patterns(x)
    assert U.shape == (8, 4) and len({tuple(r) for r in U}) == 8
    order = np.sort(x)
    mids = np.r_[order[0] - 1, (order[:-1] + order[1:]) / 2, order[-1] + 1]
    built = set()
    for t in range(5):  # suffixes: w = 1, threshold below the t-th value; prefixes: w = -1
        for w in (1.0, -1.0):
            net = L.TwoLayer([[w]], [-w * mids[t]], [1.0])
            built.add(tuple(L.activation_pattern(net, x[:, None])[:, 0]))
    assert built == {tuple(r) for r in U}
    rng = np.random.default_rng(0)
    net = L.random_parameters(500, 1, rng=rng)
    assert {tuple(c) for c in L.activation_pattern(net, x[:, None]).T} <= built


def test_two_points_count_by_hand():
    # patterns on x = (0, 1): all, {2}, none, {1}. Rank 2 needs 'all', or both {1} and {2}.
    counts = L.region_counts([0.0, 1.0], [1, 2, 3])
    assert [(c["full_rank_regions"], c["regions"]) for c in counts] == [(1, 4), (9, 16), (37 + 12, 64)]


def test_region_counts_are_exact_and_agree_with_exact_ranks():
    x = L.random_data(5, 1, seed=3)
    for activation in ("relu", "leaky-relu"):
        _, fast = L.set_ranks(x, activation)
        _, exact = L.set_ranks(x, activation, exact=True)
        assert np.array_equal(fast, exact)
    counts = L.region_counts(x, range(1, 9))
    assert all(c["regions"] == 10 ** c["width"] and sum(c["rank_counts"]) == c["regions"] for c in counts)
    fractions = [c["fraction"] for c in counts]
    assert fractions[:2] == [0.0, 0.0] and all(a <= b for a, b in itertools.pairwise(fractions))
    # a uniformly random realisable region: the sampled fraction agrees with the exact one
    ranks = L.sample_ranks(x, 6, "relu", "regions", samples=2000, seed=1)
    p = counts[5]["fraction"]
    assert abs(np.mean(ranks == 5) - p) < 4.5 * math.sqrt(p * (1 - p) / 2000)


def test_surjections():
    assert [L.surjections(3, k) for k in range(5)] == [0, 1, 6, 6, 0]
    assert sum(math.comb(6, k) * L.surjections(4, k) for k in range(7)) == 6**4


# ---------------------------------------------------------------------------
# the transition
# ---------------------------------------------------------------------------
def test_transition_fractions_and_exact_checks():
    X = L.random_data(8, 2, seed=0)
    result = L.transition(X, [2, 3, 6, 12], samples=40, seed=1, exact=3)
    rows = result["widths"]
    assert [r["width"] for r in rows] == [2, 3, 6, 12] and result["modes"] == ["parameters", "uniform"]
    for r in rows:
        for mode in ("parameters", "uniform"):
            p = r[mode]["full_rank"]
            assert p.n == 40 and p.stderr == pytest.approx(math.sqrt(p.fraction * (1 - p.fraction) / 40))
            assert r[mode]["exact_check"] == {"checked": 3, "agree": 3}
            assert sum(r[mode]["rank_counts"]) == 40 and len(r[mode]["rank_counts"]) == 9
    assert rows[0]["uniform"]["full_rank"].count == 0  # 2 * 3 < 8 columns: rank N is impossible
    assert rows[0]["minima_dimension"] is None and rows[2]["minima_dimension"] == 6 * 4 - 8
    assert rows[-1]["uniform"]["full_rank"].fraction == 1.0
    # a width's result does not depend on the other widths asked for
    alone = L.transition(X, [6], samples=40, seed=1)
    assert alone["widths"][0]["parameters"]["full_rank"] == rows[2]["parameters"]["full_rank"]


def test_proportion():
    p = L.Proportion(3, 10)
    assert p.fraction == 0.3 and p.stderr == pytest.approx(math.sqrt(0.021))
    lo, hi = p.interval
    assert 0 < lo < 0.3 < hi < 1
    assert L.Proportion(0, 10).interval[0] == 0.0 and L.Proportion(10, 10).interval[1] == 1.0


def test_api_errors_name_the_argument():
    X = L.random_data(4, 2)
    for call, argument in [
        (lambda: L.transition(X, [0]), "width"),
        (lambda: L.transition(X, [2], "tanh"), "activation"),
        (lambda: L.transition(X, [2], modes=("regions",)), "mode"),
        (lambda: L.transition(X, [2], samples=0), "samples"),
        (lambda: L.sample_ranks(X, 2, "maxout", rank=0), "rank"),
        (lambda: L.random_data(0, 2), "points"),
        (lambda: L.check_data([[1.0, np.nan]]), "X"),
        (lambda: L.pattern_matrix(np.full((4, 2), 2), X, "relu"), "pattern"),
        (lambda: L.region_counts(X, [2]), "x"),
        (lambda: L.region_counts(L.random_data(9, 1), [2]), "points"),
    ]:
        with pytest.raises(MaxboundsValueError) as error:
            call()
        assert error.value.argument == argument


# ---------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------
def test_cli_json_equals_the_api(capsys):
    status, out, _ = run(capsys, "landscape", "rank", "--points", "7", "--dim", "2", "--width", "2-4,8",
                         "--activation", "maxout", "--rank", "3", "--samples", "30", "--seed", "5", "--format",
                         "json")
    assert status == 0
    data = payload(json.loads(out))
    assert data.pop("data") == {"source": "random", "law": "N(0, I_d)", "seed": 5}
    api = L.transition(L.random_data(7, 2, seed=5), [2, 3, 4, 8], "maxout", rank=3, samples=30, seed=5)
    assert data == json.loads(dumps(api))


def test_cli_reads_data_files_and_plots(capsys, tmp_path):
    x = np.random.default_rng(0).standard_normal((5, 1))
    path = tmp_path / "x.npy"
    np.save(path, x)
    png = tmp_path / "t.png"
    status, out, _ = run(capsys, "landscape", "rank", "--data", str(path), "--width", "1-6", "--activation",
                         "leaky-relu", "--slope", "0.2", "--samples", "20", "--plot", str(png), "--format", "json")
    assert status == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = payload(json.loads(out))
    assert data.pop("data") == {"source": str(path)}
    assert data == json.loads(dumps(L.transition(x, range(1, 7), "leaky-relu", slope=0.2, samples=20)))
    assert data["widths"][-1]["exact_regions"]["regions"] == 10**6
    png1 = tmp_path / "one.png"
    status, out, _ = run(capsys, "landscape", "rank", "--data", str(path), "--points", "5", "--width", "4",
                         "--samples", "10", "--plot", str(png1), "--exact", "2")
    assert status == 0 and png1.exists() and "full rank (regions)" in out and "2/2" in out


@pytest.mark.parametrize("argv, option", [
    (["--data", "{missing}", "--width", "3"], "--data"),
    (["--data", "{text}", "--width", "3"], "--data"),
    (["--data", "{objects}", "--width", "3"], "--data"),
    (["--data", "{npz}", "--width", "3"], "--data"),
    (["--data", "{cube}", "--width", "3"], "--data"),
    (["--data", "{nan}", "--width", "3"], "--data"),
    (["--data", "{bools}", "--width", "3"], "--data"),
    (["--data", "{truncated}", "--width", "3"], "--data"),
    (["--data", "{folder}", "--width", "3"], "--data"),
    (["--data", "{good}", "--points", "9", "--width", "3"], "--points"),
    (["--data", "{good}", "--dim", "3", "--width", "3"], "--dim"),
    (["--width", "3"], "--points"),
    (["--points", "4", "--width", "3"], "--dim"),
    (["--points", "4", "--dim", "2", "--width", "0"], "--width"),
    (["--points", "4", "--dim", "2", "--width", "5-2"], "--width"),
    (["--points", "4", "--dim", "2", "--width", "3", "--activation", "tanh"], "--activation"),
    (["--points", "4", "--dim", "2", "--width", "3", "--modes", "regions"], "--modes"),
    (["--points", "4", "--dim", "2", "--width", "3", "--modes", "bogus"], "--modes"),
    (["--points", "4", "--dim", "2", "--width", "3", "--slope", "nan", "--activation", "leaky-relu"], "--slope"),
    (["--points", "4", "--dim", "2", "--width", "3", "--samples", "0"], "--samples"),
    (["--points", "4", "--dim", "2", "--width", "3", "--plot", "{folder}/x.jpg"], "--plot"),
    (["--points", "2000", "--dim", "2000", "--width", "3000", "--samples", "1"], "--width"),
])
def test_cli_bad_inputs_are_one_line_with_status_2(argv, option, capsys, tmp_path):
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "arrays.npz", x=np.ones((3, 2)))
    np.save(tmp_path / "cube.npy", np.ones((2, 2, 2)))
    np.save(tmp_path / "nan.npy", np.array([[np.nan, 1.0]]))
    np.save(tmp_path / "bools.npy", np.ones((3, 2), dtype=bool))
    np.save(tmp_path / "good.npy", np.ones((4, 2)))
    (tmp_path / "text.npy").write_text("1 2\n3 4\n")
    (tmp_path / "truncated.npy").write_bytes((tmp_path / "good.npy").read_bytes()[:140])
    names = {"missing": tmp_path / "missing.npy", "text": tmp_path / "text.npy", "objects": tmp_path / "objects.npy",
             "npz": tmp_path / "arrays.npz", "cube": tmp_path / "cube.npy", "nan": tmp_path / "nan.npy",
             "bools": tmp_path / "bools.npy", "truncated": tmp_path / "truncated.npy", "folder": tmp_path,
             "good": tmp_path / "good.npy"}
    argv = [a.format(**{k: str(v) for k, v in names.items()}) for a in argv]
    status, out, err = run(capsys, "landscape", "rank", *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err and option in err and "pickle" not in err.lower()


# ---------------------------------------------------------------------------
# the figure
# ---------------------------------------------------------------------------
def test_rank_transition_figure_tiny(tmp_path):
    from maxbounds.reproduce import rank_transition

    data = rank_transition.compute(seed=0, size="tiny")
    assert data["settings"]["size"] == "tiny" and json.loads(dumps(data))["settings"]
    assert {s["panel"] for s in data["series"]} == {"a", "b", "c", "d"}
    for e in data["exact"]:
        assert e["fraction"][0] == 0.0 and e["fraction"][-1] > 0.9
        assert all(f == r / t for f, r, t in zip(e["fraction"], e["full_rank_regions"], e["regions"]))
    for s in data["series"]:
        assert all(f == 0.0 for f, top in zip(s["fraction"], s["max_rank"]) if top < s["points"])
    rank_transition.plot(data, tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = rank_transition.csv_rows(data)
    assert len(rows) == sum(len(s["widths"]) for s in data["series"] + data["exact"])


def test_the_examples_of_docs_landscape_md_run():
    import doctest
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "landscape.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if ">>>" in b]
    assert blocks
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    globs = {}
    for i, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, globs, f"landscape.md[{i}]", "landscape.md", 0), clear_globs=False)
    assert runner.summarize(verbose=False).failed == 0
