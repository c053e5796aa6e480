"""packaging/relay/hubbub-relay.service: its ExecStart is a `hubbub relay serve` command line that parses."""

from __future__ import annotations

import shlex
from pathlib import Path

from p2p.relay.serve import limits_from, parser, split_listen

UNIT = Path(__file__).resolve().parents[2] / "packaging" / "relay" / "hubbub-relay.service"


def test_exec_start_parses_as_relay_serve() -> None:
    lines = [line for line in UNIT.read_text().splitlines() if line.startswith("ExecStart=")]
    assert len(lines) == 1
    argv = shlex.split(lines[0].removeprefix("ExecStart="))
    assert argv[:3] == ["/usr/bin/hubbub", "relay", "serve"]
    extra = "--public-url hubbub-relay+tls://relay.example.org --turn turn:relay.example.org:3478"
    args = parser().parse_args([a.replace("%S", "/var/lib") for a in argv[3:] if a != "$HUBBUB_RELAY_ARGS"]
                               + extra.split())
    assert str(args.data) == "/var/lib/hubbub-relay"
    assert split_listen(args.listen) == ("127.0.0.1", 7447)  # behind a reverse proxy
    assert limits_from(args).connections_per_ip == 8
    assert "EnvironmentFile=-/etc/default/hubbub-relay" in UNIT.read_text()
