r"""A sweep's configuration: a TOML grid turned into a list of :class:`Task`\ s.

The file has one table, ``[sweep]``, with an optional ``name`` and a
``[sweep.grid]`` table.  Every grid key takes one value or a list of values;
the tasks are the cartesian product of the lists, in the order the keys are
listed in :data:`GRID_KEYS` (the last key varies fastest)::

    [sweep]
    name = "depth and rank"

    [sweep.grid]
    widths = ["3,8x3,2"]          # architecture strings, or width + depth + n_in + n_out
    rank = [2, 3, 5]
    c = [1.0, "1/M"]
    estimator = ["jacobian", "ntk"]
    samples = 2000
    seed = [0, 1]

Every task is validated here (its :class:`~maxbounds.architecture.Architecture`
is built), so a bad value is reported before anything runs, as a
:class:`~maxbounds._validate.MaxboundsValueError` naming the key
(``sweep.grid.rank``).  A task's :attr:`Task.key` is the SHA-256 of its
canonical JSON: it depends only on what the task computes, so a re-run
recognises the tasks already finished.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import numbers
import os

from .._validate import MaxboundsValueError
from ..architecture import Architecture, parse_widths

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["Task", "SweepConfig", "load_config", "parse_config", "GRID_KEYS", "ESTIMATORS"]

#: Estimators a task may run (see :mod:`maxbounds.validation.single`).
ESTIMATORS = ("jacobian", "activation", "cosine", "gradient", "ntk", "length")
#: Estimators that need explicitly drawn networks (a backward pass or the linear pieces).
EXPLICIT_ONLY = ("gradient", "ntk", "length")
METHODS = ("auto", "chain", "explicit")
#: Version of the task format; part of every key, so a change of meaning changes the keys.
TASK_FORMAT = 1
#: Most tasks one sweep may hold.
MAX_TASKS = 1_000_000

#: Grid keys, in the order of the product (the last varies fastest), with their defaults.
GRID_KEYS = {
    "widths": None, "width": None, "depth": None, "n_in": None, "n_out": None,
    "rank": 2, "c": 1.0, "c_out": 1.0, "bias_var": 0.0,
    "estimator": "jacobian", "method": "auto", "samples": 1000, "seed": 0,
}
_SWEEP_KEYS = ("name", "grid")


@dataclasses.dataclass(frozen=True)
class Task:
    """One point of the grid: an estimator on one architecture with a sample count and seed.

    ``widths`` is the full tuple ``(n_0, ..., n_L)``; ``c`` is a number or one
    of ``"1/M"``, ``"1/L"``, ``"1/S"`` (kept as written, evaluated at the rank);
    ``method`` is ``"chain"`` or ``"explicit"`` (``"auto"`` is resolved).
    """

    estimator: str
    widths: tuple
    rank: int
    c: float | str
    c_out: float
    bias_var: float
    method: str
    samples: int
    seed: int

    def params(self) -> dict:
        """The task as a JSON-ready dict (the canonical form hashed by :attr:`key`)."""
        out = dataclasses.asdict(self)
        out["widths"] = list(self.widths)
        return out

    @property
    def key(self) -> str:
        """SHA-256 (hex) of the canonical JSON of :meth:`params` and :data:`TASK_FORMAT`."""
        return task_key(self.params())

    def architecture(self) -> Architecture:
        return Architecture(self.widths, ranks=self.rank, c=self.c, c_out=self.c_out, bias_var=self.bias_var)

    @classmethod
    def from_params(cls, params: dict) -> "Task":
        return cls(**{**params, "widths": tuple(params["widths"])})


def canonical_json(value) -> str:
    """JSON with sorted keys and no spaces: equal values give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def task_key(params: dict) -> str:
    return hashlib.sha256(canonical_json({"format": TASK_FORMAT, **params}).encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """A parsed configuration: its name, the tasks of its grid, and a hash of the task list."""

    name: str
    tasks: tuple
    source: str = ""

    @property
    def digest(self) -> str:
        """SHA-256 of the ordered task keys: two files describing the same tasks have the same digest."""
        return hashlib.sha256("\n".join(t.key for t in self.tasks).encode()).hexdigest()


def load_config(path) -> SweepConfig:
    """Read and validate the TOML file at ``path``."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
    except FileNotFoundError:
        raise MaxboundsValueError("config", f"no such file: {path!r}") from None
    except IsADirectoryError:
        raise MaxboundsValueError("config", f"{path!r} is a folder, not a TOML file") from None
    except UnicodeDecodeError:
        raise MaxboundsValueError("config", f"{path!r} is not UTF-8 text") from None
    except OSError as error:
        raise MaxboundsValueError("config", f"cannot read {path!r}: {error.strerror}") from None
    return parse_config(text, source=path)


def parse_config(text: str, source: str = "<string>") -> SweepConfig:
    """Parse and validate TOML ``text``; errors name the key (``sweep.grid.rank``)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MaxboundsValueError("config", f"{source} is not valid TOML: {error}") from None
    unknown = [k for k in data if k != "sweep"]
    if unknown:
        raise MaxboundsValueError(unknown[0], "unknown top-level key; the file has one table, [sweep]")
    sweep = data.get("sweep")
    if not isinstance(sweep, dict):
        raise MaxboundsValueError("sweep", "missing: the file needs a [sweep] table with a [sweep.grid] table")
    for key in sweep:
        if key not in _SWEEP_KEYS:
            raise MaxboundsValueError(f"sweep.{key}", f"unknown key; allowed: {', '.join(_SWEEP_KEYS)}")
    name = sweep.get("name", "")
    if not isinstance(name, str):
        raise MaxboundsValueError("sweep.name", f"expected a string, got {name!r}")
    grid = sweep.get("grid")
    if not isinstance(grid, dict):
        raise MaxboundsValueError("sweep.grid", "missing: give the grid as a [sweep.grid] table")
    for key in grid:
        if key not in GRID_KEYS:
            raise MaxboundsValueError(f"sweep.grid.{key}", f"unknown key; allowed: {', '.join(GRID_KEYS)}")
    tasks = tuple(_tasks(grid))
    return SweepConfig(name=name, tasks=tasks, source=text)


# -- the grid -----------------------------------------------------------------
def _values(grid: dict, key: str, check) -> list:
    """The list of values of ``key`` (a scalar is a list of one), each passed through ``check``."""
    raw = grid.get(key, GRID_KEYS[key])
    values = raw if isinstance(raw, list) else [raw]
    if not values:
        raise MaxboundsValueError(f"sweep.grid.{key}", "an empty list; give at least one value")
    checked = [check(f"sweep.grid.{key}", v) for v in values]
    seen = set()
    for v in checked:
        marker = canonical_json(v)
        if marker in seen:
            raise MaxboundsValueError(f"sweep.grid.{key}", f"the value {v!r} is listed twice")
        seen.add(marker)
    return checked


#: Most networks of one task (the samplers' own limit).
MAX_SAMPLES = 10**9
#: Most random numbers one task may draw (about an hour on two cores).
MAX_TASK_WORK = 1e13


def _integer(lowest):
    def check(key, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise MaxboundsValueError(key, f"expected an integer >= {lowest}, got {value!r}")
        if value < lowest:
            raise MaxboundsValueError(key, f"expected an integer >= {lowest}, got {value}")
        if value >= 2**63:
            raise MaxboundsValueError(key, f"expected an integer below 2**63, got {value}")
        return int(value)
    return check


def _number(positive):
    def check(key, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise MaxboundsValueError(key, f"expected a finite number, got {value!r}")
        if value < 0 or (positive and value == 0):
            raise MaxboundsValueError(key, f"expected a number {'> 0' if positive else '>= 0'}, got {value!r}")
        return float(value)
    return check


def _scale(key, value):
    if isinstance(value, str):
        token = value.replace(" ", "").upper()
        for name in ("1/M", "1/L", "1/S"):
            if token == name.upper():
                return name
        raise MaxboundsValueError(key, f"expected a number > 0 or one of \"1/M\", \"1/L\", \"1/S\", got {value!r}")
    return _number(True)(key, value)


def _choice(choices):
    def check(key, value):
        if value not in choices:
            raise MaxboundsValueError(key, f"expected one of {', '.join(choices)}, got {value!r}")
        return value
    return check


def _widths_string(key, value):
    if not isinstance(value, str):
        raise MaxboundsValueError(key, f"expected an architecture string like \"3,8x3,2\", got {value!r}")
    try:
        return parse_widths(value)
    except MaxboundsValueError as error:
        raise MaxboundsValueError(key, error.problem) from None


def _architectures(grid: dict) -> list[tuple]:
    """Width tuples from ``widths`` or from ``width`` x ``depth`` with ``n_in`` and ``n_out``."""
    shaped = [k for k in ("width", "depth", "n_in", "n_out") if k in grid]
    if "widths" in grid:
        if shaped:
            raise MaxboundsValueError(f"sweep.grid.{shaped[0]}", "give either widths or width and depth, not both")
        return _values(grid, "widths", _widths_string)
    if not shaped:
        raise MaxboundsValueError("sweep.grid.widths", "missing: give widths (e.g. [\"3,8x3,2\"]) or width, "
                                  "depth, n_in and n_out")
    for key in ("width", "depth", "n_in", "n_out"):
        if key not in grid:
            raise MaxboundsValueError(f"sweep.grid.{key}", "missing: width, depth, n_in and n_out go together")
    out = []
    for n_in, width, depth, n_out in itertools.product(
            _values(grid, "n_in", _integer(1)), _values(grid, "width", _integer(1)),
            _values(grid, "depth", _integer(1)), _values(grid, "n_out", _integer(1))):
        widths = (n_in,) + (width,) * (depth - 1) + (n_out,)
        if widths not in out:  # depth 1 has no hidden width: one architecture for every width
            out.append(widths)
    return out


def _tasks(grid: dict):
    axes = [
        _architectures(grid),
        _values(grid, "rank", _integer(1)),
        _values(grid, "c", _scale),
        _values(grid, "c_out", _number(True)),
        _values(grid, "bias_var", _number(False)),
        _values(grid, "estimator", _choice(ESTIMATORS)),
        _values(grid, "method", _choice(METHODS)),
        _values(grid, "samples", _at_most(_integer(2), MAX_SAMPLES)),
        _values(grid, "seed", _integer(0)),
    ]
    count = math.prod(len(axis) for axis in axes)
    if count > MAX_TASKS:
        raise MaxboundsValueError("sweep.grid", f"{count} tasks; at most {MAX_TASKS} in one sweep")
    checked = set()
    for widths, rank, c, c_out, bias_var, estimator, method, samples, seed in itertools.product(*axes):
        if method == "auto":
            method = "explicit" if estimator in EXPLICIT_ONLY else "chain"
        elif method == "chain" and estimator in EXPLICIT_ONLY:
            raise MaxboundsValueError("sweep.grid.method", f"the {estimator} estimator needs explicit networks; "
                                      "use method = \"explicit\" or \"auto\"")
        task = Task(estimator, tuple(widths), rank, c, c_out, bias_var, method, samples, seed)
        _check_work(task)
        arch_key = (task.widths, rank, c, c_out, bias_var)
        if arch_key not in checked:
            _check_architecture(task, grid)
            checked.add(arch_key)
        yield task


def _at_most(check, highest):
    def bounded(key, value):
        value = check(key, value)
        if value > highest:
            raise MaxboundsValueError(key, f"expected at most {highest}, got {value}")
        return value
    return bounded


def _check_work(task: Task) -> None:
    r"""Refuse, before anything runs, a task whose simulation would take hours.

    Work counts the random draws: per network the explicit sampler draws
    :math:`\sum_l n_l K_l n_{l-1}` weights, the chain :math:`\sum_l n_l K_l`.
    ``jacobian`` and ``activation`` run both samplers (the other one is the
    independent check of :func:`maxbounds.validation.single.independent`), so
    they count the explicit sampler's draws whatever the method; an explicit
    network must also fit the layers' parameter limit
    (:data:`maxbounds.layers.serial.MAX_PARAMETERS`), or it would exhaust the
    memory of a worker.
    """
    from ..layers.serial import MAX_PARAMETERS

    widths, K = task.widths, task.rank
    layers = range(1, len(widths))
    explicit = sum(widths[l] * (K if l < len(widths) - 1 else 1) * widths[l - 1] for l in layers)
    chain = sum(widths[l] * (K if l < len(widths) - 1 else 1) for l in layers)
    draws_explicit = task.method == "explicit" or task.estimator in ("jacobian", "activation")
    if draws_explicit and explicit > MAX_PARAMETERS:
        why = ("the explicit sampler draws them" if task.method == "explicit" else
               f"'{task.estimator}' checks the chain against explicit networks")
        raise MaxboundsValueError(
            "sweep.grid.widths", f"widths {'-'.join(map(str, widths))} with rank {K} need explicit networks of "
            f"{explicit:.3g} weights, more than the {MAX_PARAMETERS:.0e} allowed ({why}); use smaller widths")
    per_network = (explicit if draws_explicit else 0) + (chain if task.method != "explicit" else 0)
    work = per_network * task.samples
    if work > MAX_TASK_WORK:
        key = "samples" if task.samples > 1000 else "widths"
        raise MaxboundsValueError(
            f"sweep.grid.{key}", f"a task of {task.samples} networks of widths {'-'.join(map(str, widths))} draws "
            f"{work:.2g} random numbers (more than {MAX_TASK_WORK:.0e}, hours of work); split it or make it smaller")


def _check_architecture(task: Task, grid: dict) -> None:
    """Build the task's architecture, reporting a rejection under the grid key it came from."""
    try:
        task.architecture()
    except MaxboundsValueError as error:
        names = {"rank": "rank", "c": "c", "c_out": "c_out", "bias_var": "bias_var"}
        key = names.get(error.argument, "widths" if "widths" in grid else "width")
        raise MaxboundsValueError(f"sweep.grid.{key}", error.problem) from None
