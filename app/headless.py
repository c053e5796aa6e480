"""`hubbub node` (headless until SIGTERM) and `hubbub join` (through any member online on the LAN)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import signal

from .control import ControlServer
from .control_client import socket_path
from .errors import HubbubError
from .invite import parse_invite
from .node import Node
from .profile import open_profile, resolve_profile_dir
from .service import NodeService
from .voice.bots import plan_bot, start_bot

log = logging.getLogger("hubbub.node")


def _parse_hostport(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError as exc:
        raise HubbubError(f"{text!r} is not HOST:PORT.") from exc


async def _async_node(args: argparse.Namespace) -> int:
    profile_dir = resolve_profile_dir(args.profile)
    node = Node(open_profile(profile_dir))
    try:
        bot = plan_bot(node, args)  # bad voice-bot options fail before anything starts
    except HubbubError:
        node.close()
        raise
    service = NodeService(node, bind_host=args.host, port=args.port, mdns=not args.no_mdns)

    async def join_command(cmd: argparse.Namespace, out: io.StringIO) -> int:
        room = await service.async_join(cmd.link, cmd.timeout)
        print(room.id.hex(), file=out)
        return 0

    async def create_command(cmd: argparse.Namespace, out: io.StringIO) -> int:
        from .cli import execute

        code = execute(node, cmd, out)
        service.refresh_secrets()
        for room in node.open_rooms():
            service.room_added(room)
        return code

    control = ControlServer(node, socket_path(profile_dir),
                            {"join": join_command, "room": create_command, "invite": create_command})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await service.async_start()
    await control.async_start()
    for target in args.connect:
        host, port = _parse_hostport(target)
        with contextlib.suppress(Exception):
            asyncio.create_task(service.async_connect(host, port))
    if bot is not None:
        start_bot(service, bot)
    host, port = service.address
    log.info("hubbub node running: profile %s, signaling on %s:%d, %d rooms", profile_dir, host, port, len(node.room_list()))
    print(f"listening {host}:{port}", flush=True)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await control.async_stop()
        await service.async_stop()
        node.close()
    return 0


def run_node(args: argparse.Namespace) -> int:
    return asyncio.run(_async_node(args))


async def _async_join(args: argparse.Namespace) -> int:
    parse_invite(args.link)  # a bad link fails before anything starts
    node = Node(open_profile(resolve_profile_dir(args.profile)))
    service = NodeService(node)
    await service.async_start()
    try:
        room = await service.async_join(args.link, args.timeout)
        # Stay a moment so the first catch-up finishes and our own entries reach the member.
        await _settle(service)
        print(room.id.hex())
        return 0
    finally:
        await service.async_stop()
        node.close()


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


__all__ = ["run_node", "run_join"]
