"""`python -m bench search`: local full-text search over a profile of 100k messages in 5 rooms (issue 15's table).

The profile (real signed entries, realistic text from `bench.search_corpus`) is built once and cached in
~/.cache/hubbub-bench/search/; every run works on a copy. Figures are medians; the floors are measured in
the same run: `search_floor_p50_ms` is the bare FTS5 query (MATCH, newest first, LIMIT 50) for the same
text, without parsing, filters or reading the messages from the rooms.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.search_corpus import CHANNELS, NAMES, Corpus, queries

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hubbub-bench" / "search"


def _build(path: Path, rooms: int, per_room: int) -> None:
    """A profile whose owner (alice) and three members wrote `per_room` messages in each of `rooms` rooms, one every
    2.5 minutes on average over the last weeks (each room's clock starts in the past, so its times are valid)."""
    import random

    from nacl.signing import SigningKey

    from app.profile import IDENTITY_FILE, open_profile
    from crdt.cipher import new_room_key
    from crdt.control import ControlOp
    from crdt.private_file import write_private
    from crdt.room import RoomLog, genesis_entry
    from crdt.schema import CHANNELS as CHANNEL_ROOT
    from crdt.schema import MESSAGES, PINS

    path.mkdir(parents=True)
    os.chmod(path, 0o700)
    owner = SigningKey.generate()
    others = [SigningKey.generate() for _ in range(3)]
    write_private(path / IDENTITY_FILE, bytes(owner), exclusive=True)
    profile = open_profile(path, display_name=NAMES[0])
    corpus = Corpus()
    gaps = random.Random(3)
    for r in range(rooms):
        now = time.time() * 1000 - per_room * 150_000.0 * 1.25  # the gaps add up to about per_room * 150 s
        key = new_room_key()
        g = genesis_entry(owner, key, f"Room {r}", NAMES[0], ts_ms=now)
        log = RoomLog(g.hash, {g.hash: key})
        log.clock = lambda: now
        entries = list(log.ingest([g]).accepted)
        for i, ch in enumerate(CHANNELS):
            entries += log.write_value(owner, CHANNEL_ROOT, {"id": ch, "n": ch, "k": "text", "ts": 0, "pos": float(i)})[1].accepted
        for i, o in enumerate(others):
            op = ControlOp("add", {"member": bytes(o.verify_key).hex(), "role": "member", "name": NAMES[i + 1]})
            entries += log.write_control(owner, op).accepted
        writers = [owner, *others]
        for i in range(per_room):
            now += gaps.expovariate(1 / 150_000.0)
            value = {"c": CHANNELS[i % 7 % len(CHANNELS)], "t": corpus.message(), "ts": now}
            mid, result = log.write_value(writers[i % len(writers)], MESSAGES, value)
            entries += result.accepted
            if i % 997 == 5:
                entries += log.write_value(owner, PINS, {"m": mid, "ts": now})[1].accepted
        store = profile.store
        store.add_room(g.hash, f"Room {r}", {g.hash: key})
        replica = RoomLog(g.hash, {g.hash: key})
        result = replica.ingest(entries, now_ms=time.time() * 1000)
        store.append(g.hash, result.accepted, result.kinds, needs=result.needs, flags=result.flags)
        store.save_snapshot(g.hash, store.max_n(g.hash), replica.doc.get_update())
    profile.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    profile.close()


def _cached(rooms: int, per_room: int) -> Path:
    path = CACHE / f"profile-v2-{rooms}x{per_room}"
    marker = path / "ready.json"
    if not marker.exists():
        if path.exists():
            shutil.rmtree(path)
        _build(path, rooms, per_room)
        marker.write_text(json.dumps({"rooms": rooms, "per_room": per_room}))
    return path


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("search.sqlite*", "ready.json"))
    return dst


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def _p(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _index_build(profile: Path, runs: int) -> tuple[float, int, Any]:
    """Seconds to index every room from scratch (and merge it into one segment), the index's bytes, and the open node."""
    from app.node import Node
    from app.profile import open_profile

    times = []
    node = None
    for run in range(runs):
        for p in profile.glob("search.sqlite*"):
            p.unlink()
        node = Node(open_profile(profile, create=False))
        rooms = node.open_rooms()
        search = node.searcher()
        t = time.perf_counter()
        search.prepare(rooms)
        search.index.erase(force=True)
        times.append(time.perf_counter() - t)
        if run < runs - 1:
            node.close()
    assert node is not None
    size = sum(p.stat().st_size for p in profile.glob("search.sqlite*"))
    return _median(times), size, node


def _search_times(node: Any, qs: list[str], reps: int) -> tuple[list[float], list[float], int]:
    """Per query: the median time of `node.search`, and of the bare FTS5 query (its floor); and how many hits in all."""
    from app.search.query import match_expression, parse_query

    rooms = node.open_rooms()
    index = node.searcher().index
    full: list[float] = []
    floor: list[float] = []
    found = 0
    for q in qs:
        t_full, t_floor = [], []
        expr = match_expression(parse_query(q).terms)
        for _ in range(reps):
            t = time.perf_counter()
            hits = node.searcher().search(rooms, q, 50)
            t_full.append(time.perf_counter() - t)
            if expr is not None:
                t = time.perf_counter()
                index.db.execute("SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rowid DESC LIMIT 50", (expr,)).fetchall()
                t_floor.append(time.perf_counter() - t)
        found += len(hits)
        full.append(_median(t_full) * 1000)
        if t_floor:
            floor.append(_median(t_floor) * 1000)
    return full, floor, found


def _post_costs(node: Any, rounds: int, per_round: int) -> tuple[float, float, float]:
    """Median seconds per `Room.post` with the room followed by the index, and without (interleaved rounds), and
    the seconds per message of indexing what the posts left waiting (`IndexFeed.flush`, one commit per round)."""
    corpus = Corpus(seed=99)
    room = node.open_rooms()[0]
    feed = node.searcher().feed
    assert feed.is_current(room)
    with_index: list[float] = []
    without: list[float] = []
    flushes: list[float] = []
    for r in range(rounds):
        for indexed in (r % 2 == 0, r % 2 == 1):
            if indexed and feed not in room.watchers:
                room.watchers.append(feed)
            elif not indexed and feed in room.watchers:
                room.watchers.remove(feed)
            for _ in range(per_round):
                text = corpus.message()
                t = time.perf_counter()
                room.post("general", text)
                (with_index if indexed else without).append(time.perf_counter() - t)
            if indexed:
                t = time.perf_counter()
                flushed = feed.flush(room)
                flushes.append((time.perf_counter() - t) / max(1, flushed))
    if feed not in room.watchers:
        room.watchers.append(feed)
    return _median(with_index), _median(without), _median(flushes)


def run(quick: bool = False) -> dict[str, Any]:
    rooms, per_room = (5, 1_000) if quick else (5, 20_000)
    total = rooms * per_room
    source = _cached(rooms, per_room)
    from bench.search_jump import jump_ms

    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="hubbub-bench-search-") as tmp:
        profile = _copy(source, Path(tmp) / "profile")
        build_s, size, node = _index_build(profile, 1 if quick else 3)
        samples = [m.text for r in node.open_rooms() for m in r.view.page("general", 200)]
        qs = queries(Corpus(), samples, 100)
        full, floor, found = _search_times(node, qs, 3 if quick else 5)
        with_index, without, flush = _post_costs(node, 4 if quick else 10, 10 if quick else 20)
        node.close()
        jump = jump_ms(Path(tmp), quick)
    return {
        "search_p50_ms": _p(full, 0.5), "search_p99_ms": _p(full, 0.99), "search_floor_p50_ms": _p(floor, 0.5),
        "index_100k_s": build_s * 100_000 / total, "index_build_s": build_s,
        "index_bytes_per_message": size / total,
        "post_cost_with_index_ratio": with_index / without, "post_with_index_ms": with_index * 1000,
        "post_without_index_ms": without * 1000, "index_flush_us_per_message": flush * 1e6,
        "post_cost_with_flush_ratio": (with_index + flush) / without,
        **jump,
        "messages": total, "rooms": rooms, "queries": len(qs), "hits_found": found,
        "load_1min": load[0], "load_5min": load[1],
    }
