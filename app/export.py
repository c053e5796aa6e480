"""Readable exports of a room's history: JSON records, Markdown, and one standalone HTML page."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from crdt.view import Channel, Message

from .render import escape, markdown_html, markdown_plain, one_line

NameOf = Callable[[str], str]


@dataclass(slots=True)
class ExportedRoom:
    """What an export needs: the room's name, channels, messages per channel and pins."""

    name: str
    room_id: str
    channels: list[Channel]
    messages: dict[str, list[Message]]
    name_of: NameOf


def message_record(msg: Message, name_of: NameOf) -> dict[str, Any]:
    """A message as a flat JSON-friendly object (the shape of `history --json`)."""
    return {
        "id": msg.id,
        "author": msg.author,
        "author_name": name_of(msg.author),
        "channel": msg.channel,
        "text": msg.text,
        "ts": int(msg.ts),
        "time": _iso(msg.ts),
        "reply_to": msg.reply_to,
        "thread": msg.thread,
        "reactions": {e: [name_of(a) for a in who] for e, who in msg.reactions.items()},
        "edited": msg.edited,
        "edits": [{"text": e.text, "ts": int(e.ts), "by": name_of(e.by)} for e in msg.edits],
        "deleted": msg.deleted,
        "pinned": msg.pinned,
        "forwarded_from": msg.forward,
        "mentions": [name_of(m) for m in msg.mentions],
        "ttl": msg.ttl,
    }


