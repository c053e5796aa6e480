"""The long fuzzing run: atheris on every decoder of wire and file input (tests/fuzz), 10 minutes in all.

`python -m bench fuzz` splits HUBBUB_FUZZ_SECONDS (default 600) evenly across the targets and
runs HUBBUB_FUZZ_JOBS (default 1) of them at a time, each in its own process. `--quick` fuzzes
one target per family for a second. New corpus entries and every distinct violation found go to
build/fuzz/<target>/ (corpus/ and artifacts/); the checked-in corpus is only read.

Reports `fuzz_execs` (all targets), `fuzz_crashes` (distinct violations; the target is 0), and
`fuzz_execs_<target>` per target, with dots as underscores.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from tests.fuzz.registry import FAMILIES, NAMES
from tests.fuzz.runner import fuzz_many

WORK = Path(__file__).resolve().parent.parent / "build" / "fuzz"


def run(quick: bool) -> dict[str, Any]:
    if quick:
        names = [names[0] for names in FAMILIES.values()]
        per_target, jobs = 1.0, 2
    else:
        names = list(NAMES)
        jobs = max(1, int(os.environ.get("HUBBUB_FUZZ_JOBS", "1")))
        total = float(os.environ.get("HUBBUB_FUZZ_SECONDS", "600"))
        per_target = max(1.0, total * jobs / len(names))
    runs = fuzz_many(names, per_target, WORK, jobs=jobs)
    results: dict[str, Any] = {
        "fuzz_execs": sum(r.execs for r in runs),
        "fuzz_crashes": sum(len(r.crashes) + (0 if r.returncode == 0 or r.crashes else 1) for r in runs),
        "fuzz_targets": len(runs),
        "fuzz_seconds_per_target": per_target,
    }
    for r in runs:
        results[f"fuzz_execs_{r.target.replace('.', '_')}"] = r.execs
        for crash in r.crashes:
            print(f"{r.target}: {crash}  (minimise: python -m tests.fuzz minimize {r.target} {crash} NAME)",
                  file=sys.stderr)
        if r.returncode != 0 and not r.crashes:
            print(f"{r.target}: atheris exited {r.returncode}:\n{r.log}", file=sys.stderr)
    return results
