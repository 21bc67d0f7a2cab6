"""Permits: issued, changed, renewed, revoked; their sealed and signed documents.

Every permit is created by issuance, whichever path leads there (a clerk's approval, the counter, a
renewal, a plate change); changes end the old seal in the same transaction.
"""
