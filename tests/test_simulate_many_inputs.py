"""explicit_samples_many: many inputs through each explicitly drawn random network."""

import numba
import numpy as np
import pytest

from maxbounds import MaxboundsValueError
from maxbounds.architecture import Architecture
from maxbounds.simulate import explicit_samples
from maxbounds.simulate.explicit import explicit_samples_many

ARCH = Architecture((3, 8, 8, 8, 2), ranks=3, c=0.8, bias_var=0.3)
RNG = np.random.default_rng(7)
X = RNG.normal(size=(3, 3))
U = RNG.normal(size=(3, 3))


@pytest.mark.parametrize("activation", ["maxout", "relu"])
def test_one_input_matches_explicit_samples(activation):
    many, hidden = explicit_samples_many(ARCH, X[:1], U[:1], 200, 5, activation=activation,
                                         hidden_sq_norm=True)
    one = explicit_samples(ARCH, X[0], U[0], 200, 5, activation=activation, per_layer=True)
    assert many.shape == hidden.shape == (200, 1)
    np.testing.assert_array_equal(many[:, 0], one.jacobian_sq_norm)
    np.testing.assert_array_equal(hidden[:, 0], one.sq_norm_x[one.row(ARCH.depth - 1)])


@pytest.mark.parametrize("activation", ["maxout", "relu"])
def test_each_column_matches_its_input_alone(activation):
    arch = Architecture((3, 6, 5, 2), ranks=(2, 4), c=1.1, bias_var=0.0)  # no biases: another draw order
    for a in (ARCH, arch):
        many = explicit_samples_many(a, X, U, 150, 11, activation=activation)
        assert many.shape == (150, 3)
        for t in range(3):
            alone = explicit_samples(a, X[t], U[t], 150, 11, activation=activation).jacobian_sq_norm
            np.testing.assert_array_equal(many[:, t], alone)


def test_shared_direction_and_scaling():
    shared = explicit_samples_many(ARCH, X, U[0], 50, 3)
    for t in range(3):
        np.testing.assert_array_equal(shared[:, t], explicit_samples(ARCH, X[t], U[0], 50, 3).jacobian_sq_norm)
    # a direction's length does not matter (a power of two, so the rescaling is exact)
    np.testing.assert_array_equal(explicit_samples_many(ARCH, X, 4.0 * U, 50, 3),
                                  explicit_samples_many(ARCH, X, U, 50, 3))


def test_inputs_share_each_network():
    X2 = np.vstack([X[0], X[1], X[0]])
    U2 = np.vstack([U[0], U[1], U[0]])
    vals = explicit_samples_many(ARCH, X2, U2, 400, 9)
    np.testing.assert_array_equal(vals[:, 0], vals[:, 2])
    assert not np.array_equal(vals[:, 0], vals[:, 1])
    # nearby inputs through the same network are strongly correlated; different seeds are not
    near = explicit_samples_many(ARCH, np.vstack([X[0], X[0] + 1e-3]), U[0], 400, 9)
    assert np.corrcoef(np.log(near.T))[0, 1] > 0.9
    other = explicit_samples_many(ARCH, X[:1], U[:1], 400, 10)
    assert abs(np.corrcoef(np.log(vals[:, 0]), np.log(other[:, 0]))[0, 1]) < 0.3


def test_thread_count_does_not_change_results():
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = explicit_samples_many(ARCH, X, U, 64, 21)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        b = explicit_samples_many(ARCH, X, U, 64, 21)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs, argument", [
    ({"arch": "net"}, "arch"),
    ({"X": np.ones(3)}, "X"),
    ({"X": np.ones((2, 4))}, "X"),
    ({"X": np.ones((0, 3))}, "X"),
    ({"X": [[1.0, np.nan, 0.0]]}, "X"),
    ({"U": np.ones((2, 3))}, "U"),
    ({"U": np.ones(4)}, "U"),
    ({"U": np.zeros((3, 3))}, "U"),
    ({"U": [[1, 0, 0], [0, 0, 0], [0, 1, 0]]}, "U"),
    ({"samples": 0}, "samples"),
    ({"seed": -1}, "seed"),
    ({"activation": "tanh"}, "activation"),
    ({"hidden_sq_norm": "yes"}, "hidden_sq_norm"),
])
def test_bad_arguments(kwargs, argument):
    args = {"arch": ARCH, "X": X, "U": U, "samples": 10, "seed": 0}
    args.update(kwargs)
    with pytest.raises(MaxboundsValueError) as err:
        explicit_samples_many(args.pop("arch"), args.pop("X"), args.pop("U"), args.pop("samples"),
                              args.pop("seed"), **args)
    assert err.value.argument == argument
    assert "\n" not in str(err.value)


def test_convolutional_rejected():
    conv = Architecture.convolutional((1, 2), (3, 3), n_out=2, kernel_size=3)
    with pytest.raises(MaxboundsValueError):
        explicit_samples_many(conv, np.ones((1, conv.n_in)), np.ones(conv.n_in), 5, 0)
