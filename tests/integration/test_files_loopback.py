"""Files between NodeServices over real aiortc sessions and real TCP on loopback (mDNS off): any member serves, a
tampered chunk is refetched from someone else, deletion and expiry take the chunks off every disk, a download
resumes from the chunks on disk, the data channel carries it when TCP is not used, pictures lose their metadata,
and a removed member gets nothing."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import os
from pathlib import Path

import pytest

from app.errors import HubbubError
from app.files.chunks import CHUNK_SIZE
from app.files.store import FileStore
from app.room import Room
from app.service import NodeService
from tests.integration.test_service_loopback import service, started, stop, until
from tests.pictures import has_metadata, jpeg_with_gps, upright_red_on_top

pytestmark = pytest.mark.timeout(120)


def run(body: object, timeout: float = 90) -> None:
    asyncio.run(asyncio.wait_for(body, timeout))  # type: ignore[arg-type]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def chunk_files(svc: NodeService, root: bytes) -> list[Path]:
    """The chunk files of a file that are on this node's disk."""
    ids = svc.files.store.ids(root)
    if ids is None:
        return []
    return [p for p in map(svc.files.store.chunk_path, ids) if p.exists()]


def all_chunks_on_disk(svc: NodeService) -> list[Path]:
    return [p for p in svc.files.store.chunks.rglob("*") if p.is_file()]


async def party(tmp: Path, *names: str) -> tuple[list[NodeService], list[Room]]:
    """Started services, the first owning a room the others joined, all connected to each other."""
    svcs = [service(tmp / n, n) for n in names]
    for s in svcs:
        await s.async_start()
    owner = svcs[0]
    room = owner.create_room("files")
    rooms = [room]
    for i, s in enumerate(svcs[1:], 1):
        for other in svcs[:i]:
            await s.async_connect(*other.address)
        rooms.append(await s.async_join(owner.create_invite(room).link(), 10))
    for s, r in zip(svcs, rooms):
        others = [o.node.profile.public_key for o in svcs if o is not s]
        await until(lambda s=s, r=r, others=others: all(r.id in s.peer.shared_rooms(p) for p in others), 10,
                    "every member shares the room with every other")
    return svcs, rooms


def record_routes(svc: NodeService) -> list[str]:
    """The routes of the streams `svc` opens from now on ("tcp" or "datachannel")."""
    routes: list[str] = []
    real_open = svc.files.streams.async_open

    async def opened(peer: bytes, **kw: bool) -> object:
        stream = await real_open(peer, **kw)
        routes.append(stream.route)
        return stream

    svc.files.streams.async_open = opened  # type: ignore[method-assign,assignment]
    return routes


async def posted(svcs: list[NodeService], rooms: list[Room], path: Path, **kw: object) -> tuple[str, str, bytes]:
    """A's message carrying `path`, once every node shows it: (message id, attachment id, root)."""
    mid = await svcs[0].files.async_send(rooms[0], "general", "a file", [path], **kw)  # type: ignore[arg-type]
    for r in rooms[1:]:
        await until(lambda r=r: any(m.id == mid for m in r.history("general")), 10, "the message arrived")
    root = bytes(rooms[0].message(mid).attachments[0]["h"])
    return mid, root.hex(), root


def test_any_member_serves_and_a_tampered_chunk_is_fetched_from_someone_else(tmp_path: Path,
                                                                             caplog: pytest.LogCaptureFixture) -> None:
    async def body() -> None:
        svcs, rooms = await party(tmp_path, "a", "b", "c")
        a, b, c = svcs
        try:
            src = tmp_path / "data.bin"
            src.write_bytes(os.urandom(23 * CHUNK_SIZE + 1234))  # more than one source's window (8 chunks)
            _mid, att, root = await posted(svcs, rooms, src)
            routes = record_routes(c)
            out_c = await c.files.async_download(rooms[2], att, tmp_path / "c.bin")
            assert out_c is not None and digest(out_c) == digest(src)
            assert routes and set(routes) == {"tcp"}, routes  # the direct stream, not the fallback
            assert len(chunk_files(c, root)) == 24  # C now holds every chunk, and serves them too

            # C turns hostile: every chunk it serves is tampered. B fetches from A and C at once, rejects C's
            # copies (they do not match their ids) and gets them from A.
            real_read = c.files.store.read_chunk_frame

            def tampered(cid: bytes, header: bytes) -> bytearray | None:
                frame = real_read(cid, header)
                if frame is not None:
                    frame[len(header)] ^= 1  # the first byte of the sealed chunk
                return frame

            c.files.store.read_chunk_frame = tampered  # type: ignore[method-assign]
            caplog.set_level(logging.INFO, logger="app.files.part")
            out_b = await b.files.async_download(rooms[1], att, tmp_path / "b.bin")
            assert out_b is not None and digest(out_b) == digest(src)
            rejected = [r for r in caplog.records if "does not match its id" in r.getMessage()]
            assert rejected, "B never received one of C's tampered chunks"
            assert all(c.node.profile.public_key.hex()[:12] in r.getMessage() for r in rejected)
        finally:
            for s in svcs:
                await stop(s)

    run(body())


