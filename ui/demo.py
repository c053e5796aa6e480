"""A demo profile: a few members' nodes in a temp folder, rooms with channels, replies, reactions, pins and code."""

from __future__ import annotations

import tempfile
from pathlib import Path

from app.node import Node
from app.profile import open_profile
from app.room import Room

from .services import IDLE, ONLINE, OfflineService


def _sync(src: Node, src_room: Room, dst: Node, tmp: Path) -> Room:
    """Carry a room from one node to another as a signed log file (sneakernet), as `hubbub import` does."""
    path = tmp / "carry.hubbub"
    src.export(src_room, "log", path)
    report = dst.import_log(path)
    return dst.room(report.room_id)


class DemoService(OfflineService):
    """Presence and typing for the demo: who is online, and someone typing."""

    def __init__(self, my_short: str, online: list[str], idle: list[str], typing: list[str]) -> None:
        super().__init__(my_short)
        self._presence = {s: ONLINE for s in online} | {s: IDLE for s in idle} | {my_short: ONLINE}
        self._typing = typing

    def presence(self, room_id: bytes) -> dict[str, str]:
        return self._presence

    def typing(self, room_id: bytes, channel: str) -> list[str]:
        return self._typing if channel == "general" else []


def build_demo(root: Path | None = None) -> tuple[Node, DemoService]:
    """Make the demo profiles under `root`; returns alice's node (the one the window shows) and a demo live service."""
    root = root or Path(tempfile.mkdtemp(prefix="hubbub-demo-"))
    names = ["alice", "bob", "carol", "dave"]
    nodes = {n: Node(open_profile(root / n, display_name=n)) for n in names}
    alice = nodes["alice"]
    room = alice.create_room("Weekend LAN Party")
    room.update_settings(topic="Saturday 18:00 · Hall B · bring your own chair")
    room.create_channel("announcements", "text", "Info")
    room.create_channel("setup-help", "text", "Tech")
    room.create_channel("Game night", "voice")
    for n in names[1:]:
        room.add_member(nodes[n].profile.public_key, "moderator" if n == "carol" else "member", n)
    rooms = {"alice": room}
    current = "alice"

    def say(who: str, text: str, reply_to: str | None = None, channel: str = "general", thread: str | None = None) -> str:
        nonlocal current
        if who != current:
            rooms[who] = _sync(nodes[current], rooms[current], nodes[who], root)
            current = who
        return rooms[who].post(channel, text, reply_to=reply_to, thread=thread)

    say("alice", "Welcome everyone! Doors open **Saturday at 18:00**.", channel="announcements")
    m1 = say("bob", "Who's bringing the **switch**? I've got two spare power strips.")
    say("dave", "I have a spare 8-port one in the car", thread=m1)
    say("bob", "great, then we have two", thread=m1)
    m2 = say("carol", "I can bring mine, plus a bag of cat6 cables 🎉")
    m3 = say("alice", "Perfect. I'll run the _relay_ on my laptop so the folks upstairs can join too.", reply_to=m2)
    m4 = say("dave", "Server config for the game, if anyone wants to double-check:\n"
                     "```toml\n[server]\nport = 27015\nmax_players = 16\ntickrate = 128\n```")
    say("dave", "oops, wrong channel")
    m6 = say("carol", "Looks good. Maybe drop the tickrate to 64 for the older laptops, @dave", reply_to=m4)
    m7 = say("bob", "@alice can you pin the address? It's **Hall B, 2nd floor** — see https://example.org/hall-b")
    rooms["bob"].edit(m7, "@alice can you pin the address? It's **Hall B, 2nd floor** — map: https://example.org/hall-b")
    rooms["dave"] = _sync(nodes["bob"], rooms["bob"], nodes["dave"], root)
    wrong = [m for m in rooms["dave"].history("general") if m.text == "oops, wrong channel"][0]
    rooms["dave"].delete(wrong.id)
    rooms["dave"].react(m4, "👀")
    rooms["dave"].react(m2, "🎉")
    current = "dave"
    for who, emoji, target in (("bob", "🎉", m2), ("carol", "👍", m1), ("carol", "🔥", m4)):
        rooms[who] = _sync(nodes[current], rooms[current], nodes[who], root)
        current = who
        rooms[who].react(target, emoji)
    room = _sync(nodes[current], rooms[current], alice, root)
    room.react(m1, "👍")
    room.react(m2, "🎉")
    room.pin(m7)
    alice.profile.store.set_read_mark(room.id, "general", room.message(m6).ts - 1)
    del m3
    club = alice.create_room("Book Club")
    club.add_member(nodes["bob"].profile.public_key, "member", "bob")
    bclub = _sync(alice, club, nodes["bob"], root)
    bclub.post("general", "@alice chapter 4 tonight?")
    _sync(nodes["bob"], bclub, alice, root)
    alice.create_room("Homelab")
    for n in names[1:]:
        nodes[n].close()
    alice.profile.settings["ui_last_room"] = room.id.hex()
    alice.profile.save_settings()
    shorts = {m.name: m.short for m in room.members()}
    live = DemoService(shorts["alice"], online=[shorts["bob"], shorts["carol"]], idle=[shorts["dave"]], typing=[shorts["carol"]])
    return alice, live
