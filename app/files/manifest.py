"""A file's manifest as a message carries it (one item of the message value's `a` list; rules in crdt/attachments.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crdt.attachments import attachment_problem

from ..errors import HubbubError


class BadManifest(HubbubError):
    """A manifest that breaks the rules (never from a valid entry: the validator checked it)."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """Name, size, type, key and root of one file, and for a picture its size, thumbnail and blurhash."""

    name: str
    size: int
    mime: str
    key: bytes
    root: bytes
    width: int = 0
    height: int = 0
    thumbnail: bytes = b""
    blurhash: str = ""

    @property
    def id(self) -> str:
        """The attachment id the CLI and the app use: the root in hex."""
        return self.root.hex()

    @property
    def is_picture(self) -> bool:
        return self.width > 0 and self.height > 0

    def to_value(self) -> dict[str, Any]:
        value: dict[str, Any] = {"n": self.name, "s": self.size, "m": self.mime, "k": self.key, "h": self.root}
        if self.is_picture:
            value["w"], value["y"] = self.width, self.height
            if self.thumbnail:
                value["t"] = self.thumbnail
            if self.blurhash:
                value["b"] = self.blurhash
        problem = attachment_problem(value)
        if problem:
            raise BadManifest(f"The file cannot be attached: {problem}.")
        return value

    @classmethod
    def from_value(cls, value: Any) -> Manifest:
        """Read one manifest; raises BadManifest when it breaks the rules."""
        problem = attachment_problem(value)
        if problem:
            raise BadManifest(f"That attachment is damaged: {problem}.")
        return cls(str(value["n"]), int(value["s"]), str(value["m"]), bytes(value["k"]), bytes(value["h"]),
                   int(value.get("w", 0)), int(value.get("y", 0)), bytes(value.get("t", b"")), str(value.get("b", "")))


def manifests(values: list[dict[str, Any]]) -> list[Manifest]:
    """The manifests of a message (values that break the rules are skipped: they cannot come from a valid entry)."""
    out = []
    for value in values:
        try:
            out.append(Manifest.from_value(value))
        except BadManifest:
            continue
    return out
