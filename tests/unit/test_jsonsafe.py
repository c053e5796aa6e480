"""crdt.jsonsafe: JSON from hostile bytes never raises anything but the caller's error."""

from __future__ import annotations

import pytest

from crdt.jsonsafe import loads_capped, nesting_ok


class Bad(Exception):
    pass


def test_plain_json_decodes() -> None:
    assert loads_capped(b'{"a": [1, "[[[[", {"b": null}]}', Bad, max_size=100) == {"a": [1, "[[[[", {"b": None}]}


@pytest.mark.parametrize("raw, clause", [
    (b"[" * 100_000, "nests too deeply"),
    (b"[" * 33 + b"]" * 33, "nests too deeply"),
    (b"x" * 101, "too large"),
    (b'{"v": NaN}', "not valid JSON"),
    (b"[Infinity]", "not valid JSON"),
    (b"\xff", "not valid JSON"),
    (b"1" * 5000, "not valid JSON"),  # past Python's 4300-digit limit for int()
    (b'"\\', "not valid JSON"),
])
def test_bad_input_raises_only_the_callers_error(raw: bytes, clause: str) -> None:
    with pytest.raises(Bad, match=clause):
        loads_capped(raw, Bad, max_size=100 if raw == b"x" * 101 else 1 << 20)


def test_depth_is_exact_and_brackets_in_strings_do_not_count() -> None:
    assert nesting_ok(b"[" * 32 + b"]" * 32)
    assert not nesting_ok(b"[" * 33 + b"]" * 33)
    assert nesting_ok(b'["' + b"[" * 500 + b'"]')
    assert nesting_ok(b'["\\"' + b"[" * 500 + b'"]')
    assert not nesting_ok(b'[{]}' * 20)  # unbalanced: rejected as malformed


@pytest.mark.timeout(60)  # a quadratic string scan would take hours on these
def test_the_depth_check_ends_on_adversarial_strings() -> None:
    assert nesting_ok(b'"' + b'\\"[' * 300_000)  # one unclosed string, full of escaped quotes
    assert nesting_ok(b'"\\' * 300_000 + b"\\")
    assert nesting_ok(b"[]" * 500_000)
