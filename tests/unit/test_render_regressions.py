"""Regressions of message rendering: each case once broke out of the HTML a message may produce."""

from __future__ import annotations

import pytest

from app.render import markdown_html

from .html_oracle import message_problems


@pytest.mark.parametrize("text", [
    'https://example.com/"onmouseover="alert(1)',
    'see https://example.com/x"style="position:fixed;top:0;left:0;width:100%;height:100%" now',
    "https://example.com/'onfocus='alert(1)'autofocus='",
    '**https://example.com/"onclick="alert(1)**',
])
def test_a_link_cannot_close_its_href_quote_and_add_attributes(text: str) -> None:
    """Issue 9, 8: a bare link closed its `href` quote and added `onmouseover` and `style`."""
    assert message_problems(markdown_html(text)) == []
