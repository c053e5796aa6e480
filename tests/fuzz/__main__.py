"""`python -m tests.fuzz list|corpus|replay|run|minimize`: the fuzzing tools (see docs/fuzzing.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .harness import KnownViolation, Violation, run_one
from .registry import CORPUS, NAMES, REGRESSIONS, inputs, load

WORK = Path(__file__).resolve().parents[2] / "build" / "fuzz"


def _list() -> int:
    for name in NAMES:
        target = load(name)
        note = "round trip: canonical" if target.encode and target.canonical is True else (
            "round trip: by value" if target.encode else f"no encoder: {target.no_encoder}")
        known = "".join(f"\n    known bug {b.name}: {b.report}" for b in target.known)
        print(f"{name}\n    errors: {', '.join(e.__name__ for e in target.errors) or '(none: it reports)'}; {note}{known}")
    return 0


def replay(names: list[str]) -> list[str]:
    """Every corpus and regression input through every named target; the problems found.

    A known bug may show anywhere, except in a target's own regressions not named `known-BUG-...`;
    and each `known-BUG-...` regression must still show that bug (else it was fixed: drop the
    `KnownBug` and rename the file)."""
    files = [p for n in NAMES for d in (CORPUS / n, REGRESSIONS / n) for p in inputs(d)]
    problems = []
    for name in names:
        target = load(name)
        own = set(inputs(REGRESSIONS / name))
        for path in files:
            where = path.relative_to(CORPUS.parent)
            expected = path.name.split("-")[1] if path in own and path.name.startswith("known-") else None
            try:
                run_one(target, path.read_bytes())
            except KnownViolation as exc:
                if path in own and not (expected and exc.bug.name.startswith(expected)):
                    problems.append(f"{where}: {exc}")
                continue
            except Violation as exc:
                problems.append(f"{where}: {exc}")
                continue
            if expected:
                problems.append(f"{where}: known bug {expected!r} no longer shows: fixed? "
                                f"drop its KnownBug in {name}'s family module and rename the file")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the targets, their error types and round trips, and known bugs")
    sub.add_parser("corpus", help="rewrite the seed corpus from the targets' seeds()")
    p_replay = sub.add_parser("replay", help="run the corpus and regression inputs through targets")
    p_replay.add_argument("targets", nargs="*")
    p_run = sub.add_parser("run", help="fuzz targets under atheris")
    p_run.add_argument("targets", nargs="*")
    p_run.add_argument("--seconds", type=float, default=30.0, help="per target")
    p_min = sub.add_parser("minimize", help="minimise a crashing input into tests/fuzz/regressions/TARGET/NAME")
    p_min.add_argument("target")
    p_min.add_argument("crash", type=Path)
    p_min.add_argument("name", help="file name for the regression input, e.g. grant-recursion")
    p_min.add_argument("--known", action="store_true", help="the crash is a known bug (name it known-BUG-...)")
    args = parser.parse_args(argv)

    if args.command == "list":
        return _list()
    if args.command == "corpus":
        from .make_corpus import write_corpus

        print(f"wrote {write_corpus()} seed files under {CORPUS}")
        return 0
    if args.command == "replay":
        problems = replay(args.targets or list(NAMES))
        print("\n".join(problems) or "every input passes")
        return 1 if problems else 0
    if args.command == "run":
        from .runner import fuzz

        failed = 0
        for name in args.targets or list(NAMES):
            run = fuzz(name, args.seconds, WORK, seed=None)
            print(f"{name}: {run.execs} execs in {run.seconds:.1f} s, exit {run.returncode}")
            for crash in run.crashes:
                failed += 1
                print(f"    crash: {crash}\n    minimise: python -m tests.fuzz minimize {name} {crash} NAME")
            if not run.ok and not run.crashes:
                failed += 1
                print(run.log)
        return 1 if failed else 0
    if args.command == "minimize":
        from .runner import minimize

        out = REGRESSIONS / args.target / args.name
        minimize(args.target, args.crash, out, known=args.known)
        print(f"{out} ({out.stat().st_size} bytes)")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
