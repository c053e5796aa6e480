"""The file commands of the CLI: `send --file`, the `attachments` of `history --json`, and `download`.

`send --file` chunks into the profile (inside a running node it does so off the loop, see app/headless.py);
`download` needs the network: inside a running node it uses the node's sessions, else it starts one like
`hubbub join` does. Progress goes to stderr on a terminal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import HubbubError

if TYPE_CHECKING:
    from crdt.view import Message

    from ..node import Node
    from ..service import NodeService
    from .store import FileStore

Say = Callable[[str], None]


def wants_files(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "file", None) or getattr(args, "original", None))


def file_paths(args: argparse.Namespace) -> tuple[list[Path], frozenset[Path]]:
    """The files to attach, in order, and which of them go as they are."""
    originals = [p.expanduser().resolve() for p in args.original]
    paths = [p.expanduser().resolve() for p in args.file] + originals
    return paths, frozenset(originals)


def store_for(node: Node, create: bool = True) -> FileStore | None:
    """The profile's file store (None when it has none and `create` is false: a read-only command)."""
    from .store import FileStore

    if not create and not (node.profile.path / "files").is_dir():
        return None
    return FileStore(node.profile.path)


def send_with_files(node: Node, args: argparse.Namespace, out: TextIO, channel: str, thread: str | None) -> int:
    """`send ROOM [TEXT] --file PATH...` run here (no node): chunk into the profile, then post."""
    from .part import post_with_files
    from .sending import store_files

    if args.text == "-":
        raise HubbubError("Files cannot be sent with text from standard input; give the text as an argument.")
    room = node.find_room(args.room)
    paths, originals = file_paths(args)
    store = store_for(node)
    assert store is not None
    try:
        found = store_files(store, room.id, paths, originals)
        mid = post_with_files(store, room, channel, args.text, found, reply_to=args.reply_to, thread=thread,
                              ttl=args.ttl)
    finally:
        store.close()
    print(mid, file=out)
    return 0


async def async_send(service: NodeService, args: argparse.Namespace, out: TextIO) -> int:
    """`send --file` inside a running node: chunked off the loop, then posted and announced."""
    from ..commands.threads import channel_and_thread

    if args.text == "-":
        raise HubbubError("Files cannot be sent with text from standard input; give the text as an argument.")
    room = service.node.find_room(args.room)
    channel, thread = channel_and_thread(room, args)
    paths, originals = file_paths(args)
    mid = await service.files.async_send(room, channel, args.text, paths, originals=originals, reply_to=args.reply_to,
                                         thread=thread, ttl=args.ttl)
    print(mid, file=out)
    return 0


def attachments_for(node: Node) -> Callable[[Message], list[dict[str, Any]]]:
    """A function giving a message's `attachments` records for `history --json`."""
    from .catalog import attachment_records

    store = store_for(node, create=False)
    return lambda msg: attachment_records(msg, store) if msg.attachments else []


def json_records_for(node: Node) -> Callable[[Message, Callable[[str], str]], dict[str, Any]]:
    """A function giving a message's record for the CLI's `--json` output (`history`, `search`, `open`):
    the export's fields plus `attachments`."""
    from ..export import message_record

    files = attachments_for(node)
    return lambda msg, name_of: {**message_record(msg, name_of), "attachments": files(msg)}


def progress_printer(name: str, say: Say) -> Callable[[int, int, int], None]:
    """A progress callback printing `name: 12.0 / 256.0 MiB (4%) from 2 members` at most every tenth of a percent."""
    last = [-1]

    def show(done: int, total: int, sources: int) -> None:
        permille = 1000 if total == 0 else done * 1000 // total
        if permille == last[0]:
            return
        last[0] = permille
        who = f" from {sources} member{'s' if sources != 1 else ''}" if sources else ""
        say(f"\r{name}: {done / 2**20:.1f} / {total / 2**20:.1f} MiB ({permille / 10:.1f}%){who}\033[K")

    return show


async def async_download(service: NodeService, args: argparse.Namespace, out: TextIO, say: Say | None) -> int:
    """`download` through a running service: fetch, verify, write; prints the path written."""
    from .catalog import find_attachment

    room = service.node.find_room(args.room)
    _mid, manifest = find_attachment(room, args.attachment, service.files.store)
    progress = progress_printer(manifest.name, say) if say is not None else None
    target = await service.files.async_download(room, args.attachment, args.out, progress=progress,
                                                patience=args.timeout)
    if say is not None:
        say("\r\033[K")
    print(target, file=out)
    return 0


def run_download(args: argparse.Namespace) -> int:
    """`download` with no node running on the profile: start one for the fetch (found by mDNS, like `join`)."""
    import asyncio

    from ..node import Node
    from ..paths import resolve_profile_dir
    from ..profile import open_profile

    async def main() -> int:
        from ..service import NodeService

        node = Node(open_profile(resolve_profile_dir(args.profile)))
        service = NodeService(node)
        await service.async_start()
        try:
            say = _stderr_say() if sys.stderr.isatty() else None
            return await async_download(service, args, sys.stdout, say)
        finally:
            await service.async_stop()
            node.close()

    return asyncio.run(main())


def _stderr_say() -> Say:
    def say(text: str) -> None:
        print(text, end="", file=sys.stderr, flush=True)

    return say
