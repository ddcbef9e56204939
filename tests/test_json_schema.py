"""Every JSON output of the command line follows the one documented schema (maxbounds/report/output_schema.json).

Each case is run in-process; its standard output is parsed and validated
against the schema with ``jsonschema``, and then checked for what the schema
promises in words: the structured architecture is the network that was asked
about, Monte Carlo values are ``{mean, stderr, n}``, ``passed`` is a boolean.
A coverage test makes sure every command and every quantity that has
``--format json`` is among the cases, so a new command cannot skip the schema.
"""

from __future__ import annotations

import argparse
import json

import pytest

from maxbounds import Architecture
from maxbounds.cli.main import build_parser, main
from maxbounds.report import output

jsonschema = pytest.importorskip("jsonschema")

W = ["--widths", "3,5,4,2", "--rank", "3,2", "--c", "1/M,0.7", "--bias-var", "0.1"]

#: (argv without --format json, the architecture it must report or None)
CASES = [
    (["bounds", "jacobian", *W], Architecture((3, 5, 4, 2), (3, 2), ("1/M", 0.7), bias_var=0.1)),
    (["bounds", "jacobian", *W, "--moment", "0.5", "3", "--relu"], None),
    (["bounds", "jacobian", *W, "--symbolic"], None),
    (["bounds", "jacobian", "--widths", "3,5,2", "--sweep", "depth=2-4"], None),
    (["bounds", "jacobian", "--widths", "3,5,2", "--rank", "3", "--sweep", "c=0.5,1/M"], None),
    (["bounds", "jacobian", "--widths", "10,10x10000,10", "--rank", "3"], None),
    (["bounds", "activation", *W], None),
    (["bounds", "gradient", *W], None),
    (["bounds", "gradient", "--widths", "3,5,2", "--input", "0,0,0"], None),
    (["bounds", "ntk", *W], None),
    (["bounds", "length", *W], None),
    (["bounds", "regions", "--widths", "3,5,2", "--rank", "3", "--bias-var", "1"], None),
    (["bounds", "regions", "--widths", "2,4,1", "--rank", "3", "--bias-var", "1", "--c-grad", "simulated",
      "--networks", "20"], None),
    (["bounds", "lognorm", "--widths", "3,5,5,1", "--activation", "relu"], None),
    (["constants", "--rank", "2-4"], None),
    (["constants", "--rank", "2,3", "--dps", "30", "--moment", "0.5"], None),
    (["init", "--fan-in", "10", "--rank", "3"], None),
    (["init", "--widths", "3,5,2", "--rank", "3"], None),
    (["init", "--widths", "3,5,2", "--activation", "relu", "--scheme", "fractional", "--s", "1"], None),
    (["validate", "--suite", "constants"], None),
    (["validate", "jacobian", *W, "--samples", "2000"], Architecture((3, 5, 4, 2), (3, 2), ("1/M", 0.7),
                                                                    bias_var=0.1)),
    (["validate", "activation", "--widths", "3,5,2", "--samples", "2000"], None),
    (["validate", "cosine", "--widths", "3,5,2", "--samples", "2000"], None),
    (["validate", "gradient", "--widths", "3,5,2", "--samples", "500"], None),
    (["validate", "ntk", "--widths", "3,5,2", "--samples", "500"], None),
    (["validate", "length", "--widths", "3,5,2", "--samples", "500"], None),
    (["validate", "lognorm", "--widths", "3,5,5,1", "--samples", "500"], None),
    (["validate", "jacobian", "--widths", "3,5,2", "--samples", "2000", "--sweep", "c=0.5,1/M"], None),
    (["validate", "jacobian", "--widths", "3,5,2", "--samples", "2000", "--sweep", "depth=2-3"], None),
    (["regions", "count", "--widths", "2,5,1", "--rank", "2", "--networks", "3"], None),
    (["regions", "count", "--widths", "2,5,1", "--rank", "2", "--method", "line", "--line", "0,0;1,1"], None),
    (["landscape", "rank", "--points", "3", "--dim", "1", "--width", "2,3", "--samples", "20"], None),
    (["reproduce", "--list"], None),
]


def _run(argv, capsys):
    code = main([*argv, "--format", "json", *(["--quiet"] if _has_quiet(argv) else [])])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    return json.loads(captured.out)


def _has_quiet(argv) -> bool:
    return argv[0] in ("validate", "regions", "landscape", "reproduce")


def _walk(node):
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from _walk(child)


@pytest.mark.parametrize("argv, arch", CASES, ids=[" ".join(a[:2]) + f" #{i}" for i, (a, _) in enumerate(CASES)])
def test_output_follows_the_schema(argv, arch, capsys):
    doc = _run(argv, capsys)
    output.check(doc)
    assert doc["schema"] == output.SCHEMA_NAME and doc["schema_version"] == output.SCHEMA_VERSION
    assert doc["command"] == " ".join(argv[:2]) if argv[0] in ("regions", "landscape") else doc["command"] == argv[0]
    if arch is not None:  # the structured architecture is the one asked about, layer by layer
        got = doc["architecture"]
        assert got["widths"] == list(arch.widths) and got["ranks"] == list(arch.ranks)
        assert got["c"] == pytest.approx(list(arch.c), rel=1e-15) and got["bias_var"] == list(arch.bias_var)
        assert got["c_rule"] == ["1/M", None] and got["description"] == arch.describe()
    for node in _walk(doc):  # the conventions, checked a second time without the schema
        if isinstance(node, dict):
            assert not isinstance(node.get("passed", False), int) or isinstance(node.get("passed", False), bool)
            assert "model" not in node and not any(key.endswith("_se") for key in node)
            if "stderr" in node:
                assert {"mean", "n"} <= set(node)


