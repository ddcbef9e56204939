"""Whether Numba's on-disk cache already holds maxbounds's compiled kernels (for the first-run message).

Every kernel of maxbounds is compiled with ``cache=True``: the first run after
installing compiles them (about a minute for ``maxbounds validate``), later
runs load them.  Numba writes an index file (``*.nbi``) per cached kernel,
under ``NUMBA_CACHE_DIR`` when it is set and beside the sources
(``__pycache__``) otherwise; :func:`cache_is_cold` looks for them.
"""

from __future__ import annotations

import glob
import os

__all__ = ["cache_is_cold", "FIRST_RUN_NOTE"]

#: Appended to a progress bar's description when the cache is cold.
FIRST_RUN_NOTE = " (first run: compiling the Numba kernels, once)"


def cache_is_cold() -> bool:
    """``True`` when no compiled maxbounds kernel is cached yet (the next run compiles them)."""
    package = os.path.dirname(os.path.abspath(__file__))
    folder = os.environ.get("NUMBA_CACHE_DIR")
    if folder:
        # Numba names each cached source folder after its last path component and a hash of the path
        patterns = [os.path.join(folder, name + "_*", "*.nbi") for name in ("maxbounds", "layers", "simulate")]
    else:
        # beside the sources, or (read-only install) Numba's user-wide cache folder
        patterns = [os.path.join(package, "**", "__pycache__", "*.nbi"),
                    os.path.join(os.path.expanduser("~"), ".cache", "numba", "**", "maxbounds*", "*.nbi")]
    return not any(glob.glob(pattern, recursive=True) for pattern in patterns)
