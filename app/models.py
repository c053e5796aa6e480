"""The plain types the desktop app reads: re-exported so that `ui` depends on `app` only."""

from __future__ import annotations

from crdt.schema import Role, short_id
from crdt.view import Channel, Edit, Message

from .export import message_record
from .render import markdown_html, markdown_plain
from .render import prepare as prepare_renderer

__all__ = ["Channel", "Edit", "Message", "Role", "markdown_html", "markdown_plain", "message_record",
           "prepare_renderer", "short_id"]
