"""The result vocabulary (Estimate, Bound, Verdict), the summaries of samples objects, and the JSON serialiser."""

import dataclasses
import json
import math

import numpy as np
import pytest

from maxbounds import MaxboundsValueError
from maxbounds.architecture import Architecture
from maxbounds.estimators import Estimate, Verdict, compare, estimate, summarise
from maxbounds.report.json import dumps, to_json
from maxbounds.results import Bound

ARCH = Architecture((3, 6, 5, 2), ranks=3, c=0.8)


# --- Verdict ---------------------------------------------------------------------------------------
def test_compare_carries_a_verdict_whose_word_is_the_old_string():
    e = Estimate(1.0, 0.01, 100, {}, (0.98, 1.02), 0.95)
    for kwargs, word in (({"exact": 1.02}, "agrees"), ({"exact": 1.2}, "DISAGREES"),
                         ({"lower": 0.5, "upper": 2.0}, "inside"), ({"lower": 1.5, "upper": 2.0}, "OUTSIDE")):
        out = compare(e, **kwargs)
        check = out["check"]
        assert isinstance(check, Verdict) and out["verdict"] == str(check) == check.word == word
        assert check.passed == (word in ("agrees", "inside")) == bool(check)
        assert check.z == out["z"] and check.tolerance == 4.5
        assert check.kind == ("exact" if "exact" in kwargs else "bounds")
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.z = 0.0


def test_min_detectable_of_a_z_check_and_of_a_bound_check():
    e = Estimate(2.0, 0.1, 100, {}, (1.8, 2.2), 0.95)
    # exact: k se / |reference|
    assert math.isclose(compare(e, exact=2.5)["check"].min_detectable, 4.5 * 0.1 / 2.5)
    # bounds: distance to the nearer bound over |estimate|, plus k se / |estimate|
    assert math.isclose(compare(e, lower=1.0, upper=2.5)["check"].min_detectable, 0.5 / 2.0 + 4.5 * 0.1 / 2.0)
    assert math.isclose(compare(e, upper=4.0)["check"].min_detectable, 2.0 / 2.0 + 4.5 * 0.1 / 2.0)
    # no relative error of a zero reference
    assert compare(e, exact=0.0)["check"].min_detectable == math.inf
    # an estimate off by more than min_detectable (relative) from the reference is detected
    truth = 2.0
    v = compare(e, exact=truth)["check"]
    off = Estimate(truth * (1 + 1.01 * v.min_detectable), 0.1, 100, {}, (0, 0), 0.95)
    assert not compare(off, exact=truth)["check"].passed


def test_verdict_checks_its_kind():
    with pytest.raises(MaxboundsValueError, match="kind"):
        Verdict(True, 0.0, 4.5, "maybe", 0.1)


def test_estimate_summary_is_one_line():
    e = estimate(np.arange(10.0))
    assert str(e) == e.summary() and "\n" not in e.summary() and "n = 10" in e.summary()


def test_interval_uses_the_normal_quantile():
    # NormalDist's inverse cdf: 1.959963984540054 for 95%
    e = estimate(np.arange(100.0))
    assert math.isclose((e.interval[1] - e.mean) / e.stderr, 1.959963984540054, rel_tol=1e-14)


# --- Bound -----------------------------------------------------------------------------------------
def test_bound_wraps_the_jacobian_bounding_variables():
    bound = Bound.jacobian(ARCH)
    from maxbounds.laws.jacobian import jacobian_bounds

    lower, upper = jacobian_bounds(ARCH)
    assert bound.mean() == (lower.mean(), upper.mean())
    assert bound.moment(2) == (lower.moment(2), upper.moment(2))
    assert bound.log_moment(3) == (lower.log_moment(3), upper.log_moment(3))
    assert bound.var() == (lower.var(), upper.var())
    lo, hi = bound
    assert lo.mean() == lower.mean() and hi.std() == math.sqrt(upper.var())
    d = bound.as_dict()
    assert d["lower"]["mean"] == lower.mean() and d["upper"]["moment_2"] == upper.moment(2)


def test_bound_rvs_shapes_and_reproducibility():
    bound = Bound.jacobian(ARCH)
    assert bound.lower.rvs(size=(2, 3), random_state=0).shape == (2, 3)
    assert bound.upper.rvs(size=5, random_state=0).shape == (5,)
    lo, hi = bound.rvs(size=(2, 3), random_state=1)
    assert lo.shape == hi.shape == (2, 3)
    again = bound.rvs(size=(2, 3), random_state=1)
    assert np.array_equal(lo, again[0]) and np.array_equal(hi, again[1])
    with pytest.raises(MaxboundsValueError, match="size"):
        bound.lower.rvs(size=(2, -1))


def test_bound_rvs_means_match_the_moments():
    # 20 000 draws of each side: |mean - E[B]| <= 4.5 se fails with probability 6.8e-6 per side
    bound = Bound.jacobian(ARCH)
    for side, draws in zip(bound, bound.rvs(size=20_000, random_state=2)):
        se = draws.std(ddof=1) / math.sqrt(draws.size)
        assert abs(draws.mean() - side.mean()) <= 4.5 * se


