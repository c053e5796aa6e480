"""Command line for the benchmark suites: each suite is a module `bench.<name>` with `run(quick) -> dict`."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

SUITES = ("cli", "crdt", "files", "fuzz", "hostile", "lan", "package", "relay", "search", "ui", "voice")


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("suite", choices=SUITES)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke check, not a measurement")
    parser.add_argument("--json", metavar="FILE", help="also write the metrics as a flat JSON object")
    args = parser.parse_args(argv)
    module = importlib.import_module(f"bench.{args.suite}")
    results: dict[str, Any] = module.run(quick=args.quick)
    width = max((len(k) for k in results), default=10)
    print(f"{'metric':<{width}}  value")
    for key, value in results.items():
        print(f"{key:<{width}}  {_format(value)}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
