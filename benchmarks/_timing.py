"""Timing helpers shared by the runner, the scaling study and the tests (no ``time_*`` names: asv would collect them)."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time


def best_seconds(fn, repeats: int = 3, warmup: bool = True) -> tuple[float, float, object]:
    """``(best, median, last result)`` of the wall-clock seconds of ``fn()`` over ``repeats`` calls.

    With ``warmup`` one untimed call comes first (JIT compilation, torch's first call).
    """
    if warmup:
        fn()
    times, result = [], None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def set_threads(n: int) -> dict:
    """Use ``n`` threads in Numba (and in torch, if it is installed); return what each uses."""
    import numba

    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    used = {"numba": numba.get_num_threads(), "numpy_loop": 1}
    try:
        import torch
    except ImportError:
        used["torch"] = None
    else:
        torch.set_num_threads(n)
        used["torch"] = torch.get_num_threads()
    return used


def machine() -> dict:
    """CPU model, logical cores, load average and library versions, for the record."""
    model = platform.processor() or "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    import numba
    import numpy

    info = {"cpu": model, "cores": os.cpu_count(), "load_average": list(os.getloadavg()),
            "python": platform.python_version(), "numpy": numpy.__version__, "numba": numba.__version__}
    try:
        import torch
        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = None
    return info