def test_every_command_with_json_output_is_covered():
    """Each command and each QUANTITY choice that offers --format json has a case above ('sweep show' has its own
    test below, which needs a database)."""
    covered = {tuple(argv[:2]) for argv, _ in CASES} | {(argv[0],) for argv, _ in CASES} | {("sweep",)}
    missing = []
    for path, parser in _parsers(build_parser(), ()):
        formats = [a for a in parser._actions if "--format" in a.option_strings]
        if not formats or "json" not in (formats[0].choices or ()):
            continue
        quantity = [a for a in parser._actions if not a.option_strings and a.choices and a.dest != "help"]
        if quantity:
            missing += [path + (q,) for q in quantity[0].choices
                        if path + (q,) not in covered and q not in ("leaky_relu",)]
        elif path not in covered and path[:1] not in covered:
            missing.append(path)
    assert not missing, f"no JSON schema case for {missing}"


def _parsers(parser, path):
    found = False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found = True
            for name, sub in action.choices.items():
                yield from _parsers(sub, path + (name,))
    if not found:
        yield path, parser


def test_the_schema_rejects_the_old_shapes():
    """The schema is not a formality: each of the shapes issue 16 reported is refused."""
    good = {"schema": "maxbounds-output", "schema_version": 1, "command": "regions count",
            "architecture": {"description": "widths 2-5-1", "widths": [2, 5, 1]},
            "method": "exact", "networks": 2, "regions": {"mean": 7.5, "stderr": 0.5, "n": 2},
            "pieces": None, "measure": 4.0, "density": 1.9, "box": [-1, 1], "bounds": {}}
    output.check(good)
    bad = [
        {**good, "regions": 7.5, "regions_se": 0.5},                    # flat standard error
        {**good, "model": "widths 2-5-1"},                              # 'model' instead of 'architecture'
        {**good, "architecture": "widths 2-5-1, K=2"},                  # architecture as prose
        {**good, "schema_version": 2},                                  # another version
        {**good, "bounds": {"passed": 3}},                              # passed as a count
        {**good, "bounds": {"c": "1/M"}},                               # c as a string
        {**good, "bounds": {"x": {"mean": 1.0, "stderr": 0.1}}},         # an estimate without n
        {**good, "bounds": {"log10_x": None}},                          # a log form that is not a number
        {k: v for k, v in good.items() if k != "regions"},              # a required key missing
    ]
    for doc in bad:
        with pytest.raises(jsonschema.ValidationError):
            output.check(doc)


SWEEP = """
[sweep]
name = "schema"
[sweep.grid]
widths = ["3,5,2"]
rank = [2, 3]
c = [0.5, "1/M"]
estimator = ["jacobian", "gradient"]
samples = 200
"""


def test_sweep_show_follows_the_schema(tmp_path, capsys):
    """A database with done and failed tasks, written without a cluster (run_task and record_* as the sweep does)."""
    from maxbounds.sweep import SweepDB, parse_config, run_task

    config = parse_config(SWEEP)
    path = tmp_path / "s.sqlite"
    with SweepDB.create_or_resume(path, config) as db:
        for task in config.tasks[:-1]:
            out = run_task(task.params())
            db.record_done(task.key, out["result"], out["seconds"], out["worker"])
        db.record_failed(config.tasks[-1].key, "ValueError: injected")
    for extra in ([], ["--all"]):
        assert main(["sweep", "show", str(path), "--format", "json", *extra]) == 0
        doc = json.loads(capsys.readouterr().out)
        output.check(doc)
        assert doc["command"] == "sweep show" and len(doc["failed"]) == 1
        assert len(doc["rows"]) == (len(config.tasks) - 1 if not extra else len(doc["rows"]))
        for row in doc["rows"] + doc["failed"]:
            task = config.tasks[row["task"]]
            assert row["architecture"]["widths"] == list(task.widths) and row["architecture"]["ranks"] == [task.rank]
            assert row["architecture"]["c_rule"] == [task.c if isinstance(task.c, str) else None]
        assert all(r["estimate"]["n"] > 0 for r in doc["rows"])


def test_reproduce_json_follows_the_schema(tmp_path, capsys):
    """The command's JSON listing of the files it wrote (each FIGURE.json is validated in
    tests/test_reproduce.py::test_reproduce_writes_png_json_csv, for every figure)."""
    assert main(["reproduce", "max-moment", "--out", str(tmp_path), "--format", "json", "--quiet"]) == 0
    doc = json.loads(capsys.readouterr().out)
    output.check(doc)
    assert [r["figure"] for r in doc["results"]] == ["max-moment"]
    with open(doc["results"][0]["json"], encoding="utf-8") as handle:
        output.check(json.load(handle))
