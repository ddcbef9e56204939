"""``maxbounds regions count``: output, plots, given weights, and one-line errors."""

import json

import pytest

from maxbounds.architecture import Architecture
from maxbounds.cli.main import main
from maxbounds.regions import Network, count_plane_regions, plane_region_samples


def run(capsys, *argv):
    try:
        status = main(list(argv))
    except SystemExit as stop:  # argparse's own errors
        status = stop.code
    out, err = capsys.readouterr()
    return status, out, err


def test_json_counts_equal_the_python_api(capsys):
    status, out, _ = run(capsys, "regions", "count", "--widths", "2,8,8,2", "--rank", "3", "--box", "-3,3",
                         "--networks", "5", "--seed", "4", "--format", "json")
    assert status == 0
    data = json.loads(out)
    arch = Architecture.parse("2,8,8,2", rank="3", bias_var="1")
    counts = plane_region_samples(arch, (-3, 3), networks=5, seed=4)
    assert data["regions"]["mean"] == pytest.approx(counts.regions.mean(), rel=1e-12)
    assert data["regions"]["stderr"] == pytest.approx(counts.mean_regions()[1], rel=1e-12)
    assert data["regions"]["n"] == 5
    assert data["pieces"]["mean"] == pytest.approx(counts.boundary_pieces.mean(), rel=1e-12)
    assert data["architecture"]["widths"] == [2, 8, 8, 2] and data["architecture"]["ranks"] == [3, 3]
    assert data["networks"] == 5 and data["measure"] == 36.0 and "bounds" in data


def test_one_network_gives_integer_counts_and_a_plot(capsys, tmp_path):
    png = tmp_path / "regions.png"
    status, out, _ = run(capsys, "regions", "count", "--widths", "2,6,6,1", "--box", "-2,2", "--plot", str(png),
                         "--format", "json")
    assert status == 0
    data = json.loads(out)
    net = Network.random(Architecture.parse("2,6,6,1", bias_var="1"), 0)
    assert data["regions"] == {"mean": count_plane_regions(net, (-2, 2)), "stderr": None, "n": 1}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_grid_and_line_methods_and_given_weights(capsys, tmp_path):
    net = Network.random(Architecture.parse("2,5,5,2", rank="2", bias_var="1"), 3)
    path = tmp_path / "net.npz"
    net.save(path)
    status, out, _ = run(capsys, "regions", "count", "--weights", str(path), "--box", "-2,2", "--format", "json")
    exact = json.loads(out)["regions"]["mean"]
    assert status == 0 and exact == count_plane_regions(net, (-2, 2))
    assert json.loads(out)["architecture"]["source"] == str(path)
    status, out, _ = run(capsys, "regions", "count", "--weights", str(path), "--box", "-2,2", "--method", "grid",
                         "--resolution", "50", "--format", "json")
    assert status == 0 and json.loads(out)["regions"]["mean"] <= exact
    status, out, _ = run(capsys, "regions", "count", "--weights", str(path), "--box", "-2,2", "--method", "line",
                         "--plot", str(tmp_path / "line.png"))
    assert status == 0 and "regions crossed" in out and (tmp_path / "line.png").exists()


def test_plane_through_three_points(capsys):
    status, out, _ = run(capsys, "regions", "count", "--widths", "3,6,2", "--box", "-1,1",
                         "--plane", "0,0,0;1,0,0;0,1,1", "--format", "json")
    assert status == 0 and json.loads(out)["regions"]["mean"] >= 1


@pytest.mark.parametrize("argv,option", [
    (["--widths", "2,4,2", "--box", "3,-3"], "--box"),
    (["--widths", "2,4,2", "--box", "a,b"], "--box"),
    (["--widths", "2,4,2", "--rank", "0"], "--rank"),
    (["--widths", "2,-4,2"], "--widths"),
    (["--widths", "3,4,2"], "--plane"),
    (["--widths", "3,4,2", "--plane", "0,0,0;1,0,0"], "--plane"),
    (["--widths", "2,4,2", "--c", "0"], "--c"),
    (["--widths", "2,4,2", "--networks", "0"], "--networks"),
    (["--widths", "2,4,2", "--plot", "/nonexistent/x.png"], "--plot"),
    (["--widths", "2,4,2", "--plot", "x.pdf"], "--plot"),
    (["--weights", "/nonexistent.npz"], "--weights"),
    (["--widths", "2,4,2", "--box", "-1e300,1e300"], "--box"),
    (["--widths", "2,100000,2"], "--widths"),
    (["--widths", "2,4,2", "--rank", "100000"], "--rank"),
    (["--widths", "2,4,2", "--rank", "300", "--method", "line"], "--rank"),
    (["--widths", "2,2000,2000,2", "--method", "grid", "--resolution", "4000"], "--resolution"),
    (["--widths", "2,4,2", "--method", "line", "--line", "0,0;0,0"], "--line"),
    ([], "--widths"),
])
def test_bad_input_is_one_line_with_exit_code_2(capsys, argv, option):
    status, out, err = run(capsys, "regions", "count", *argv)
    assert status == 2
    assert err.count("\n") == 1 and option in err and "Traceback" not in err
    assert err.startswith("maxbounds regions count: error: ")


def test_bad_integer_options_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["regions", "count", "--widths", "2,4,2", "--networks", "-1"])
    assert info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_signed_box_values_reach_their_option():
    from maxbounds.cli.main import _join_signed_values

    assert _join_signed_values(["--box", "-3,3", "--seed", "1"]) == ["--box=-3,3", "--seed", "1"]
    assert _join_signed_values(["--box", "--seed"]) == ["--box", "--seed"]
