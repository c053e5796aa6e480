"""Real `hubbub` nodes that share no LAN (loopback, mDNS off, no --connect) meet through a real `hubbub relay serve`.

* Two nodes meet only through the relay's rendezvous: the joiner finds the inviter through the relay
  the invite carries, joins, and they chat both ways.
* The blind mailbox: Bob is offline while Alice posts; Alice goes offline; the relay is killed with
  `kill -9` and restarted; Bob comes back alone and has every message: identical histories, none lost,
  none twice.
* A removed member: after Carol's removal (and the key rotation it brings) Alice posts; Carol's node,
  still using the relay, never gets it, and none of the mailbox auths Carol holds opens the new mailbox.
* The relay learns nothing: its data dir and most verbose log hold no room name, message text,
  display name, room id or member key.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from subprocess import Popen

import pytest

from app.node import Node
from app.profile import open_profile
from app.relay.keys import MailboxKeys
from app.relay.mailbox import open_entry, pull_set
from crdt.entry import Entry
from p2p.relay.client import RelayClient
from p2p.relay.config import RelayTimings
from tests.integration.clitools import hub, ok, start_node, stop_node
from tests.integration.relay_proc import RelayProcess

pytestmark = pytest.mark.timeout(240)


def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.25)


def history(profile: Path, room: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(ok(hub(profile, "history", room, "--json")))
    return rows


def texts(profile: Path, room: str) -> list[str]:
    return [str(m["text"]) for m in history(profile, room)]


def relay_row(profile: Path, url: str) -> dict[str, object]:
    rows = [r for r in json.loads(ok(hub(profile, "relay", "list", "--json"))) if r["url"] == url]
    assert rows, f"{profile.name} does not use {url}"
    row: dict[str, object] = rows[0]
    return row


def post_and_wait_for_the_ack(profile: Path, room: str, url: str, posted: list[str]) -> None:
    """Post each text (through the running node), then wait until the relay acknowledged all of them."""
    for text in posted:
        ok(hub(profile, "send", room, text))
    until(lambda: relay_row(profile, url)["unacked"] == 0, 30, "the relay acknowledged the posts")


def learned_nothing(places: list[Path], secrets: list[str], profiles: list[Path]) -> None:
    """No room name, text, display name, room id or member key in any file under `places` (the relay's, coturn's)."""
    secrets = list(secrets)
    for p in profiles:
        node = Node(open_profile(p))
        try:
            secrets += [node.profile.public_key.hex(), node.profile.display_name]
        finally:
            node.close()
    files = [f for place in places for f in ([place] if place.is_file() else place.rglob("*")) if f.is_file()]
    blobs = [f.read_bytes() for f in files]
    assert blobs and all(place.exists() for place in places) and sum(map(len, blobs)) > 0
    for secret in secrets:
        assert len(secret.encode()) >= 8, f"{secret!r} is too short to grep binary files for: it turns up by chance"
        for form in {secret.encode(), secret.lower().encode()}:
            assert not any(form in blob for blob in blobs), f"the relay holds {secret!r}"


class Nodes:
    """The `hubbub node` processes a test started, stopped at the end whatever happens."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.running: dict[Path, Popen[str]] = {}

    def start(self, profile: Path) -> None:
        proc, _port = start_node(profile, self.log(profile))
        self.running[profile] = proc

    def stop(self, profile: Path) -> None:
        stop_node(self.running.pop(profile), profile, self.log(profile))

    def log(self, profile: Path) -> Path:
        return self.tmp / f"{profile.name}.node.log"

    def stop_all(self) -> None:
        for profile in list(self.running):
            self.stop(profile)


def display_name(profile: Path) -> str:
    """A test member's display name: long enough that random ciphertext never holds it by chance
    (`learned_nothing` greps binary files; a 3-byte "Bob" turns up in a few hundred KB of it)."""
    return f"{profile.name.capitalize()} Quillfeather"


def make_room(tmp: Path, relay_url: str, *names: str) -> tuple[list[Path], str]:
    profiles = [tmp / n for n in names]
    for p in profiles:
        ok(hub(p, "name", display_name(p)))
    room = ok(hub(profiles[0], "room", "create", "Zanzibar Lantern Club")).strip()
    ok(hub(profiles[0], "relay", "add", relay_url, "--room", room))
    return profiles, room


def join(nodes: Nodes, inviter: Path, joiner: Path, room: str) -> float:
    link = ok(hub(inviter, "invite", room, "--expires", "1h")).strip()
    t0 = time.monotonic()
    out = ok(hub(joiner, "join", link, "--timeout", "40", timeout=60))
    took = time.monotonic() - t0
    assert out.startswith(room), out
    return took


