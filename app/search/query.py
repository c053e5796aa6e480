"""The search box's language: words, "phrases", prefix*, -excluded, and from:, in:, has:, is:, before:, after: filters.

`parse_query` turns what a person typed into a `Query`; `match_expression` turns its words into an
FTS5 MATCH expression in which every word the user typed is a quoted string, so no user text is ever
read as FTS5 syntax. Nothing here raises but `QueryError`, whose message is one sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from ..errors import HubbubError

MAX_QUERY = 512   # characters of a query that are read; the rest is ignored
MAX_TERMS = 16    # words and phrases (more make a query slow and find nothing new)
FILTERS = ("from", "in", "has", "is", "before", "after")
HAS = ("file", "link")
IS = ("pinned",)
_WORD = re.compile(r"\w")
_FILTER = re.compile(r"(?i)(from|in|has|is|before|after):(.*)")


class QueryError(HubbubError):
    """A query that cannot be run as typed; the message says why in one sentence."""


@dataclass(frozen=True, slots=True)
class Term:
    """A word or a phrase to find; `prefix`: its last word may go on (`deploy*` finds "deployment")."""

    text: str
    prefix: bool = False
    phrase: bool = False

    def fts(self) -> str:
        """The term as an FTS5 string: quoted (inner quotes doubled), so it is never read as syntax."""
        quoted = '"' + self.text.replace('"', '""') + '"'
        return quoted + "*" if self.prefix else quoted


@dataclass(slots=True)
class Query:
    """A parsed query: what the text must hold and not hold, and the filters on the messages."""

    terms: list[Term] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)   # from:NAME (any of them)
    channels: list[str] = field(default_factory=list)  # in:#channel (any of them), without the '#'
    has_file: bool = False
    has_link: bool = False
    pinned: bool = False
    before_ms: float | None = None  # messages older than this
    after_ms: float | None = None   # messages from this moment on

    @property
    def empty(self) -> bool:
        """Nothing to look for: no word and no filter."""
        return not (self.terms or self.excluded or self.authors or self.channels or self.has_file or self.has_link
                    or self.pinned or self.before_ms is not None or self.after_ms is not None)

    def words(self) -> list[str]:
        """The words to find, lower case, without phrase quotes or the prefix star (for highlighting)."""
        return [w.lower() for t in self.terms for w in re.findall(r"\w+", t.text)]


def _tokens(text: str) -> list[tuple[str, bool, bool]]:
    """Split on spaces outside double quotes: (token, whether it holds a quote, whether it starts with one).
    An unclosed quote runs to the end."""
    out: list[tuple[str, bool, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        buf: list[str] = []
        quoted = False
        while i < n and not text[i].isspace():
            if text[i] == '"':
                quoted = True
                end = text.find('"', i + 1)
                end = n if end < 0 else end
                buf.append(text[i + 1:end])
                i = end + 1
            else:
                buf.append(text[i])
                i += 1
        out.append(("".join(buf), quoted, text[start] == '"'))
    return out


def _day_range(text: str, today: date) -> tuple[datetime, datetime]:
    """The period a date names, as (start, end) in local time: YYYY-MM-DD, YYYY-MM, YYYY, today, yesterday."""
    low = text.strip().lower()
    if low in ("today", "yesterday"):
        day = today if low == "today" else today - timedelta(days=1)
        start = datetime.combine(day, time())
        return start, start + timedelta(days=1)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", low):
            start = datetime.combine(date.fromisoformat(low), time())
            return start, start + timedelta(days=1)
        if re.fullmatch(r"\d{4}-\d{2}", low):
            y, m = int(low[:4]), int(low[5:])
            start = datetime(y, m, 1)
            return start, datetime(y + (m == 12), m % 12 + 1, 1)
        if re.fullmatch(r"\d{4}", low):
            y = int(low)
            return datetime(y, 1, 1), datetime(y + 1, 1, 1)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(:\d{2})?", low):
            start = datetime.fromisoformat(low.replace("t", " "))
            return start, start
    except (ValueError, OverflowError):
        pass
    raise QueryError(f"{text!r} is not a date; write one such as 2024-05-31, 2024-05, today or yesterday.")


def _ms(moment: datetime) -> float:
    try:
        return moment.timestamp() * 1000.0
    except (OverflowError, OSError, ValueError):
        return 0.0


def _term(token: str, quoted: bool) -> Term | None:
    prefix = token.endswith("*")
    text = token.rstrip("*")
    text = text.replace("\x00", " ").strip()
    if not _WORD.search(text):
        return None  # only punctuation: the tokenizer would find no word in it
    return Term(text[:200], prefix=prefix, phrase=quoted or bool(re.search(r"\W", text)))


def parse_query(text: str, today: date | None = None) -> Query:
    """Read a query as typed; raises QueryError (one sentence) for a filter that cannot be understood."""
    q = Query()
    day = today or date.today()
    for token, quoted, literal in _tokens(text[:MAX_QUERY]):
        negative = token.startswith("-") and len(token) > 1 and not literal
        body = token[1:] if negative else token
        match = None if literal else _FILTER.fullmatch(body)
        if match is not None and not negative:
            key, value = match.group(1).lower(), match.group(2).strip()
            if value:
                _apply_filter(q, key, value, day)
                continue
        term = _term(body, quoted)
        if term is None:
            continue
        target = q.excluded if negative else q.terms
        if len(q.terms) + len(q.excluded) < MAX_TERMS:
            target.append(term)
    return q


def _apply_filter(q: Query, key: str, value: str, today: date) -> None:
    if key == "from":
        q.authors.append(value.lstrip("@"))
    elif key == "in":
        q.channels.append(value.lstrip("#"))
    elif key == "has":
        if value.lower() not in HAS:
            raise QueryError(f"has:{value} is not a filter Hubbub knows; use has:file or has:link.")
        if value.lower() == "file":
            q.has_file = True
        else:
            q.has_link = True
    elif key == "is":
        if value.lower() not in IS:
            raise QueryError(f"is:{value} is not a filter Hubbub knows; use is:pinned.")
        q.pinned = True
    elif key == "before":
        start, _end = _day_range(value, today)
        q.before_ms = _ms(start) if q.before_ms is None else min(q.before_ms, _ms(start))
    elif key == "after":
        _start, end = _day_range(value, today)
        q.after_ms = _ms(end) if q.after_ms is None else max(q.after_ms, _ms(end))


def match_expression(terms: list[Term]) -> str | None:
    """The FTS5 MATCH expression that requires every term (None when there is none)."""
    if not terms:
        return None
    return " AND ".join(t.fts() for t in terms)


__all__ = ["FILTERS", "MAX_QUERY", "MAX_TERMS", "Query", "QueryError", "Term", "match_expression", "parse_query"]
