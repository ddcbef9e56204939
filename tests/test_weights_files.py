"""Issue 16 (5): every unreadable ``--weights`` file is one line naming ``--weights``, exit 2, no traceback.

Nothing is ever unpickled, and the message never points at ``allow_pickle``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from maxbounds._validate import MaxboundsValueError
from maxbounds.architecture import Architecture
from maxbounds.cli.main import main
from maxbounds.regions import Network, count_plane_regions


def _network():
    return Network.random(Architecture.parse("2,4,1", rank="2", bias_var="1"), 1)


def _valid(path):
    _network().save(path)


def _arrays(path, **overrides):
    layers = _network().layers
    arrays = {"W1": layers[0][0], "b1": layers[0][1], "W2": layers[1][0], "b2": layers[1][1]}
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})


def _truncated(path):
    _valid(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _npy_renamed(path):
    with open(path, "wb") as file:
        np.save(file, np.ones((4, 2, 2)))


def _member_damaged(path):
    _valid(path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, b"not an npy member")


def _pickle(path):
    import pickle

    path.write_bytes(pickle.dumps({"W1": [1.0]}))


W1 = _network().layers[0][0]
MAKERS = {
    "truncated zip": _truncated,
    "npy renamed npz": _npy_renamed,
    "damaged member": _member_damaged,
    "string arrays": lambda p: _arrays(p, W1=W1.astype(str)),
    "bytes arrays": lambda p: _arrays(p, b1=np.array([[b"a", b"b"]] * 4)),
    "complex arrays": lambda p: _arrays(p, W1=W1 + 1j),
    "object arrays": lambda p: _arrays(p, W1=np.array([[[1.0, 2.0]] * 2] * 4, dtype=object)),
    "boolean arrays": lambda p: _arrays(p, W1=W1 > 0),
    "datetime arrays": lambda p: _arrays(p, b2=np.array([[np.datetime64("2020-01-01")]])),
    "nan": lambda p: _arrays(p, W1=np.where(W1 > 0, np.nan, W1)),
    "inf": lambda p: _arrays(p, b1=np.full((4, 2), np.inf)),
    "missing b2": lambda p: _arrays(p, b2=None),
    "odd key": lambda p: _arrays(p, extra=np.ones(3)),
    "no W": lambda p: np.savez(p, x=np.ones(3)),
    "no arrays": lambda p: np.savez(p),
    "wrong shapes": lambda p: _arrays(p, W1=np.ones((4, 3))),
    "garbage bytes": lambda p: p.write_bytes(b"\x80\x04garbage, not an array file\x00" * 50),
    "text": lambda p: p.write_text("W1 = [1, 2]\n"),
    "pickle": _pickle,
    "folder": lambda p: p.mkdir(),
    "missing file": lambda p: None,
    "empty file": lambda p: p.write_bytes(b""),
}


def _run(capsys, *argv):
    try:
        status = main(list(argv))
    except SystemExit as stop:
        status = stop.code
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_unreadable_weights_are_one_line(kind, capsys, tmp_path):
    path = tmp_path / "net.npz"
    MAKERS[kind](path)
    status, out, err = _run(capsys, "regions", "count", "--weights", str(path), "--box", "-2,2")
    assert status == 2 and out == ""
    assert err.startswith("maxbounds regions count: error: argument --weights:") and err.count("\n") == 1, err
    assert "Traceback" not in err and "pickle" not in err.lower()
    if kind == "complex arrays":
        assert "complex weights are not supported" in err
    with pytest.raises(MaxboundsValueError) as info:
        Network.load(path)
    assert info.value.argument in ("weights", "layers") and "pickle" not in info.value.problem.lower()


@pytest.mark.parametrize("kind", ["npy renamed npz", "complex arrays"])
def test_unreadable_weights_in_a_subprocess(kind, tmp_path):
    path = tmp_path / "net.npz"
    MAKERS[kind](path)
    result = subprocess.run([sys.executable, "-m", "maxbounds.cli.main", "regions", "count", "--weights", str(path),
                             "--box", "-2,2"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("maxbounds regions count: error: argument --weights:")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr and "pickle" not in result.stderr
    assert "Warning" not in result.stderr


def test_valid_weights_still_work(capsys, tmp_path):
    path = tmp_path / "net.npz"
    _valid(path)
    status, out, err = _run(capsys, "regions", "count", "--weights", str(path), "--box", "-2,2", "--format", "json")
    assert status == 0 and err == ""
    assert json.loads(out)["regions"]["mean"] == count_plane_regions(_network(), (-2, 2))
    integers = tmp_path / "int.npz"
    layers = [(np.rint(W * 3).astype(np.int64), np.rint(b * 3).astype(np.int32)) for W, b in _network().layers]
    np.savez(integers, W1=layers[0][0], b1=layers[0][1], W2=layers[1][0], b2=layers[1][1])
    assert Network.load(integers).layers[0][0].dtype == float
    status, out, _ = _run(capsys, "regions", "count", "--weights", str(integers), "--box", "-2,2", "--format", "json")
    assert status == 0 and json.loads(out)["regions"]["mean"] == count_plane_regions(Network(layers), (-2, 2))


@pytest.mark.parametrize("bad, word", [(1j, "complex"), (True, "booleans"), ("1.5", "strings")])
def test_constructor_refuses_non_real_weights(bad, word):
    W = np.full((2, 2, 2), bad)
    with pytest.raises(MaxboundsValueError) as info:
        Network([(W, np.zeros((2, 2), dtype=np.asarray(bad).dtype)), (np.ones((1, 2)), np.zeros(1))])
    assert info.value.argument == "layers" and word in info.value.problem
