"""The hand-written Yjs update of a local write means to pycrdt exactly what pycrdt's own update means."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Map, merge_updates

from crdt.errors import DecodeError
from crdt.yjs_update import _summarize_any, _summarize_one_insert, encode_delete_update, encode_insert_update, summarize_update

INT64 = 1 << 63

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-INT64, max_value=INT64 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.binary(max_size=20)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
deletes = st.lists(st.tuples(st.integers(1, 2**32), st.just(0), st.just(1)), max_size=3, unique=True)


def _pycrdt_update(client: int, root: str, key: str, value: Any, ranges: list[tuple[int, int, int]]) -> bytes:
    doc: Doc[Any] = Doc(client_id=client)
    doc.get(root, type=Map)[key] = value
    update = doc.get_update()
    return merge_updates(update, encode_delete_update(ranges)) if ranges else update


def _comparable(value: Any) -> Any:
    """`value` with NaN made equal to itself and float/int told apart (1.0 and 1 are different Yjs values)."""
    if isinstance(value, float):
        return ("nan",) if math.isnan(value) else ("float", value, math.copysign(1.0, value))
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    return value


def _applied(update: bytes, root: str) -> Any:
    doc: Doc[Any] = Doc()
    doc.apply_update(update)
    return doc.get(root, type=Map).to_py()


@settings(max_examples=300, deadline=None)
@given(value=values, client=st.integers(1, 2**53 - 1), key=st.text(min_size=1, max_size=12), ranges=deletes)
def test_same_meaning_as_pycrdt(value: Any, client: int, key: str, ranges: list[tuple[int, int, int]]) -> None:
    ours = encode_insert_update(client, "m", key, value, ranges)
    theirs = _pycrdt_update(client, "m", key, value, ranges)
    a, b = summarize_update(ours), summarize_update(theirs)
    assert [(i.client, i.clock, i.root, i.key) for i in a.inserts] == [(i.client, i.clock, i.root, i.key) for i in b.inserts]
    assert _comparable(a.inserts[0].value) == _comparable(b.inserts[0].value)
    assert sorted(a.deletes) == sorted(b.deletes)
    assert _comparable(_applied(ours, "m")) == _comparable(_applied(theirs, "m"))


def test_numbers_are_encoded_as_pycrdt_does() -> None:
    # Exactly-float32 numbers take 4 bytes, other doubles 8; ints beyond a double's reach are BigInts.
    for value in (1, 3.0, 1.5, 0.1, 1.7e12, 2**53, 2**53 + 1, -(2**53) - 1, 2**63 - 1, float("inf")):
        ours = encode_insert_update(7, "m", "k", value)
        assert ours == _pycrdt_update(7, "m", "k", value, []), value


def test_map_keys_keep_insertion_order() -> None:
    value = {"zz": 1, "a": 2, "m": 3}
    assert list(summarize_update(encode_insert_update(3, "m", "k", value)).inserts[0].value) == ["zz", "a", "m"]


@pytest.mark.parametrize("bad", [{1: "x"}, {"s": {1, 2}}, 1 << 64, object()])
def test_values_yjs_cannot_hold_are_refused(bad: Any) -> None:
    with pytest.raises(ValueError):
        encode_insert_update(3, "m", "k", bad)


def test_the_reader_refuses_what_the_writer_never_makes() -> None:
    update = bytearray(encode_insert_update(3, "m", "k", "x"))
    update[4] = 0x28 | 0x80  # claim a left origin
    with pytest.raises(DecodeError):
        summarize_update(bytes(update))


flat_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False) | st.text(max_size=300)
)
flat_values = st.dictionaries(st.text(max_size=6), flat_scalars, max_size=6)


def _same_reading(raw: bytes) -> bool:
    """Whether the fast reader of the common shape agrees with the general one on `raw` (True when it takes it)."""
    fast = _summarize_one_insert(raw)
    if fast is None:
        return False
    slow = _summarize_any(raw)  # must not raise on anything the fast reader accepted
    assert [(i.client, i.clock, i.root, i.key) for i in fast.inserts] == [(i.client, i.clock, i.root, i.key) for i in slow.inserts]
    assert [_comparable(i.value) for i in fast.inserts] == [_comparable(i.value) for i in slow.inserts]
    assert fast.deletes == slow.deletes
    return True


@settings(max_examples=300, deadline=None)
@given(value=flat_values, client=st.integers(0, 2**53 - 1), key=st.text(min_size=1, max_size=12),
       root=st.sampled_from("mexrpcs"), edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=3),
       cut=st.integers(0, 3))
def test_the_fast_reader_agrees_with_the_general_one(value: dict[str, Any], client: int, key: str, root: str,
                                                     edits: list[tuple[int, int]], cut: int) -> None:
    raw = encode_insert_update(client, root, key, value)
    if all(len(k.encode()) < 128 for k in value) and len(key.encode()) < 128:
        assert _same_reading(raw)  # the common shape takes the fast path
    broken = bytearray(raw)
    for at, byte in edits:
        broken[at % len(broken)] = byte
    broken = broken[: len(broken) - cut]
    _same_reading(bytes(broken))
    try:
        whole = summarize_update(bytes(broken))
    except DecodeError:
        assert _summarize_one_insert(bytes(broken)) is None
    else:
        assert _comparable(whole.inserts[0].value if whole.inserts else None) == _comparable(
            _summarize_any(bytes(broken)).inserts[0].value if whole.inserts else None)
