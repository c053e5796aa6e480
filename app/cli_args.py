"""The `hubbub` argument parser: every command and option, and message ids read as values even when they start with `-`."""

from __future__ import annotations

import argparse
import importlib.metadata
import re
from pathlib import Path
from typing import Any

from .formats import FORMATS

ROLES = ("member", "moderator", "admin")  # what `member role` may give; nobody is made owner
EXPIRIES = {"1h": 3600.0, "1d": 86400.0, "7d": 7 * 86400.0}

# A message (or reaction, pin...) id is a member's short id, 8 characters of base64url, then its
# sequence number in base 36 (crdt/schema.py `eid`); a member is also named by the short id alone.
# base64url includes `-`, so an id may start with one: such a token is a value, not an option.
ID_VALUE = re.compile(r"[A-Za-z0-9_-]{8}(?:[0-9a-z]{1,13})?")

ROLES_HELP = ("Roles: member < moderator < admin < owner. Anyone may post, react, edit and delete their own "
              "messages; deleting or pinning someone else's message needs a moderator; channels and other "
              "members' roles need an admin ranked above them.")


class HubbubArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser that reads a message id or member id starting with `-` as a value."""

    def _parse_optional(self, arg_string: str) -> Any:
        if arg_string.startswith("-") and ID_VALUE.fullmatch(arg_string) and not self._names_option(arg_string):
            return None  # argparse's word for "a positional value"
        return super()._parse_optional(arg_string)

    def _names_option(self, arg_string: str) -> bool:
        options = self._option_string_actions
        if arg_string in options:
            return True
        # argparse accepts a unique prefix of a long option: let such a prefix stay an option.
        return arg_string.startswith("--") and any(o.startswith(arg_string) for o in options)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("it must be at least 1")
    return value


def expiry_seconds(text: str) -> float | None:
    """`--expires`: 1h, 1d, 7d (or any N followed by m, h, d or w) in seconds; None for never."""
    text = text.strip().lower()
    if text == "never":
        return None
    if text in EXPIRIES:
        return EXPIRIES[text]
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([mhdw])", text)
    if match is None or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 1h, 1d, 7d or never")
    return float(match.group(1)) * {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}[match.group(2)]


def app_version() -> str:
    """Hubbub's version, from the installed package's metadata."""
    try:
        return importlib.metadata.version("hubbub")
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown: Hubbub is not installed as a package)"


class _PrintVersion(argparse.Action):
    """`--version`: the metadata is read only when asked for, not on every start."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print Hubbub's version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"hubbub {app_version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    p = HubbubArgumentParser(prog="hubbub", epilog=ROLES_HELP,
                             usage="%(prog)s [-h] [--version] [--profile DIR] [-v] [LINK | COMMAND ...]",
                             description="Peer-to-peer, local-first chat and voice. With no command, opens the desktop app;"
                                         " with a hubbub:// link, opens it in the app.")
    p.add_argument("--version", action=_PrintVersion)
    p.add_argument("--profile", metavar="DIR", help="profile folder (default: $HUBBUB_PROFILE or the user data dir)")
    p.add_argument("-v", "--verbose", action="store_true", help="log what the node does")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    _room_commands(sub)
    _message_commands(sub)
    _file_commands(sub)
    _admin_commands(sub)
    _node_commands(sub)
    _relay_commands(sub)
    name = _command(sub, "name", "show or set your display name (and with --avatar, your picture)")
    name.add_argument("new_name", nargs="?")
    name.add_argument("--avatar", type=Path, metavar="PICTURE", help="your avatar, shown to the members of your rooms")
    return p


Sub = Any  # argparse's _SubParsersAction, which typeshed keeps private


def _command(sub: Sub, name: str, text: str) -> argparse.ArgumentParser:
    """A subcommand whose one-line summary is also the top of its own --help."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
    return parser


def _room_commands(sub: Sub) -> None:
    room = _command(sub, "room", "create or list rooms")
    rsub = room.add_subparsers(dest="room_command", metavar="ACTION", required=True)
    rc = _command(rsub, "create", "create a room; prints its id")
    rc.add_argument("name")
    _command(rsub, "list", "list rooms: id, then name")
    ri = _command(rsub, "icon", "make a picture the room's icon (needs an admin); prints its attachment id")
    ri.add_argument("room")
    ri.add_argument("picture", type=Path)


def _message_commands(sub: Sub) -> None:
    s = _command(sub, "send", "post a message; prints its id")
    s.add_argument("room")
    s.add_argument("text", nargs="?", default="",
                   help="the message; - reads one message per line from standard input, sent at once")
    s.add_argument("--file", action="append", default=[], type=Path, metavar="PATH",
                   help="attach this file (repeatable); pictures are sent without their metadata (GPS, camera)")
    s.add_argument("--original", action="append", default=[], type=Path, metavar="PATH",
                   help="attach this picture as it is, metadata included (repeatable)")
    s.add_argument("--channel", help="the text channel (default: general, or the thread's channel)")
    s.add_argument("--reply-to", metavar="MESSAGE", help="the id of the message this answers")
    s.add_argument("--thread", metavar="MESSAGE", help="reply in the thread of this message")
    s.add_argument("--ttl", type=float, metavar="SECONDS", help="make the message disappear after this long")

    h = _command(sub, "history", "print messages, oldest first")
    h.add_argument("room")
    h.add_argument("--channel", help="the text channel (default: general)")
    h.add_argument("--thread", metavar="MESSAGE", help="only this message's thread: its first message and the replies")
    h.add_argument("--json", action="store_true")

    e = _command(sub, "edit", "change the text of one of your own messages")
    e.add_argument("room")
    e.add_argument("message", metavar="MESSAGE")
    e.add_argument("text")

    d = _command(sub, "delete", "delete a message: your own, or anyone's as a moderator")
    d.add_argument("room")
    d.add_argument("message", metavar="MESSAGE")

    r = _command(sub, "react", "add (or with --remove, take back) your reaction to a message")
    r.add_argument("room")
    r.add_argument("message", metavar="MESSAGE")
    r.add_argument("emoji")
    r.add_argument("--remove", action="store_true")

    pin = _command(sub, "pin", "pin (or with --remove, unpin) a message: your own, or anyone's as a moderator")
    pin.add_argument("room")
    pin.add_argument("message", metavar="MESSAGE")
    pin.add_argument("--remove", action="store_true")

    rd = _command(sub, "read", "mark a room's channels (or one) as read")
    rd.add_argument("room")
    rd.add_argument("--channel", help="only this channel")

    f = _command(sub, "search", "find messages in every room (or one), newest first")
    f.add_argument("query", metavar="QUERY", help='words, "a phrase", prefix*, -word, from:NAME, in:#channel, has:file, '
                                                  "has:link, is:pinned, before:DATE, after:DATE (DATE: 2024-05-31, "
                                                  "2024-05, today, yesterday)")
    f.add_argument("--room", help="only this room")
    f.add_argument("--limit", type=_positive_int, default=100, metavar="N", help="at most this many (default: 100)")
    f.add_argument("--json", action="store_true", help="the fields of history --json, plus room and a snippet")

    o = _command(sub, "open", "show the message a hubbub://message/ link points to, with the messages around it")
    o.add_argument("link", metavar="LINK")
    o.add_argument("--json", action="store_true")


def _file_commands(sub: Sub) -> None:
    e = _command(sub, "export", "write a room's history to a file")
    e.add_argument("room")
    e.add_argument("--format", choices=FORMATS, required=True)
    e.add_argument("--out", required=True, type=Path)

    i = _command(sub, "import", "merge a signed log file, verifying every entry")
    i.add_argument("file", type=Path)

    dl = _command(sub, "download", "fetch an attachment from any member online, verify every byte and write it")
    dl.add_argument("room")
    dl.add_argument("attachment", metavar="ATTACHMENT_ID", help="the id `history --json` gives (or 8+ digits of it)")
    dl.add_argument("--out", required=True, type=Path, metavar="PATH", help="the file to write (or a folder)")
    dl.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                    help="how long to wait for a member who holds it (default: 30)")


def relay_serve_argv(argv: list[str]) -> list[str] | None:
    """The arguments after `relay serve` when `argv` asks for it (global -v passes on), else None.

    The relay is dispatched before the rest of the CLI is imported: it needs none of it.
    """
    verbose = False
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] == "--profile":
            i += 1
        elif argv[i] in ("-v", "--verbose"):
            verbose = True
        elif argv[i].startswith("--profile="):
            pass
        else:
            return None
        i += 1
    if argv[i:i + 2] != ["relay", "serve"]:
        return None
    rest = argv[i + 2:]
    return ["-v", *rest] if verbose and "-v" not in rest and "--verbose" not in rest else rest


def _admin_commands(sub: Sub) -> None:
    inv = _command(sub, "invite", "print a hubbub:// invite link (single use unless --uses)")
    inv.add_argument("room")
    when = inv.add_mutually_exclusive_group()
    when.add_argument("--expires", type=expiry_seconds, default=EXPIRIES["7d"], metavar="1h|1d|7d|never",
                      help="how long the link works (default: 7d)")
    when.add_argument("--valid-hours", type=float, metavar="HOURS", help="the same, in hours")
    inv.add_argument("--uses", type=_positive_int, default=1, metavar="N", help="how many people it admits (default: 1)")

    member = _command(sub, "member", "list members, remove a member or change a member's role")
    msub = member.add_subparsers(dest="member_command", metavar="ACTION", required=True)
    ml = _command(msub, "list", "list members: short id, role, name")
    ml.add_argument("room")
    mr = _command(msub, "remove", "remove a member (needs an admin ranked above them); rotates the room key")
    mr.add_argument("room")
    mr.add_argument("member", metavar="MEMBER", help="a display name, the author id `history --json` prints, or a key prefix")
    mo = _command(msub, "role", "give a member a role (needs an admin ranked above the old and the new role)")
    mo.add_argument("room")
    mo.add_argument("member", metavar="MEMBER", help="a display name, the author id `history --json` prints, or a key prefix")
    mo.add_argument("role", choices=ROLES)

    ch = _command(sub, "channel", "create, rename or delete a channel (needs an admin)")
    csub = ch.add_subparsers(dest="channel_command", metavar="ACTION", required=True)
    cc = _command(csub, "create", "create a text (or --voice) channel; prints its id")
    cc.add_argument("room")
    cc.add_argument("name")
    cc.add_argument("--voice", action="store_true", help="a voice channel")
    cc.add_argument("--category", default="", metavar="C", help="the heading it is listed under")
    cr = _command(csub, "rename", "rename a channel")
    cr.add_argument("room")
    cr.add_argument("name")
    cr.add_argument("new_name", metavar="NEW")
    cd = _command(csub, "delete", "delete a channel")
    cd.add_argument("room")
    cd.add_argument("name")


def _relay_commands(sub: Sub) -> None:
    relay = _command(sub, "relay", "run a relay, or choose the relays this profile (or a room) meets its peers through")
    rsub = relay.add_subparsers(dest="relay_command", metavar="ACTION", required=True)
    # `relay serve` is parsed by p2p.relay.serve itself (relay_serve_argv): its help is `hubbub relay serve --help`.
    _command(rsub, "serve", "run a relay until SIGTERM (hubbub relay serve --help lists its options)")
    ra = _command(rsub, "add", "use a relay: for every room of this profile, or with --room for every member of a room (admin)")
    ra.add_argument("url", metavar="URL", help="the address the relay printed: hubbub-relay://HOST:PORT")
    ra.add_argument("--room", help="make it the room's relay, used by every member (needs an admin)")
    rl = _command(rsub, "list", "list the relays in use: the profile's and each room's, and whether the node is connected")
    rl.add_argument("--json", action="store_true")
    rr = _command(rsub, "remove", "stop using a relay (with --room: the room's, needs an admin)")
    rr.add_argument("url", metavar="URL")
    rr.add_argument("--room", help="remove it from the room's relays")

    peers = _command(sub, "peers", "list the running node's sessions: name, key, route (lan, direct, turn), round trip")
    peers.add_argument("--json", action="store_true")


def _node_commands(sub: Sub) -> None:
    j = _command(sub, "join", "join a room through an invite link")
    j.add_argument("link")
    j.add_argument("--timeout", type=float, default=30.0)

    n = _command(sub, "node", "run headless until SIGTERM: discovery, sync, voice bots")
    n.add_argument("--host", default="0.0.0.0", metavar="ADDR", help="signaling address to listen on (default: every interface)")
    n.add_argument("--port", type=int, default=0, help="signaling port (default: any free port)")
    n.add_argument("--no-mdns", action="store_true", help="do not announce or browse on the LAN")
    n.add_argument("--connect", action="append", default=[], metavar="HOST:PORT", help="also dial this peer")
    bot = n.add_argument_group("voice bot (a robot user in a voice channel)")
    bot.add_argument("--voice-room", metavar="ROOM", help="join a voice channel of this room (name or id)")
    bot.add_argument("--voice-channel", metavar="CHANNEL", help="the voice channel (default: the room's first)")
    bot.add_argument("--voice-play", metavar="FILE", type=Path, help="play this 16-bit WAV or Ogg Opus file into the channel")
    bot.add_argument("--voice-loop", action="store_true", help="play the file over and over")
    bot.add_argument("--voice-record", metavar="FILE", type=Path,
                     help="record the channel's mixed output until the node stops (.opus/.ogg: Ogg Opus, else WAV)")
