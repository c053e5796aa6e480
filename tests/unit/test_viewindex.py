"""The view's fast index helpers give what the plain ways give: `map_items` as `Map.items()`, `sort_index` as
`list.sort()`, ties, signed zeros, infinities and NaN included."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Map

from crdt.viewindex import map_items, sort_index

times = st.one_of(st.sampled_from([0.0, -0.0, 1.0, 2.5, math.inf, -math.inf]), st.floats(allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(st.tuples(times, st.text(max_size=4)), max_size=40, unique=True))
def test_sort_index_orders_as_a_full_sort(pairs: list[tuple[float, str]]) -> None:
    got = list(pairs)
    sort_index(got)
    assert got == sorted(pairs)


def test_sort_index_with_a_time_that_is_not_a_number_falls_back_to_the_full_sort() -> None:
    pairs = [(2.0, "b"), (math.nan, "a"), (1.0, "c")]
    got = list(pairs)
    sort_index(got)
    expected = list(pairs)
    expected.sort(key=lambda p: p[0])
    expected.sort()
    assert got == expected


def test_map_items_reads_what_items_reads() -> None:
    doc: Doc[Any] = Doc()
    m = doc.get("m", type=Map)
    values: dict[str, Any] = {f"k{i}": {"c": "general", "t": "x" * i, "ts": 1.5 * i, "n": [1, "a"]} for i in range(50)}
    values.update({"s": "text", "f": 2.0, "b": True, "none": None, "bin": b"\x00\x01"})
    for key, value in values.items():
        m[key] = value
    m["nested"] = Map({"a": 1})  # never in a room; read the usual way
    got = dict(map_items(m))
    plain = dict(m.items())
    assert set(got) == set(plain) == set(values) | {"nested"}
    assert {k: v for k, v in got.items() if k != "nested"} == {k: v for k, v in plain.items() if k != "nested"}
    assert isinstance(got["nested"], Map) and got["nested"].to_py() == {"a": 1}
