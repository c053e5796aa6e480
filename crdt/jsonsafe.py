"""JSON from hostile bytes: size and nesting depth capped before decoding, and one error type out.

`json.loads` recurses once per nesting level, so deeply nested input raises `RecursionError`;
it also accepts `NaN` and `Infinity`, which no Hubbub encoder writes and which never compare
equal to themselves. `loads_capped` checks the size first, then the depth (without recursing),
then decodes, and raises the caller's error type for every way the input can be bad.

This module uses nothing but the standard library, so app/ uses it too. p2p/ decodes no JSON;
should it ever, it gets its own copy of these few lines (p2p and crdt never import each other).
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import DecodeError

MAX_DEPTH = 32
_STRING = re.compile(rb'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.S)  # an unclosed string runs to the end
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_INNERMOST = re.compile(rb"\[\]|\{\}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def nesting_ok(raw: bytes, max_depth: int = MAX_DEPTH) -> bool:
    """True when the brackets of `raw` (outside strings) balance and nest at most `max_depth` deep.

    Linear in `len(raw)` per level, with no recursion: each pass removes the innermost pairs.
    """
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return True  # the common case: too few brackets to nest too deeply
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    for _ in range(max_depth):
        if not brackets:
            return True
        brackets = _INNERMOST.sub(b"", brackets)
    return not brackets


def loads_capped(raw: bytes | str, error: type[Exception], *, max_size: int,
                 what: str = "the JSON", max_depth: int = MAX_DEPTH) -> Any:
    """Decode UTF-8 JSON of at most `max_size` bytes nesting at most `max_depth` deep.

    Anything else raises `error` with a clause naming `what`; no other exception escapes.
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    if len(data) > max_size:
        raise error(f"{what} is too large")
    if not nesting_ok(data, max_depth):
        raise error(f"{what} nests too deeply or is malformed")
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise error(f"{what} is not valid JSON") from exc


# ----- the room layer's forms: DecodeError out, and the canonical encoding ------------------------------------

MAX_SIZE = 1 << 20


def canonical_json(value: Any) -> bytes:
    """The one encoding of `value`: sorted keys, no spaces, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def loads(raw: bytes | str, what: str, *, max_size: int = MAX_SIZE, max_depth: int = MAX_DEPTH) -> Any:
    """`loads_capped` raising the room layer's DecodeError."""
    return loads_capped(raw, DecodeError, max_size=max_size, what=what, max_depth=max_depth)


def loads_canonical(raw: bytes, what: str, *, max_size: int = MAX_SIZE, max_depth: int = MAX_DEPTH) -> Any:
    """`loads`, and the bytes must be exactly `canonical_json` of the result (so what decodes re-encodes
    to what was signed)."""
    value = loads(raw, what, max_size=max_size, max_depth=max_depth)
    try:
        again = canonical_json(value)
    except (ValueError, TypeError, RecursionError) as exc:
        raise DecodeError(f"{what} is not canonical JSON") from exc
    if again != bytes(raw):
        raise DecodeError(f"{what} is not canonical JSON")
    return value
