"""The record of plate lookups: every answer given about a plate (police, gates, eligibility) is
written in batches, read by supervisors, and forgets its plate after the retention period.

Why a package of its own: enforcement and eligibility both record lookups, and neither may import
the other.
"""
