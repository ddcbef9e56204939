"""``import maxbounds as mb``: every public name resolves, lazily, without loading Numba."""

import subprocess
import sys

import pytest

import maxbounds as mb


def test_every_name_in_all_resolves():
    missing = []
    for name in mb.__all__:
        try:
            getattr(mb, name)
        except AttributeError as error:
            missing.append(f"{name}: {error}")
    assert not missing


def test_dir_lists_all_and_unknown_names_raise():
    assert set(mb.__all__) <= set(dir(mb))
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        getattr(mb, "no_such_name")


def test_names_are_the_library_objects():
    from maxbounds.estimators import Estimate, Verdict
    from maxbounds.laws.jacobian import JacobianBound, jacobian_bounds
    from maxbounds.layers import MaxoutDense, serial
    from maxbounds.results import Bound
    from maxbounds.validation.checks import validate

    assert (mb.Estimate, mb.Verdict, mb.Bound) == (Estimate, Verdict, Bound)
    assert (mb.jacobian_bounds, mb.JacobianBound, mb.MaxoutDense, mb.serial) == (
        jacobian_bounds, JacobianBound, MaxoutDense, serial)
    assert mb.validate is validate
    assert mb.layers.MaxoutDense is MaxoutDense and mb.constants.M is mb.M
    assert abs(mb.M(5) - 1.800020436) < 1e-9


def test_validate_runs_one_quantity_and_checks_its_arguments():
    arch = mb.Architecture((3, 6, 2), ranks=3)
    result = mb.validate("jacobian", arch, samples=2000, seed=1)
    # a correct bound check fails by chance with probability < 6.8e-6 (4.5 standard errors)
    assert result["passed"] and result["mean"]["check"].passed
    with pytest.raises(mb.MaxboundsValueError, match="quantity"):
        mb.validate("colour", arch)
    with pytest.raises(mb.MaxboundsValueError, match="method"):
        mb.validate("gradient", arch, method="chain")
    with pytest.raises(mb.MaxboundsValueError, match="suites"):
        mb.validate(suites=["nope"])


def _modules_after(code: str) -> set:
    out = subprocess.run([sys.executable, "-c", code + "; import sys; print(' '.join(sys.modules))"],
                         check=True, capture_output=True, text=True)
    return set(out.stdout.split())


def test_import_maxbounds_loads_no_heavy_library():
    loaded = _modules_after("import maxbounds")
    for heavy in ("numba", "scipy", "sympy", "matplotlib", "dask", "rich"):
        assert heavy not in loaded, heavy


def test_the_constants_command_loads_neither_numba_nor_scipy_stats():
    loaded = _modules_after("from maxbounds.cli.main import main; main(['constants', '--rank', '5'])")
    for heavy in ("numba", "scipy.stats", "sympy", "matplotlib", "dask", "rich"):
        assert heavy not in loaded, heavy


def test_top_level_help_imports_no_command_module():
    loaded = _modules_after("from maxbounds.cli.main import build_parser; build_parser('').format_help()")
    assert not [m for m in loaded if m.startswith("maxbounds.cli.") and m.endswith("_cmd")]
    assert "numba" not in loaded and "scipy" not in loaded


def test_torch_is_optional_and_its_absence_is_one_line():
    """``mb.torch`` is reachable but not in ``__all__``; without PyTorch it names the extra to install."""
    assert "torch" not in mb.__all__
    code = ("import sys; sys.modules['torch'] = None\n"
            "import maxbounds as mb\n"
            "try:\n    mb.torch\nexcept mb.MaxboundsValueError as error:\n    print(error)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == 'torch: PyTorch is not installed; pip install "maxbounds[torch]" (or pip install torch)'
