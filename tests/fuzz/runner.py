"""Runs atheris on a target in a child process (its signal handlers stay out of pytest), and
minimises a crash; used by the tests, `python -m tests.fuzz` and `python -m bench fuzz`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .registry import CORPUS, REGRESSIONS, load

ROOT = Path(__file__).resolve().parents[2]
_EXECS = re.compile(rb"stat::number_of_executed_units:\s*(\d+)")
_DONE = re.compile(rb"Done (\d+) runs in")
_PROGRESS = re.compile(rb"#(\d+)\s+(?:pulse|NEW|REDUCE|INITED|DONE)")


@dataclass
class FuzzRun:
    """The outcome of one atheris run on one target."""

    target: str
    seconds: float
    execs: int
    returncode: int
    crashes: list[Path] = field(default_factory=list)
    log: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.crashes


def _execs(output: bytes) -> int:
    for pattern in (_EXECS, _DONE):
        found = pattern.findall(output)
        if found:
            return int(found[-1])
    progress = _PROGRESS.findall(output)
    return int(progress[-1]) if progress else 0


def fuzz(name: str, seconds: float, work: Path, *, seed: int | None = 1, nice: int = 0,
         known: bool = False, collect: bool = True) -> FuzzRun:
    """Fuzz `name` for `seconds`, starting from its corpus and regressions; new inputs go to `work`.

    With `collect`, violations are collected (each distinct one once) and the run goes on; else
    the first one ends the run. `known` counts the known bugs too."""
    target = load(name)
    corpus_out, artifacts = work / name / "corpus", work / name / "artifacts"
    corpus_out.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    flags = [f"-max_total_time={max(1, round(seconds))}", f"-artifact_prefix={artifacts}/",
             f"-max_len={target.max_len}", "-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1"]
    if seed is not None:
        flags.append(f"-seed={seed}")
    dirs = [str(d) for d in (corpus_out, CORPUS / name, REGRESSIONS / name) if d.is_dir()]
    cmd = [sys.executable, "-m", "tests.fuzz.atheris_main", name, *flags, *dirs]
    if nice:
        cmd = ["nice", "-n", str(nice), *cmd]
    started = time.monotonic()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "HUBBUB_FUZZ_COLLECT": str(artifacts) if collect else "",
           "HUBBUB_FUZZ_KNOWN": "1" if known else "0"}
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=seconds + 120, env=env)
    output = proc.stdout + proc.stderr
    crashes = sorted(p for p in artifacts.iterdir()
                     if p.name.split("-")[0] in ("crash", "timeout", "oom", "leak", "violation") and p.suffix != ".txt")
    return FuzzRun(name, time.monotonic() - started, _execs(output), proc.returncode, crashes,
                   output.decode("utf-8", "replace")[-4000:])


def fuzz_many(names: list[str], seconds: float, work: Path, *, jobs: int = 2, nice: int = 0) -> list[FuzzRun]:
    """Fuzz each target for `seconds`, `jobs` at a time."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda n: fuzz(n, seconds, work, nice=nice), names))


def minimize(name: str, crash: Path, out: Path, *, runs: int = 20_000, known: bool = False) -> bool:
    """Minimise a crashing input of `name` into `out` with libFuzzer's -minimize_crash."""
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HUBBUB_FUZZ_KNOWN": "1" if known else "0", "HUBBUB_FUZZ_COLLECT": ""}
    cmd = [sys.executable, "-m", "tests.fuzz.atheris_main", name, "-minimize_crash=1", f"-runs={runs}", "-max_total_time=60",
           f"-exact_artifact_path={out}", f"-max_len={load(name).max_len}", str(crash)]
    subprocess.run(cmd, cwd=ROOT, capture_output=True, env=env, timeout=900)
    if not out.exists():  # nothing smaller crashed: keep the input as it is
        out.write_bytes(crash.read_bytes())
    return out.exists()


__all__ = ["FuzzRun", "fuzz", "fuzz_many", "minimize", "REGRESSIONS"]
