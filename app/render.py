"""Message text to safe HTML and to plain text: the one Markdown renderer of the app's rich text and the exports.

Text is parsed by markdown-it-py (CommonMark with raw HTML off, plus strikethrough and bare-link
linkify), then cleaned by nh3 against the allowlist below, for the desktop app (Qt rich text) and
the HTML export alike. What a chat does not need, and what would surprise in a chat line, is off:
headings, setext headings, rules, indented code, reference definitions and images. A link is made
only for http, https, mailto and hubbub URLs; anything else stays text. Nothing in the output can
load a file or a URL by itself: there are no images and no style attributes.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable
from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # markdown-it and nh3 load on the first render, so that `hubbub room list` does not pay for them
    import nh3
    from markdown_it import MarkdownIt
    from markdown_it.rules_block import StateBlock
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token

log = logging.getLogger(__name__)

MAX_NESTING = 20  # markdown-it's recursion limit; deeper text is shown unformatted instead of dropped
CACHED_UP_TO = 2_000  # characters; longer texts are rendered each time (the painter keeps its own documents)
MAX_RENDERED = 16_000  # characters rendered; the rest of a longer text is cut (messages are capped there too)
LINK_SCHEMES = frozenset({"http", "https", "mailto", "hubbub"})
TAGS: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}), "blockquote": frozenset(), "br": frozenset(), "code": frozenset(),
    "em": frozenset(), "li": frozenset(), "ol": frozenset({"start"}), "p": frozenset(), "pre": frozenset(),
    "s": frozenset(), "strong": frozenset(), "ul": frozenset(),
}

_LINK = re.compile(r"(?:https?|mailto|hubbub):", re.I)
# Text that Markdown leaves exactly as it is: a letter first, then letters, digits, spaces and punctuation
# with no Markdown meaning, not ending in a space. Rendering it is the identity (a property test holds this).
_PLAIN = re.compile(r"[^\W\d_](?:[^\W_]|[ ,.;?!'\"%$()=-])*(?<! )")


def _nesting_guard(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """A block rule that matches nothing: it notes when the nesting is deep enough for markdown-it to drop text."""
    if state.level >= MAX_NESTING - 2:
        state.env["too_deep"] = True
    return False


def _allowed_link(url: str) -> bool:
    """markdown-it's link check: only the schemes a message may link to (the URL is normalised already)."""
    return _LINK.match(url) is not None


def _linkify_if_any(core_rules: list[Callable[[StateCore], None]]) -> Callable[[StateCore], None]:
    """markdown-it's linkify pass, skipped for a message with no `:` or `@` to link (a tenth of a short render)."""
    from markdown_it.rules_core import linkify

    def rule(state: StateCore) -> None:
        if ":" in state.src or "@" in state.src:
            linkify(state)

    assert linkify in core_rules
    return rule


@cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": True, "typographer": False,
                                   "maxNesting": MAX_NESTING})
    md.enable(["strikethrough", "linkify"])
    md.disable(["heading", "lheading", "hr", "code", "reference", "image", "html_block", "html_inline"])
    md.block.ruler.before("fence", "nesting_guard", _nesting_guard)
    md.core.ruler.at("linkify", _linkify_if_any(md.core.ruler.getRules("")))
    md.validateLink = _allowed_link  # type: ignore[method-assign]
    assert md.linkify is not None
    md.linkify.set({"fuzzy_link": False, "fuzzy_ip": False, "fuzzy_email": True})
    md.linkify.add("hubbub:", "http:")
    return md


@cache
def _cleaner() -> nh3.Cleaner:
    import nh3

    return nh3.Cleaner(
        tags=set(TAGS), attributes={tag: set(attrs) for tag, attrs in TAGS.items()}, url_schemes=set(LINK_SCHEMES),
        url_relative="deny", link_rel="noopener noreferrer nofollow", strip_comments=True,
        clean_content_tags={"script", "style"},
    )


_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_ONE_PARAGRAPH = re.compile(r"(?!>|(?:[*+-]|\d{1,9}[.)])(?:[ \t]|$)|```|~~~)[^\n\r]+")
_QUOTE = re.compile(r" {0,3}>")


def _capped(text: str) -> str:
    text = text.replace("\x00", "\ufffd")
    return text if len(text) <= MAX_RENDERED else text[:MAX_RENDERED] + "…"


