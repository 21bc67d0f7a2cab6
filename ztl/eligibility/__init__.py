"""Eligibility: the facts gathered from the registers and the permits, the rules' verdict, and what
each person may read of it.

The verdict itself is ztl.rules (pure); this package gathers facts under the right locks (service),
re-checks active permits when the registers change (recheck), and keeps evidence about other people
out of what an applicant sees (applicant_view).
"""
