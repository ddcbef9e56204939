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


def test_a_cache_compiled_from_other_sources_is_removed_once(tmp_path, monkeypatch):
    """A kernel cached from other sources (a callee changed in another file) must not be loaded again."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_numba_cache, "_refreshed", False)
    stale = [tmp_path / "layers_0a1b" / "_conv_kernels.conv_pass-33.py311.nbi",
             tmp_path / "simulate_2c3d" / "_kernels.chain_kernel-114.py311.1.nbc"]
    other = tmp_path / "somebody_else_9f" / "kernel-1.py311.nbi"  # another package's cache is not touched
    for path in (*stale, other):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"old")
    (tmp_path / _numba_cache.STAMP).write_text("0" * 64 + "\n")
    assert _numba_cache.refresh_stale_cache() is True
    assert not any(p.exists() for p in stale) and other.exists()
    assert (tmp_path / _numba_cache.STAMP).read_text().strip() == _numba_cache.sources_digest()
    assert _numba_cache.refresh_stale_cache() is False  # once per process

    # a cache stamped with these sources is kept
    monkeypatch.setattr(_numba_cache, "_refreshed", False)
    for path in stale:
        path.write_bytes(b"new")
    assert _numba_cache.refresh_stale_cache() is False and all(p.exists() for p in stale)


def test_the_digest_follows_every_source_file(tmp_path, monkeypatch):
    package = tmp_path / "pkg"
    (package / "layers").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (package / "layers" / "b.py").write_text("y = 2\n")
    monkeypatch.setattr(_numba_cache, "_PACKAGE", str(package))
    first = _numba_cache.sources_digest()
    (package / "layers" / "b.py").write_text("y = 3\n")
    assert _numba_cache.sources_digest() != first
