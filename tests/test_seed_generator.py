"""A NumPy Generator is accepted as a seed by the Numba samplers, the same way everywhere."""

import numpy as np
import pytest

from maxbounds._validate import MaxboundsValueError
from maxbounds.architecture import Architecture
from maxbounds.simulate import chain_samples, explicit_samples
from maxbounds.simulate.chain import check_seed

ARCH = Architecture.parse("3,6,2", "3", "1", "1", "0.2")


def test_generator_seed_is_one_draw_from_it():
    seed = check_seed(np.random.default_rng(11))
    assert seed == int(np.random.default_rng(11).integers(0, 2**64, dtype=np.uint64))


def test_generator_and_its_integer_give_the_same_samples():
    seed = int(np.random.default_rng(5).integers(0, 2**64, dtype=np.uint64))
    for sampler in (chain_samples, explicit_samples):
        by_generator = sampler(ARCH, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], 20, np.random.default_rng(5))
        by_int = sampler(ARCH, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], 20, seed)
        np.testing.assert_array_equal(by_generator.jacobian_sq_norm, by_int.jacobian_sq_norm)


def test_network_index_must_be_an_integer():
    with pytest.raises(MaxboundsValueError, match="index"):
        check_seed(np.random.default_rng(1), "index")
