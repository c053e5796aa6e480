"""`relay add|list|remove` (the profile's relays, or with --room a room's) and `peers` (a running node's sessions).

Both run inside a running node when there is one (the control socket), so the node starts or
stops using a relay at once; `relay list` then also says whether it is connected. `peers`
needs a running node: only a node has sessions.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import HubbubError
from ..relay.settings import canonical, profile_relays, room_relays, set_profile_relays, set_room_relays

if TYPE_CHECKING:
    from ..node import Node

NO_NODE = "No node is running on this profile, so it has no sessions; start one with `hubbub node`."


def relay(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    if args.relay_command == "list":
        return _list(node, args, out)
    url = canonical(args.url)
    if args.room:
        room = node.find_room(args.room)
        current = room_relays(room)
        if args.relay_command == "add":
            if url in current:
                print(f"{room.name} already uses {url}.", file=sys.stderr)
                return 0
            set_room_relays(room, [*current, url])
        else:
            if url not in current:
                raise HubbubError(f"{room.name} does not use the relay {url}.")
            set_room_relays(room, [u for u in current if u != url])
        return 0
    mine = profile_relays(node.profile)
    if args.relay_command == "add":
        if url in mine:
            print(f"This profile already uses {url}.", file=sys.stderr)
            return 0
        set_profile_relays(node.profile, [*mine, url])
    else:
        if url not in mine:
            raise HubbubError(f"{url} is not one of this profile's relays (`hubbub relay list` shows them).")
        set_profile_relays(node.profile, [u for u in mine if u != url])
    return 0


def relay_rows(node: Node, status: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Each relay in use: its address, whether the profile adds it, the rooms that name it, and (from a running
    node) whether it is connected."""
    rows: dict[str, dict[str, Any]] = {}
    for url in profile_relays(node.profile):
        rows[url] = {"url": url, "profile": True, "rooms": []}
    for room in node.open_rooms():
        for url in room_relays(room):
            rows.setdefault(url, {"url": url, "profile": False, "rooms": []})["rooms"].append(
                {"id": room.id.hex(), "name": room.name})
    by_url = {s["url"]: s for s in status or []}
    for row in rows.values():
        live = by_url.get(row["url"])
        row["connected"] = None if status is None else bool(live and live["connected"])
        row["error"] = "" if live is None else str(live["error"] or live["mailbox_error"])
        row["turn"] = bool(live and live["turn"])
        for count in ("pushed", "pulled", "stored", "unreadable", "refused", "unacked"):
            row[count] = None if live is None else int(live.get(count, 0))
    return list(rows.values())


def _list(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    status: list[dict[str, Any]] | None = getattr(args, "_relay_status", None)
    rows = relay_rows(node, status)
    if args.json:
        print(json.dumps(rows, indent=2), file=out)
        return 0
    for row in rows:
        users = (["profile"] if row["profile"] else []) + [f"room {r['name']}" for r in row["rooms"]]
        if row["connected"] is None:
            state = "(no node running)"
        elif row["connected"]:
            state = "connected" + (", TURN" if row["turn"] else "")
        else:
            state = f"not connected: {row['error'] or 'connecting'}"
        print(f"{row['url']}  {', '.join(users)}  {state}", file=out)
    return 0


def peers(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    rows: list[dict[str, Any]] | None = getattr(args, "_peers", None)
    if rows is None:
        raise HubbubError(NO_NODE)
    if args.json:
        print(json.dumps(rows, indent=2), file=out)
        return 0
    for row in rows:
        rtt = "-" if row["rtt_ms"] is None else f"{row['rtt_ms']:.1f} ms"
        print(f"{row['name'] or '?'}  {row['route']}  {rtt}  {row['key']}", file=out)
    return 0
