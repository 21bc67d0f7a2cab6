"""Enforcement: the in-memory index of who may be where and when, kept in step with the database.

index.py is pure Python; changes.py records, in the transaction that changes a permit, that the
index must be brought up to date; holder.py loads the index and applies those changes.
"""
