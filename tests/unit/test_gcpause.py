"""The cycle collector is off inside a paused batch, back on after it (also after an error), and a nested pause
leaves it to the outermost; an ingest leaves it as it found it."""

from __future__ import annotations

import gc

import pytest
from nacl.signing import SigningKey

from crdt.gcpause import CollectorPaused
from tests.helpers import new_room, post


def test_the_collector_is_paused_inside_and_on_again_after() -> None:
    assert gc.isenabled()
    with CollectorPaused():
        assert not gc.isenabled()
        with CollectorPaused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "the inner pause turned the collector back on"
    assert gc.isenabled()
    with pytest.raises(ValueError), CollectorPaused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_collector_turned_off_by_someone_else_stays_off() -> None:
    gc.disable()
    try:
        with CollectorPaused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_ingest_leaves_the_collector_on() -> None:
    owner = SigningKey.generate()
    log, _genesis, _key = new_room(owner)
    post(log, owner, "hello")
    assert gc.isenabled()