def test_deletion_and_expiry_remove_the_chunks_from_every_node(tmp_path: Path) -> None:
    async def body() -> None:
        svcs, rooms = await party(tmp_path, "a", "b", "c")
        try:
            src = tmp_path / "data.bin"
            src.write_bytes(os.urandom(2 * CHUNK_SIZE))
            mid, att, root = await posted(svcs, rooms, src)
            lasting = tmp_path / "lasting.bin"
            lasting.write_bytes(os.urandom(1000))
            _mid2, att2, root2 = await posted(svcs, rooms, lasting)
            for s, r in zip(svcs[1:], rooms[1:]):
                await s.files.async_download(r, att, None)
                await s.files.async_download(r, att2, None)
            assert all(len(chunk_files(s, root)) == 2 for s in svcs)

            rooms[0].delete(mid)  # the author deletes the message
            for s, r in zip(svcs, rooms):
                await until(lambda r=r: r.message(mid).deleted, 10, "the deletion arrived")
                s.chores.chores()
            for s in svcs:
                assert chunk_files(s, root) == [] and s.files.store.get(root) is None
                assert len(chunk_files(s, root2)) == 1  # the other file stays
            with pytest.raises(HubbubError, match="deleted"):
                await svcs[1].files.async_download(rooms[1], att, tmp_path / "again.bin")

            # A message with a time to live: once it expires, its file goes from every node too.
            short = tmp_path / "short.bin"
            short.write_bytes(os.urandom(CHUNK_SIZE + 1))
            mid3, att3, root3 = await posted(svcs, rooms, short, ttl=1.5)
            for s, r in zip(svcs[1:], rooms[1:]):
                await s.files.async_download(r, att3, None)
            assert all(len(chunk_files(s, root3)) == 2 for s in svcs)
            await asyncio.sleep(1.6)
            for s in svcs:
                s.chores.chores()
                assert chunk_files(s, root3) == [], "an expired message's chunks stayed on disk"
            assert all(len(chunk_files(s, root2)) == 1 for s in svcs)
        finally:
            for s in svcs:
                await stop(s)

    run(body())


def test_a_download_resumes_from_the_chunks_on_disk_after_a_restart(tmp_path: Path) -> None:
    async def body() -> None:
        svcs, rooms = await party(tmp_path, "a", "b")
        a, b = svcs
        src = tmp_path / "data.bin"
        src.write_bytes(os.urandom(12 * CHUNK_SIZE))
        try:
            _mid, att, root = await posted(svcs, rooms, src)
            task: asyncio.Task[Path | None] | None = None

            def stop_soon(done: int, total: int, sources: int) -> None:
                if done >= 4 * CHUNK_SIZE and task is not None:
                    task.cancel()

            task = asyncio.ensure_future(b.files.async_download(rooms[1], att, tmp_path / "b.bin", progress=stop_soon))
            with contextlib.suppress(asyncio.CancelledError):
                await task
            held = len(chunk_files(b, root))
            assert 4 <= held < 12, held
            await stop(b)

            b2 = service(tmp_path / "b", "b")
            await b2.async_start()
            svcs[1] = b2
            await b2.async_connect(*a.address)
            room_b = b2.node.room(rooms[0].id)
            await until(lambda: room_b.id in b2.peer.shared_rooms(a.node.profile.public_key), 10, "shared again")
            first: list[int] = []
            out = await b2.files.async_download(room_b, att, tmp_path / "b.bin",
                                                progress=lambda done, total, n: first.append(done))
            assert out is not None and digest(out) == digest(src)
            assert first and first[0] >= held * CHUNK_SIZE, "the download started over instead of resuming"
        finally:
            for s in svcs:
                with contextlib.suppress(Exception):
                    await stop(s)

    run(body())


