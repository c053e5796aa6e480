"""The search box's language: what each form parses to, and that no typed text reaches FTS5 as syntax."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.search.query import MAX_TERMS, QueryError, Term, match_expression, parse_query

TODAY = date(2024, 6, 15)


def test_words_phrases_prefixes_and_exclusions() -> None:
    q = parse_query('lan "pizza party" deploy* -bug -"bad day"', TODAY)
    assert q.terms == [Term("lan"), Term("pizza party", phrase=True), Term("deploy", prefix=True)]
    assert q.excluded == [Term("bug"), Term("bad day", phrase=True)]
    assert match_expression(q.terms) == '"lan" AND "pizza party" AND "deploy"*'


def test_filters() -> None:
    q = parse_query('from:@alice from:"Bob Smith" in:#general in:random has:file has:link is:pinned', TODAY)
    assert q.authors == ["alice", "Bob Smith"] and q.channels == ["general", "random"]
    assert q.has_file and q.has_link and q.pinned and not q.terms


def test_dates_name_whole_days_in_local_time() -> None:
    q = parse_query("before:2024-05-02 after:2024-04", TODAY)
    assert q.before_ms == datetime(2024, 5, 2).timestamp() * 1000
    assert q.after_ms == datetime(2024, 5, 1).timestamp() * 1000  # after April: from May 1st
    assert parse_query("after:yesterday", TODAY).after_ms == datetime(2024, 6, 15).timestamp() * 1000
    assert parse_query("before:today", TODAY).before_ms == datetime(2024, 6, 15).timestamp() * 1000


@pytest.mark.parametrize("text, sentence", [
    ("before:someday", "is not a date"), ("after:2024-13-45", "is not a date"), ("has:cats", "has:file or has:link"),
    ("is:read", "is:pinned"),
])
def test_a_filter_that_cannot_be_read_is_one_sentence(text: str, sentence: str) -> None:
    with pytest.raises(QueryError, match=sentence) as caught:
        parse_query(text, TODAY)
    assert str(caught.value).endswith(".")


def test_quoted_filters_and_syntax_words_are_plain_text() -> None:
    q = parse_query('"from:alice" AND OR NOT NEAR(a b) col:x', TODAY)
    assert [t.text for t in q.terms] == ["from:alice", "AND", "OR", "NOT", "NEAR(a", "b)", "col:x"]
    assert match_expression(q.terms) == '"from:alice" AND "AND" AND "OR" AND "NOT" AND "NEAR(a" AND "b)" AND "col:x"'


def test_punctuation_alone_finds_nothing_and_long_queries_are_capped() -> None:
    assert parse_query('!!! *** "" - " *', TODAY).empty
    assert len(parse_query(" ".join(f"w{i}" for i in range(100)), TODAY).terms) == MAX_TERMS


def test_an_unclosed_quote_runs_to_the_end_and_inner_quotes_are_doubled() -> None:
    q = parse_query('say "hello there', TODAY)
    assert q.terms[-1] == Term("hello there", phrase=True)
    assert Term('a"b').fts() == '"a""b"'


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab "*-:()^+ANDORNOT')), max_size=60) | st.text(max_size=80))
def test_any_text_parses_or_says_why_in_a_sentence(text: str) -> None:
    try:
        q = parse_query(text, TODAY)
    except QueryError as exc:
        assert str(exc).endswith(".")
        return
    expr = match_expression(q.terms)
    if expr is not None:
        assert _only_quoted_strings(expr), expr


def _only_quoted_strings(expr: str) -> bool:
    """Whether `expr` is quoted strings (inner quotes doubled, an optional *) joined by " AND ", and nothing else."""
    i = 0
    while True:
        if expr[i:i + 1] != '"':
            return False
        i += 1
        while True:
            j = expr.find('"', i)
            if j < 0:
                return False
            if expr[j + 1:j + 2] == '"':
                i = j + 2
                continue
            i = j + 1
            break
        if expr[i:i + 1] == "*":
            i += 1
        if i == len(expr):
            return True
        if expr[i:i + 5] != " AND ":
            return False
        i += 5


def test_the_checker_itself() -> None:
    assert _only_quoted_strings('"a" AND "b c"* AND "d""e"')
    assert not _only_quoted_strings('"a" OR "b"') and not _only_quoted_strings('"a" AND b') and not _only_quoted_strings('"a')
