"""GUI state without widgets: what is selected, what the composer is doing, what is unread, what to notify."""
