"""The process atheris runs in: `python -m tests.fuzz.atheris_main TARGET [libFuzzer flags] [corpus dirs]`.

Project modules are imported under atheris' instrumentation so it sees their coverage.

* By default a violation of the invariant is raised out of the test function, which atheris
  reports as a crash (writing the input under -artifact_prefix); -minimize_crash uses this.
* With HUBBUB_FUZZ_COLLECT=DIR, each violation not seen before (by exception type and the
  project line it came from) is written to DIR as `violation-<signature>` with a `.txt` note,
  and fuzzing goes on: one run reports every distinct bug it meets.
* Known bugs are skipped, unless HUBBUB_FUZZ_KNOWN=1 (to minimise or collect one of them).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import traceback
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["crdt", "p2p", "app", "tests.fuzz.selftest_targets"]):
    from tests.fuzz.harness import KnownViolation, Violation, run_one
    from tests.fuzz.registry import load

    TARGET = load(sys.argv[1])

STRICT_KNOWN = os.environ.get("HUBBUB_FUZZ_KNOWN") == "1"
COLLECT = Path(os.environ["HUBBUB_FUZZ_COLLECT"]) if os.environ.get("HUBBUB_FUZZ_COLLECT") else None
_seen: set[str] = set()


def signature(violation: Violation) -> str:
    """What tells one bug from another: the kind, the exception type, the deepest project line."""
    where = ""
    exc = violation.exc
    if exc is not None:
        for frame in traceback.extract_tb(exc.__traceback__):
            if re.search(r"/(crdt|p2p|app)/", frame.filename):
                where = f"{Path(frame.filename).stem}{frame.lineno}"
    name = type(exc).__name__ if exc is not None else ""
    return re.sub(r"[^A-Za-z0-9]+", "-", f"{violation.kind}-{name}-{where}").strip("-")


def _collect(data: bytes, violation: Violation) -> None:
    assert COLLECT is not None
    sig = signature(violation)
    if sig in _seen:
        return
    _seen.add(sig)
    COLLECT.mkdir(parents=True, exist_ok=True)
    path = COLLECT / f"violation-{sig}-{hashlib.sha1(data).hexdigest()[:8]}"
    path.write_bytes(data)
    path.with_name(path.name + ".txt").write_text(f"{violation}\n", encoding="utf-8")


def test_one_input(data: bytes) -> None:
    try:
        run_one(TARGET, data)
    except KnownViolation as violation:
        if STRICT_KNOWN:
            if COLLECT is None:
                raise
            _collect(data, violation)
    except Violation as violation:
        if COLLECT is None:
            raise
        _collect(data, violation)


def main() -> None:
    atheris.Setup([sys.argv[0], *sys.argv[2:]], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