def _chat_source(text: str) -> str:
    """The text as markdown-it should read it: a quote ends at the first line that is not quoted.

    (CommonMark would carry `> asked\nmy answer` on as a "lazy" line of the quote; in a chat, the answer
    is not part of the quote.)"""
    if ">" not in text:
        return text
    lines = text.split("\n")
    out: list[str] = []
    fence = ""
    for i, line in enumerate(lines):
        out.append(line)
        mark = _FENCE.match(line)
        if mark and not fence:
            fence = mark.group(1)
        elif mark and mark.group(1).startswith(fence) and not line[mark.end():].strip():
            fence = ""
        elif (not fence and _QUOTE.match(line) and i + 1 < len(lines) and lines[i + 1].strip()
              and not _QUOTE.match(lines[i + 1])):
            out.append("")
    return "\n".join(out)


def _tokens(text: str, inline_ok: bool = True) -> list[Token] | None:
    """markdown-it's tokens for a message, or None when it nests too deep to keep all its text (or fails).

    One line that cannot start a block (a quote, a list item or a fence: the other block rules are off)
    is one paragraph, so it is parsed as inline text alone, which is a fifth cheaper. A property test
    holds the two parses to the same HTML."""
    env: dict[str, bool] = {}
    text = _capped(text)
    try:
        if inline_ok and _ONE_PARAGRAPH.fullmatch(text) and text == text.strip():
            return _parser().parseInline(text, env)
        tokens = _parser().parse(_chat_source(text), env)
    except Exception:  # a parser bug must not stop the painting of a chat: the text is shown as it is
        log.exception("could not parse a message's Markdown; showing it as plain text")
        return None
    return None if env.get("too_deep") else tokens


def escape(text: str) -> str:
    """User text as HTML text or a quoted attribute value: `&<>"'` escaped, NUL bytes made U+FFFD."""
    return html.escape(text.replace("\x00", "\ufffd"))


def _escaped(text: str) -> str:
    """The text as it is, escaped, with its line breaks: what a message shows when it cannot be rendered."""
    return html.escape(_capped(text), quote=False).replace("\n", "<br>")


def _render(text: str, inline_ok: bool = True) -> str:
    """The full path: parse, render, sanitise, and unwrap a message that is one paragraph."""
    tokens = _tokens(text, inline_ok)
    if tokens is None:
        return _escaped(text)
    md = _parser()
    try:
        out = _cleaner().clean(md.renderer.render(tokens, md.options, {})).strip()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # nh3's Rust panics are BaseExceptions, not Exceptions
        log.exception("could not render a message; showing it as plain text")
        return _escaped(text)
    out = out.replace("<br>\n", "<br>").replace("\n</code></pre>", "</code></pre>")
    if out.startswith("<p>") and out.endswith("</p>") and out.count("<p>") == 1:
        out = out[3:-4]
    return out


def prepare() -> None:
    """Load markdown-it and nh3 now (25-35 ms), so the first message with Markdown does not stall a paint."""
    _parser()
    _cleaner()


def markdown_html(text: str) -> str:
    """A message's text as a safe HTML fragment: the same for Qt rich text and the HTML export."""
    return _cached_html(text) if len(text) <= CACHED_UP_TO else _html(text)


def markdown_plain(text: str, limit: int | None = None) -> str:
    """A message's text with its Markdown taken out, on one line (reply quotes, pins, previews); not escaped."""
    return _cached_plain(text, limit) if len(text) <= CACHED_UP_TO else _plain(text, limit)


def _html(text: str) -> str:
    return text if _PLAIN.fullmatch(text) else _render(text)


def _plain(text: str, limit: int | None) -> str:
    tokens = None if _PLAIN.fullmatch(text) else _tokens(text)
    if tokens is not None:
        parts: list[str] = []
        for token in tokens:
            if token.type in ("fence", "code_block"):
                parts.append(token.content)
            elif token.type == "inline":
                for child in token.children or ():
                    if child.type in ("text", "code_inline"):
                        parts.append(child.content)
                    elif child.type in ("softbreak", "hardbreak"):
                        parts.append(" ")
            parts.append(" ")
        text = "".join(parts)
    return one_line(text, limit)


# Rendered text is cached by text, for messages up to CACHED_UP_TO characters: a flood of long messages
# cannot grow the caches past about 1024 x 10 KB (HTML escaping can make text five times longer).
_cached_html = lru_cache(maxsize=1024)(_html)
_cached_plain = lru_cache(maxsize=1024)(_plain)


def one_line(text: str, limit: int | None = None) -> str:
    """Text on one line, its runs of white space made one space, cut to `limit` characters with an ellipsis."""
    line = " ".join(text.split())
    return line if limit is None or len(line) <= limit else line[: limit - 1] + "…"
