"""The fuzz invariant, shared by every target: only the declared errors come out, and what is accepted re-encodes.

A target wraps one decoder of wire or file input. Fed any bytes, the decoder must either

* raise one of the target's declared error types, or return a result the target calls
  "rejected" (for decoders that report instead of raising), or
* accept, and then, where an encoder exists, `encode(decode(b)) == b` for a canonical encoding,
  or `decode(encode(decode(b))) == decode(b)` for one that is not (JSON, say).

Any other exception (RecursionError, KeyError, a pycrdt panic, ...) is a violation, and so is a
result that does not re-encode. `run_one` raises `Violation` for those; a violation that
matches one of the target's `known` bugs (reported, waiting for their fix) is raised as
`KnownViolation` instead, so a fuzzing run can keep looking for new ones.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ACCEPTED = "accepted"
REJECTED = "rejected"


class Violation(AssertionError):
    """The decoder broke the invariant; `kind` is "exception", "encode" or "roundtrip"."""

    def __init__(self, target: str, kind: str, detail: str, exc: BaseException | None = None) -> None:
        super().__init__(f"{target}: {kind}: {detail}")
        self.target = target
        self.kind = kind
        self.detail = detail
        self.exc = exc


class KnownViolation(Violation):
    """A violation that matches a bug already reported (see `KnownBug`)."""

    def __init__(self, violation: Violation, bug: KnownBug) -> None:
        super().__init__(violation.target, violation.kind, f"[known: {bug.name}] {violation.detail}", violation.exc)
        self.bug = bug


def same(a: Any, b: Any) -> bool:
    """Deep equality (through dataclasses too) in which NaN equals NaN: a decoded NaN is still the same value."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(
            same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a) if f.compare)
    return bool(a == b)


@dataclass(frozen=True)
class KnownBug:
    """A reported bug a target still shows; `matches(data, violation)` recognises it."""

    name: str
    matches: Callable[[bytes, Violation], bool]
    report: str


@dataclass(frozen=True)
class Target:
    """One decoder under the fuzz invariant."""

    name: str
    decode: Callable[[bytes], Any]
    errors: tuple[type[BaseException], ...] = ()
    encode: Callable[[Any], bytes | None] | None = None
    """Encodes an accepted value; None from it means this value has no encoding to compare."""
    canonical: bool | Callable[[Any], bool] = False
    rejected: Callable[[Any], bool] | None = None
    check: Callable[[bytes, Any], None] | None = None
    equal: Callable[[Any, Any], bool] = same
    known: tuple[KnownBug, ...] = ()
    max_len: int = 4096
    no_encoder: str = ""
    """Why there is no encoder round trip (empty when `encode` is set)."""

    def is_canonical(self, result: Any) -> bool:
        return self.canonical(result) if callable(self.canonical) else self.canonical


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _decode(target: Target, data: bytes) -> tuple[str, Any]:
    try:
        result = target.decode(data)
    except target.errors:
        return REJECTED, None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - the whole point: nothing else may escape
        raise Violation(target.name, "exception", _describe(exc), exc) from exc
    if target.rejected is not None and target.rejected(result):
        return REJECTED, result
    return ACCEPTED, result


def _check(target: Target, data: bytes) -> str:
    outcome, result = _decode(target, data)
    if outcome == REJECTED:
        return outcome
    if target.check is not None:
        try:
            target.check(data, result)
        except Violation:
            raise
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001
            kind = "roundtrip" if isinstance(exc, AssertionError) else "exception"
            raise Violation(target.name, kind, _describe(exc), exc) from exc
    if target.encode is None:
        return ACCEPTED
    try:
        again = target.encode(result)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001
        raise Violation(target.name, "encode", f"an accepted value does not encode: {_describe(exc)}", exc) from exc
    if again is None:
        return ACCEPTED
    if target.is_canonical(result):
        if again != data:
            raise Violation(target.name, "roundtrip", f"accepted {data[:60]!r}... re-encodes as {again[:60]!r}...")
        return ACCEPTED
    outcome2, result2 = _decode(target, again)
    if outcome2 != ACCEPTED:
        raise Violation(target.name, "roundtrip", f"the re-encoding of an accepted value is rejected: {again[:80]!r}")
    if not target.equal(result, result2):
        raise Violation(target.name, "roundtrip", f"decode(encode(x)) != x for x = {result!r:.200}")
    return ACCEPTED


def run_one(target: Target, data: bytes) -> str:
    """Feed `data` to the target; returns ACCEPTED or REJECTED, raises (Known)Violation."""
    try:
        return _check(target, data)
    except Violation as violation:
        for bug in target.known:
            if bug.matches(data, violation):
                raise KnownViolation(violation, bug) from violation
        raise


def noncanonical(target: Target) -> Callable[[bytes, Violation], bool]:
    """Matches a round-trip violation whose value is stable: the same value, spelled in other bytes."""

    def matches(data: bytes, violation: Violation) -> bool:
        if violation.kind != "roundtrip" or target.encode is None:
            return False
        _, result = _decode(target, data)
        again = target.encode(result)
        if again is None:
            return False
        outcome, result2 = _decode(target, again)
        return outcome == ACCEPTED and target.equal(result, result2) and target.encode(result2) == again

    return matches
