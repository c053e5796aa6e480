"""XSS: the OWASP filter-evasion vectors through the message renderer and a whole HTML export, checked on the parse."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import render
from app.export import _CSS, ExportedRoom, to_html
from app.render import markdown_html, markdown_plain
from crdt.view import Channel, Edit, Message

from .html_oracle import MESSAGE_TAGS, Oracle, message_problems, xss_vectors

VECTORS = xss_vectors()
WITH_NUL = [v.replace("script", "scr\x00ipt").replace("java", "ja\x00va") + "\x00" for v in VECTORS]
LONG = [c * 16_000 for c in ("[", "*", "_", "<", "&", "`", ">", "!", "\\", "~")] + [
    "[a](" * 4000, "![" * 8000, "<a href=" * 2000, "javascript:" * 1400, "https://x.test/\"" * 1000,
    "- " * 8000, "> " * 8000, "**a" * 5000, "a" * 20_000 + "<script>alert(1)</script>",
]


def test_the_vector_file_holds_the_cheat_sheet() -> None:
    assert len(VECTORS) >= 150
    assert any("onmouseover" in v for v in VECTORS) and any("<svg" in v for v in VECTORS)
    assert any("CDATA" in v for v in VECTORS) and any(v.startswith("<!--") for v in VECTORS)


@pytest.mark.parametrize("text", VECTORS + WITH_NUL + LONG, ids=lambda v: repr(v[:40]))
def test_a_vector_renders_to_the_allowlist_only(text: str) -> None:
    out = markdown_html(text)
    assert message_problems(out) == [], out[:500]
    assert isinstance(markdown_plain(text), str)


def test_the_oracle_catches_what_it_must() -> None:
    """The oracle is the test: it must fail on the HTML that the old renderer produced, and on the classics."""
    for bad in ['<a href="https://x.test/"onmouseover="alert(1)">x</a>', "<img src=x>", '<a href="javascript:alert(1)">x</a>',
                "<p style='x'>x</p>", "<!-- c -->", "<![CDATA[x]]>", "<script>alert(1)</script>", '<a href="//x.test">x</a>',
                '<a href="java\tscript:x">x</a>', "<svg onload=alert(1)>", "<ul onclick=x><li>x</li></ul>", "x\x00"]:
        assert message_problems(bad), bad


# ----- a whole export: messages, names, channel names and the room name are the vectors ------------------

EXPORT_TAGS: dict[str, set[str]] = {
    **MESSAGE_TAGS, "html": {"lang"}, "head": set(), "meta": {"charset"}, "title": set(), "style": set(),
    "body": set(), "main": set(), "h1": set(), "h2": set(), "section": {"class"}, "div": {"class", "id"},
    "span": {"class", "title"}, "details": set(), "summary": {"class"},
    "ul": set(), "li": set(), "strong": set(),
    "a": MESSAGE_TAGS["a"] | {"href"},
}
EXPORT_CLASSES = {"pins", "msg", "msg pinned", "reply", "who", "ts", "fwd", "deleted", "text", "edited", "reactions"}


class ExportOracle(Oracle):
    """The message oracle plus the export's own page: its elements, its classes, `#m-` links, one style sheet."""

    def __init__(self) -> None:
        super().__init__(EXPORT_TAGS, fragments=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        super().handle_starttag(tag, attrs)
        for name, value in attrs:
            if name == "class" and value not in EXPORT_CLASSES:
                self.problems.append(f"class {value!r} on <{tag}>")


def vector_room() -> ExportedRoom:
    texts = VECTORS + WITH_NUL[:20] + LONG[:3]
    names = {f"a{i}": v[:64] for i, v in enumerate(VECTORS)}
    channels = [Channel(id=f"c{i}", name=v[:100], category=v[:20]) for i, v in enumerate(VECTORS[:40])]
    channels.append(Channel(id="voice", name=VECTORS[0], kind="voice"))
    messages: dict[str, list[Message]] = {c.id: [] for c in channels}
    prev = ""
    for i, text in enumerate(texts):
        author = f"a{i % len(VECTORS)}"
        mid = f"m{i}" if i % 9 else f'm{i}" onmouseover="alert(1)'
        msg = Message(id=mid, author=author, channel=channels[i % 40].id, text=text, ts=1.7e12 + i * 1000,
                      reply_to=prev or None, pinned=i % 5 == 0, reactions={v[:8]: [author] for v in VECTORS[i:i + 2]},
                      forward={"author": text[:30], "room": text[-30:]} if i % 7 == 0 else None,
                      edits=[Edit(eid="e1", text=text[::-1], ts=1.7e12, by=author),
                             Edit(eid="e2", text=text, ts=1.7e12, by=author)] if i % 4 == 0 else [],
                      deleted=i % 11 == 10)
        messages[msg.channel].append(msg)
        prev = mid
    return ExportedRoom(name=VECTORS[1], room_id="ab" * 16, channels=channels, messages=messages,
                        name_of=lambda short: names.get(short, short))


def test_a_whole_html_export_of_a_room_made_of_vectors_stays_inside_the_allowlist() -> None:
    page = to_html(vector_room())
    oracle = ExportOracle()
    oracle.feed(page)
    oracle.close()
    assert oracle.problems == [], oracle.problems[:20]
    assert oracle.decls == ["doctype html"]
    assert oracle.style_text == [_CSS], "the page has one style sheet, its own"
    assert "\x00" not in page


def test_export_oracle_sees_an_injected_name() -> None:
    """Without escaping, a name would add an element: the export oracle must see that."""
    oracle = ExportOracle()
    oracle.feed('<span class=who><img src=x onerror=alert(1)></span><div class="evil">')
    assert len(oracle.problems) == 2


# ----- properties -----------------------------------------------------------------------------------

PIECES = ["*", "**", "_", "__", "~~", "`", "```", "~~~", "[", "]", "(", ")", "<", ">", "!", "&", "#", ";", ":", '"',
          "'", "=", "\n", "\n\n", " ", "    ", "\\", "-", "- ", "1. ", "> ", "javascript:", "JaVaScRiPt:", "https://",
          "http://x.test/", "mailto:", "hubbub:", "hubbub://join/", "data:", "vbscript:", "file:", "on", "onerror=",
          "onmouseover=", "style=", "<img", "<script>", "<svg", "<a href=", "&#106;", "&#x6A;", "&colon;", "&quot;",
          "\x00", "\t", "\r", "%22", "/", "//", "@", "x@y.test", "<!--", "-->", "<![CDATA[", "]]>", "|", "^"]
MARKDOWNISH = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=60).map("".join)


