"""Whether Numba's on-disk cache already holds maxbounds's compiled kernels (for the first-run message).

Every kernel of maxbounds is compiled with ``cache=True``: the first run after
installing compiles them (about a minute for ``maxbounds validate``), later
runs load them.  Numba writes an index file (``*.nbi``) per cached kernel,
under ``NUMBA_CACHE_DIR`` when it is set and beside the sources
(``__pycache__``) otherwise; :func:`cache_is_cold` looks for them.
"""

from __future__ import annotations

import glob
import hashlib
import os

__all__ = ["FIRST_RUN_NOTE", "cache_is_cold", "refresh_stale_cache", "sources_digest"]

#: Appended to a progress bar's description when the cache is cold.
FIRST_RUN_NOTE = " (first run: compiling the Numba kernels, once)"


_PACKAGE = os.path.dirname(os.path.abspath(__file__))
#: The file, in the cache's root, that holds the digest of the sources its kernels were compiled from.
STAMP = "maxbounds-sources.sha256"
_refreshed = False


def _patterns(suffix: str) -> list[str]:
    folder = os.environ.get("NUMBA_CACHE_DIR")
    if folder:
        # Numba names each cached source folder after its last path component and a hash of the path
        return [os.path.join(folder, name + "_*", "*" + suffix) for name in ("maxbounds", "layers", "simulate",
                                                                            "regions")]
    # beside the sources, or (read-only install) Numba's user-wide cache folder
    return [os.path.join(_PACKAGE, "**", "__pycache__", "*" + suffix),
            os.path.join(os.path.expanduser("~"), ".cache", "numba", "**", "maxbounds*", "*" + suffix)]


def cache_is_cold() -> bool:
    """``True`` when no compiled maxbounds kernel is cached yet (the next run compiles them)."""
    return not any(glob.glob(pattern, recursive=True) for pattern in _patterns(".nbi"))


def sources_digest() -> str:
    """SHA-256 of every source file of the package (paths and contents), in path order."""
    digest = hashlib.sha256()
    for path in sorted(glob.glob(os.path.join(_PACKAGE, "**", "*.py"), recursive=True)):
        digest.update(os.path.relpath(path, _PACKAGE).encode())
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


def refresh_stale_cache() -> bool:
    """Remove maxbounds's cached kernels when they were compiled from other sources; ``True`` if it did.

    Numba checks a cached kernel against its own source file only: a kernel whose callee changed in
    another file (every simulator calls the layers' and the streams' kernels) would keep running the old
    callee.  So the cache's root holds the digest of all the package's sources (:data:`STAMP`); when it
    differs, the package's index and data files (``*.nbi``, ``*.nbc``) are removed and the kernels compile
    afresh.  Called once per process by every module that defines kernels, before any is compiled; a
    read-only cache is left as it is.
    """
    global _refreshed
    if _refreshed:
        return False
    _refreshed = True
    root = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(_PACKAGE, "__pycache__")
    stamp = os.path.join(root, STAMP)
    digest = sources_digest()
    try:
        with open(stamp) as handle:
            if handle.read().strip() == digest:
                return False
    except OSError:
        pass
    removed = False
    for pattern in _patterns(".nbi") + _patterns(".nbc"):
        for path in glob.glob(pattern, recursive=True):
            try:
                os.remove(path)
                removed = True
            except OSError:
                pass
    try:
        os.makedirs(root, exist_ok=True)
        with open(stamp + ".tmp", "w") as handle:
            handle.write(digest + "\n")
        os.replace(stamp + ".tmp", stamp)
    except OSError:
        pass
    return removed
