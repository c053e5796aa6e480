"""`hubbub node` (headless until SIGTERM) and `hubbub join` (through any member online on the LAN).

A node takes CLI commands on its control socket as soon as its profile is open. Commands that
need no network run at once, while the networking (aiortc, mDNS, the signaling endpoint) is
imported in a worker thread and started; `join`, and the commands after which peers must hear
of new rooms, invites or keys, wait until it runs. So no CLI command ever writes to the profile
behind the running node's back, even during its start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import importlib
import io
import logging
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from .commands import CHANGES_ROOMS, changes_rooms, execute
from .control import AsyncCommand, ControlServer
from .errors import HubbubError
from .invite import parse_invite
from .node import Node
from .paths import resolve_profile_dir, socket_path
from .profile import open_profile

if TYPE_CHECKING:
    from .room import Room
    from .service import NodeService
    from .voice.bots import BotPlan

log = logging.getLogger("hubbub.node")

BOT_OPTIONS = ("voice_room", "voice_channel", "voice_play", "voice_record", "voice_loop")


def _parse_hostport(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError as exc:
        raise HubbubError(f"{text!r} is not HOST:PORT.") from exc


def joined_line(room: Room) -> str:
    """What a successful join prints: the room's id, then its name (the shape of `room list`)."""
    return f"{room.id.hex()}  {room.name}"


async def _service_class() -> type[NodeService]:
    """app.service, imported in a worker thread (aiortc and friends take a second) while the loop serves commands."""
    module = await asyncio.to_thread(importlib.import_module, "app.service")
    cls: type[NodeService] = module.NodeService
    return cls


def _plan_bot(node: Node, args: argparse.Namespace) -> BotPlan | None:
    if not any(getattr(args, name, None) for name in BOT_OPTIONS):
        return None  # no voice bot: do not import the voice stack (numpy, Opus)
    from .voice.bots import plan_bot

    return plan_bot(node, args)


