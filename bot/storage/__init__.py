"""SQLite storage: the connection, migrations and repositories (all SQL lives here)."""