def _iso(ts_ms: float) -> str:
    """A message time as UTC text; a time outside what a calendar holds (a member may claim any) says so."""
    try:
        return datetime.fromtimestamp(ts_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "an impossible time"


def to_json(room: ExportedRoom) -> str:
    doc = {
        "room": room.name,
        "room_id": room.room_id,
        "channels": [
            {"id": c.id, "name": c.name, "kind": c.kind, "category": c.category,
             "messages": [message_record(m, room.name_of) for m in room.messages.get(c.id, [])]}
            for c in room.channels
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)


def _by_id(room: ExportedRoom) -> dict[str, Message]:
    return {m.id: m for msgs in room.messages.values() for m in msgs}


def to_markdown(room: ExportedRoom) -> str:
    by_id = _by_id(room)
    out = [f"# {room.name}", ""]
    for c in room.channels:
        msgs = room.messages.get(c.id, [])
        if c.kind != "text":
            continue
        out += [f"## #{c.name}", ""]
        for m in msgs:
            who = room.name_of(m.author)
            out.append(f"**{who}** · {_iso(m.ts)}" + (" · 📌 pinned" if m.pinned else ""))
            if m.reply_to and m.reply_to in by_id:
                r = by_id[m.reply_to]
                out.append(f"> ↪ {room.name_of(r.author)}: {one_line(r.text, 80) or '(deleted)'}")
            if m.forward:
                out.append(f"> ⤷ forwarded from {m.forward.get('author', '?')} in {m.forward.get('room', '?')}")
            if m.deleted:
                out.append("*(message deleted)*")
            else:
                out.append(m.text)
                if m.edited:
                    out.append(f"*(edited {len(m.edits) - 1}×; first version: {one_line(m.edits[0].text, 80)})*")
            if m.reactions:
                out.append(" ".join(f"{e} {len(w)}" for e, w in m.reactions.items()))
            out.append("")
    return "\n".join(out)


_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;background:#1e1f22;color:#dbdee1;margin:0;padding:24px}
main{max-width:880px;margin:0 auto}h1{font-size:22px}h2{font-size:17px;color:#b5bac1;border-bottom:1px solid #3f4147;padding-bottom:4px;margin-top:32px}
.msg{padding:6px 10px;border-radius:6px;margin:2px 0}.msg:target{background:#3b3d44}.msg.pinned{border-left:3px solid #f0b232}
.who{font-weight:600;color:#f2f3f5}.ts{color:#949ba4;font-size:12px;margin-left:6px}
.reply{font-size:13px;color:#b5bac1;margin-bottom:2px}.reply a{color:#b5bac1}.fwd{font-size:12px;color:#949ba4}
.edited{font-size:11px;color:#949ba4}details{font-size:12px;color:#949ba4}.deleted{font-style:italic;color:#949ba4}
.reactions span{display:inline-block;background:#2b2d31;border:1px solid #3f4147;border-radius:10px;padding:0 7px;margin:3px 4px 0 0;font-size:13px}
code,pre{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:13px}
code{background:#2b2d31;border:1px solid #3f4147;padding:1px 4px;border-radius:3px;color:#e3e5e8}
pre{background:#2b2d31;border:1px solid #3f4147;padding:8px;border-radius:4px;overflow:auto;white-space:pre-wrap}
pre code{background:none;border:0;padding:0}
.text p{margin:0 0 4px}.text ul,.text ol{margin:2px 0;padding-left:24px}.text ul{list-style:disc}.text li{margin:1px 0}
blockquote{border-left:3px solid #4e5058;margin:2px 0;padding-left:8px;color:#b5bac1}blockquote p{margin:0}a{color:#00a8fc}
.pins{background:#2b2d31;border-radius:6px;padding:8px 12px}.pins li{margin:2px 0}
"""


def to_html(room: ExportedRoom) -> str:
    """One standalone, readable HTML page with inline CSS: replies, reactions, edits and pins shown."""
    by_id = _by_id(room)
    esc = escape
    out = ["<!doctype html><html lang=en><head><meta charset=utf-8>",
           f"<title>{esc(room.name)} — Hubbub export</title><style>{_CSS}</style></head><body><main>",
           f"<h1>{esc(room.name)}</h1>"]
    pinned = [m for msgs in room.messages.values() for m in msgs if m.pinned and not m.deleted]
    if pinned:
        out.append("<section class=pins><strong>📌 Pinned</strong><ul>")
        for m in pinned:
            out.append(f'<li><a href="#m-{esc(m.id)}">{esc(room.name_of(m.author))}: {esc(markdown_plain(m.text, 80))}</a></li>')
        out.append("</ul></section>")
    for c in room.channels:
        if c.kind != "text":
            continue
        out.append(f"<h2>#{esc(c.name)}</h2>")
        for m in room.messages.get(c.id, []):
            cls = "msg pinned" if m.pinned else "msg"
            out.append(f'<div class="{cls}" id="m-{esc(m.id)}">')
            if m.reply_to:
                r = by_id.get(m.reply_to)
                label = f"{esc(room.name_of(r.author))}: {esc(markdown_plain(r.text, 80)) or '(deleted)'}" if r else "an earlier message"
                out.append(f'<div class=reply>↪ <a href="#m-{esc(m.reply_to)}">{label}</a></div>')
            out.append(f'<span class=who>{esc(room.name_of(m.author))}</span><span class=ts>{_iso(m.ts)}</span>')
            if m.pinned:
                out.append('<span class=ts>📌</span>')
            if m.forward:
                out.append(f"<div class=fwd>forwarded from {esc(str(m.forward.get('author', '?')))} in {esc(str(m.forward.get('room', '?')))}</div>")
            if m.deleted:
                out.append("<div class=deleted>message deleted</div>")
            else:
                out.append(f"<div class=text>{markdown_html(m.text)}</div>")
                if m.edited:
                    out.append("<details><summary class=edited>edited</summary>")
                    for e in m.edits[:-1]:
                        out.append(f"<div>{_iso(e.ts)}: {esc(e.text)}</div>")
                    out.append("</details>")
            if m.reactions:
                chips = "".join(f"<span title=\"{esc(', '.join(room.name_of(a) for a in who))}\">{esc(e)} {len(who)}</span>" for e, who in m.reactions.items())
                out.append(f"<div class=reactions>{chips}</div>")
            out.append("</div>")
    out.append("</main></body></html>")
    return "\n".join(out)
