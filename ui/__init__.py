"""The PySide6 desktop app; it talks to `app` only."""

from .pyside_guard import immortalize_singletons

immortalize_singletons()
