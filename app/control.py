"""The node side of the control socket: CLI commands run inside the running node, so their writes reach peers."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from crdt.errors import RoomError

from .cli_args import build_parser
from .commands import execute
from .errors import HubbubError, as_sentence
from .node import Node

log = logging.getLogger(__name__)

MAX_REQUEST = 1024 * 1024
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
            line = await reader.readline()
            request = json.loads(line)
            argv = request["argv"]
            if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
                raise ValueError("argv must be a list of strings")
            stdin = request.get("stdin")
            if stdin is not None and (not isinstance(stdin, list) or not all(isinstance(x, str) for x in stdin)):
                raise ValueError("stdin must be a list of lines")

            def say(text: str) -> None:  # progress, on the CLI's terminal (`download`)
                with contextlib.suppress(Exception):
                    writer.write(json.dumps({"progress": text}).encode() + b"\n")

            code, out, err = await self.run(argv, stdin, say if request.get("tty") is True else None)
        except (ValueError, KeyError, asyncio.LimitOverrunError) as exc:
            code, out, err = 1, "", f"hubbub: the node could not read the command ({exc}).\n"
        try:
            writer.write(json.dumps({"code": code, "stdout": out, "stderr": err}).encode())
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
