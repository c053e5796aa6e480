"""The keyboard shortcuts: one list, both for binding them and for the help overlay (Ctrl+/)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Shortcut:
    """A key and what it does; `action` names what the window binds to it (None: the composer handles the key)."""

    keys: str
    what: str
    action: str | None = None
    group: str = "Anywhere"


SHORTCUTS = (
    Shortcut("Ctrl+K", "Jump to a room, a channel or a person", "switcher"),
    Shortcut("Alt+Up", "Previous channel", "previous_channel"),
    Shortcut("Alt+Down", "Next channel", "next_channel"),
    Shortcut("Alt+Shift+Up", "Previous channel with unread messages", "previous_unread"),
    Shortcut("Alt+Shift+Down", "Next channel with unread messages", "next_unread"),
    Shortcut("Shift+Esc", "Mark all as read", "mark_all_read"),
    Shortcut("Ctrl+F", "Search messages in every room", "search"),
    Shortcut("Ctrl+Shift+M", "Show or hide the member list", "members"),
    Shortcut("Ctrl+Shift+F", "My favorite messages in this room", "favorites"),
    Shortcut("Ctrl+/", "Keyboard shortcuts (this list)", "help"),
    Shortcut("Esc", "Cancel a reply or an edit; close this list or the search", "cancel"),
    Shortcut("Enter", "Send the message", group="In the message box"),
    Shortcut("Shift+Enter", "Start a new line", group="In the message box"),
    Shortcut("Up", "Edit my last message (in an empty box)", group="In the message box"),
    Shortcut("Tab", "Complete an @mention", group="In the message box"),
)


def help_rows(push_to_talk: str | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The overlay's content: (group, [(keys, what)]) in order, with the push-to-talk key when it is on."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for s in SHORTCUTS:
        groups.setdefault(s.group, []).append((s.keys, s.what))
    if push_to_talk:
        groups.setdefault("Voice", []).append((push_to_talk, "Push to talk (hold)"))
    return list(groups.items())
