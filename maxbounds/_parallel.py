r"""Run a Numba kernel over samples on several threads, without Numba's parallel compiler.

Every sampler of maxbounds is a serial, ``nogil`` Numba function of the form
``kernel(start, stop, *args)`` that fills rows ``start..stop-1`` of its output
arrays, sample ``s`` reading its own random stream ``(seed, first + s)``.
:func:`run_chunks` splits ``0..count-1`` into chunks and calls the kernel on
a pool of Python threads; because the kernel releases the GIL the chunks run
in parallel, and because each sample owns its stream the result does not
depend on the split (bit for bit, whatever the thread count).

Why not ``numba.prange``: a ``parallel=True`` kernel is compiled through
Numba's parfor pipeline, which costs seconds per kernel (``random_counts``
took 33 s of a first ``maxbounds validate``); a serial kernel costs a fraction
of that and runs as fast per thread.  The number of threads is
:func:`numba.get_num_threads` (``NUMBA_NUM_THREADS``, or
``numba.set_num_threads``), so one setting governs every sampler.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading

__all__ = ["run_chunks", "thread_count"]

_POOL = None
_POOL_SIZE = 0
_LOCK = threading.Lock()


def _forget_pool_after_fork() -> None:
    """In a forked child the pool's threads do not exist: start a new pool on first use."""
    global _POOL, _POOL_SIZE, _LOCK
    _POOL, _POOL_SIZE, _LOCK = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def thread_count() -> int:
    """Threads the samplers use: Numba's setting (``NUMBA_NUM_THREADS``, ``numba.set_num_threads``)."""
    import numba

    return max(1, int(numba.get_num_threads()))


def _pool(size):
    global _POOL, _POOL_SIZE
    with _LOCK:
        if _POOL is None or _POOL_SIZE != size:
            if _POOL is not None:
                _POOL.shutdown(wait=False)
            _POOL = concurrent.futures.ThreadPoolExecutor(max_workers=size, thread_name_prefix="maxbounds")
            _POOL_SIZE = size
        return _POOL


def run_chunks(kernel, count: int, *args, threads: int | None = None) -> None:
    """Call ``kernel(start, stop, *args)`` over chunks covering ``0..count-1``, on ``threads`` threads.

    Chunks are about ``count / (4 threads)`` long (at least 1), so uneven
    samples balance; a single thread or a single chunk runs in the caller's
    thread.  An exception in any chunk is raised here.
    """
    count = int(count)
    if count <= 0:
        return
    threads = thread_count() if threads is None else max(1, int(threads))
    if threads == 1 or count == 1 or threading.current_thread().name.startswith("maxbounds"):
        kernel(0, count, *args)
        return
    size = max(1, -(-count // (4 * threads)))
    bounds = [(start, min(count, start + size)) for start in range(0, count, size)]
    futures = [_pool(threads).submit(kernel, start, stop, *args) for start, stop in bounds]
    for future in futures:
        future.result()