class _Commands:
    """The control socket's commands that need the network, waiting for it while the node starts."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.service: NodeService | None = None
        self.running = asyncio.Event()

    def table(self) -> dict[str, AsyncCommand]:
        table: dict[str, AsyncCommand] = {name: self.changing_rooms for name in CHANGES_ROOMS}
        table["join"] = self.join
        table["send"] = self.send
        table["download"] = self.download
        table["relay"] = self.relay
        table["peers"] = self.peers
        return table

    def started(self, service: NodeService) -> None:
        self.service = service
        self.running.set()

    async def join(self, cmd: argparse.Namespace, out: io.StringIO) -> int:
        await self.running.wait()
        assert self.service is not None
        room = await self.service.async_join(cmd.link, cmd.timeout)
        print(joined_line(room), file=out)
        return 0

    async def send(self, cmd: argparse.Namespace, out: io.StringIO) -> int:
        """`send`; with files, they are chunked off the loop (a large file must not stall the node's sync)."""
        from .files.commands import async_send, wants_files

        if not wants_files(cmd):
            return execute(self.node, cmd, out)
        await self.running.wait()
        assert self.service is not None
        return await async_send(self.service, cmd, out)

    async def download(self, cmd: argparse.Namespace, out: io.StringIO) -> int:
        from .files.commands import async_download

        await self.running.wait()
        assert self.service is not None
        return await async_download(self.service, cmd, out, getattr(cmd, "_say", None))

    async def relay(self, cmd: argparse.Namespace, out: io.StringIO) -> int:
        """`relay add|remove` takes effect at once; `relay list` says what the node is connected to."""
        if cmd.relay_command != "list":
            return await self.changing_rooms(cmd, out)
        cmd._relay_status = self.service.relays.status() if self.service is not None else []
        return execute(self.node, cmd, out)

    async def peers(self, cmd: argparse.Namespace, out: io.StringIO) -> int:
        from .peers import session_rows

        cmd._peers = session_rows(self.service) if self.service is not None else []
        return execute(self.node, cmd, out)

    async def changing_rooms(self, cmd: argparse.Namespace, out: io.StringIO) -> int:
        code = execute(self.node, cmd, out)
        # Before the service runs there is nothing to tell: its start-up reads every room.
        if self.service is not None and changes_rooms(cmd):
            self.service.refresh_secrets()
        return code


async def _async_node(args: argparse.Namespace) -> int:
    profile_dir = resolve_profile_dir(args.profile)
    node = Node(open_profile(profile_dir))
    try:
        bot = _plan_bot(node, args)  # bad voice-bot options fail before anything starts
    except HubbubError:
        node.close()
        raise
    commands = _Commands(node)
    control = ControlServer(node, socket_path(profile_dir), commands.table())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    service: NodeService | None = None
    await control.async_start()
    try:
        service = (await _service_class())(node, bind_host=args.host, port=args.port, mdns=not args.no_mdns)
        await service.async_start()
        commands.started(service)
        for target in args.connect:
            host, port = _parse_hostport(target)
            with contextlib.suppress(Exception):
                asyncio.create_task(service.async_connect(host, port))
        if bot is not None:
            from .voice.bots import start_bot

            start_bot(service, bot)
        host, port = service.address
        log.info("hubbub node running: profile %s, signaling on %s:%d, %d rooms", profile_dir, host, port, len(node.room_list()))
        print(f"listening {host}:{port}", flush=True)
        await stop.wait()
    finally:
        log.info("stopping")
        # The whole way out, asyncio's own teardown included, is bounded: past it every thread's stack
        # goes to stderr and the process exits with status 1 (a hang must neither last nor go unseen).
        faulthandler.dump_traceback_later(STOP_DEADLINE, exit=True)
        await control.async_stop()
        if service is not None:
            from .slow_stop import async_stop_within

            await async_stop_within(service.async_stop(), "the node's networking", 8.0, 8.0)
        node.close()
    return 0


STOP_DEADLINE = 25.0  # seconds from SIGTERM until `hubbub node` has exited, whatever hangs


def run_node(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_async_node(args))
    finally:
        faulthandler.cancel_dump_traceback_later()


async def _async_join(args: argparse.Namespace) -> int:
    parse_invite(args.link)  # a bad link fails before anything starts
    node = Node(open_profile(resolve_profile_dir(args.profile)))
    service = (await _service_class())(node)
    await service.async_start()
    try:
        room = await service.async_join(args.link, args.timeout, progress=_join_progress())
        if sys.stderr.isatty():
            print("\r\033[K", end="", file=sys.stderr)
        # Stay a moment so the first catch-up finishes and our own entries reach the member.
        await _settle(service)
        print(joined_line(room))
        return 0
    finally:
        await service.async_stop()
        node.close()


def _join_progress() -> Callable[[str, float, int], None] | None:
    """On a terminal, a line saying how long we have been looking for the room's members."""
    if not sys.stderr.isatty():
        return None

    def show(name: str, seconds: float, peers: int) -> None:
        found = f" ({peers} node{'s' if peers != 1 else ''} on the LAN, none of them a member yet)" if peers else ""
        print(f"\rlooking for members of {name}… {seconds:.0f} s{found}\033[K", end="", file=sys.stderr, flush=True)

    return show


async def _settle(service: NodeService, quiet: float = 1.0, limit: float = 30.0) -> None:
    """Wait until no sync traffic has moved for `quiet` seconds (or `limit` passed)."""
    loop = asyncio.get_running_loop()
    start = last_change = loop.time()
    last = dict(service.stats)
    while loop.time() - start < limit:
        await asyncio.sleep(0.1)
        if service.stats != last:
            last = dict(service.stats)
            last_change = loop.time()
        elif loop.time() - last_change >= quiet:
            return


def run_join(args: argparse.Namespace) -> int:
    return asyncio.run(_async_join(args))


__all__ = ["joined_line", "run_join", "run_node"]
