"""The node side of the control socket: CLI commands run inside the running node, so their writes reach peers."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from crdt.errors import RoomError

from .cli_args import build_parser
from .control_wire import MAX_REQUEST, decode_request, encode_progress, encode_reply
from .commands import execute
from .errors import HubbubError, as_sentence
from .node import Node

log = logging.getLogger(__name__)

AsyncCommand = Callable[[argparse.Namespace, io.StringIO], Awaitable[int]]


class ControlServer:
    """A Unix socket in the profile folder (mode 0600) that runs one CLI command per connection."""

    def __init__(self, node: Node, path: Path, async_commands: dict[str, AsyncCommand] | None = None) -> None:
        self.node = node
        self.path = path
        self.parser = build_parser()  # built once: parse_args leaves it as it was
        self.async_commands = async_commands or {}
        self._server: asyncio.AbstractServer | None = None

    async def async_start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        old = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._handle, path=str(self.path), limit=MAX_REQUEST)
        finally:
            os.umask(old)

    async def async_stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            argv, stdin, tty = decode_request(await reader.readline())
        except (ValueError, asyncio.LimitOverrunError, ConnectionError, OSError) as exc:  # ControlWireError is a ValueError
            code, out, err = 1, "", f"hubbub: the node could not read the command ({exc}).\n"
        else:
            def say(text: str) -> None:  # progress, on the CLI's terminal (`download`)
                with contextlib.suppress(Exception):
                    writer.write(encode_progress(text))

            code, out, err = await self.run(argv, stdin, say if tty else None)
        try:
            writer.write(encode_reply(code, out, err))
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def run(self, argv: list[str], stdin: list[str] | None = None,
                  say: Callable[[str], None] | None = None) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                args = self.parser.parse_args(argv)
        except SystemExit as exc:
            return int(exc.code or 0), out.getvalue(), err.getvalue()
        args._stdin_lines = stdin or []
        args._say = say
        try:
            with contextlib.redirect_stderr(err):
                handler = self.async_commands.get(args.command)
                if handler is not None:
                    code = await handler(args, out)
                else:
                    code = execute(self.node, args, out)
        except HubbubError as exc:
            return 1, out.getvalue(), f"hubbub: {exc}\n"
        except RoomError as exc:
            return 1, out.getvalue(), f"hubbub: {as_sentence(str(exc))}\n"
        except Exception as exc:
            log.exception("control command failed")
            return 1, out.getvalue(), f"hubbub: the node failed to run the command ({type(exc).__name__}: {exc}).\n"
        finally:
            log.info("ran `%s` for the CLI", args.command)
        return code, out.getvalue(), err.getvalue()
