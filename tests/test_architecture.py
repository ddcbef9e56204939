"""The architecture spec."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maxbounds import MaxboundsValueError
from maxbounds.architecture import Architecture, parse_widths
from maxbounds.constants import L, M, S


def test_parse_repeats_and_per_layer_values():
    a = Architecture.parse("3,8x3,2", "3", "0.8", bias_var="0.3")
    assert a.widths == (3, 8, 8, 8, 2) and a.depth == 4
    assert a.ranks == (3, 3, 3) and a.c == (0.8, 0.8, 0.8) and a.c_out == 1.0
    assert a.bias_var == (0.3,) * 4
    b = Architecture.parse("3,8,8,2", "2,5", "1/M,1/L")
    assert b.ranks == (2, 5) and b.c == (1 / M(2), 1 / L(5))
    assert Architecture.parse("2,4,1", "4", "1/s").c == (1 / S(4),)


def test_immutable_and_copy_with_changes():
    a = Architecture((3, 8, 2), ranks=2)
    with pytest.raises(AttributeError):
        a.widths = (1, 2)
    b = a.with_(c=0.5)
    assert b.c == (0.5,) and a.c == (1.0,)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(widths=(3,)), "widths"),
        (dict(widths=(3, 0, 2)), "widths"),
        (dict(widths=(3, -8, 2)), "widths"),
        (dict(widths=(3, 2.5, 2)), "widths"),
        (dict(widths=(3, 8, 2), ranks=0), "rank"),
        (dict(widths=(3, 8, 2), ranks=2.5), "rank"),
        (dict(widths=(3, 8, 8, 2), ranks=(2, 3, 4)), "rank"),
        (dict(widths=(3, 8, 2), c=0), "c"),
        (dict(widths=(3, 8, 2), c=-1), "c"),
        (dict(widths=(3, 8, 2), c=float("nan")), "c"),
        (dict(widths=(3, 8, 2), c="1/Q"), "c"),
        (dict(widths=(3, 8, 2), c_out=0), "c_out"),
        (dict(widths=(3, 8, 2), bias_var=-0.1), "bias_var"),
        (dict(widths=(3, 10**10, 2)), "widths"),
    ],
)
def test_invalid_specs_name_the_argument(kwargs, argument):
    with pytest.raises(MaxboundsValueError) as info:
        Architecture(**kwargs)
    assert info.value.argument == argument


@pytest.mark.parametrize("text", ["", "3,,2", "3;8;2", "3,8x,2", "a", "3,8x0,2", "3,8x99999999,2"])
def test_malformed_width_strings(text):
    with pytest.raises(MaxboundsValueError) as info:
        parse_widths(text)
    assert info.value.argument == "widths"


@given(
    st.lists(st.integers(1, 50), min_size=2, max_size=8),
    st.integers(1, 6),
    st.floats(0.01, 10),
)
def test_parse_round_trip(widths, K, c):
    text = ",".join(map(str, widths))
    a = Architecture.parse(text, str(K), repr(c))
    assert a.widths == tuple(widths)
    assert a.ranks == (K,) * (len(widths) - 2)
    assert all(v == c for v in a.c)


def test_convolutional_networks_have_fan_in_k2_c():
    arch = Architecture.convolutional(channels=(3, 16, 16), image=(32, 32), n_out=10, kernel_size=3, ranks=5,
                                      c="1/M")
    assert arch.widths == (3 * 1024, 16 * 1024, 16 * 1024, 10)
    assert arch.fan_in(1) == 27 and arch.fan_in(2) == 144 and arch.fan_in(3) == 16 * 1024
    assert arch.c == (1 / M(5),) * 2


def test_bounds_refuse_convolutional_layers_clearly():
    from maxbounds.laws import exact, jacobian

    arch = Architecture.convolutional(channels=(3, 4), image=(5, 5), n_out=2)
    for call in (lambda: jacobian.jacobian_bounds(arch), lambda: exact.activation_length_mean_var(arch, [1.0] * 75)):
        with pytest.raises(MaxboundsValueError) as info:
            call()
        assert info.value.argument == "layer 1 (maxout conv 3x3 (K=2))"
        assert "share their weights" in str(info.value)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(channels=(3,), image=(4, 4), n_out=2), "channels"),
        (dict(channels=(3, 0), image=(4, 4), n_out=2), "channels"),
        (dict(channels=(3, 4), image=(4,), n_out=2), "image"),
        (dict(channels=(3, 4), image=(4, 4), n_out=2, kernel_size=0), "kernel_size"),
    ],
)
def test_invalid_convolutional_specs(kwargs, argument):
    with pytest.raises(MaxboundsValueError) as info:
        Architecture.convolutional(**kwargs)
    assert info.value.argument == argument
