"""Files, sans-IO: chunks sealed and named by their hash, the root over the hash list, manifests and their rules."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.files.chunker import chunk_file
from app.files.chunks import (
    CHUNK_SIZE,
    ChunkError,
    check_list,
    chunk_count,
    chunk_id,
    file_root,
    new_file_key,
    open_chunk,
    seal_chunk,
)
from app.files.manifest import BadManifest, Manifest
from crdt.attachments import MAX_ATTACHMENTS, MAX_THUMBNAIL, attachment_problem, attachments_problem
from crdt.schema import MESSAGES, value_problem
from tests.helpers import new_room, value_entry
from nacl.signing import SigningKey


def manifest_value(**over: Any) -> dict[str, Any]:
    value: dict[str, Any] = {"n": "cat.jpg", "s": 1234, "m": "image/jpeg", "k": b"k" * 32, "h": b"h" * 32,
                             "w": 640, "y": 480, "t": b"\xff\xd8thumb", "b": "LEHV6nWB2yk8pyo0adR*.7kCMdnj"}
    value.update(over)
    return {k: v for k, v in value.items() if v is not None}


def test_a_chunk_opens_only_with_its_key_at_its_place() -> None:
    key = new_file_key()
    sealed = seal_chunk(key, 10, 0, b"0123456789")
    assert open_chunk(key, 10, 0, sealed) == b"0123456789"
    with pytest.raises(ChunkError):
        open_chunk(new_file_key(), 10, 0, sealed)
    with pytest.raises(ChunkError):
        open_chunk(key, 10, 1, sealed)  # moved to another place
    with pytest.raises(ChunkError):
        open_chunk(key, 11, 0, sealed)  # moved to another file
    tampered = bytearray(sealed)
    tampered[3] ^= 1
    assert chunk_id(bytes(tampered)) != chunk_id(sealed)
    with pytest.raises(ChunkError):
        open_chunk(key, 10, 0, bytes(tampered))


def test_chunking_a_file_names_every_chunk_and_the_root_covers_the_list(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    data = os.urandom(2 * CHUNK_SIZE + 5)
    path.write_bytes(data)
    kept: dict[bytes, bytes] = {}
    chunked = chunk_file(path, kept.__setitem__)
    assert chunked.size == len(data) and len(chunked.ids) == chunk_count(len(data)) == 3
    assert all(chunk_id(kept[c]) == c for c in chunked.ids)
    plain = b"".join(open_chunk(chunked.key, chunked.size, i, kept[c]) for i, c in enumerate(chunked.ids))
    assert plain == data
    blob = b"".join(chunked.ids)
    assert check_list(chunked.root, chunked.size, blob) == chunked.ids
    # A wrong hash list is rejected: a swapped id, a dropped id, or the right list under another size.
    swapped = chunked.ids[1] + chunked.ids[0] + chunked.ids[2]
    for bad, size in ((swapped, chunked.size), (blob[:-32], chunked.size), (blob, chunked.size + 1)):
        with pytest.raises(ChunkError):
            check_list(chunked.root, size, bad)
    assert file_root(chunked.size, chunked.ids) == chunked.root


def test_an_empty_file_is_one_empty_chunk(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    kept: dict[bytes, bytes] = {}
    chunked = chunk_file(path, kept.__setitem__)
    assert len(chunked.ids) == 1 and open_chunk(chunked.key, 0, 0, kept[chunked.ids[0]]) == b""


def test_manifest_round_trip_and_rules() -> None:
    m = Manifest.from_value(manifest_value())
    assert m.is_picture and m.id == (b"h" * 32).hex()
    assert Manifest.from_value(m.to_value()) == m
    assert attachment_problem(manifest_value(w=None, y=None, t=None, b=None)) is None  # a plain file
    bad = [
        manifest_value(n=""), manifest_value(n="a/b"), manifest_value(n=".."), manifest_value(n="x" * 256),
        manifest_value(n="a\x00b"), manifest_value(s=-1), manifest_value(s=1.5), manifest_value(s=True),
        manifest_value(s=1 << 40), manifest_value(m="Image/JPEG"), manifest_value(m="jpeg"),
        manifest_value(k=b"short"), manifest_value(h="hex" * 10), manifest_value(y=None),
        manifest_value(w=0), manifest_value(w=70000), manifest_value(t=b"x" * (MAX_THUMBNAIL + 1)),
        manifest_value(b="no spaces allowed"), manifest_value(extra=1), manifest_value(w=None, y=None),
        {"n": "x"}, "not a map",
    ]
    for value in bad:
        assert attachment_problem(value) is not None, value
        with pytest.raises(BadManifest):
            Manifest.from_value(value)
    assert attachments_problem([]) is not None
    assert attachments_problem([manifest_value()] * (MAX_ATTACHMENTS + 1)) is not None
    assert attachments_problem([manifest_value()] * MAX_ATTACHMENTS) is None


def test_the_validator_rejects_a_message_with_a_wrong_manifest() -> None:
    message = {"c": "general", "t": "", "ts": 1.0}
    assert value_problem(MESSAGES, {**message, "a": [manifest_value()]}) is None
    assert value_problem(MESSAGES, {**message, "a": [manifest_value(s="big")]}) == "attachment has a bad size"
    owner = SigningKey.generate()
    log, _genesis, _key = new_room(owner)
    good = log.ingest([value_entry(log, owner, MESSAGES, {**message, "a": [manifest_value()]})])
    assert good.accepted and not good.rejected
    bad = log.ingest([value_entry(log, owner, MESSAGES, {**message, "a": [manifest_value(k=b"x")]})])
    assert not bad.accepted and bad.rejected and "key or root" in bad.rejected[0][1]


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
                    | st.binary(max_size=40),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=6),
                    max_leaves=20))
def test_the_rules_never_raise(value: Any) -> None:
    assert attachments_problem(value) is None or isinstance(attachments_problem(value), str)
    assert attachment_problem(value) is None or isinstance(attachment_problem(value), str)
