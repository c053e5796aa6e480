"""The message renderer (app/render.py): the Markdown a chat needs, and nothing that surprises in a chat line."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import render
from app.render import MAX_RENDERED, markdown_html, markdown_plain

from .html_oracle import message_problems


@pytest.mark.parametrize("text,html", [
    ("hello", "hello"),
    ("x < y & z", "x &lt; y &amp; z"),
    ("**bold** *it* _it_ ~~gone~~", "<strong>bold</strong> <em>it</em> <em>it</em> <s>gone</s>"),
    ("snake_case_name and 2*3*4", "snake_case_name and 2<em>3</em>4"),
    ("one\ntwo", "one<br>two"),
    ("see `x<y`", "see <code>x&lt;y</code>"),
    ("```py\n<b>x</b>\nend\n```", "<pre><code>&lt;b&gt;x&lt;/b&gt;\nend</code></pre>"),
    ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
    ("3. c\n4. d", '<ol start="3">\n<li>c</li>\n<li>d</li>\n</ol>'),
    ("> asked **this**\nmy answer", "<blockquote>\n<p>asked <strong>this</strong></p>\n</blockquote>\n<p>my answer</p>"),
    ("one\n\ntwo", "<p>one</p>\n<p>two</p>"),
    ("@alice look", "@alice look"),
])
def test_the_markdown_a_chat_needs(text: str, html: str) -> None:
    assert markdown_html(text) == html
    assert message_problems(markdown_html(text)) == []


@pytest.mark.parametrize("text", ["# not a heading", "text\n---", "    indented", "[ref]: https://example.com",
                                  "---", "<b>raw</b>"])
def test_what_would_surprise_in_a_chat_line_stays_text(text: str) -> None:
    out = markdown_html(text)
    assert not re.search(r"<(h\d|hr|pre|img|b)\b", out), out
    for word in re.findall(r"\w+", text):
        assert word in out


@pytest.mark.parametrize("text,href", [
    ("go to https://example.com/a?b=1&c=2 now", "https://example.com/a?b=1&amp;c=2"),
    ("mail bob@example.com", "mailto:bob@example.com"),
    ("join hubbub://join/AbC-_x9?n=Weekend", "hubbub://join/AbC-_x9?n=Weekend"),
    ("[the docs](https://example.com/docs)", "https://example.com/docs"),
    ("<https://example.com/auto>", "https://example.com/auto"),
])
def test_links_are_made_for_the_allowed_schemes(text: str, href: str) -> None:
    out = markdown_html(text)
    assert f'<a href="{href}" rel="noopener noreferrer nofollow">' in out
    assert message_problems(out) == []


@pytest.mark.parametrize("text", ["see app.py and example.com", "[x](javascript:alert(1))", "[x](file:///etc/passwd)",
                                  "[x](relative/path.html)", "[x](#fragment)", "<ftp://example.com/>",
                                  "//example.com/x"])
def test_no_link_for_anything_else(text: str) -> None:
    out = markdown_html(text)
    assert "<a " not in out, out


def test_an_image_is_a_link_never_loaded() -> None:
    out = markdown_html("![cat](https://example.com/cat.png) ![x](file:///etc/passwd)")
    assert out == '!<a href="https://example.com/cat.png" rel="noopener noreferrer nofollow">cat</a> ![x](file:///etc/passwd)'


@pytest.mark.parametrize("depth", [1, 5, 9, 10, 19, 20, 21, 40, 400])
@pytest.mark.parametrize("marker", ["> ", "- ", "1. ", "* ", "> - ", ">"])
def test_deep_nesting_keeps_the_text(marker: str, depth: int) -> None:
    """markdown-it drops what nests past its limit; the renderer shows such a message unformatted instead."""
    out = markdown_html(marker * depth + "hello **there**")
    assert "hello" in out and "there" in out
    assert message_problems(out) == []


def test_overlong_text_is_cut_at_the_cap() -> None:
    out = markdown_html("word " * (MAX_RENDERED // 2))
    assert out.endswith("…") and len(out) <= MAX_RENDERED + 1


@pytest.mark.parametrize("text,plain", [
    ("first message with **bold**", "first message with bold"),
    ("`code` and ~~old~~ [link](https://example.com)", "code and old link"),
    ("> quoted\nanswer", "quoted answer"),
    ("- a\n- b", "a b"),
    ("```\n<b>x</b>\n```", "<b>x</b>"),
    ("a &amp; b", "a & b"),
])
def test_plain_text_for_quotes_has_no_markdown_marks(text: str, plain: str) -> None:
    assert markdown_plain(text) == plain


def test_plain_text_is_cut_to_a_limit() -> None:
    assert markdown_plain("**" + "x" * 100 + "**", 10) == "x" * 9 + "…"


def test_the_renderer_loads_markdown_it_only_when_it_renders() -> None:
    """`hubbub room list` imports app.export; it must not pay for markdown-it and nh3 (issue 11, CLI speed)."""
    import subprocess

    code = "import app.cli, sys; print('markdown_it' in sys.modules, 'nh3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


PLAIN_CHARS = st.text(alphabet=st.sampled_from("abcXYZéß漢字 ,.;?!'\"%$()=-0123456789"), max_size=60)


@settings(max_examples=300, deadline=None)
@given(PLAIN_CHARS)
def test_the_fast_path_for_plain_text_is_what_the_full_path_renders(text: str) -> None:
    if render._PLAIN.fullmatch(text):
        assert render._render(text) == text


def test_only_short_texts_are_cached() -> None:
    """A flood of long messages must not fill memory through the render caches."""
    before = render._cached_html.cache_info().currsize
    markdown_html("**a short text** that is new " + str(id(object())))
    assert render._cached_html.cache_info().currsize == min(before + 1, 1024)
    during = render._cached_html.cache_info().currsize
    markdown_html("&" * (render.CACHED_UP_TO + 1))
    markdown_plain("*" * (render.CACHED_UP_TO + 1))
    assert render._cached_html.cache_info().currsize == during
    assert render._cached_html.cache_info().maxsize == render._cached_plain.cache_info().maxsize == 1024
