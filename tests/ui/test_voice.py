"""Voice in the window: join a voice channel by clicking it, speaking indicators light up (tone bursts fed through
ArrayBackends), mute works, calls ring / decline / accept / hang up; and with no sound device Preferences says so."""

from __future__ import annotations

import asyncio

from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QSlider

from app.models import short_id
from app.node import Node
from app.voice.backends import ArrayBackend
from ui.desktop import build_window
from ui.state.voice import NO_NETWORK
from ui.widgets.voice_settings import VoiceSettings

from .test_network import connected_pair, qloop, stop, until  # noqa: F401  (qloop is a fixture)

pytestmark = pytest.mark.timeout(90)


def bursts() -> np.ndarray:
    """0.4 s of a 300 Hz tone, then 0.4 s of quiet: the gate opens and closes like speech."""
    t = np.arange(int(48000 * 0.4)) / 48000
    tone = (9000 * np.sin(2 * np.pi * 300 * t)).astype(np.int16)
    return np.concatenate([tone, np.zeros_like(tone)])


def test_voice_channel_speaking_mute_and_calls(qtbot: object, qloop: Callable[[Awaitable[None]], None],
                                              tmp_path: Path) -> None:
    async def scenario() -> None:
        w, live, bob, room, broom = await connected_pair(tmp_path, qtbot)
        try:
            alice_key, bob_key = live.me, bob.node.profile.public_key
            alice, bobs = short_id(alice_key), short_id(bob_key)
            live.service.voice.backend_factory = lambda: ArrayBackend(bursts(), loop=True)
            bob_source = ArrayBackend(bursts(), loop=True)
            bob.voice.backend_factory = lambda: bob_source
            lounge = next(c.id for c in room.channels() if c.kind == "voice")
            w._refresh_channels()
            # Click the voice channel: I join, the bar says so, the tree lists me under it.
            tree = w.channels.tree
            tree.itemClicked.emit(w.channels._items[lounge], 0)
            assert w.voice.channel == (room.id, lounge)
            assert not w.channels.voice_bar.isHidden()
            assert w.channels.voice_people(lounge) == [alice]
            bob.voice.join(broom.id, lounge)
            await until(lambda: set(w.channels.voice_people(lounge)) == {alice, bobs}, "Bob under the voice channel")
            # Speaking indicators: mine, and Bob's (his audio crossed the network).
            await until(lambda: alice in w.channels.speaking_now(), "my speaking indicator")
            await until(lambda: bobs in w.channels.speaking_now(), "Bob's speaking indicator")
            await until(lambda: bob.voice.speaking(alice_key), "Bob to hear me speak")
            # Mute: the button mutes, Bob stops hearing me, my indicator stays dark.
            w.channels.mute_button.click()
            assert w.voice.muted and live.service.voice.muted
            await until(lambda: not bob.voice.speaking(alice_key) and alice not in w.channels.speaking_now(), "muted")
            for _ in range(40):  # 0.8 s: a whole tone burst passes unheard
                assert not bob.voice.speaking(alice_key)
                await asyncio.sleep(0.02)
            w.channels.mute_button.click()
            assert not w.voice.muted
            # Per-user volume through the member menu's slider.
            menu = w.member_actions(bob_key)
            slider = menu.findChild(QSlider, "volume")
            assert slider is not None
            slider.setValue(50)
            assert live.service.voice.volume(bob_key) == 0.5
            # Click again: I leave.
            tree.itemClicked.emit(w.channels._items[lounge], 0)
            assert w.voice.channel is None and w.channels.voice_bar.isHidden()
            bob.voice.leave()
            # Direct call from Bob: the bar rings with Accept; accepting makes it active; hanging up ends it.
            bob.voice.call(alice_key, broom.id)
            await until(lambda: w.channels.voice_bar.accept.isVisible(), "the incoming call to ring")
            assert "calling you" in w.channels.voice_bar.label.text()
            w.channels.voice_bar.accept.click()
            await until(lambda: bob.voice.current_call is not None and bob.voice.current_call.state.value == "active",
                        "the call to be active at Bob")
            assert "In a call" in w.channels.voice_bar.label.text()
            w.channels.voice_bar.leave.click()
            await until(lambda: bob.voice.current_call is None or bob.voice.current_call.state.value == "ended",
                        "the call to end at Bob")
            assert w.channels.voice_bar.isHidden()
        finally:
            await stop(w, live, bob)

    qloop(scenario())


