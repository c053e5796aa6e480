"""Short texts the window shows, worked out without widgets: who is typing, counts with their plural."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """`n` and the word in the number it needs: "1 member", "3 members"."""
    return f"{n} {word if n == 1 else many or word + 's'}"


INVITE_EXPIRY = (("1 hour", 3600.0), ("1 day", 86400.0), ("7 days", 7 * 86400.0), ("Never", None))


def invite_terms(valid_seconds: float | None, uses: int) -> str:
    """What an invite link allows, in a sentence: "It works once and expires in 7 days."."""
    label = next((name for name, secs in INVITE_EXPIRY if secs == valid_seconds), None)
    if label is None and valid_seconds is not None:
        label = plural(max(1, round(valid_seconds / 3600)), "hour")
    times = "once" if uses == 1 else f"for {uses} people"
    return f"It works {times} and never expires." if valid_seconds is None else f"It works {times} and expires in {label}."


CHANNEL_TTL = (("Off", None), ("1 hour", 3600.0), ("1 day", 86400.0), ("1 week", 7 * 86400.0))
MESSAGE_TTL = (("Off", None), ("5 minutes", 300.0), ("1 hour", 3600.0), ("1 day", 86400.0), ("1 week", 7 * 86400.0))


def duration(seconds: float) -> str:
    """A time to live as people say it: "5 minutes", "1 hour", "1 week"."""
    for limit, unit in ((7 * 86400, "week"), (86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= limit and seconds % limit == 0:
            return plural(int(seconds // limit), unit)
    return plural(max(1, round(seconds)), "second")


def countdown(ms_left: float) -> str:
    """What is left of a disappearing message's life, short: "45s", "12m", "5h", "6d"."""
    s = max(0.0, ms_left / 1000)
    if s < 60:
        return f"{int(s)}s"
    if s < 3600:
        return f"{int(s // 60)}m"
    if s < 86400:
        return f"{int(s // 3600)}h"
    return f"{int(s // 86400)}d"


def ago(then_ms: float, now_ms: float) -> str:
    """How long ago something happened, as chat apps say it: "just now", "5 min ago", "3 h ago", "2 days ago"."""
    s = max(0.0, (now_ms - then_ms) / 1000)
    if s < 60:
        return "just now"
    if s < 3600:
        return f"{int(s // 60)} min ago"
    if s < 86400:
        return f"{int(s // 3600)} h ago"
    days = int(s // 86400)
    return "yesterday" if days == 1 else f"{days} days ago"


def thread_summary(replies: int, last_ms: float, now_ms: float) -> str:
    """The line under a thread's root: "3 replies · last reply 5 min ago"."""
    return f"{plural(replies, 'reply', 'replies')} · last reply {ago(last_ms, now_ms)}"


def typing_text(names: list[str]) -> str:
    """The typing line for the names of the people typing now (a space when nobody is, so the line keeps its height)."""
    if not names:
        return " "
    if len(names) == 1:
        return f"<b>{names[0]}</b> is typing…"
    if len(names) <= 3:
        return "<b>" + "</b>, <b>".join(names[:-1]) + f"</b> and <b>{names[-1]}</b> are typing…"
    return "Several people are typing…"
