"""Shared pytest setup: strict mode, where a missing capability fails instead of skipping."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STRICT = os.environ.get("HUBBUB_STRICT") == "1"


def require(condition: bool, reason: str) -> None:
    """Skip the calling test when `condition` is false; under HUBBUB_STRICT=1, fail instead."""
    if condition:
        return
    if STRICT:
        pytest.fail(f"missing capability (HUBBUB_STRICT=1): {reason}")
    pytest.skip(reason)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", help="run the long versions of the property tests")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--slow", default=False):
        os.environ.setdefault("HUBBUB_TRUST_EXAMPLES", "5000")
