"""Use cases: one function each, owning its transaction. Web, API and CLI call only these."""
