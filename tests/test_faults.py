"""The fault list of ``benchmarks/faults.py`` still applies to the working tree (validate is not run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.faults import EQUIVALENT, FAULTS, Fault, StaleFault

ROOT = Path(__file__).resolve().parents[1]
ALL = FAULTS + EQUIVALENT


def test_names_unique():
    names = [fault.name for fault in ALL]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("fault", ALL, ids=[fault.name for fault in ALL])
def test_fault_applies_once_and_changes_the_file(fault):
    assert not fault.file.startswith("maxbounds/validation/"), "the suite under test must not be faulted"
    text = (ROOT / fault.file).read_text()
    assert text.count(fault.old) == 1, f"{fault.name}: the old text must occur exactly once in {fault.file}"
    changed = fault.apply(text)
    assert changed != text
    assert fault.new in changed


def test_stale_fault_fails_loudly():
    fault = Fault("demo", "x.py", "a = 1", "a = 2", "demo")
    with pytest.raises(StaleFault):
        fault.apply("b = 1\n")
    with pytest.raises(StaleFault):
        fault.apply("a = 1\na = 1\n")
