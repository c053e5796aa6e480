"""Scenario: session set-up (signaling, ICE, DTLS, SCTP, the challenge-response) under 25% loss both ways.

    python -m bench.hostile_lossy dialer --target HOST:PORT --tries N --loss P

Both ends use the default `Timings` (a 10 s handshake timeout, 5 s per signaling frame). The
dialer makes `N` sessions one after another, each from a fresh node, to a listening probe
in another namespace; every datagram of its sessions is dropped with probability P in each
direction and its signaling goes through a local proxy that delays as TCP under that loss
(bench.lossy). It prints, per try, the seconds from dialing to an authenticated session with
the room matched. A failed attempt is dialed again at once, as a node's own target would; the
attempts and their errors are printed too.

`measure()` reports `lossy_handshake_s` (median), `lossy_handshake_max_s`, `lossy_completed`
out of `lossy_tries`, how many needed only their first attempt, the datagrams dropped, and the
same run's loss-free median.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from typing import Any

from nacl.signing import SigningKey

from bench.hostile_common import PORT, ROOM, ROOM_SECRET, SECRET, numbers
from bench.lossy import LossyTcpProxy, lose_datagrams
from p2p.config import Timings
from p2p.control import Role
from p2p.node import PeerNode
from p2p.rooms import RoomSecret
from p2p.session import Session
from tests.integration.netns import NetnsLan, Probe

TRY_SECONDS = 90.0
"""A try that has no session after this long has failed."""


class LossyNode(PeerNode):
    """A PeerNode whose sessions lose datagrams."""

    loss = 0.0
    rng = random.Random(1)
    counts = {"sent": 0, "received": 0, "dropped_out": 0, "dropped_in": 0}

    def _new_session(self, role: Role, peer: bytes) -> Session:
        session = super()._new_session(role, peer)
        if self.loss:
            lose_datagrams(session, self.loss, self.rng, self.counts)
        return session


async def async_dialer(target: tuple[str, int], tries: int, loss: float, seed: int) -> dict[str, Any]:
    LossyNode.loss, LossyNode.rng = loss, random.Random(seed)
    proxy = LossyTcpProxy(target, loss, random.Random(seed + 1))
    host, port = await proxy.async_start()
    results: list[dict[str, Any]] = []
    for _ in range(tries):
        node = LossyNode(SigningKey.generate(), bind_host="127.0.0.1", mdns=False, timings=Timings(),
                         queue_events=False)
        node.set_secrets([RoomSecret(bytes.fromhex(ROOM), bytes.fromhex(SECRET), "room")])
        await node.async_start()
        began = time.monotonic()
        errors: list[str] = []
        while time.monotonic() - began < TRY_SECONDS:
            try:
                peer = await node.async_connect(host, port)
                while ROOM not in {r.hex() for r in node.shared_rooms(peer)}:
                    await asyncio.sleep(0.01)
                results.append({"s": time.monotonic() - began, "attempts": len(errors) + 1, "errors": errors})
                break
            except Exception as exc:  # as a node's own target would, dial again at once
                errors.append(f"{type(exc).__name__}: {exc}")
        else:
            results.append({"s": None, "attempts": len(errors), "errors": errors})
        await node.async_stop()
    await proxy.async_stop()
    return {"tries": results, "datagrams": LossyNode.counts}


def measure(lan: NetnsLan, *, tries: int = 10, loss: float = 0.25) -> dict[str, float]:
    """The lossy-handshake figures, with the same run's loss-free baseline."""
    listener = Probe(lan.hosts[0], "--no-mdns", "--port", str(PORT), "--secret", ROOM_SECRET, timings=False)
    listener.started()
    target = f"{lan.hosts[0].ip}:{PORT}"

    def dial(p: float, n: int, seed: int) -> dict[str, Any]:
        proc = lan.hosts[1].python("-m", "bench.hostile_lossy", "dialer", "--target", target, "--tries", str(n),
                                   "--loss", str(p), "--seed", str(seed), stdout=-1, stderr=-3, text=True)
        out, _ = proc.communicate(timeout=60 * n)
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return result

    clean = dial(0.0, 3, 7)
    lossy = dial(loss, tries, int(time.time()))
    listener.command("quit")
    times = [t["s"] for t in lossy["tries"] if t["s"] is not None]
    counts = lossy["datagrams"]
    return {
        "lossy_handshake_s": statistics.median(times) if times else float("nan"),
        "lossy_handshake_max_s": max(times) if times else float("nan"),
        "lossy_completed": float(len(times)),
        "lossy_first_attempt_completed": float(sum(1 for t in lossy["tries"] if t["s"] is not None and t["attempts"] == 1)),
        "lossy_tries": float(tries),
        "lossy_loss": loss,
        "lossy_dropped_pct": 100.0 * (counts["dropped_out"] + counts["dropped_in"])
        / max(1, counts["sent"] + counts["received"]),
        "baseline_handshake_s": statistics.median(t["s"] for t in clean["tries"] if t["s"] is not None),
        "lossy_errors": [e for t in lossy["tries"] for e in t["errors"]],  # type: ignore[dict-item]
    }


def run(quick: bool = False) -> dict[str, float]:
    """`bench hostile`'s lossy-handshake figures: 10 tries at 25% loss (2 with --quick)."""
    with NetnsLan(2, subnet="10.94.0") as lan:
        return numbers(measure(lan, tries=2 if quick else 10))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile_lossy")
    sub = parser.add_subparsers(dest="cmd", required=True)
    dialer = sub.add_parser("dialer")
    dialer.add_argument("--target", required=True)
    dialer.add_argument("--tries", type=int, default=10)
    dialer.add_argument("--loss", type=float, default=0.25)
    dialer.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    host, port = args.target.rsplit(":", 1)
    print(json.dumps(asyncio.run(async_dialer((host, int(port)), args.tries, args.loss, args.seed))), flush=True)


if __name__ == "__main__":
    main()
