"""The rules for a message's attachments (`a` in a message value): file manifests, strictly shaped and capped.

A message may carry up to `MAX_ATTACHMENTS` manifests. Each is a map with exactly these keys:

====  ===========================================================  ==========
key   what                                                         required
====  ===========================================================  ==========
n     file name: 1..255 characters, no `/`, `\\`, NUL or controls  yes
s     size in bytes: a whole number, 0..MAX_FILE_SIZE              yes
m     MIME type: `type/subtype`, lower case, at most 127 chars     yes
k     the file key: 32 bytes                                       yes
h     the root: 32 bytes, the hash of the file's chunk hash list   yes
w,y   width and height of a picture: whole numbers 1..65535       together
t     an inline thumbnail: at most MAX_THUMBNAIL bytes             with w,y
b     a blurhash: 6..100 characters of its base-83 alphabet        with w,y
====  ===========================================================  ==========

Nothing else is accepted, so every node judges a manifest the same way. The rules are a pure
function of the value (the room's rule: validity depends on the entries only).
"""

from __future__ import annotations

import re
from typing import Any

MAX_ATTACHMENTS = 10
MAX_FILE_NAME = 255
MAX_MIME = 127
MAX_FILE_SIZE = 1 << 36  # 64 GiB
MAX_THUMBNAIL = 8192
MAX_SIDE = 65535
HASH_SIZE = 32

REQUIRED = frozenset("nsmkh")
PICTURE = frozenset("wy")
ALLOWED = REQUIRED | PICTURE | frozenset("tb")
MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")
BLURHASH = re.compile(r"[0-9A-Za-z#$%*+,\-.:;=?@\[\]^_{|}~]{6,100}")
BAD_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def _whole(v: Any, low: int, high: int) -> bool:
    """A whole number in [low, high] (pycrdt may hand integers back as floats)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    return v == v and low <= v <= high and float(v).is_integer()


def _blob(v: Any, low: int, high: int) -> bool:
    return isinstance(v, (bytes, bytearray)) and low <= len(v) <= high


def attachment_problem(value: Any) -> str | None:
    """Why one manifest is not acceptable, or None when it is."""
    if not isinstance(value, dict):
        return "attachment is not an object"
    keys = set(value)
    if not REQUIRED <= keys or not keys <= ALLOWED:
        return "attachment has missing or unknown fields"
    name = value["n"]
    if type(name) is not str or not 1 <= len(name) <= MAX_FILE_NAME or BAD_NAME.search(name) or name in (".", ".."):
        return "attachment has a bad file name"
    if not _whole(value["s"], 0, MAX_FILE_SIZE):
        return "attachment has a bad size"
    mime = value["m"]
    if type(mime) is not str or len(mime) > MAX_MIME or not MIME.fullmatch(mime):
        return "attachment has a bad type"
    if not _blob(value["k"], HASH_SIZE, HASH_SIZE) or not _blob(value["h"], HASH_SIZE, HASH_SIZE):
        return "attachment has a bad key or root"
    picture = keys & PICTURE
    if picture and picture != PICTURE:
        return "attachment has a width without a height"
    if picture and not (_whole(value["w"], 1, MAX_SIDE) and _whole(value["y"], 1, MAX_SIDE)):
        return "attachment has a bad width or height"
    if ("t" in keys or "b" in keys) and not picture:
        return "attachment has a preview but no picture size"
    if "t" in keys and not _blob(value["t"], 1, MAX_THUMBNAIL):
        return "attachment has a bad thumbnail"
    if "b" in keys and (type(value["b"]) is not str or not BLURHASH.fullmatch(value["b"])):
        return "attachment has a bad blurhash"
    return None


def attachments_problem(value: Any) -> str | None:
    """Why a message's `a` list is not acceptable, or None when it is."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_ATTACHMENTS:
        return f"message attachments must be a list of 1 to {MAX_ATTACHMENTS}"
    for item in value:
        problem = attachment_problem(item)
        if problem:
            return problem
    return None
