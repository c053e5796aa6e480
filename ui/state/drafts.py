"""Which draft the composer shows: the open conversation's own, saved as it is typed and given back on return."""

from __future__ import annotations

from app.drafts import Drafts


class DraftKeeper:
    """Follows the composer across conversations: text typed in one never travels to another."""

    def __init__(self, drafts: Drafts) -> None:
        self.drafts = drafts
        self.key: tuple[bytes, str] | None = None

    def switch(self, key: tuple[bytes, str] | None) -> str:
        """Move to another conversation (or none); returns the draft to show there."""
        self.key = key
        return self.drafts.get(*key) if key is not None else ""

    def typed(self, text: str) -> None:
        """The composer now holds `text` (not while editing a sent message: that text is not a draft)."""
        if self.key is not None:
            self.drafts.set(*self.key, text)

    def current(self) -> str:
        return self.drafts.get(*self.key) if self.key is not None else ""