def test_one_sided_bound_and_bad_sides():
    upper = Bound.jacobian(ARCH).upper.law
    one = Bound(None, upper, "X")
    assert one.mean() == (None, upper.mean())
    assert one.rvs(size=3, random_state=0)[0] is None
    with pytest.raises(MaxboundsValueError, match="lower"):
        Bound(None, None)
    with pytest.raises(MaxboundsValueError, match="upper"):
        Bound(None, 1.0)


def test_bound_contains_gives_a_verdict():
    bound = Bound.jacobian(ARCH)
    lo, hi = bound.mean()
    inside = Estimate((lo + hi) / 2, 1e-3 * hi, 100, {}, (0, 0), 0.95)
    assert bound.contains(inside).word == "inside"


# --- summaries -------------------------------------------------------------------------------------
def test_summarise_rows_and_missing_fields():
    class Source:
        one = np.arange(5.0)
        two = np.arange(10.0).reshape(2, 5)
        none = None

    out = summarise(Source(), ("one", "two", "none"))
    assert set(out) == {"one", "two"} and out["one"].mean == 2.0
    assert [e.mean for e in out["two"]] == [2.0, 7.0]
    assert [e.mean for e in summarise(Source(), ("two",), sample_axis=0)["two"]] == [2.5, 3.5, 4.5, 5.5, 6.5]


def test_every_samples_object_has_a_summary():
    from maxbounds.simulate import (
        chain_samples,
        circle_length_samples,
        gradient_samples,
        segment_length_samples,
    )

    x = np.ones(3) / math.sqrt(3)
    u = np.eye(3)[0]
    chain = chain_samples(ARCH, x, u, 50, 0, per_layer=True).summary()
    assert len(chain["sq_norm_x"]) == ARCH.depth + 1 and chain["jacobian_sq_norm"].n == 50
    grads = gradient_samples(ARCH, x, 20, 0).summary()
    assert len(grads["weight_nonzero"]) == ARCH.depth and grads["ntk"].n == 20
    seg = segment_length_samples(ARCH, x, x + u, 10, 0).summary()
    assert seg["distortion"].n == 10 and seg["pieces"].mean >= 1
    circ = circle_length_samples(ARCH, x, 1.0, np.eye(3)[0], np.eye(3)[1], 10, 0).summary()
    assert circ["length"].n == 10
    # the convolutional samples object built directly (its summary needs no kernel run)
    from maxbounds.simulate import ConvJacobianSamples

    conv = Architecture.convolutional((1, 2), (4, 4), 2, kernel_size=3, ranks=2)
    draws = np.random.default_rng(0).exponential(size=(conv.depth + 1, 10))
    summary = ConvJacobianSamples(conv, draws[-1], draws, draws).summary()
    assert summary["jacobian_sq_norm"].n == 10 and len(summary["sq_norm_u"]) == conv.depth + 1
    assert set(ConvJacobianSamples(conv, draws[-1], None, None).summary()) == {"jacobian_sq_norm"}


# --- JSON ------------------------------------------------------------------------------------------
def test_dumps_handles_results_numpy_and_tuples():
    e = estimate(np.arange(4.0))
    out = compare(e, lower=0.0, upper=10.0)
    text = dumps({"result": out, "array": np.arange(3), "scalar": np.float32(0.5), "flag": np.bool_(True),
                  "pair": (1, 2), "bound": Bound.jacobian(ARCH)})
    back = json.loads(text)
    assert back["result"]["check"]["verdict"] == "inside" and back["result"]["check"]["kind"] == "bounds"
    assert back["array"] == [0, 1, 2] and back["scalar"] == 0.5 and back["flag"] is True and back["pair"] == [1, 2]
    assert back["bound"]["upper"]["mean"] == Bound.jacobian(ARCH).upper.mean()
    assert to_json(e)["n"] == 4


def test_dumps_never_writes_nan_or_infinity():
    text = dumps({"z": math.inf, "log": -math.inf, "x": np.nan, "row": [1.0, math.inf], "ok": 1.5})
    assert "Infinity" not in text and "NaN" not in text
    back = json.loads(text)
    assert back == {"z": None, "z_nonfinite": "inf", "log": None, "log_nonfinite": "-inf", "x": None,
                    "x_nonfinite": "nan", "row": [1.0, None], "ok": 1.5}


def test_dumps_refuses_unknown_objects_naming_where():
    with pytest.raises(TypeError, match=r"\['a'\]"):
        dumps({"a": object()})


def test_render_json_goes_through_the_serialiser():
    from maxbounds.report import render

    text = render([{"K": 1, "x": math.inf}], "json")
    assert json.loads(text) == [{"K": 1, "x": None, "x_nonfinite": "inf"}]
