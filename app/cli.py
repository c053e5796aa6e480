"""The `hubbub` command line: `hubbub [--profile DIR] COMMAND`; errors are one sentence on stderr with status 1.

A command goes to the `hubbub node` running on the profile if there is one (over its control
socket), else it runs here. This module imports only what that choice needs: listing rooms
must not pay for pycrdt, aiortc or numpy (see `python -X importtime`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from crdt.errors import RoomError

from .cli_args import build_parser, relay_serve_argv
from .errors import HubbubError, as_sentence
from .links import is_link
from .paths import profile_exists, resolve_profile_dir, socket_path

# Opens the desktop app on a profile, with the hubbub:// link it was started with (or None).
DesktopLauncher = Callable[[Path, str | None], int]


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


def run(argv: Sequence[str] | None = None, open_desktop: DesktopLauncher | None = None) -> int:
    link, rest = split_link(sys.argv[1:] if argv is None else argv)
    serve = relay_serve_argv(rest)
    if serve is not None:  # the relay needs nothing of the app
        from p2p.relay.serve import main as serve_relay

        return int(serve_relay(serve))
    parser = build_parser()
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
    if args.command == "download":
        from .files.commands import run_download

        return run_download(args)
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
