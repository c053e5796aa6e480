"""JSON for hostile input: size and nesting capped before parsing, one error type out, canonical form checked.

`json.loads` on deeply nested input raises RecursionError (not ValueError), and a
large input costs memory before anything is checked; these helpers refuse both
first. `loads_canonical` also refuses input that `canonical_json` would not
produce byte for byte, so a decoded value always re-encodes to what was signed.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import DecodeError

MAX_DEPTH = 16
MAX_SIZE = 1 << 20


def canonical_json(value: Any) -> bytes:
    """The one encoding of `value`: sorted keys, no spaces, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def nesting_depth(raw: bytes | str) -> int:
    """How deeply brackets nest in a JSON text, ignoring brackets inside strings."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif ch in "]}":
            depth -= 1
    return deepest


def loads(raw: bytes | str, what: str, *, max_size: int = MAX_SIZE, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON from a peer or a file; anything wrong is a DecodeError naming `what`."""
    if len(raw) > max_size:
        raise DecodeError(f"{what} is too large")
    if nesting_depth(raw) > max_depth:
        raise DecodeError(f"{what} nests too deeply")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError, TypeError) as exc:
        raise DecodeError(f"{what} is not JSON") from exc


def loads_canonical(raw: bytes, what: str, *, max_size: int = MAX_SIZE, max_depth: int = MAX_DEPTH) -> Any:
    """`loads`, and the bytes must be exactly `canonical_json` of the result."""
    value = loads(raw, what, max_size=max_size, max_depth=max_depth)
    try:
        again = canonical_json(value)
    except (ValueError, TypeError, RecursionError) as exc:
        raise DecodeError(f"{what} is not canonical JSON") from exc
    if again != raw:
        raise DecodeError(f"{what} is not canonical JSON")
    return value
