"""Room documents: the signed entry log, its validation, the pycrdt view, SQLite storage, sans-IO sync and export."""