def test_nodes_with_no_lan_meet_through_the_relay_and_catch_up_from_its_mailbox(tmp_path: Path) -> None:
    relay = RelayProcess(tmp_path / "relay", via_hubbub=True)
    nodes = Nodes(tmp_path)
    url = relay.start()
    try:
        (alice, bob), room = make_room(tmp_path, url, "alice", "bob")
        ok(hub(alice, "send", room, "who brings the marimba?"))
        nodes.start(alice)
        nodes.start(bob)
        join(nodes, alice, bob, room)
        peers = json.loads(ok(hub(bob, "peers", "--json")))
        assert [p["name"] for p in peers] == ["Alice Quillfeather"] and peers[0]["route"] in ("direct", "turn"), peers
        rtt_ms = peers[0]["rtt_ms"]  # the session's first PING/PONG went right after it authenticated
        assert isinstance(rtt_ms, float) and 0 < rtt_ms < 1000, peers

        # Chat both ways while both are online (through a session the relay's rendezvous set up).
        ok(hub(bob, "send", room, "I do, and the tuba"))
        until(lambda: "I do, and the tuba" in texts(alice, room), 30, "Bob's message reached Alice")
        until(lambda: "who brings the marimba?" in texts(bob, room), 30, "Alice's message reached Bob")

        # Bob goes offline; Alice posts, and her node pushes each post into the blind mailbox.
        nodes.stop(bob)
        posted = [f"offline note {i}" for i in range(20)]
        post_and_wait_for_the_ack(alice, room, url, posted)
        nodes.stop(alice)
        relay.kill9()
        assert relay.start() == url

        # Bob comes back alone: nobody but the relay's mailbox holds what he missed.
        nodes.start(bob)
        until(lambda: set(posted) <= set(texts(bob, room)), 60, "Bob caught up from the mailbox")
        nodes.stop(bob)
        a_hist, b_hist = history(alice, room), history(bob, room)
        assert [m["id"] for m in b_hist] == [m["id"] for m in a_hist], "the histories differ"
        assert len({m["id"] for m in b_hist}) == len(b_hist) == 22, "a message was lost or is there twice"

        # The relay learns nothing: no name, text, room id or key in its data dir or its most verbose log.
        learned_nothing([tmp_path / "relay", relay.log], ["Zanzibar", "who brings the marimba?", "I do, and the tuba", "offline note", room],
                         [alice, bob])
    finally:
        nodes.stop_all()
        relay.stop()


def test_a_removed_member_cannot_read_the_mailbox_after_the_rotation(tmp_path: Path) -> None:
    relay = RelayProcess(tmp_path / "relay", via_hubbub=True)
    nodes = Nodes(tmp_path)
    url = relay.start()
    try:
        (alice, bob, carol), room = make_room(tmp_path, url, "alice", "bob", "carol")
        ok(hub(alice, "send", room, "before the removal"))
        for p in (alice, bob, carol):
            nodes.start(p)
        join(nodes, alice, bob, room)
        join(nodes, alice, carol, room)
        until(lambda: "before the removal" in texts(carol, room), 30, "Carol caught up")
        nodes.stop(bob)
        nodes.stop(carol)  # she misses her removal: her node still thinks it a member, and will look

        ok(hub(alice, "member", "remove", room, display_name(carol)))
        post_and_wait_for_the_ack(alice, room, url, ["after the removal, members only"])
        nodes.stop(alice)

        # Bob, offline during the removal, reads the rotation where he still can and then the new mailbox.
        nodes.start(bob)
        until(lambda: "after the removal, members only" in texts(bob, room), 60, "Bob caught up after the rotation")
        # Carol's node comes back (and so pulls every mailbox it can name): it learns of the removal, nothing more.
        nodes.start(carol)
        until(lambda: "Carol" not in ok(hub(carol, "member", "list", room)), 60, "Carol's node learned of her removal")
        time.sleep(2.0)
        nodes.stop(carol)
        nodes.stop(bob)
        assert "after the removal, members only" not in texts(carol, room)

        # And directly: every mailbox Carol can name holds nothing she can open that was written after her removal.
        a_node, c_node = Node(open_profile(alice)), Node(open_profile(carol))
        try:
            a_room, c_room = a_node.find_room(room), c_node.find_room(room)
            current = a_room.log.current_key()
            assert current is not None and current not in c_room.log.keys.as_dict().values()
            new_box = pull_set(a_room)[0]
            carol_boxes = pull_set(c_room)
            assert new_box.auth not in [b.auth for b in carol_boxes]
            removal_seq = max(e.seq for e in a_node.profile.store.author_entries(a_room.id, a_room.me, 0, 10_000)
                              if e.hash in a_room.log.graph.nodes and a_room.log.graph.nodes[e.hash].op.op == "remove")
            got_new, opened_by_carol = asyncio.run(_read(url, new_box, carol_boxes))
            assert got_new > 0, "the new mailbox is empty"
            late = [e for e in opened_by_carol if e.author == a_room.me and e.seq > removal_seq]
            assert late == [], "Carol opened an entry written after her removal"
        finally:
            a_node.close()
            c_node.close()
    finally:
        nodes.stop_all()
        relay.stop()


async def _read(url: str, new_box: MailboxKeys, boxes: list[MailboxKeys]) -> tuple[int, list[Entry]]:
    """How many envelopes the new mailbox holds, and every entry Carol's auths fetch and her wrap keys open."""
    client = RelayClient(url, timings=RelayTimings.for_tests())
    await client.async_start()
    try:
        deadline = time.monotonic() + 10
        while not client.connected:
            assert time.monotonic() < deadline, "no connection to the relay"
            await asyncio.sleep(0.05)
        got, _last = await client.async_get(new_box.auth, 0, 500)
        opened: list[Entry] = []
        for box in boxes:
            theirs, _ = await client.async_get(box.auth, 0, 500)
            for _seq, sealed in theirs + got:
                entry = open_entry(box, sealed)
                if entry is not None:
                    opened.append(entry)
        return len(got), opened
    finally:
        await client.async_stop()
