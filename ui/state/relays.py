"""The Relays tab of room settings apart from its widgets: the room's relay list being edited, and what each row says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.errors import HubbubError
from app.relay.settings import MAX_ROOM_RELAYS, canonical, room_relays, set_room_relays
from app.room import Room

ABOUT = ("A relay lets members who are not on the same network meet, and keeps sealed copies of new messages for "
         "members who are offline. It cannot read them, and never learns the room's name or its members' names. "
         "Anyone can host one with one command: hubbub relay serve --listen 0.0.0.0:7447 --data DIR")


@dataclass(frozen=True, slots=True)
class RelayRow:
    """One line of the list: the address, where it comes from ("room" or "profile"), and its state in words."""

    url: str
    source: str
    state: str

    @property
    def text(self) -> str:
        whose = "" if self.source == "room" else "   (your profile's, for all your rooms)"
        return f"{self.url}{whose}   · {self.state}"


def describe(url: str, status: list[dict[str, Any]] | None) -> str:
    """A relay's state in a few words, from the running node's status (None: no network in this window)."""
    if status is None:
        return "used while the app is online"
    live = next((s for s in status if s.get("url") == url), None)
    if live is None:
        return "not in use yet"
    if live.get("connected"):
        return "connected" + (", TURN" if live.get("turn") else "")
    error = str(live.get("error") or "")
    return f"not connected: {error}" if error else "connecting…"


class RelayEdit:
    """The room's relays as the dialog edits them; nothing is written before `apply`."""

    def __init__(self, room: Room, profile_relays: list[str]) -> None:
        self.room = room
        self.original = room_relays(room)
        self.urls = list(self.original)
        self.profile = [u for u in profile_relays if u not in self.original]

    @property
    def changed(self) -> bool:
        return self.urls != self.original

    def add(self, text: str) -> str | None:
        """Add an address; returns a sentence saying why not, or None when it was added."""
        text = text.strip()
        if not text:
            return "Type the address the relay printed, such as hubbub-relay://relay.example.org:7447."
        try:
            url = canonical(text)
        except HubbubError as exc:
            return str(exc)
        if url in self.urls:
            return f"The room already uses {url}."
        if len(self.urls) >= MAX_ROOM_RELAYS:
            return f"A room can use at most {MAX_ROOM_RELAYS} relays."
        self.urls.append(url)
        return None

    def remove(self, url: str) -> None:
        if url in self.urls:
            self.urls.remove(url)

    def rows(self, status: list[dict[str, Any]] | None) -> list[RelayRow]:
        return ([RelayRow(u, "room", describe(u, status)) for u in self.urls]
                + [RelayRow(u, "profile", describe(u, status)) for u in self.profile if u not in self.urls])

    def apply(self) -> None:
        """Write the edited list as the room's relays (HubbubError with a sentence when that is refused)."""
        if self.changed:
            set_room_relays(self.room, self.urls)
            self.original = list(self.urls)
