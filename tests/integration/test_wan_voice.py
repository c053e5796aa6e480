"""Voice across the internet in namespaces (tests/integration/wan.py): calls between two homes whose media goes through coturn.

Home A behind a cone NAT, home B behind a symmetric one (hole punching fails), coturn on the
relay host.

1. `bench.voice_peer` (what `bench relay` measures) runs the real voice stack at both ends (VoiceEngine,
VoiceTransport, the jitter buffer, Opus) over an aiortc data channel whose ICE gets what a
node's first attempt gets from the relay's TURN credentials (coturn as STUN, TURN over UDP);
the SDP crosses the NATs through a splice on the relay host. The call must be decoded at the far
end, in order and matching the speech, out of the jitter buffer, over a nominated pair with a
relayed candidate, and coturn must have relayed the bytes.
2. Real `hubbub node`s as voice bots: Bob joins Alice's room through its relay, then both are in
   the room's voice channel over their Hubbub session, which `hubbub peers --json` reports as
   "turn"; Alice's bot plays speech, and Bob's recording (his node's voice engine: jitter buffer,
   Opus decoder, mixer) holds it.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from app.voice.backends import read_wav, write_wav
from app.voice.measure import align, espeak_speech, windowed_corr
from bench.relay_voice import SPLICE_PORT, node_ice, relayed, start_splice
from bench.voice import from_record
from bench.voice_calls import PeerCalls
from tests.conftest import require
from tests.integration.clitools import hub, ok
from tests.integration.test_wan_hubbub_nat import HomeNode, start_homes
from tests.integration.test_wan_relay_loopback import make_room, until
from tests.integration.wan import RELAY_IP, Wan, wan_available

pytestmark = [pytest.mark.netns, pytest.mark.timeout(120)]
TEXT = "Voice over the relay. One two three four."


def coturn_usage(path: Path, timeout: float = 10.0) -> str:
    """coturn's log once it has the usage lines of the closed allocations (written as each one closes)."""
    deadline = time.monotonic() + timeout
    while (log := path.read_text(errors="replace")).count(" rb=") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    return log


def test_voice_call_between_two_homes_goes_through_turn(tmp_path: Path) -> None:
    require(wan_available(), "needs root, nftables and coturn (turnserver) for the WAN namespaces")
    require(shutil.which("espeak-ng") is not None, "needs espeak-ng for the speech")
    speech = espeak_speech(TEXT)
    with Wan(tmp_path / "wan", symmetric_b=True) as wan:
        wan.start_coturn()
        start_splice(wan, 1)
        calls = PeerCalls(wan.home_a, wan.home_b, tmp_path / "calls", ice=node_ice(wan),
                          splice=f"{RELAY_IP}:{SPLICE_PORT}")
        with calls:
            record = calls.run(speech, [{"loss": 0.0, "jitter_ms": 0.0, "seed": 0}])[0]
        result = from_record(record)  # the listener's PCM, its jitter-buffer stats, mouth-to-ear per frame
        log = coturn_usage(wan.coturn_log)
    print(f"\nnominated pair: {record['pair']} (A), {record['rx']['pair']} (B); stats {result.stats}")

    # Both ends see a relayed candidate in the nominated pair: one allocation or both are in the path
    # (e.g. A's relay with B's mapped address, which B sees as its host candidate to A's relay).
    assert relayed(record), (record["pair"], record["rx"]["pair"])
    sent = len(record["pushed"])
    stats = result.stats
    assert stats.received >= 0.95 * sent and stats.played >= 0.95 * sent, (sent, stats)  # decoded at B
    assert stats.lost == 0 and stats.late == 0 and stats.corrupt == 0, stats
    assert stats.target >= 1 and stats.played <= stats.received  # played by the jitter buffer
    assert len(result.latencies_ms) == len(record["rx"]["played"]) >= 0.95 * sent
    assert max(result.latencies_ms) < 100, max(result.latencies_ms)  # real time, not a late dump
    matches_speech(speech, result.received)  # what B played is A's speech
    relayed_bytes = [int(n) for n in re.findall(r"\brb=(\d+)", log)]
    assert relayed_bytes and max(relayed_bytes) > 20_000, relayed_bytes  # coturn carried the media


def matches_speech(speech: np.ndarray, got: np.ndarray) -> None:
    """`got` holds `speech`, window by window, each re-aligned within 30 ms of the best lag.

    No bar on the correlation at one lag for the whole clip: each jitter-buffer shift (a stall of a
    process on a loaded machine) moves the rest by 10 ms, and a few in a 3 s clip brought it to 0.16
    while every window matched at 0.9.
    """
    lag, _ = align(speech, got)
    windows = windowed_corr(speech, got, lag)
    assert len(windows) >= 8, windows
    assert float(np.median(windows)) > 0.85 and float(np.mean(np.array(windows) > 0.8)) >= 0.75, windows


def test_hubbub_nodes_in_two_homes_talk_over_turn(tmp_path: Path) -> None:
    require(wan_available(), "needs root, nftables and coturn (turnserver) for the WAN namespaces")
    require(shutil.which("espeak-ng") is not None, "needs espeak-ng for the speech")
    speech = espeak_speech(TEXT)
    wav, heard = tmp_path / "speech.wav", tmp_path / "bob-heard.wav"
    write_wav(wav, speech)
    with Wan(tmp_path / "wan", symmetric_b=True) as wan:
        url = wan.start_relay()
        (alice, bob), room = make_room(tmp_path, url, "alice", "bob")
        a, b = start_homes(wan, url, alice, bob, tmp_path, "--voice-room", room, "--voice-play", str(wav),
                           "--voice-loop")
        link = ok(hub(alice, "invite", room, "--expires", "1h")).strip()
        assert ok(hub(bob, "join", link, "--timeout", "60", timeout=90)).startswith(room)
        b.stop()  # now a member: back as a bot in the room's voice channel, recording what it hears
        b = HomeNode(wan.home_b, bob, tmp_path / "bob.node.log", "--voice-room", room, "--voice-record", str(heard))
        b.start()

        def routes() -> list[tuple[str, str]]:
            return [(p["name"], p["route"]) for p in json.loads(ok(hub(bob, "peers", "--json")))]

        until(lambda: routes() == [("Alice Quillfeather", "turn")], 30, "a session over TURN between the homes")
        time.sleep(2 * speech.size / 48000 + 1)  # Alice's loop began long before: a whole copy after the session
        assert routes() == [("Alice Quillfeather", "turn")]  # still the one session, still relayed
        b.stop()
        a.stop()
    matches_speech(speech, read_wav(heard))
