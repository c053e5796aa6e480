"""A peer, once known, is its key: discovery hints on loopback (no mDNS) against real PeerNodes.

Hints are fed to the node as a discovery source would (`PeerNode.hint_found` / `hint_lost`):
a later hint with the same node id adds a candidate, never replaces the working address and never
changes the key; a goodbye does not end a live session or drop the working address.
"""

from __future__ import annotations

import asyncio

import pytest
from nacl.signing import SigningKey

from p2p import PeerConnected
from p2p.routes import Address, Hint

from .test_p2p_loopback import SHARED, make_node, next_event, run

pytestmark = pytest.mark.timeout(60)


def hint(node_id: str, address: tuple[str, int]) -> Hint:
    return Hint("mdns", node_id, Address("lan", *address))


def test_a_spoofed_address_for_a_known_node_id_is_dropped_at_hello_and_the_real_peer_comes_back() -> None:
    async def body() -> None:
        key_b = SigningKey.generate()
        a, b, mallory = make_node([SHARED]), make_node([SHARED], key=key_b), make_node([SHARED])
        await a.async_start()
        await b.async_start()
        await mallory.async_start()
        port_b = b.address[1]
        try:
            a.hint_found(hint("b0b0", b.address))
            assert (await next_event(a, PeerConnected)).peer == b.public_key
            a.hint_found(hint("b0b0", mallory.address))  # the same node id, another address and key
            assert a._hints.candidates("mdns", "b0b0") == [Address("lan", *b.address), Address("lan", *mallory.address)]
            a.hint_lost("mdns", "b0b0")  # a goodbye in b's name: the live session and its address stay
            await asyncio.sleep(0.3)
            assert a.peers() == [b.public_key] and a._hints.candidates("mdns", "b0b0") == [Address("lan", *b.address)]
            a.hint_found(hint("b0b0", mallory.address))

            await b.async_stop()  # the real peer goes away: A redials its candidates
            await asyncio.sleep(1.5)
            assert mallory.public_key not in a.peers() and mallory.peers() == []
            assert a.stats()["wrong_keys"] >= 1, "A never tried the spoofed address"
            assert Address("lan", *mallory.address) not in a._hints.candidates("mdns", "b0b0")
            assert mallory.malformed_signaling >= 1  # A hung up right after mallory's HELLO

            b = make_node([SHARED], port=port_b, key=key_b)
            await b.async_start()
            back = await next_event(a, PeerConnected, timeout=8, where=lambda e: e.peer == key_b.verify_key.encode())
            assert back.peer == b.public_key
        finally:
            for node in (a, b, mallory):
                await node.async_stop()

    run(body)


def test_a_hint_that_names_a_key_accepts_only_that_key() -> None:
    async def body() -> None:
        a, b, mallory = make_node([SHARED]), make_node([SHARED]), make_node([SHARED])
        for node in (a, b, mallory):
            await node.async_start()
        try:
            a.hint_found(Hint("relay", "x1", Address("lan", *mallory.address), peer_key=b.public_key))
            await asyncio.sleep(1.0)
            assert a.peers() == [] and a.stats()["wrong_keys"] >= 1
            a.hint_found(Hint("relay", "x1", Address("lan", *b.address), peer_key=b.public_key))
            assert (await next_event(a, PeerConnected, timeout=5)).peer == b.public_key
        finally:
            for node in (a, b, mallory):
                await node.async_stop()

    run(body)
