"""The `hubbub` command line: `hubbub [--profile DIR] COMMAND`; errors are one sentence on stderr with status 1.

A command goes to the `hubbub node` running on the profile if there is one (over its control
socket), else it runs here. This module imports only what that choice needs: listing rooms
must not pay for pycrdt, aiortc or numpy (see `python -X importtime`).
"""

from __future__ import annotations

import argparse
<<<<<<< HEAD
=======
import importlib.metadata
import json
>>>>>>> package
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from crdt.errors import RoomError

from .cli_args import build_parser
from .errors import HubbubError, as_sentence
<<<<<<< HEAD
from .paths import profile_exists, resolve_profile_dir, socket_path
=======
from .links import is_link
from .node import FORMATS, Node
from .profile import open_profile, profile_exists, resolve_profile_dir
>>>>>>> package

# Opens the desktop app on a profile, with the hubbub:// link it was started with (or None).
DesktopLauncher = Callable[[Path, str | None], int]


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


<<<<<<< HEAD
=======
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hubbub", usage="%(prog)s [-h] [--version] [--profile DIR] [-v] [LINK | COMMAND ...]",
        description="Peer-to-peer, local-first chat and voice. With no command, opens the desktop app; "
                    "with a hubbub:// LINK, opens the desktop app on that link (or hands it to the one running).")
    p.add_argument("--version", action=_PrintVersion)
    p.add_argument("--profile", metavar="DIR", help="profile folder (default: $HUBBUB_PROFILE or the user data dir)")
    p.add_argument("-v", "--verbose", action="store_true", help="log what the node does")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    room = sub.add_parser("room", help="create or list rooms")
    rsub = room.add_subparsers(dest="room_command", metavar="ACTION", required=True)
    rc = rsub.add_parser("create", help="create a room; prints its id")
    rc.add_argument("name")
    rsub.add_parser("list", help="list rooms: id, then name")

    s = sub.add_parser("send", help="post a message")
    s.add_argument("room")
    s.add_argument("text", help="the message; - reads one message per line from standard input, sent at once")
    s.add_argument("--channel", default="general")
    s.add_argument("--reply-to", metavar="MESSAGE")
    s.add_argument("--ttl", type=float, metavar="SECONDS", help="make the message disappear after this long")

    h = sub.add_parser("history", help="print messages, oldest first")
    h.add_argument("room")
    h.add_argument("--channel", default="general")
    h.add_argument("--json", action="store_true")

    e = sub.add_parser("export", help="write a room's history to a file")
    e.add_argument("room")
    e.add_argument("--format", choices=FORMATS, required=True)
    e.add_argument("--out", required=True, type=Path)

    i = sub.add_parser("import", help="merge a signed log file, verifying every entry")
    i.add_argument("file", type=Path)

    inv = sub.add_parser("invite", help="print a single-use hubbub:// invite link")
    inv.add_argument("room")
    inv.add_argument("--valid-hours", type=float, default=24 * 7)

    j = sub.add_parser("join", help="join a room through an invite link")
    j.add_argument("link")
    j.add_argument("--timeout", type=float, default=30.0)

    n = sub.add_parser("node", help="run headless until SIGTERM: discovery, sync, voice bots")
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

    name = sub.add_parser("name", help="show or set your display name")
    name.add_argument("new_name", nargs="?")
    return p


def _open_node(args: argparse.Namespace, create: bool) -> Node:
    path = resolve_profile_dir(args.profile)
    return Node(open_profile(path, create=create))


def _print_history(node: Node, args: argparse.Namespace) -> None:
    room = node.find_room(args.room)
    msgs = room.history(args.channel)
    if args.json:
        print(json.dumps([message_record(m, room.name_of) for m in msgs], ensure_ascii=False, indent=1))
        return
    for m in msgs:
        record = message_record(m, room.name_of)
        text = "(deleted)" if m.deleted else m.text
        extra = []
        if m.edited:
            extra.append("edited")
        if m.reactions:
            extra.append(" ".join(f"{e}{len(w)}" for e, w in m.reactions.items()))
        if m.reply_to:
            extra.append(f"reply to {m.reply_to}")
        suffix = f"  [{'; '.join(extra)}]" if extra else ""
        print(f"{record['time']}  {record['author_name']}: {text}{suffix}")


def split_link(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """The hubbub:// link given in place of a command (`hubbub [--profile DIR] LINK`), and the other arguments."""
    rest = list(argv)
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--profile":
            i += 2
        elif arg.startswith("-"):
            i += 1
        elif is_link(arg):
            return arg, rest[:i] + rest[i + 1:]
        else:
            break
    return None, rest


>>>>>>> package
def run(argv: Sequence[str] | None = None, open_desktop: DesktopLauncher | None = None) -> int:
    parser = build_parser()
    link, rest = split_link(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(rest)
    args._argv = rest
    logging.basicConfig(level=logging.INFO if args.verbose or args.command == "node" else logging.WARNING,
                        format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    if link is not None and args.command is not None:
        print("hubbub: a hubbub:// link opens the desktop app, so it cannot go with a command "
              "(to join from the command line: hubbub join LINK).", file=sys.stderr)
        return 1
    if args.command is None:
        if open_desktop is None:
            if link is not None:
                print("hubbub: opening a hubbub:// link needs the desktop app, which this Hubbub does not have.",
                      file=sys.stderr)
                return 1
            parser.print_help()
            return 0
        return open_desktop(resolve_profile_dir(args.profile), link)
    try:
        return _dispatch(args)
    except HubbubError as exc:
        print(f"hubbub: {exc}", file=sys.stderr)
        return 1
    except RoomError as exc:
        print(f"hubbub: {as_sentence(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: a sentence, never a stack trace
        logging.getLogger("hubbub").debug("unexpected failure", exc_info=True)
        print(f"hubbub: something went wrong that Hubbub did not expect ({type(exc).__name__}: {exc}); "
              "run again with --verbose for details.", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if socket_path(resolve_profile_dir(args.profile)).exists():  # a node runs here (or died and left its socket)
        from . import control_client

        remote = control_client.forward_if_running(args)
        if remote is not None:
            return remote
    if args.command == "node":
        from .headless import run_node

        return run_node(args)
    if args.command == "join":
        from .headless import run_join

        return run_join(args)
    from .commands import execute, is_read_only
    from .node import Node
    from .profile import open_profile

    path = resolve_profile_dir(args.profile)
    if is_read_only(args) and not profile_exists(path):
        raise HubbubError(f"There is no Hubbub profile at {path}.")
    node = Node(open_profile(path, create=True))
    try:
        return execute(node, args, sys.stdout)
    finally:
        node.close()


def main(argv: Sequence[str] | None = None) -> int:
    return run(argv, None)


__all__ = ["build_parser", "main", "run"]

if __name__ == "__main__":
    sys.exit(main())