@settings(max_examples=600, deadline=None)
@given(MARKDOWNISH)
def test_any_text_renders_inside_the_allowlist_and_never_raises(text: str) -> None:
    out = render._render(text)
    assert message_problems(out) == [], (text, out)
    assert markdown_html(text) == out or render._PLAIN.fullmatch(text)
    plain = markdown_plain(text)
    assert "\n" not in plain


@settings(max_examples=600, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.sampled_from(["\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\xa0"]),
                          st.text(max_size=4)), max_size=30).map("".join))
def test_one_line_parsed_as_inline_text_renders_as_the_full_parse(text: str) -> None:
    assert render._render(text) == render._render(text, inline_ok=False)


@pytest.mark.parametrize("unit", ["[", "*", "_", "![", "[a](", "**a", ">*", "*a", "**_", "<", "&", "[]", "](", "\\",
                                  "`a", "``a", "[x]: ", "<a", "x@y.z ", "https://", "> - ", "1. [", "~~a", "[`"])
def test_rendering_time_grows_linearly(unit: str) -> None:
    """Pathological Markdown: the work (Python calls, deterministic; not a timing) for 16,000 characters is
    at most 10x the work for 2,000 (8x is linear). markdown-it's nesting cap and our input cap keep it so."""
    def calls(text: str) -> int:
        count = [0]

        def profile(frame: object, event: str, arg: object) -> None:
            if event == "call":
                count[0] += 1

        sys.setprofile(profile)
        try:
            render._render(text)
        finally:
            sys.setprofile(None)
        return count[0]

    small = calls((unit * 2000)[:2000])
    big = calls((unit * 16_000)[:16_000])
    assert big <= 10 * max(small, 1000), (small, big)


@pytest.mark.parametrize("ts,time", [(4.6e18, "an impossible time"), (-4.6e18, "an impossible time"),
                                     (1e15, "an impossible time"), (-1000.0, "1969-12-31 23:59:59 UTC")])
def test_an_impossible_time_does_not_stop_an_export(ts: float, time: str) -> None:
    """The schema accepts any |ts| < 2**62 ms; far beyond year 9999 the export says so instead of raising."""
    from app.export import message_record, to_json, to_markdown

    room = vector_room()
    msg = next(iter(room.messages["c1"]))
    msg.ts = ts
    assert message_record(msg, room.name_of)["time"] == time
    for write in (to_html, to_markdown, to_json):
        assert write(room)
