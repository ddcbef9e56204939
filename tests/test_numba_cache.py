"""The first-run note: a cold Numba cache is detected, a warm one is not, and the progress bar says so."""

import io

from maxbounds import _numba_cache
from maxbounds.cli import _progress


def test_cold_and_warm_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert _numba_cache.cache_is_cold()
    (tmp_path / "maxbounds_0123abcd").mkdir()
    assert _numba_cache.cache_is_cold()  # a folder without an index is still cold
    (tmp_path / "maxbounds_0123abcd" / "_streams.kernel-12.py311.nbi").write_bytes(b"")
    assert not _numba_cache.cache_is_cold()


def test_progress_bar_names_the_compilation_on_a_cold_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    shown = []

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(_progress.sys, "stderr", Terminal())

    class Bar:
        def __init__(self, *columns, **options):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def add_task(self, description, total):
            shown.append(description)

        def advance(self, task, count):
            pass

    import rich.progress

    monkeypatch.setattr(rich.progress, "Progress", Bar)
    for compiles in (True, False):
        with _progress.progress_bar("validating", compiles=compiles) as start:
            start(3)
    assert shown == ["validating" + _numba_cache.FIRST_RUN_NOTE, "validating"]
