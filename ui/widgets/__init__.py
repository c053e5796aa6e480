"""The widgets of the desktop window; they read `ui.state` and hold no logic of their own beyond layout."""
