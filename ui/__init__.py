"""The PySide6 desktop app; it talks to `app` only."""
