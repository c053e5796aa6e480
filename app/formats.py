"""The file formats `hubbub export` writes (named here so the CLI's parser need not import the node)."""

from __future__ import annotations

FORMATS = ("json", "md", "html", "log")  # `log` is the verifiable signed entry log
