"""The one list of fuzz targets, by family module; a family is imported only when one of its targets is used."""

from __future__ import annotations

import importlib
from pathlib import Path

from .harness import Target

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
REGRESSIONS = HERE / "regressions"

FAMILIES: dict[str, tuple[str, ...]] = {
    "tests.fuzz.crdt_targets": (
        "crdt.entry.decode_entry",
        "crdt.entry.decode_one",
        "crdt.sync.decode_frame",
        "crdt.logfile.read_log",
        "crdt.control.ControlOp.decode",
        "crdt.control.apply_op",
        "crdt.yjs_update.summarize_update",
        "crdt.cipher.open_payload",
        "crdt.cipher.open_sealed",
        "crdt.native.decode_entry",
        "crdt.native.check_message",
    ),
    "tests.fuzz.p2p_targets": (
        "p2p.frames.decode_frame",
        "p2p.signaling.async_read_frame",
        "p2p.signal_message.verify_signal",
        "p2p.signal_message.signed_by_attacker",
        "p2p.control.receive",
        "p2p.discovery.txt",
    ),
    "tests.fuzz.relay_targets": (
        "p2p.relay.wire.decode",
        "p2p.relay.envelope.open_",
    ),
    "tests.fuzz.app_targets": (
        "app.wire.decode_sync_channel",
        "app.wire.decode_live",
        "app.invite.parse_invite",
        "app.control_wire.decode_request",
        "app.control_wire.decode_reply",
        "app.profile.decode_settings",
    ),
    "tests.fuzz.voice_targets": (
        "app.voice.packet.parse",
        "app.voice.receiver",
        "app.voice.live",
        "app.voice.oggopus.decode_ogg_opus",
        "app.voice.backends.decode_wav",
    ),
}

NAMES: tuple[str, ...] = tuple(name for names in FAMILIES.values() for name in names)

SELFTEST: dict[str, tuple[str, ...]] = {"tests.fuzz.selftest_targets": ("selftest.crash", "selftest.noncanonical")}
"""Broken on purpose, for the tests of the fuzzing itself: in no run of the real targets."""


def family_of(name: str) -> str:
    for module, names in {**FAMILIES, **SELFTEST}.items():
        if name in names:
            return module
    raise KeyError(f"no fuzz target named {name!r}; see tests/fuzz/registry.py")


def load(name: str) -> Target:
    """The target `name`, importing only its family."""
    module = importlib.import_module(family_of(name))
    for target in module.TARGETS:
        if target.name == name:
            return target  # type: ignore[no-any-return]
    raise KeyError(f"{family_of(name)} does not define {name!r}")


def load_all() -> list[Target]:
    return [load(name) for name in NAMES]


def inputs(directory: Path) -> list[Path]:
    """The input files of a corpus or regression folder, in a stable order."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))
