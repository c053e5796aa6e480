"""Short texts the window shows, worked out without widgets: who is typing, counts with their plural."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """`n` and the word in the number it needs: "1 member", "3 members"."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def typing_text(names: list[str]) -> str:
    """The typing line for the names of the people typing now (a space when nobody is, so the line keeps its height)."""
    if not names:
        return " "
    if len(names) == 1:
        return f"<b>{names[0]}</b> is typing…"
    if len(names) <= 3:
        return "<b>" + "</b>, <b>".join(names[:-1]) + f"</b> and <b>{names[-1]}</b> are typing…"
    return "Several people are typing…"
