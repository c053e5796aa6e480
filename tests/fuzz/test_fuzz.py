"""The fuzz suite in `make test`: every corpus and regression input through every target, then a
short atheris run of each target (in child processes, two at a time)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.fuzz.__main__ import replay
from tests.fuzz.harness import KnownViolation, Violation, run_one
from tests.fuzz.make_corpus import VOLATILE, all_seeds
from tests.fuzz.registry import CORPUS, FAMILIES, NAMES, REGRESSIONS, inputs, load
from tests.fuzz.runner import FuzzRun, fuzz, fuzz_many

SHORT_RUN_SECONDS = 1


def test_the_registry_lists_every_target_of_every_family() -> None:
    for module_name, names in FAMILIES.items():
        defined = [t.name for t in importlib.import_module(module_name).TARGETS]
        assert defined == list(names), f"{module_name} defines {defined}, the registry lists {list(names)}"
    assert len(NAMES) == len(set(NAMES)) >= 25
    for name in NAMES:
        target = load(name)
        assert target.encode is not None or target.no_encoder, f"{name}: say why there is no encoder"


def test_the_checked_in_corpus_is_what_make_corpus_writes() -> None:
    seeds = all_seeds()
    assert sorted(seeds) == sorted(NAMES)
    for name, items in seeds.items():
        on_disk = {p.name: p.read_bytes() for p in inputs(CORPUS / name)}
        if name in VOLATILE:
            on_disk, items = {k: b"" for k in on_disk}, [(label, b"") for label, _ in items]
        assert on_disk == dict(items), f"{name}: run `python -m tests.fuzz corpus` and commit the result"


@pytest.mark.parametrize("name", NAMES)
def test_every_input_replays_through_the_target(name: str) -> None:
    assert replay([name]) == []


def test_the_seeds_reach_acceptance() -> None:
    """A corpus that only ever gets rejected would fuzz nothing but the first check."""
    for name in NAMES:
        target = load(name)
        outcomes = set()
        for path in inputs(CORPUS / name):
            try:
                outcomes.add(run_one(target, path.read_bytes()))
            except KnownViolation:
                outcomes.add("known")
        assert "accepted" in outcomes, f"{name}: no seed is accepted"


def test_the_harness_catches_an_undeclared_exception_and_a_noncanonical_encoding() -> None:
    with pytest.raises(Violation, match="KeyError"):
        run_one(load("selftest.crash"), b"FUZZ!")
    assert run_one(load("selftest.crash"), b"") == "rejected"
    with pytest.raises(Violation, match="roundtrip"):
        run_one(load("selftest.noncanonical"), b"\x00\x07")
    assert run_one(load("selftest.noncanonical"), b"\x07") == "accepted"


def test_atheris_finds_a_planted_bug(tmp_path: Path) -> None:
    run = fuzz("selftest.crash", 30, tmp_path, collect=False)  # the first crash ends the run
    assert run.crashes, f"atheris missed a 4-byte magic in 30 s:\n{run.log}"
    assert run.crashes[0].read_bytes()[:4] == b"FUZZ"


@pytest.fixture(scope="module")
def short_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FuzzRun]:
    work = tmp_path_factory.mktemp("fuzz")
    return {run.target: run for run in fuzz_many(list(NAMES), SHORT_RUN_SECONDS, work, jobs=2)}


@pytest.mark.timeout(240)
@pytest.mark.parametrize("name", NAMES)
def test_a_short_atheris_run_finds_nothing(name: str, short_runs: dict[str, FuzzRun]) -> None:
    run = short_runs[name]
    if run.crashes:
        crash = run.crashes[0]
        pytest.fail(f"{name}: atheris found {crash.name} ({crash.read_bytes()[:80]!r}); minimise it with\n"
                    f"  python -m tests.fuzz minimize {name} {crash} SHORT-NAME\n{run.log[-2500:]}")
    assert run.ok, f"{name}: atheris exited {run.returncode}:\n{run.log}"
    assert run.execs > 100, f"{name}: only {run.execs} executions:\n{run.log}"


def test_regression_folders_name_real_targets() -> None:
    for folder in REGRESSIONS.iterdir() if REGRESSIONS.is_dir() else []:
        assert folder.name in NAMES, f"tests/fuzz/regressions/{folder.name} is not a target"
        assert inputs(folder), f"{folder} is empty"
