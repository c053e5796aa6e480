"""Joining answers at once when members are online: a spent or unknown invite is refused in a sentence;
only "nobody online" waits, with progress; a join that fails leaves nothing behind."""

from __future__ import annotations

import dataclasses
import secrets
import time

import pytest

from app.errors import BadInvite
from app.invite import parse_invite
from tests.integration.test_service_loopback import run, service, started

pytestmark = pytest.mark.timeout(60)


def test_spent_unknown_and_unanswered_invites(tmp_path) -> None:
    async def body() -> None:
        a, b, d = service(tmp_path / "a", "Alice"), service(tmp_path / "b", "Bob"), service(tmp_path / "d", "Dave")
        async with started(a, b, d):
            room = a.create_room("Weekend LAN Party")
            link = a.create_invite(room).link()
            await b.async_connect(*a.address)
            await b.async_join(link, 10)
            await d.async_connect(*a.address)

            start = time.monotonic()
            with pytest.raises(BadInvite, match="already used"):
                await d.async_join(link, 20)
            assert time.monotonic() - start < 3, "a spent invite was not refused at once"

            forged = dataclasses.replace(parse_invite(a.create_invite(room).link()), invite_id=secrets.token_urlsafe(12))
            start = time.monotonic()
            with pytest.raises(BadInvite, match="do not know that invite"):
                await d.async_join(forged.link(), 20)
            assert time.monotonic() - start < 5, "an unknown invite was not refused within a few seconds"
            assert d.node.room_list() == [], "a failed join left a room behind"
            fresh = a.create_invite(room).link()

        # Nobody online: it waits, says how long, then one sentence naming the room.
        e = service(tmp_path / "e", "Eve")
        async with started(e):
            ticks: list[tuple[str, float, int]] = []
            with pytest.raises(BadInvite, match="No member of Weekend LAN Party answered"):
                await e.async_join(fresh, 2.5, progress=lambda name, s, n: ticks.append((name, s, n)))
            assert ticks and ticks[0][0] == "Weekend LAN Party" and ticks[-1][1] >= 1.0
            assert e.node.room_list() == []

    run(body)