def test_the_data_channel_carries_a_file_when_tcp_is_not_used(tmp_path: Path) -> None:
    async def body() -> None:
        svcs, rooms = await party(tmp_path, "a", "b")
        try:
            src = tmp_path / "data.bin"
            src.write_bytes(os.urandom(CHUNK_SIZE + 77))
            _mid, att, _root = await posted(svcs, rooms, src)
            svcs[1].files.force_datachannel = True
            routes = record_routes(svcs[1])
            out = await svcs[1].files.async_download(rooms[1], att, tmp_path / "b.bin")
            assert out is not None and digest(out) == digest(src) and routes == ["datachannel"]
        finally:
            for s in svcs:
                await stop(s)

    run(body())


def test_a_photo_arrives_without_gps_or_camera_and_upright_and_send_original_keeps_it(tmp_path: Path) -> None:
    async def body() -> None:
        svcs, rooms = await party(tmp_path, "a", "b")
        try:
            photo = jpeg_with_gps(tmp_path / "holiday.jpg")
            _mid, att, _root = await posted(svcs, rooms, photo)
            got = await svcs[1].files.async_download(rooms[1], att, tmp_path / "got.jpg")
            assert got is not None
            data = got.read_bytes()
            assert not has_metadata(data) and upright_red_on_top(data)
            _mid, att, _root = await posted(svcs, rooms, photo, originals=frozenset({photo}))
            kept = await svcs[1].files.async_download(rooms[1], att, tmp_path / "kept.jpg")
            assert kept is not None and kept.read_bytes() == photo.read_bytes() and has_metadata(kept.read_bytes())
        finally:
            for s in svcs:
                await stop(s)

    run(body())


def test_a_removed_member_is_served_nothing(tmp_path: Path) -> None:
    async def body() -> None:
        svcs, rooms = await party(tmp_path, "a", "b")
        try:
            src = tmp_path / "data.bin"
            src.write_bytes(os.urandom(5000))
            _mid, att, _root = await posted(svcs, rooms, src)
            rooms[0].remove_member(svcs[1].node.profile.public_key)  # B is sent nothing after this, not even that
            with pytest.raises(HubbubError, match="Nobody online holds"):
                await svcs[1].files.async_download(rooms[1], att, tmp_path / "b.bin", patience=2.0)
            assert not (tmp_path / "b.bin").exists()
        finally:
            for s in svcs:
                await stop(s)

    run(body())


def test_files_store_is_in_the_profile(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "p")
    assert store.base == tmp_path / "p" / "files"
    store.close()


def test_avatars_and_room_icons_reach_other_members(tmp_path: Path) -> None:
    from PIL import Image

    from app.files.profile_pictures import AVATAR_SIDE, avatar_of, room_icon, set_avatar, set_room_icon
    from crdt.schema import short_id

    async def body() -> None:
        svcs, rooms = await party(tmp_path, "a", "b")
        a, b = svcs
        try:
            photo = jpeg_with_gps(tmp_path / "me.jpg")
            set_avatar(a.node, a.files.store, photo)
            set_room_icon(a.files.store, rooms[0], photo)
            a_short = short_id(a.node.profile.public_key)
            await until(lambda: avatar_of(rooms[1], a_short) is not None and room_icon(rooms[1]) is not None, 10,
                        "A's avatar and the room's icon at B")
            found = avatar_of(rooms[1], a_short)
            icon = room_icon(rooms[1])
            assert found is not None and icon is not None
            for message_id, m in (found, ("", icon)):
                await b.files.async_fetch(rooms[1], m, message_id)
                assert b.files.store.complete(m.root, m.size)
            out = tmp_path / "avatar.jpg"
            from app.files.assemble import assemble

            assemble(b.files.store, found[1], b.files.store.ids(found[1].root) or [], out)
            data = out.read_bytes()
            assert Image.open(io.BytesIO(data)).size == (AVATAR_SIDE, AVATAR_SIDE) and not has_metadata(data)
            assert avatar_of(rooms[1], short_id(b.node.profile.public_key)) is None
            with pytest.raises(HubbubError, match="not allowed"):
                set_room_icon(b.files.store, rooms[1], photo)  # a member is not an admin
        finally:
            for s in svcs:
                await stop(s)

    run(body())
