"""Finding keys that occur more than once in one file, in memory that does not grow with the file.

Decision: within one file the last occurrence of a key wins (the same rule as re-importing), and
every earlier occurrence is reported as a problem naming the line that replaced it, so nothing is
dropped silently. Why not a Python set of keys: for a city-sized register it would be the largest
thing in memory. The keys seen go to a private temporary SQLite database instead (on disk, deleted
when closed, its page cache bounded), whatever database the registers live in; the upsert of a key
seen before fires a trigger that records which line it replaced. A batch of keys arrives as one JSON
array and is inserted by one statement, which runs without holding the GIL.
"""

from __future__ import annotations

import json
import sqlite3

_SCHEMA = """
CREATE TABLE seen (key TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE replaced (line INTEGER NOT NULL, by_line INTEGER NOT NULL, key TEXT NOT NULL);
CREATE TRIGGER seen_again AFTER UPDATE ON seen
BEGIN
    INSERT INTO replaced (line, by_line, key) VALUES (old.line, new.line, old.key);
END;
"""
_ADD = """
INSERT INTO seen (key, line)
SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?) WHERE true
ON CONFLICT (key) DO UPDATE SET line = excluded.line
"""
_ADD_ONE = "INSERT INTO seen (key, line) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET line = excluded.line"
_CACHE_KIB = 8 * 1024


class KeyIndex:
    """The keys imported so far from one file, with the line each was last seen on."""

    def __init__(self) -> None:
        # "" opens a private temporary database on disk; nothing here needs to survive a crash.
        self._db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        self._db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.executescript(_SCHEMA)
        try:
            self._db.execute("SELECT json_extract('[1]', '$[0]')")
            self._json = True
        except sqlite3.OperationalError:
            self._json = False

    def add_json(self, pairs: str) -> list[tuple[int, int, str]]:
        """Record a JSON array of [key, line]; return (earlier line, replacing line, key) for repeats."""
        db = self._db
        db.execute("BEGIN")
        if self._json:
            db.execute(_ADD, (pairs,))
        else:
            db.executemany(_ADD_ONE, json.loads(pairs))
        replaced = db.execute("SELECT line, by_line, key FROM replaced ORDER BY line").fetchall()
        if replaced:
            db.execute("DELETE FROM replaced")
        db.execute("COMMIT")
        return [(int(line), int(by_line), str(key)) for line, by_line, key in replaced]

    def close(self) -> None:
        self._db.close()
