"""An oracle for rendered message HTML: parse it and list everything outside the renderer's allowlist."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

XSS_VECTORS = Path(__file__).resolve().parents[1] / "data" / "xss_vectors.txt"

# What a rendered message may contain: element -> the attributes it may carry.
MESSAGE_TAGS: dict[str, set[str]] = {
    "a": {"href", "title", "rel"}, "blockquote": set(), "br": set(), "code": set(), "em": set(), "li": set(),
    "ol": {"start"}, "p": set(), "pre": set(), "s": set(), "strong": set(), "ul": set(),
}
SCHEMES = {"http", "https", "mailto", "hubbub"}


def href_problem(href: str, *, fragments: bool = False) -> str | None:
    """Why an href is not allowed, or None (a `#m-…` fragment only when `fragments`)."""
    if fragments and href.startswith("#m-"):
        return None
    if any(ord(c) < 0x21 or c in '"<>`\\' for c in href):
        return f"href with a control character, space, double quote or angle bracket: {href!r}"
    try:
        scheme = urlsplit(href).scheme.lower()
    except ValueError:
        return f"href that does not parse as a URL: {href!r}"
    if scheme not in SCHEMES:
        return f"href scheme {scheme!r} not allowed: {href!r}"
    return None


class Oracle(HTMLParser):
    """Collects every element, attribute, declaration and comment a browser would see."""

    def __init__(self, tags: dict[str, set[str]], *, fragments: bool = False,
                 styles: dict[str, set[str]] | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.tags = tags
        self.fragments = fragments
        self.styles = styles or {}
        self.problems: list[str] = []
        self.decls: list[str] = []
        self.style_text: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.tags:
            self.problems.append(f"element <{tag}> not allowed")
            return
        self._in_style = tag == "style"
        for name, value in attrs:
            if name == "style" and value is not None and value in self.styles.get(tag, set()):
                continue
            if name not in self.tags[tag]:
                self.problems.append(f"attribute {name}={value!r} not allowed on <{tag}>")
            elif name in ("href", "src", "action", "formaction", "background"):
                problem = href_problem(value or "", fragments=self.fragments)
                if problem:
                    self.problems.append(problem)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False
        if tag not in self.tags:
            self.problems.append(f"end tag </{tag}> not allowed")

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style_text.append(data)

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment <!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.decls.append(decl)

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"declaration <![{data}]>")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction <?{data}>")


def message_problems(html: str, styles: dict[str, set[str]] | None = None) -> list[str]:
    """Everything in a rendered message fragment that is outside the allowlist (empty when it is clean)."""
    oracle = Oracle(MESSAGE_TAGS, styles=styles)
    oracle.feed(html)
    oracle.close()
    if oracle.decls:
        oracle.problems += [f"declaration <!{d}>" for d in oracle.decls]
    if "\x00" in html:
        oracle.problems.append("NUL byte in the output")
    return oracle.problems


def xss_vectors() -> list[str]:
    """The vectors of tests/data/xss_vectors.txt (blocks between lines of `%%`, after a header)."""
    blocks = XSS_VECTORS.read_text(encoding="utf-8").split("\n%%\n")[1:]
    return [b.rstrip("\n") for b in blocks]