def test_voice_without_network_or_sound_device_says_so(qtbot: object, node: Node) -> None:
    w = build_window(node)
    qtbot.addWidget(w)  # type: ignore[attr-defined]
    errors: list[str] = []
    w.show_error = errors.append  # type: ignore[method-assign]
    room = w.session.create_room("party")
    lounge = next(c.id for c in room.channels() if c.kind == "voice")
    w.channels.tree.itemClicked.emit(w.channels._items[lounge], 0)
    assert errors == [NO_NETWORK]
    settings = VoiceSettings(w.voice, False, "F8")
    qtbot.addWidget(settings)  # type: ignore[attr-defined]
    devices = w.voice.devices()
    if devices.problem:  # no sound card here: a sentence, pickers disabled, no crash
        assert settings.problem.text() == devices.problem
        assert not settings.input.isEnabled()
    settings.done()


class ListenOnly(ArrayBackend):
    """Headphones without a microphone: plays what it hears, captures nothing."""

    has_input = False


def test_without_a_microphone_i_join_listen_only_and_hear_the_others(qtbot: object,
                                                                     qloop: Callable[[Awaitable[None]], None],
                                                                     tmp_path: Path) -> None:
    async def scenario() -> None:
        w, live, bob, room, broom = await connected_pair(tmp_path, qtbot)
        try:
            errors: list[str] = []
            w.show_error = errors.append  # type: ignore[method-assign]
            alice, bobs = short_id(live.me), short_id(bob.node.profile.public_key)
            mine = ListenOnly()
            live.service.voice.backend_factory = lambda: mine
            bob.voice.backend_factory = lambda: ArrayBackend(bursts(), loop=True)
            lounge = next(c.id for c in room.channels() if c.kind == "voice")
            w._refresh_channels()
            w.channels.tree.itemClicked.emit(w.channels._items[lounge], 0)
            assert errors == [] and w.voice.channel == (room.id, lounge)
            assert "listening only" in w.channels.voice_bar.label.text()
            assert not w.channels.mute_button.isEnabled()
            bob.voice.join(broom.id, lounge)
            await until(lambda: set(w.channels.voice_people(lounge)) == {alice, bobs}, "both under the voice channel")
            await until(lambda: bobs in w.channels.speaking_now(), "Bob's speaking indicator")
            await until(lambda: any(np.abs(f).max() > 1000 for f in mine.played[-50:]), "Bob's voice played to me")
            assert alice not in w.channels.speaking_now()
            await until(lambda: bool(bob.voice.member(live.me) and bob.voice.member(live.me).muted), "me shown muted at Bob")
            w.channels.voice_bar.leave.click()
            assert w.voice.channel is None and w.channels.mute_button.isEnabled()
        finally:
            await stop(w, live, bob)

    qloop(scenario())


def test_with_no_sound_device_at_all_i_still_see_who_is_in_the_channel(qtbot: object,
                                                                        qloop: Callable[[Awaitable[None]], None],
                                                                        tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from app.voice import backends

    try:
        has_devices = bool(backends.list_devices())
    except backends.BackendError:
        has_devices = False  # this machine has no sound card: the real sounddevice path is the one tested
    if has_devices:  # a machine with a sound card: take it away
        def none() -> list[backends.DeviceInfo]:
            raise backends.BackendError("no audio devices found: is a sound card connected?")
        monkeypatch.setattr(backends, "list_devices", none)

    async def scenario() -> None:
        w, live, bob, room, broom = await connected_pair(tmp_path, qtbot)
        try:
            errors: list[str] = []
            w.show_error = errors.append  # type: ignore[method-assign]
            bob.voice.backend_factory = lambda: ArrayBackend(bursts(), loop=True)
            lounge = next(c.id for c in room.channels() if c.kind == "voice")
            bob.voice.join(broom.id, lounge)
            w._refresh_channels()
            w.channels.tree.itemClicked.emit(w.channels._items[lounge], 0)
            assert errors == [], errors
            assert w.voice.channel == (room.id, lounge)
            assert "No microphone or speaker was found" in w.channels.voice_bar.label.text()
            await until(lambda: set(w.channels.voice_people(lounge)) == {short_id(live.me), short_id(bob.node.profile.public_key)},
                        "both under the voice channel")
        finally:
            await stop(w, live, bob)

    qloop(scenario())
