"""`hubbub relay serve` (or `python -m p2p.relay.serve`): run a relay until SIGTERM.

    hubbub relay serve --listen HOST:PORT --data DIR [--public-url URL]
                       [--turn turn:HOST:PORT [--turns turns:HOST:PORT] --turn-secret-file FILE]
                       [limits...] [-v]

The first line on stdout is the relay's address for nodes (`hubbub-relay://HOST:PORT`, or
`--public-url`); logs go to stderr (`-v`: everything). Errors are one sentence, exit status 1.
This module imports nothing heavy until it runs: the parser is shared with `hubbub`'s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from p2p.relay.config import DAY, MIB, RelayLimits
from p2p.relay.errors import RelayError

DEFAULT_LISTEN = "127.0.0.1:7447"

_LIMIT_FLAGS: tuple[tuple[str, str, type, float, str], ...] = (
    ("--max-connections", "max_connections", int, 1, "connections open at once"),
    ("--connections-per-ip", "connections_per_ip", int, 1, "connections open at once from one IP address"),
    ("--request-rate", "request_rate", float, 1, "requests per second per connection"),
    ("--max-subscriptions", "max_subscriptions", int, 1, "rendezvous tokens per connection"),
    ("--subscription-ttl", "subscription_ttl", float, 1, "seconds a subscription lives unless renewed"),
    ("--token-max-age", "token_max_age", float, 1, "seconds a token may be held at all (it stopped rotating)"),
    ("--mailbox-quota-mb", "mailbox_quota", float, MIB, "MiB one mailbox may hold"),
    ("--put-quota-mb", "put_quota_per_hour", float, MIB, "MiB one connection may put per hour"),
    ("--total-quota-mb", "total_quota", float, MIB, "MiB all mailboxes together may hold"),
    ("--retention-days", "retention", float, DAY, "days an envelope is kept"),
    ("--sweep-interval", "sweep_interval", float, 1, "seconds between retention sweeps"),
    ("--idle-timeout", "idle_timeout", float, 1, "seconds a silent connection stays open"),
    ("--turn-ttl", "turn_ttl", float, 1, "seconds TURN credentials are valid"),
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `relay serve` (also used by `hubbub`'s own parser)."""
    p.add_argument("--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT",
                   help=f"address to listen on (default {DEFAULT_LISTEN}: behind a reverse proxy)")
    p.add_argument("--data", type=Path, metavar="DIR", required=True, help="folder for the relay's mailbox")
    p.add_argument("--public-url", metavar="URL", help="the address nodes use, if not hubbub-relay://HOST:PORT")
    p.add_argument("--turn", metavar="turn:HOST:PORT", help="a coturn beside the relay (--use-auth-secret)")
    p.add_argument("--turns", metavar="turns:HOST:PORT", help="the same coturn's TLS port, if it has one")
    p.add_argument("--turn-secret-file", metavar="FILE", help="file holding coturn's static-auth-secret")
    p.add_argument("-v", "--verbose", action="store_true", help="log everything (never payloads or whole tokens)")
    limits = p.add_argument_group("limits (defaults in docs/relay.md)")
    defaults = RelayLimits()
    for flag, name, kind, scale, text in _LIMIT_FLAGS:
        limits.add_argument(flag, dest=name, type=kind, metavar="N",
                            help=f"{text} (default {getattr(defaults, name) / scale:g})")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hubbub relay serve", description="Run a Hubbub relay until SIGTERM.")
    add_arguments(p)
    return p


def limits_from(args: argparse.Namespace) -> RelayLimits:
    limits = RelayLimits()
    for _, name, kind, scale, _ in _LIMIT_FLAGS:
        value = getattr(args, name, None)
        if value is not None:
            if value <= 0:
                raise RelayError(f"--{name.replace('_', '-')} must be positive")
            setattr(limits, name, kind(value * scale) if kind is int else value * scale)
    for name in ("mailbox_quota", "put_quota_per_hour", "total_quota"):
        setattr(limits, name, int(getattr(limits, name)))
    return limits


def split_listen(text: str) -> tuple[str, int]:
    host, colon, port = text.rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise RelayError(f"--listen {text!r} is not HOST:PORT")
    return host, int(port)


def public_url(host: str, port: int, given: str | None) -> str:
    from p2p.relay.parse import parse_relay_url

    if given:
        return parse_relay_url(given).url
    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()
    return parse_relay_url(f"hubbub-relay://{'[' + host + ']' if ':' in host else host}:{port}").url


def run(args: argparse.Namespace) -> int:
    """Run the relay for parsed `args`; returns the exit status."""
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    try:
        return asyncio.run(_async_run(args))
    except RelayError as exc:
        print(f"hubbub relay: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


async def _async_run(args: argparse.Namespace) -> int:
    from p2p.relay.server import RelayServer
    from p2p.relay.turn import TurnConfig, read_secret, turn_urls

    limits = limits_from(args)
    host, port = split_listen(args.listen)
    turn = None
    if args.turn or args.turns:
        if not args.turn_secret_file:
            raise RelayError("--turn needs --turn-secret-file (coturn's static-auth-secret)")
        turn = TurnConfig(turn_urls(args.turn, args.turns), read_secret(args.turn_secret_file))
    try:
        server = RelayServer(args.data, limits, turn)
    except OSError as exc:
        raise RelayError(f"cannot use the data folder {args.data}: {exc.strerror or exc}") from None
    try:
        bound = await server.async_start(host, port)
    except OSError as exc:
        await server.async_stop()
        raise RelayError(f"cannot listen on {args.listen}: {exc.strerror or exc}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):  # before the address line: a SIGTERM right after it ends us cleanly
        loop.add_signal_handler(sig, stop.set)
    print(public_url(bound[0], bound[1], args.public_url), flush=True)
    logging.getLogger("hubbub.relay").info("relay listening on %s:%d%s", bound[0], bound[1],
                                           " with TURN" if turn else "")
    await stop.wait()
    await server.async_stop()
    return 0


def main(argv: list[str] | None = None) -> Any:
    return run(parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
