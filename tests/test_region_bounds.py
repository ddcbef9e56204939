"""Bounds on the expected number of regions, decision-boundary pieces and breakpoints (maxbounds.laws.regions).

Statistical checks use fixed seeds and compare a Monte Carlo mean with theory
within 4.5 standard errors; a correct bound fails one such one-sided check
with probability at most 3.4e-6 (two-sided: 6.8e-6), so the ~150 checks
below fail by chance with probability below 1e-3 even before fixing seeds.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy as sp
from scipy import special, stats

from maxbounds._validate import MaxboundsValueError
from maxbounds.architecture import Architecture
from maxbounds.cli.main import main
from maxbounds.constants import OutOfRangeError
from maxbounds.laws import regions
from maxbounds.simulate.feature_gradients import feature_gradient_moments, feature_gradients
from maxbounds.simulate.length import draw_network, segment_length_samples

Z = 4.5


# -- C_bias ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("betas", [(0.5, 0.5, 0.5), (0.1, 2.0, 0.3), (1e-4, 1.0, 1e4)])
def test_c_bias_is_the_supremum_of_the_gaussian_density(betas):
    arch = Architecture((2, 3, 4, 1), 2, 1.0, bias_var=betas)
    per_layer = regions.layer_c_bias(arch)
    grid = np.linspace(-5, 5, 100001)
    for beta, value in zip(betas, per_layer):
        density = stats.norm(0, math.sqrt(beta)).pdf(grid * math.sqrt(beta))
        assert value == pytest.approx(density.max(), rel=1e-9)
    assert regions.c_bias(arch) == pytest.approx(max(per_layer[:-1]))
    assert regions.c_bias(arch, include_output=True) == pytest.approx(max(per_layer))


def test_zero_bias_variance_has_no_c_bias():
    arch = Architecture((2, 3, 1), 2, 1.0, bias_var=(0.0, 1.0))
    with pytest.raises(MaxboundsValueError) as error:
        regions.c_bias(arch)
    assert error.value.argument == "bias_var" and "density" in error.value.problem
    with pytest.raises(MaxboundsValueError, match="bias_var"):
        regions.region_bounds(Architecture((2, 3, 1), 2, 1.0, bias_var=(1.0, 0.0)))


# -- the simulator -----------------------------------------------------------------------------------
def _forward(layers, x):
    out = []
    for W, b in layers:
        z = np.einsum("ikj,j->ik", W, x) + b
        out.append(z)
        x = z.max(axis=1)
    return out


def test_feature_gradients_match_finite_differences():
    arch = Architecture((3, 5, 4, 2), (3, 2), 1.3, bias_var=0.4)
    layers = draw_network(arch, 7, 3)
    x = np.array([[0.3, -0.2, 1.1], [2.0, 1.0, -0.5]])
    grads = feature_gradients(layers, x)
    h = 1e-6
    for p in range(2):
        base = _forward(layers, x[p])
        for m in range(3):
            step = x[p].copy()
            step[m] += h
            fd = [(u - v) / h for u, v in zip(_forward(layers, step), base)]
            for l in range(3):
                np.testing.assert_allclose(grads[l][p, :, :, m], fd[l], atol=1e-5)


def test_first_layer_moments_agree_with_the_exact_law():
    # layer 1: grad zeta = W_{1,i,k} ~ N(0, c/n0 I), so E||.||^t = (c/n0)^{t/2} E[(chi2_{n0})^{t/2}] exactly
    arch = Architecture((3, 6, 5, 1), 3, 0.7, bias_var=0.5)
    est = feature_gradient_moments(arch, np.array([[0.0, 0.0, 0.0], [3.0, -1.0, 2.0]]), 400, 11, orders=(1.0, 3.0))
    for t, m in est.items():
        exact = math.exp(regions.log_grad_moment_bound(arch, 1, t))
        assert np.all(np.abs(m.mean[:, 0] - exact) <= Z * m.stderr[:, 0])


ARCHS = [
    Architecture((1, 4, 3, 1), 3, 1.0, bias_var=0.5),
    Architecture((2, 5, 4, 2), 2, 1.0, bias_var=1.0),
    Architecture((3, 6, 6, 6, 1), (2, 4, 3), (0.5, 1.5, 1.0), c_out=2.0, bias_var=0.2),
]


@pytest.mark.parametrize("arch", ARCHS)
def test_analytic_gradient_moments_bound_the_simulated_ones(arch):
    points = np.vstack([np.zeros(arch.n_in), np.full(arch.n_in, 3.0), np.linspace(-5, 5, arch.n_in)])
    orders = sorted({1.0, 2.0, float(arch.n_in), 1.5})
    est = feature_gradient_moments(arch, points, 300, 5, orders=orders)
    for t, m in est.items():
        bounds = np.array([math.exp(regions.log_grad_moment_bound(arch, l, t)) for l in range(1, arch.depth + 1)])
        assert np.all(m.mean <= bounds + Z * m.stderr), (t, m.mean, bounds)
    # and the constant: sup over layers of the order-n0 root
    sim = regions.c_grad_estimate(arch, points, 300, 5, include_output=True)
    assert sim.value <= regions.c_grad_bound(arch, include_output=True) + Z * sim.stderr


def test_k1_makes_the_first_layer_bound_exact_and_deeper_bounds_are_laws_of_linear_networks():
    # K = 1 (linear network): ||J u||^2 = B exactly, so the n0 = 1 bound E|h|^t E[B^{t/2}] is the exact moment
    arch = Architecture((1, 5, 5, 1), 1, 1.0, bias_var=1.0)
    est = feature_gradient_moments(arch, np.array([[0.5]]), 600, 2, orders=(2.0,))[2.0]
    for l in range(1, arch.depth + 1):
        exact = math.exp(regions.log_grad_moment_bound(arch, l, 2.0))
        assert abs(est.mean[0, l - 1] - exact) <= Z * est.stderr[0, l - 1]


# -- breakpoints along a line: exact small cases -----------------------------------------------------
def test_one_unit_of_rank_two_breakpoint_probability_and_bound():
    # one maxout unit on R: the tie point x* = -(b1-b2)/(w1-w2) is Cauchy with scale sqrt(beta/c)
    c, beta, (a, b) = 1.7, 0.4, (-0.3, 0.9)
    arch = Architecture((1, 1, 1), 2, c, bias_var=beta)
    scale = math.sqrt(beta / c)
    exact = (math.atan(b / scale) - math.atan(a / scale)) / math.pi
    sim = segment_length_samples(arch, np.array([a]), np.array([b]), 6000, 3)
    breaks = sim.pieces - 1
    assert abs(breaks.mean() - exact) <= Z * breaks.std(ddof=1) / math.sqrt(breaks.size)
    rb = regions.region_bounds(arch)
    # the density bound is the Cauchy density at its peak, 1/(pi * scale)
    assert rb.breakpoints.density == pytest.approx(1 / (math.pi * scale), rel=1e-12)
    assert exact <= rb.breakpoints.in_box(a, b)
    assert 1 + exact <= rb.breakpoints.pieces_on_segment(b - a)
    # and it is sharp for short segments at the peak
    short = 1e-4
    peak = 2 * math.atan(short / 2 / scale) / math.pi
    assert peak == pytest.approx(rb.breakpoints.in_box(-short / 2, short / 2), rel=1e-6)


@pytest.mark.parametrize("arch, a, b", [
    (Architecture((1, 6, 6, 1), 3, 1.0, bias_var=0.5), [-2.0], [2.0]),
    (Architecture((2, 8, 8, 1), (2, 4), (1.0, 0.8), bias_var=(0.3, 1.0, 1.0)), [-1.0, 0.5], [1.5, -1.0]),
    (Architecture((3, 10, 10, 10, 1), 2, "1/M", bias_var=1.0), [0.0, 0.0, 0.0], [3.0, -3.0, 3.0]),
])
def test_mean_breakpoints_on_segments_are_below_the_bound(arch, a, b):
    a, b = np.array(a), np.array(b)
    sim = segment_length_samples(arch, a, b, 1500, 21)
    breaks = sim.pieces - 1
    se = breaks.std(ddof=1) / math.sqrt(breaks.size)
    rb = regions.region_bounds(arch)
    length = float(np.linalg.norm(b - a))
    bound = rb.breakpoints.density * length
    assert breaks.mean() <= bound + Z * se
    assert breaks.mean() > 0  # the check is not vacuous


# -- the cube statements -----------------------------------------------------------------------------
def test_regions_and_pieces_match_the_reference_formulas():
    arch = Architecture((2, 10, 10, 1), 2, 1.0, bias_var=1.0)
    rb = regions.region_bounds(arch)
    cg, cb, K, N, n0 = rb.c_grad, rb.c_bias, 2, 20, 2
    reference = (2**5 * cb * cg * K * N) ** n0 * special.binom(K * n0, 2 * n0) / math.factorial(n0)
    assert rb.regions.density == pytest.approx(reference, rel=1e-12)
    cg, cb = rb.c_grad_boundary, rb.c_bias_boundary
    reference = ((2**4 * cb * cg) ** n0 * (2 * K * N) ** (n0 - 1) * special.binom(K * (n0 - 1), 2 * (n0 - 1))
                 / math.factorial(n0 - 1))
    assert rb.pieces.density == pytest.approx(reference, rel=1e-12)
    assert rb.regions.in_box(-3, 3) == pytest.approx(rb.regions.density * 36, rel=1e-12)
    assert rb.regions.delta0 == pytest.approx(1 / (2 * rb.c_grad * rb.c_bias))
    # sympy agrees
    expr = regions.symbolic_bounds()["regions"]
    K_, N_, Cg_, Cb_ = (sp.Symbol(s, positive=True) for s in ("K", "N", "C_grad", "C_bias"))
    n_ = sp.Symbol("n_0", positive=True, integer=True)
    value = float(expr.subs({K_: 2, N_: 20, Cg_: rb.c_grad, Cb_: rb.c_bias, n_: 2}))
    assert value == pytest.approx(rb.regions.density, rel=1e-12)


@pytest.mark.parametrize("n0", [1, 2, 3])
def test_large_k_forms_are_the_leading_terms(n0):
    exprs = regions.symbolic_bounds(n0)
    K = sp.Symbol("K", positive=True)
    # the ratio to the leading term is 1 + O(1/K): within 1e-5 at K = 10**8 (exact rational arithmetic)
    for key in ("regions", "pieces") if n0 > 1 else ("regions",):
        ratio = (exprs[key] / exprs[f"{key}_large_K"]).subs(K, 10**8)
        assert abs(float(ratio) - 1) < 1e-5
        assert abs(float((exprs[key] / exprs[f"{key}_large_K"]).subs(K, 10**2)) - 1) > 1e-4  # not trivially 1
    rb = regions.region_bounds(Architecture((n0, 7, 1), 2, 1.0, bias_var=1.0))
    forms = regions.asymptotic_forms(rb)
    big = 10**6
    log_exact = regions.log_regions_density(rb.c_grad, rb.c_bias, big, rb.N, n0)
    assert forms["regions"]["log_K_coefficient"] + 3 * n0 * math.log(big) == pytest.approx(log_exact, abs=1e-4)


def test_small_cube_is_flagged():
    rb = regions.region_bounds(Architecture((2, 4, 1), 2, 1.0, bias_var=1.0))
    small = rb.regions.delta0 / 2
    with pytest.raises(MaxboundsValueError) as error:
        rb.regions.in_box(0, small)
    assert error.value.argument == "box"
    assert not rb.regions.side_ok(0, small) and rb.regions.side_ok(0, 2 * rb.regions.delta0)
    assert rb.regions.in_box(0, small, strict=False) > 0
    assert rb.breakpoints.in_box(0, 1e-9) > 0  # the 1-D bound has no side condition


def test_simulated_and_given_c_grad():
    arch = Architecture((2, 6, 6, 1), 2, 1.0, bias_var=1.0)
    sim = regions.region_bounds(arch, c_grad="simulated", box=(-2, 2), networks=80, seed=4)
    ana = regions.region_bounds(arch)
    assert sim.c_grad_method == "simulated" and sim.c_grad_stderr > 0
    assert sim.c_grad <= ana.c_grad + Z * sim.c_grad_stderr
    given = regions.region_bounds(arch, c_grad=0.5)
    assert given.c_grad == given.c_grad_boundary == 0.5
    assert given.regions.density == pytest.approx(math.exp(regions.log_regions_density(0.5, ana.c_bias, 2, 12, 2)))


def test_overflow_goes_to_log_space_or_a_clear_error():
    arch = Architecture((20, *[1000] * 50, 1), 5, 3.0, bias_var=1e-6)
    rb = regions.region_bounds(arch)
    assert math.isfinite(rb.regions.log_density) and rb.regions.log_density > 1000
    with pytest.raises(OutOfRangeError, match="log_"):
        rb.regions.density
    summary = rb.as_dict(box=(-1, 1))
    assert summary["regions"]["in_box"] is None and summary["regions"]["log10_in_box"] > 600


@pytest.mark.parametrize("call, argument", [
    (lambda a: regions.region_bounds(a, c_grad="exact"), "c_grad"),
    (lambda a: regions.region_bounds(a, c_grad=-1.0), "c_grad"),
    (lambda a: regions.region_bounds(a, c_grad=float("nan")), "c_grad"),
    (lambda a: regions.region_bounds(a, order=0.5), "order"),
    (lambda a: regions.region_bounds(a).regions.in_box(1, 1), "box"),
    (lambda a: regions.region_bounds(a).regions.in_box(0, float("inf")), "box"),
    (lambda a: regions.region_bounds(a).breakpoints.pieces_on_segment(-1), "length"),
    (lambda a: regions.region_bounds(a).regions.pieces_on_segment(1), "length"),
    (lambda a: regions.region_bounds(a.with_(ranks=1)), "rank"),
    (lambda a: regions.c_grad_estimate(a, np.zeros((3, 5)), 10), "points"),
    (lambda a: regions.c_grad_estimate(a, np.zeros((3, 2)), 1), "networks"),
    (lambda a: regions.c_grad_estimate(a, np.zeros((3, 2)), 10, seed=-1), "seed"),
    (lambda a: regions.log_grad_moment_bound(a, 4, 1.0), "layer"),
    (lambda a: regions.c_bias("2,3,1"), "arch"),
    (lambda a: regions.region_bounds(Architecture((2, 3), bias_var=1.0)), "widths"),
])
def test_bad_inputs_name_the_argument(call, argument):
    arch = Architecture((2, 4, 1), 2, 1.0, bias_var=1.0)
    with pytest.raises(MaxboundsValueError) as error:
        call(arch)
    assert error.value.argument == argument


def test_convolutional_networks_are_refused():
    arch = Architecture.convolutional((1, 2), (3, 3), 1, bias_var=1.0)
    with pytest.raises(MaxboundsValueError) as error:
        regions.region_bounds(arch)
    assert error.value.argument == "conv"


# -- command line ------------------------------------------------------------------------------------
def test_cli_json(capsys):
    status = main(["bounds", "regions", "--widths", "2,10,10,1", "--rank", "2", "--c", "1", "--bias-var", "1",
                   "--box", "-3,3", "--format", "json"])
    assert status == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("regions", "pieces", "breakpoints_per_length", "c_bias", "c_grad", "box", "assumptions"):
        assert key in result
    arch = Architecture((2, 10, 10, 1), 2, 1.0, bias_var=1.0)
    rb = regions.region_bounds(arch)
    assert result["regions"]["in_box"] == pytest.approx(rb.regions.in_box(-3, 3))
    assert result["box"] == [-3, 3] and result["assumptions"]["side_condition_met"] is True


def test_cli_table_and_simulated(capsys):
    status = main(["bounds", "regions", "--widths", "2,5,1", "--bias-var", "1", "--box=-0.01,0.01",
                   "--c-grad", "simulated", "--networks", "20"])
    captured = capsys.readouterr()
    assert status == 0 and "regions" in captured.out and "C_grad (simulated" in captured.out
    assert "warning" in captured.err  # the box is below delta0


@pytest.mark.parametrize("argv, option", [
    (["--bias-var", "0"], "--bias-var"),
    (["--bias-var", "1", "--box", "3,1"], "--box"),
    (["--bias-var", "1", "--box", "a,b"], "--box"),
    (["--bias-var", "1", "--c-grad", "-2"], "--c-grad"),
    (["--bias-var", "1", "--order", "x"], "--order"),
    (["--bias-var", "1", "--c-grad", "simulated", "--networks", "1"], "--networks"),
])
def test_cli_errors_are_one_line(capsys, argv, option):
    status = main(["bounds", "regions", "--widths", "2,4,1", *argv])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and f"argument {option}:" in err and "Traceback" not in err


def test_exact_counts_of_random_networks_are_below_the_cube_bounds():
    # the lead's exact polygon counter (maxbounds.regions) on [-1,1]^2, 30 networks; the box side 2 exceeds delta0
    from maxbounds.regions import plane_region_samples

    arch = Architecture((2, 10, 10, 1), 2, 1.0, bias_var=1.0)
    rb = regions.region_bounds(arch)
    counts = plane_region_samples(arch, (-1.0, 1.0), 30, 0)
    (m_regions, se_regions), (m_pieces, se_pieces) = counts.mean_regions(), counts.mean_pieces()
    assert m_regions > 1 and m_pieces > 0  # not vacuous
    assert m_regions <= rb.regions.in_box(-1, 1) + Z * se_regions
    assert m_pieces <= rb.pieces.in_box(-1, 1) + Z * se_pieces


def test_point_chunks_do_not_change_the_estimates(monkeypatch):
    import maxbounds.simulate.feature_gradients as fg

    arch = Architecture((3, 5, 4, 1), 3, 1.0, bias_var=0.5)
    points = np.random.default_rng(0).normal(size=(7, 3))
    whole = fg.feature_gradient_moments(arch, points, 5, 9, orders=(1.0, 3.0))
    monkeypatch.setattr(fg, "_CHUNK_NUMBERS", 1)  # one point per pass
    parts = fg.feature_gradient_moments(arch, points, 5, 9, orders=(1.0, 3.0))
    for t in whole:
        np.testing.assert_allclose(parts[t].values, whole[t].values, rtol=1e-13)
