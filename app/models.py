"""The plain types the desktop app reads: re-exported so that `ui` depends on `app` only."""

from __future__ import annotations

from crdt.export import markdown_html, message_record
from crdt.schema import Role, short_id
from crdt.view import Channel, Edit, Message

__all__ = ["Channel", "Edit", "Message", "Role", "markdown_html", "message_record", "short_id"]
