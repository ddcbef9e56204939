r"""What a worker runs for one task: an estimator against its theory (:func:`run_task`).

The work is :func:`maxbounds.validation.single.run` on the task's
architecture, at the input :math:`x = (1, \dots, 1)/\sqrt{n_0}` in the
direction :math:`u = e_1`.  Network ``s`` of every sampler depends only on
``(seed, s)``, so a task's result is the same, bit for bit, whichever worker
runs it and however often: an interrupted sweep resumed gives the rows of an
uninterrupted one.
"""

from __future__ import annotations

import os
import socket
import time

import numpy as np

__all__ = ["run_task", "task_input"]


def task_input(n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """The input ``x = (1,...,1)/sqrt(n_0)`` and direction ``u = e_1`` of every task."""
    return np.full(n_in, 1 / np.sqrt(n_in)), np.eye(n_in)[0]


def run_task(params: dict, threads: int | None = None) -> dict:
    """Run the task described by ``params`` (:meth:`Task.params`); return its result and timing.

    ``threads``: Numba threads for this process (``numba.set_num_threads``; the
    result does not depend on it).  A local cluster passes 1, as its worker
    processes share the cores; ``NUMBA_NUM_THREADS`` in a worker's environment
    is not always enough, since a worker process may import Numba before its
    nanny sets the environment.  Returns ``{"result": <JSON-ready dict of
    single.run>, "seconds": float, "worker": "host:pid"}``; only ``result`` is
    deterministic.
    """
    from ..validation import single
    from .config import Task

    if threads is not None:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    start = time.perf_counter()
    task = Task.from_params(params)
    arch = task.architecture()
    x, u = task_input(arch.n_in)
    result = single.run(task.estimator, arch, x, u, task.samples, task.seed, task.method)
    result["passed"] = single.passed(result)
    return {"result": _plain(result), "seconds": time.perf_counter() - start,
            "worker": f"{socket.gethostname()}:{os.getpid()}"}


def _plain(value):
    """``value`` with NumPy scalars and tuples turned into JSON types (floats stay exact)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "as_dict"):  # Verdict, Estimate: their fields
        return _plain(value.as_dict())
    return value
